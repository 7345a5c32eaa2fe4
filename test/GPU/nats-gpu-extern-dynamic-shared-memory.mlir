// RUN: nats-opt %s -split-input-file --pass-pipeline='builtin.module(gpu.module(nats-gpu-extern-dynamic-shared-memory))' \
// RUN:   | FileCheck %s
// RUN: nats-opt %s -split-input-file --pass-pipeline='builtin.module(gpu.module(convert-gpu-to-nvvm,reconcile-unrealized-casts,nats-gpu-extern-dynamic-shared-memory),gpu-module-to-binary{format=isa})' \
// RUN:   | FileCheck %s --check-prefix=PTX

// The base of the dynamic shared memory (zero bytes in the shared address
// space, internal as convert-gpu-to-nvvm makes it) becomes an external
// declaration; a global with bytes of its own, or in another address space,
// stays as it is.
// CHECK-LABEL: gpu.module @globals
// CHECK:       llvm.mlir.global external @__dynamic_shmem__0() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>
// CHECK:       llvm.mlir.global internal @sized() {addr_space = 3 : i32} : !llvm.array<4 x i8>
// CHECK:       llvm.mlir.global internal @global_space() {addr_space = 1 : i32} : !llvm.array<0 x i8>
gpu.module @globals [#nvvm.target<chip = "sm_90a">] {
  llvm.mlir.global internal @__dynamic_shmem__0() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>
  llvm.mlir.global internal @sized() {addr_space = 3 : i32} : !llvm.array<4 x i8>
  llvm.mlir.global internal @global_space() {addr_space = 1 : i32} : !llvm.array<0 x i8>
}

// -----

// A store, a load of the pool at an index LLVM cannot compare, and a store
// that overwrites the first. With the pool internal, LLVM took the load for
// other memory and deleted the first store (the PTX was ld, st); declared
// external, both stores stay and the load sees the first.
// PTX: .extern .shared .align 16 .b8 __dynamic_shmem__0[];{{.*}}st.shared.b32{{.*}}ld.shared.b32{{.*}}st.shared.b32
module attributes {gpu.container_module} {
  gpu.module @kernels [#nvvm.target<chip = "sm_90a", O = 3>] {
    gpu.func @store_load_store(%x: f32, %i: index, %j: index, %out: memref<1xf32>) kernel {
      %c0 = arith.constant 0 : index
      %zero = arith.constant 0.0 : f32
      %pool = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
      %s = memref.view %pool[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<256xf32, #gpu.address_space<workgroup>>
      memref.store %x, %s[%i] : memref<256xf32, #gpu.address_space<workgroup>>
      %y = memref.load %s[%j] : memref<256xf32, #gpu.address_space<workgroup>>
      memref.store %y, %out[%c0] : memref<1xf32>
      memref.store %zero, %s[%i] : memref<256xf32, #gpu.address_space<workgroup>>
      gpu.return
    }
  }
}
