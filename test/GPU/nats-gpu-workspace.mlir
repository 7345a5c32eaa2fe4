// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-workspace))' \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-workspace{shared-memory-bytes=256}))' \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=SHARED
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-workspace{shared-memory-bytes=1024}))' \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=PACK

// Each scratch buffer of a block gets a 256-byte aligned slot; one
// workspace holds every block's slots (3 blocks × (256 + 256) bytes), and
// the block's part starts at its linear index times 512.

// CHECK-LABEL: func.func @scratch
// CHECK:       %[[WS:.+]] = memref.alloc() : memref<1536xi8>
// CHECK:       scf.forall (%[[B:.+]]) in (3)
// CHECK:         %[[LIN:.+]] = affine.linearize_index disjoint [%[[B]]] by (3)
// CHECK:         %[[BASE:.+]] = arith.muli %[[LIN]], %c512
// CHECK:         %[[A:.+]] = arith.addi %[[BASE]], %c0
// CHECK:         memref.view %[[WS]][%[[A]]][] : memref<1536xi8> to memref<4x4xf32>
// CHECK:         scf.for
// CHECK:           %[[C:.+]] = arith.addi %[[BASE]], %c256
// CHECK:           memref.view %[[WS]][%[[C]]][] : memref<1536xi8> to memref<2x8xf64>
// CHECK-NOT:   memref.alloc()

