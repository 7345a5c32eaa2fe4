// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-map-foralls-to-gpu{block-threads=64 merge-phases}))' \
// RUN:   --split-input-file | FileCheck %s

// Two foralls on buffers of their own (views of the block's pool at
// disjoint bytes) share a phase; the third reads what the second wrote at
// other elements (a row each): a barrier before it.
// CHECK-LABEL: func.func @independent
// CHECK:         gpu.launch
// CHECK:           gpu.barrier
// CHECK:           scf.for
// CHECK-NOT:       gpu.barrier
// CHECK:           scf.for
// CHECK:             memref.load %arg0
// CHECK:           gpu.barrier
// CHECK:           scf.for
// CHECK:             memref.load %{{.+}}[%{{.+}}#1, %{{.+}}#0]
func.func @independent(%x: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.0 : f32
  scf.forall (%blk) in (1) {
    %pool = memref.alloca() : memref<512xi8, #gpu.address_space<workgroup>>
    %va = memref.view %pool[%c0][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    %vb = memref.view %pool[%c256][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<8x8xf32, #gpu.address_space<workgroup>>
    scf.forall (%i) in (64) {
      memref.store %zero, %va[%i] : memref<64xf32, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.thread<linear_dim_0>]}
    scf.forall (%i, %j) in (8, 8) {
      %e = memref.load %x[%j] : memref<64xf32>
      memref.store %e, %vb[%i, %j] : memref<8x8xf32, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
    scf.forall (%i, %j) in (8, 8) {
      %e = memref.load %vb[%j, %i] : memref<8x8xf32, #gpu.address_space<workgroup>>
      memref.store %e, %x[%i] : memref<64xf32>
    } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// Over the same iterations, each reading only the element it wrote itself
// (one thread runs both): one phase. A forall over other iterations that
// reads it needs the barrier.
// CHECK-LABEL: func.func @own_elements
// CHECK:         gpu.launch
// CHECK:           gpu.barrier
// CHECK:           scf.for
// CHECK:             linalg.fill
// CHECK-NOT:       gpu.barrier
// CHECK:           scf.for
// CHECK:             arith.addf
// CHECK:           gpu.barrier
// CHECK:           scf.for
// CHECK:             memref.store %{{.+}}, %arg1
func.func @own_elements(%x: memref<64xf32>, %y: memref<64xf32>, %buffer: memref<64xf32>) {
  %one = arith.constant 1.0 : f32
  scf.forall (%blk) in (1) {
    %a = memref.alloc() {alignment = 64 : i64} : memref<64xf32>
    scf.forall (%i) in (64) {
      %e = memref.load %x[%i] : memref<64xf32>
      %s = memref.subview %a[%i] [1] [1] : memref<64xf32> to memref<1xf32, strided<[1], offset: ?>>
      linalg.fill ins(%e : f32) outs(%s : memref<1xf32, strided<[1], offset: ?>>)
    } {mapping = [#gpu.thread<linear_dim_0>]}
    scf.forall (%i) in (64) {
      %e = memref.load %a[%i] : memref<64xf32>
      %f = arith.addf %e, %one : f32
      memref.store %f, %a[%i] : memref<64xf32>
    } {mapping = [#gpu.thread<linear_dim_0>]}
    scf.forall (%i) in (32) {
      %e = memref.load %a[%i] : memref<64xf32>
      memref.store %e, %y[%i] : memref<64xf32>
    } {mapping = [#gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// A write between two foralls (thread 0's, between barriers) and views of
// the pool whose bytes overlap keep their barriers.
// CHECK-LABEL: func.func @kept
// CHECK:         gpu.launch
// CHECK-COUNT-4:   gpu.barrier
// CHECK-NOT:       gpu.barrier
// CHECK:           gpu.terminator
func.func @kept(%x: memref<64xf32>, %v: f32) {
  %c0 = arith.constant 0 : index
  %c128 = arith.constant 128 : index
  %zero = arith.constant 0.0 : f32
  scf.forall (%blk) in (1) {
    %pool = memref.alloca() : memref<512xi8, #gpu.address_space<workgroup>>
    %va = memref.view %pool[%c0][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    %vb = memref.view %pool[%c128][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    scf.forall (%i) in (64) {
      memref.store %zero, %va[%i] : memref<64xf32, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.thread<linear_dim_0>]}
    memref.store %v, %x[%c0] : memref<64xf32>
    scf.forall (%i) in (64) {
      memref.store %zero, %vb[%i] : memref<64xf32, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// Views of the pool whose bytes overlap (a slot of 256 bytes at 0, another
// at 128) are one buffer: the barrier stays.
// CHECK-LABEL: func.func @overlap
// CHECK:         gpu.launch
// CHECK:           scf.for
// CHECK:           gpu.barrier
// CHECK:           scf.for
func.func @overlap() {
  %c0 = arith.constant 0 : index
  %c128 = arith.constant 128 : index
  %zero = arith.constant 0.0 : f32
  scf.forall (%blk) in (1) {
    %pool = memref.alloca() : memref<512xi8, #gpu.address_space<workgroup>>
    %va = memref.view %pool[%c0][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    %vb = memref.view %pool[%c128][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    scf.forall (%i) in (64) {
      memref.store %zero, %va[%i] : memref<64xf32, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.thread<linear_dim_0>]}
    scf.forall (%i) in (64) {
      memref.store %zero, %vb[%i] : memref<64xf32, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// A scalar load between two foralls (every thread's, as the state pass's
// decay of a tile) that reads nothing they write shares their phase: no
// barrier on either side of it.
// CHECK-LABEL: func.func @load_between
// CHECK:         gpu.launch
// CHECK:           gpu.barrier
// CHECK:           scf.for
// CHECK-NOT:       gpu.barrier
// CHECK:           memref.load %{{.+}}[%c0{{.*}}] : memref<4xf32, #gpu.address_space<workgroup>>
// CHECK-NOT:       gpu.barrier
// CHECK:           scf.for
// CHECK:             arith.mulf
// CHECK:           gpu.barrier
// CHECK-NOT:       gpu.barrier
// CHECK:           gpu.terminator
func.func @load_between(%y: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.0 : f32
  scf.forall (%blk) in (1) {
    %pool = memref.alloca() : memref<512xi8, #gpu.address_space<workgroup>>
    %va = memref.view %pool[%c0][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    %vd = memref.view %pool[%c256][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<4xf32, #gpu.address_space<workgroup>>
    scf.forall (%i) in (64) {
      memref.store %zero, %va[%i] : memref<64xf32, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.thread<linear_dim_0>]}
    %decay = memref.load %vd[%c0] : memref<4xf32, #gpu.address_space<workgroup>>
    scf.forall (%i) in (64) {
      %e = memref.load %y[%i] : memref<64xf32>
      %f = arith.mulf %e, %decay : f32
      memref.store %f, %y[%i] : memref<64xf32>
    } {mapping = [#gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// A load of what the forall before it wrote keeps the barrier between
// them; a load that joins no phase starts none, so the forall after it
// keeps its barrier too.
// CHECK-LABEL: func.func @load_after_write
// CHECK:         gpu.launch
// CHECK:           scf.for
// CHECK:             memref.store
// CHECK:           gpu.barrier
// CHECK-NEXT:      memref.load %{{.+}}[%c0{{.*}}] : memref<64xf32, #gpu.address_space<workgroup>>
// CHECK-NOT:       scf.for
// CHECK:           gpu.barrier
// CHECK-NEXT:      scf.for
// CHECK:             arith.mulf
func.func @load_after_write(%y: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  scf.forall (%blk) in (1) {
    %pool = memref.alloca() : memref<512xi8, #gpu.address_space<workgroup>>
    %va = memref.view %pool[%c0][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    scf.forall (%i) in (64) {
      memref.store %zero, %va[%i] : memref<64xf32, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.thread<linear_dim_0>]}
    %decay = memref.load %va[%c0] : memref<64xf32, #gpu.address_space<workgroup>>
    scf.forall (%i) in (64) {
      %e = memref.load %y[%i] : memref<64xf32>
      %f = arith.mulf %e, %decay : f32
      memref.store %f, %y[%i] : memref<64xf32>
    } {mapping = [#gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// After an op with effects that is no phase and no barrier (a printf here,
// a wait for each thread's own async copies in the pipeline) a load
// starts no phase: the forall after it keeps its barrier.
// CHECK-LABEL: func.func @load_after_effect
// CHECK:         gpu.launch
// CHECK:           gpu.printf
// CHECK-NEXT:      memref.load %{{.+}}[%c0{{.*}}] : memref<4xf32, #gpu.address_space<workgroup>>
// CHECK-NOT:       scf.for
// CHECK:           gpu.barrier
// CHECK-NEXT:      scf.for
func.func @load_after_effect(%y: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  scf.forall (%blk) in (1) {
    %pool = memref.alloca() : memref<512xi8, #gpu.address_space<workgroup>>
    %vd = memref.view %pool[%c0][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<4xf32, #gpu.address_space<workgroup>>
    gpu.printf "step"
    %decay = memref.load %vd[%c0] : memref<4xf32, #gpu.address_space<workgroup>>
    scf.forall (%i) in (64) {
      %e = memref.load %y[%i] : memref<64xf32>
      %f = arith.mulf %e, %decay : f32
      memref.store %f, %y[%i] : memref<64xf32>
    } {mapping = [#gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// A loop's memref argument may be any buffer (in even steps, here, the one
// the first forall writes): the forall that reads it at other elements
// keeps its barrier (reading the other buffer of the pool, it would share
// the first one's phase).
// CHECK-LABEL: func.func @loop_buffer_argument
// CHECK:         scf.for {{.+}} iter_args(%[[CUR:.+]] = %{{.+}}, %{{.+}} = %{{.+}})
// CHECK:           scf.for
// CHECK:             memref.store
// CHECK:           gpu.barrier
// CHECK:           scf.for
// CHECK:             memref.load %[[CUR]]
func.func @loop_buffer_argument(%x: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c63 = arith.constant 63 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.0 : f32
  scf.forall (%blk) in (1) {
    %pool = memref.alloca() : memref<512xi8, #gpu.address_space<workgroup>>
    %a = memref.view %pool[%c0][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    %b = memref.view %pool[%c256][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    %r:2 = scf.for %n = %c0 to %c4 step %c1 iter_args(%cur = %a, %next = %b)
        -> (memref<64xf32, #gpu.address_space<workgroup>>, memref<64xf32, #gpu.address_space<workgroup>>) {
      scf.forall (%i) in (64) {
        memref.store %zero, %a[%i] : memref<64xf32, #gpu.address_space<workgroup>>
      } {mapping = [#gpu.thread<linear_dim_0>]}
      scf.forall (%i) in (64) {
        %j = arith.subi %c63, %i : index
        %e = memref.load %cur[%j] : memref<64xf32, #gpu.address_space<workgroup>>
        memref.store %e, %x[%i] : memref<64xf32>
      } {mapping = [#gpu.thread<linear_dim_0>]}
      scf.yield %next, %cur : memref<64xf32, #gpu.address_space<workgroup>>, memref<64xf32, #gpu.address_space<workgroup>>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}
