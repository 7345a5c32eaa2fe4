// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-map-foralls-to-gpu{block-threads=64}))' \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s
// RUN: not nats-opt %s --pass-pipeline='builtin.module(func.func(nats-map-foralls-to-gpu{block-threads=2048}))' \
// RUN:   --split-input-file 2>&1 | FileCheck %s --check-prefix=THREADS
// THREADS: error: block-threads must be in [1, 1024], got 2048

// A block forall becomes a launch of one block per iteration; its thread
// forall a loop over rounds of the block size between barriers (128
// iterations: two rounds of 64, i = tid + 64 * round); the scalar store in
// the block's sequential code runs on thread 0 between barriers; a copy is
// shared out over the threads (32 elements: one round, i < 32 guarded).

// CHECK-LABEL: func.func @block
// CHECK:       gpu.launch blocks(%[[BX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = {{%c6(_[0-9]+)?}}, %{{.+}} = {{%c1(_[0-9]+)?}}{{.*}}) threads(%[[TX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = {{%c64(_[0-9]+)?}}
// CHECK:         %[[IDS:.+]]:2 = affine.delinearize_index %[[BX]] into (2, 3)
// CHECK:         gpu.barrier
// CHECK-NEXT:    scf.for %[[R:.+]] = {{%c0(_[0-9]+)?}} to {{%c2(_[0-9]+)?}} step {{%c1(_[0-9]+)?}}
// CHECK:           %[[OFF:.+]] = arith.muli %[[R]], {{%c64(_[0-9]+)?}}
// CHECK:           %[[I:.+]] = arith.addi %[[TX]], %[[OFF]] overflow<nsw, nuw>
// CHECK-NOT:       scf.if
// CHECK:           affine.delinearize_index %[[I]] into (16, 8)
// CHECK:           memref.store
// CHECK:         gpu.barrier
// CHECK:         %[[FIRST:.+]] = arith.cmpi eq, %[[TX]], {{%c0(_[0-9]+)?}}
// CHECK-NEXT:    scf.if %[[FIRST]] {
// CHECK-NEXT:      memref.store
// CHECK-NEXT:    }
// CHECK-NEXT:    gpu.barrier
// CHECK:         scf.for %{{.+}} = {{%c0(_[0-9]+)?}} to {{%c1(_[0-9]+)?}} step {{%c1(_[0-9]+)?}}
// CHECK:           %[[J:.+]] = arith.addi %[[TX]], %{{.+}} overflow<nsw, nuw>
// CHECK:           %[[IN:.+]] = arith.cmpi ult, %[[J]], {{%c32(_[0-9]+)?}}
// CHECK:           scf.if %[[IN]] {
// CHECK:             memref.load
// CHECK:             memref.store
// CHECK:         gpu.barrier
// CHECK:         gpu.terminator
// CHECK-NOT:   scf.forall
func.func @block(%buf: memref<2x3x16x8xf32>, %flag: memref<2x3xf32>, %copy: memref<8x4xf32>) {
  %c0 = arith.constant 0 : index
  %one = arith.constant 1.0 : f32
  scf.forall (%b, %h) in (2, 3) {
    %tile = memref.subview %buf[%b, %h, 0, 0] [1, 1, 16, 8] [1, 1, 1, 1]
        : memref<2x3x16x8xf32> to memref<16x8xf32, strided<[8, 1], offset: ?>>
    scf.forall (%i, %j) in (16, 8) {
      memref.store %one, %tile[%i, %j] : memref<16x8xf32, strided<[8, 1], offset: ?>>
    } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
    memref.store %one, %flag[%b, %h] : memref<2x3xf32>
    %corner = memref.subview %tile[0, 0] [8, 4] [1, 1]
        : memref<16x8xf32, strided<[8, 1], offset: ?>> to memref<8x4xf32, strided<[8, 1], offset: ?>>
    memref.copy %corner, %copy : memref<8x4xf32, strided<[8, 1], offset: ?>> to memref<8x4xf32>
  } {mapping = [#gpu.block<linear_dim_1>, #gpu.block<linear_dim_0>]}
  return
}

// -----

// Outside any block: a thread forall and a copy each become a grid of
// ceil(n / 64) blocks, one element per thread, guarded at the end.

// CHECK-LABEL: func.func @grid
// CHECK:       gpu.launch blocks(%[[BX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = {{%c2(_[0-9]+)?}}, {{.*}} threads(%[[TX:.+]], %{{.+}}, %{{.+}}) in (%{{.+}} = {{%c64(_[0-9]+)?}}
// CHECK:         %[[LIN:.+]] = affine.linearize_index disjoint [%[[BX]], %[[TX]]] by (2, 64)
// CHECK:         %[[IN:.+]] = arith.cmpi ult, %[[LIN]], {{%c100(_[0-9]+)?}}
// CHECK:         scf.if %[[IN]]
// CHECK:           affine.delinearize_index %[[LIN]] into (10, 10)
// CHECK:           math.exp
// CHECK:       gpu.launch blocks({{.*}}) in (%{{.+}} = {{%c2(_[0-9]+)?}},
// CHECK:         arith.cmpi ult, %{{.+}}, {{%c100(_[0-9]+)?}}
// CHECK:           memref.load
// CHECK:           memref.store
func.func @grid(%x: memref<10x10xf32>, %y: memref<10x10xf32>) {
  scf.forall (%i, %j) in (10, 10) {
    %v = memref.load %x[%i, %j] : memref<10x10xf32>
    %e = math.exp %v : f32
    memref.store %e, %x[%i, %j] : memref<10x10xf32>
  } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
  memref.copy %x, %y : memref<10x10xf32> to memref<10x10xf32>
  return
}

// -----

// A block's copy between buffers whose rows are 16-byte aligned (an
// aligned allocation, the block's shared memory) moves a row's 8 bf16 at a
// time: 64 x 32 is 256 vectors, 4 rounds of 64 threads, each a 16-byte
// load and store. Where one side is not known to be aligned (a function
// argument), it moves an element at a time.

// CHECK-LABEL: func.func @vector_copies
// CHECK:         %[[ROUND:.+]] = arith.addi %{{.+}}, %{{.+}} overflow<nsw, nuw>
// CHECK:         %[[AT:.+]]:2 = affine.delinearize_index %[[ROUND]] into (64, 4)
// CHECK:         %[[COL:.+]] = arith.muli %[[AT]]#1, {{%c8(_[0-9]+)?}} overflow<nsw, nuw>
// CHECK:         %[[V:.+]] = vector.load %{{.+}}[%[[AT]]#0, %[[COL]]] {alignment = 16 : i64} : memref<64x32xbf16, strided<[40, 1]>>, vector<8xbf16>
// CHECK:         vector.store %[[V]], %{{.+}}[%[[AT]]#0, %[[COL]]] {alignment = 16 : i64} : memref<64x32xbf16, strided<[128, 1], offset: ?>>, vector<8xbf16>
// CHECK:         affine.delinearize_index %{{.+}} into (64, 32)
// CHECK-NEXT:    memref.load
// CHECK-NEXT:    memref.store
func.func @vector_copies(%arg: memref<64x32xbf16>) {
  %global = memref.alloc() {alignment = 64 : i64} : memref<2x64x128xbf16>
  scf.forall (%b) in (2) {
    %pool = memref.alloca() : memref<5120xi8, #gpu.address_space<workgroup>>
    %c0 = arith.constant 0 : index
    %view = memref.view %pool[%c0][] : memref<5120xi8, #gpu.address_space<workgroup>> to memref<64x40xbf16, #gpu.address_space<workgroup>>
    %tile = memref.memory_space_cast %view : memref<64x40xbf16, #gpu.address_space<workgroup>> to memref<64x40xbf16>
    %rows = memref.subview %tile[0, 0] [64, 32] [1, 1] : memref<64x40xbf16> to memref<64x32xbf16, strided<[40, 1]>>
    %out = memref.subview %global[%b, 0, 32] [1, 64, 32] [1, 1, 1] : memref<2x64x128xbf16> to memref<64x32xbf16, strided<[128, 1], offset: ?>>
    memref.copy %rows, %out : memref<64x32xbf16, strided<[40, 1]>> to memref<64x32xbf16, strided<[128, 1], offset: ?>>
    memref.copy %arg, %rows : memref<64x32xbf16> to memref<64x32xbf16, strided<[40, 1]>>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

func.func @unmapped(%x: memref<4xf32>) {
  %one = arith.constant 1.0 : f32
  // expected-error @below {{is not mapped to GPU blocks or threads (run nats-gpu-distribute)}}
  scf.forall (%i) in (4) {
    memref.store %one, %x[%i] : memref<4xf32>
  }
  return
}

// -----

// Between two thread loops with only a view in between, one barrier does.

// CHECK-LABEL: func.func @one_barrier
// CHECK:       scf.for
// CHECK:       gpu.barrier
// CHECK-NOT:   gpu.barrier
// CHECK:       memref.subview
// CHECK-NOT:   gpu.barrier
// CHECK:       scf.for
func.func @one_barrier(%buf: memref<2x8xf32>) {
  %one = arith.constant 1.0 : f32
  scf.forall (%b) in (2) {
    scf.forall (%i) in (8) {
      memref.store %one, %buf[%b, %i] : memref<2x8xf32>
    } {mapping = [#gpu.thread<linear_dim_0>]}
    %row = memref.subview %buf[%b, 0] [1, 8] [1, 1] : memref<2x8xf32> to memref<8xf32, strided<[1], offset: ?>>
    scf.forall (%i) in (8) {
      memref.store %one, %row[%i] : memref<8xf32, strided<[1], offset: ?>>
    } {mapping = [#gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

func.func @on_tensors(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @below {{must be bufferized before it is mapped}}
  %r = scf.forall (%i) in (4) shared_outs(%o = %x) -> (tensor<4xf32>) {
    scf.forall.in_parallel {
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<4xf32>
}

// -----

func.func @block_in_block(%x: memref<4x4xf32>) {
  %one = arith.constant 1.0 : f32
  scf.forall (%i) in (4) {
    // expected-error @below {{block forall nested in a block forall}}
    scf.forall (%j) in (4) {
      memref.store %one, %x[%i, %j] : memref<4x4xf32>
    } {mapping = [#gpu.block<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

func.func @dynamic_copy(%x: memref<?xf32>, %y: memref<?xf32>) {
  scf.forall (%i) in (2) {
    // expected-error @below {{in a kernel needs a static shape}}
    memref.copy %x, %y : memref<?xf32> to memref<?xf32>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// A warp forall: its iterations go to the warps in turn (64 threads: 2
// warps, 6 iterations: 3 rounds, i = warp + 2 * round), every lane of a
// warp running the iteration's lane-level code.
// CHECK-LABEL: func.func @warps
// CHECK:         gpu.launch
// CHECK:           %[[C32:.+]] = arith.constant 32 : index
// CHECK:           %[[WARP:.+]] = arith.divui %{{.+}}, %[[C32]] : index
// CHECK-DAG:       %[[C3:.+]] = arith.constant 3 : index
// CHECK:           gpu.barrier
// CHECK:           scf.for %[[R:.+]] = %{{.+}} to %[[C3]] step %{{.+}} {
// CHECK:             %[[OFF:.+]] = arith.muli %[[R]], {{%c2(_[0-9]+)?}}
// CHECK:             %[[I:.+]] = arith.addi %[[WARP]], %[[OFF]] overflow<nsw, nuw>
// CHECK:             affine.delinearize_index %[[I]] into (3, 2)
// CHECK:             gpu.lane_id
// CHECK-NOT:         scf.if
// CHECK:             memref.store
// CHECK:           }
// CHECK:           gpu.barrier
func.func @warps(%buf: memref<3x2x32xf32>) {
  %one = arith.constant 1.0 : f32
  scf.forall (%b) in (1) {
    scf.forall (%i, %j) in (3, 2) {
      %lane = gpu.lane_id
      memref.store %one, %buf[%i, %j, %lane] : memref<3x2x32xf32>
    } {mapping = [#gpu.warp<linear_dim_1>, #gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

func.func @warp_linalg_left(%x: memref<16x8xf32>, %y: memref<8x8xf32>, %z: memref<16x8xf32>) {
  scf.forall (%b) in (1) {
    // expected-error @below {{still holds a linalg op: run nats-gpu-mma-sync before mapping warps}}
    scf.forall (%i) in (1) {
      linalg.matmul ins(%x, %y : memref<16x8xf32>, memref<8x8xf32>) outs(%z : memref<16x8xf32>)
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

func.func @warp_steps(%buf: memref<64xf32>) {
  %one = arith.constant 1.0 : f32
  scf.forall (%b) in (1) {
    // expected-error @below {{needs normalized bounds (from 0 by 1)}}
    scf.forall (%i) = (0) to (64) step (32) {
      memref.store %one, %buf[%i] : memref<64xf32>
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// The block's pool of shared memory (nats-gpu-workspace) becomes the
// launch's dynamic shared memory.
// CHECK-LABEL: func.func @shared_pool
// CHECK:         %[[BYTES:.+]] = arith.constant 512 : i32
// CHECK:         gpu.launch {{.*}} dynamic_shared_memory_size %[[BYTES]]
// CHECK:           %[[BASE:.+]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK:           %[[POOL:.+]] = memref.view %[[BASE]][%{{.+}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<512xi8, #gpu.address_space<workgroup>>
// CHECK:           memref.view %[[POOL]]
// CHECK-NOT:       memref.alloca
func.func @shared_pool(%out: memref<2xf32>) {
  %c0 = arith.constant 0 : index
  scf.forall (%b) in (2) {
    %pool = memref.alloca() : memref<512xi8, #gpu.address_space<workgroup>>
    %v = memref.view %pool[%c0][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<4xf32, #gpu.address_space<workgroup>>
    %x = memref.load %v[%c0] : memref<4xf32, #gpu.address_space<workgroup>>
    memref.store %x, %out[%b] : memref<2xf32>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

func.func @two_pools() {
  scf.forall (%b) in (2) {
    %pool = memref.alloca() : memref<512xi8, #gpu.address_space<workgroup>>
    // expected-error @below {{is not the block's one static pool of shared memory bytes}}
    %other = memref.alloca() : memref<16xi8, #gpu.address_space<workgroup>>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// A block forall whose location starts with a name (the lowering names each
// stage) gives its launch that kernel name, which gpu-kernel-outlining
// keeps; characters a PTX name cannot hold become '_'. Names deeper in a
// location (the user's, on the op the loops came from) and the launches of
// copies name nothing.

// CHECK-LABEL: func.func @named
// CHECK:       gpu.launch {{.*}} function(@gated_delta_state_pass)
// CHECK:       gpu.launch {{.*}} function(@layer_0_attn)
// CHECK-NOT:   function(
// CHECK:       return
func.func @named(%buf: memref<2x4xf32>, %copy: memref<2x4xf32>) {
  %one = arith.constant 1.0 : f32
  scf.forall (%b) in (2) {
    scf.forall (%i) in (4) {
      memref.store %one, %buf[%b, %i] : memref<2x4xf32>
    } {mapping = [#gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]} loc("gated_delta_state_pass"("user's name"))
  scf.forall (%b) in (2) {
    scf.forall (%i) in (4) {
      memref.store %one, %buf[%b, %i] : memref<2x4xf32>
    } {mapping = [#gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]} loc("layer 0.attn")
  scf.forall (%b) in (2) {
    scf.forall (%i) in (4) {
      memref.store %one, %buf[%b, %i] : memref<2x4xf32>
    } {mapping = [#gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]} loc(fused["inner name", "other name"])
  memref.copy %buf, %copy : memref<2x4xf32> to memref<2x4xf32> loc("user copy")
  return
}

// -----

// Thread foralls that only start async copies (nats-gpu-prefetch's) get
// the barrier before the first and none after any: the copies complete at
// the waits, which every thread runs (not thread 0 alone), and the barrier
// after the waits publishes them (the one after the first wait, right
// before the second, goes). Committing a group between them (each copy a
// group of its own) is the thread's own bookkeeping: no barrier.

// CHECK-LABEL: func.func @async_copies
// CHECK:         gpu.barrier
// CHECK-NEXT:    scf.for
// CHECK:           nvgpu.device_async_copy
// CHECK-NOT:     gpu.barrier
// CHECK:         %[[G1:.+]] = nvgpu.device_async_create_group
// CHECK-NOT:     gpu.barrier
// CHECK:         scf.for
// CHECK:           nvgpu.device_async_copy
// CHECK-NOT:     gpu.barrier
// CHECK:         %[[G:.+]] = nvgpu.device_async_create_group
// CHECK-NEXT:    nvgpu.device_async_wait %[[G1]] {numGroups = 1 : i32}
// CHECK-NEXT:    nvgpu.device_async_wait %[[G]] {numGroups = 0 : i32}
// CHECK-NEXT:    gpu.barrier
// CHECK-NEXT:    gpu.terminator
func.func @async_copies(%src: memref<64xf32>) {
  scf.forall (%b) in (2) {
    %pool = memref.alloca() : memref<512xi8, #gpu.address_space<workgroup>>
    %c0 = arith.constant 0 : index
    %c256 = arith.constant 256 : index
    %x = memref.view %pool[%c0][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    %y = memref.view %pool[%c256][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    scf.forall (%i) in (64) {
      %t = nvgpu.device_async_copy %src[%i], %x[%i], 1 : memref<64xf32> to memref<64xf32, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.thread<linear_dim_0>]}
    %g1 = nvgpu.device_async_create_group
    scf.forall (%i) in (64) {
      %t = nvgpu.device_async_copy %src[%i], %y[%i], 1 : memref<64xf32> to memref<64xf32, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.thread<linear_dim_0>]}
    %g = nvgpu.device_async_create_group
    nvgpu.device_async_wait %g1 {numGroups = 1 : i32}
    gpu.barrier
    nvgpu.device_async_wait %g {numGroups = 0 : i32}
    gpu.barrier
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}