// With 256 bytes of shared memory, the first slot goes there: a view of
// the block's pool, cast to a generic pointer so that its type stays; the
// second does not fit and stays in the workspace (3 blocks × 256 bytes).
// SHARED-LABEL: func.func @scratch
// SHARED:       %[[WS:.+]] = memref.alloc() : memref<768xi8>
// SHARED:       scf.forall
// SHARED:         %[[POOL:.+]] = memref.alloca() : memref<256xi8, #gpu.address_space<workgroup>>
// SHARED:         %[[S:.+]] = memref.view %[[POOL]][%{{.+}}][] : memref<256xi8, #gpu.address_space<workgroup>> to memref<4x4xf32, #gpu.address_space<workgroup>>
// SHARED:         memref.memory_space_cast %[[S]] : memref<4x4xf32, #gpu.address_space<workgroup>> to memref<4x4xf32>
// SHARED:         scf.for
// SHARED:           memref.view %[[WS]][%{{.+}}][] : memref<768xi8> to memref<2x8xf64>
// SHARED-NOT:   memref.alloc()
func.func @scratch(%out: memref<3x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  scf.forall (%b) in (3) {
    %a = memref.alloc() : memref<4x4xf32>
    scf.for %i = %c0 to %c2 step %c1 {
      %t = memref.alloc() : memref<2x8xf64>
      %v = memref.load %t[%c0, %c0] : memref<2x8xf64>
      %w = arith.truncf %v : f64 to f32
      memref.store %w, %a[%i, %i] : memref<4x4xf32>
    }
    %x = memref.load %a[%c0, %c0] : memref<4x4xf32>
    memref.store %x, %out[%b, %c0] : memref<3x4xf32>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// A warp tile's result in private memory (kept in the lanes' registers,
// nats-gpu-distribute) gets no slot: it becomes an alloca, which needs no
// deallocation, until nats-gpu-mma-sync erases it.
// CHECK-LABEL: func.func @register_tile
// CHECK-NOT:   memref.alloc()
// CHECK:       scf.forall
// CHECK:         %[[T:.+]] = memref.alloca() : memref<16x8xf32, #gpu.address_space<private>>
// CHECK:         memref.subview %[[T]]
// CHECK-NOT:   memref.alloc()
func.func @register_tile() {
  scf.forall (%b) in (3) {
    %t = memref.alloc() : memref<16x8xf32, #gpu.address_space<private>>
    %v = memref.subview %t[0, 0] [16, 4] [1, 1] : memref<16x8xf32, #gpu.address_space<private>>
        to memref<16x4xf32, strided<[8, 1]>, #gpu.address_space<private>>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

func.func @dynamic(%n: index) {
  scf.forall (%b) in (3) {
    // expected-error @below {{inside a thread block needs a static shape}}
    %a = memref.alloc(%n) : memref<?xf32>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// Buffers that are never live at the same time share a slot: %a dies
// before %b is made, so both start at the block's base. %c is used inside
// the loop, so it stays live for the whole loop, as %d is: they get slots
// of their own.
// CHECK-LABEL: func.func @reuse
// CHECK:       memref.alloc() : memref<2304xi8>
// CHECK:       %[[BASE:.+]] = arith.muli %{{.+}}, %c768
// CHECK:       %[[A:.+]] = arith.addi %[[BASE]], %c0
// CHECK:       memref.view %{{.+}}[%[[A]]][] : memref<2304xi8> to memref<4x4xf32>
// CHECK:       %[[B:.+]] = arith.addi %[[BASE]], %c0
// CHECK:       memref.view %{{.+}}[%[[B]]][] : memref<2304xi8> to memref<4x4xf32>
// CHECK:       %[[C:.+]] = arith.addi %[[BASE]], %c256
// CHECK:       memref.view %{{.+}}[%[[C]]][] : memref<2304xi8> to memref<4x4xf32>
// CHECK:       scf.for
// CHECK:         %[[D:.+]] = arith.addi %[[BASE]], %c512
// CHECK:         memref.view %{{.+}}[%[[D]]][] : memref<2304xi8> to memref<4x4xf32>
// With 256 bytes of shared memory, %a and %b share its one slot; %c and %d
// go to the workspace.
// SHARED-LABEL: func.func @reuse
// SHARED:       memref.alloc() : memref<1536xi8>
// SHARED:       %[[POOL:.+]] = memref.alloca() : memref<256xi8, #gpu.address_space<workgroup>>
// SHARED:       memref.view %[[POOL]][%[[A:.+]]][] : memref<256xi8, #gpu.address_space<workgroup>> to memref<4x4xf32, #gpu.address_space<workgroup>>
// SHARED:       memref.view %[[POOL]][%{{.+}}][] : memref<256xi8, #gpu.address_space<workgroup>> to memref<4x4xf32, #gpu.address_space<workgroup>>
// SHARED:       memref.view %{{.+}}[%{{.+}}][] : memref<1536xi8> to memref<4x4xf32>
// SHARED:       scf.for
// SHARED:         memref.view %{{.+}}[%{{.+}}][] : memref<1536xi8> to memref<4x4xf32>
func.func @reuse(%out: memref<3x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %f = arith.constant 1.0 : f32
  scf.forall (%i) in (3) {
    %a = memref.alloc() : memref<4x4xf32>
    memref.store %f, %a[%c0, %c0] : memref<4x4xf32>
    %x = memref.load %a[%c0, %c0] : memref<4x4xf32>
    %b = memref.alloc() : memref<4x4xf32>
    memref.store %x, %b[%c0, %c0] : memref<4x4xf32>
    %c = memref.alloc() : memref<4x4xf32>
    %cv = memref.subview %c[0, 0] [2, 4] [1, 1] : memref<4x4xf32> to memref<2x4xf32, strided<[4, 1]>>
    memref.store %f, %cv[%c0, %c0] : memref<2x4xf32, strided<[4, 1]>>
    scf.for %j = %c0 to %c2 step %c1 {
      %d = memref.alloc() : memref<4x4xf32>
      %y = memref.load %cv[%c0, %j] : memref<2x4xf32, strided<[4, 1]>>
      memref.store %y, %d[%c0, %c0] : memref<4x4xf32>
      %z = memref.load %d[%c0, %c0] : memref<4x4xf32>
      memref.store %z, %b[%c0, %j] : memref<4x4xf32>
    }
    %w = memref.load %b[%c0, %c0] : memref<4x4xf32>
    memref.store %w, %out[%i, %c0] : memref<3x4xf32>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}


// -----

// %v1 and %v2 (256 bytes each) are live at once; %a (512 bytes) comes after
// %v1's last use, while %v2 is live. The smallest first would put %v1 at 0
// and %v2 at 256, leaving %a only 512 on (1024 bytes in all); the longest-
// lived first puts %v2 at 0, %v1 at 256 and %a over %v1's slot once it is
// dead: 768 bytes, every buffer in shared memory.
// PACK-LABEL: func.func @pack
// PACK-NOT:     memref.alloc()
// PACK:         %[[POOL:.+]] = memref.alloca() : memref<768xi8, #gpu.address_space<workgroup>>
// PACK:         memref.view %[[POOL]][%c256{{.*}}][] : {{.+}} to memref<64xf32, #gpu.address_space<workgroup>>
// PACK:         memref.view %[[POOL]][%c0{{.*}}][] : {{.+}} to memref<64xf32, #gpu.address_space<workgroup>>
// PACK:         memref.view %[[POOL]][%c256{{.*}}][] : {{.+}} to memref<128xf32, #gpu.address_space<workgroup>>
func.func @pack(%out: memref<2xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  scf.forall (%i) in (2) {
    %v1 = memref.alloc() : memref<64xf32>
    memref.store %f, %v1[%c0] : memref<64xf32>
    %v2 = memref.alloc() : memref<64xf32>
    memref.store %f, %v2[%c0] : memref<64xf32>
    %x = memref.load %v1[%c0] : memref<64xf32>
    %a = memref.alloc() : memref<128xf32>
    memref.store %x, %a[%c0] : memref<128xf32>
    %y = memref.load %a[%c0] : memref<128xf32>
    memref.store %y, %v2[%c1] : memref<64xf32>
    %z = memref.load %v2[%c1] : memref<64xf32>
    memref.store %z, %out[%i] : memref<2xf32>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}
