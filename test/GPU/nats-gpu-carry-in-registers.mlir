// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-carry-in-registers))' \
// RUN:   --split-input-file | FileCheck %s

// The state pass's update, as nats-map-foralls-to-gpu leaves it: in each
// step of the chunk loop every warp takes two tiles of S (a thread loop of
// two iterations), loads its accumulators (rows g and g + 8), updates them
// and stores them back, with their 16-bit copy. The thread loop is
// unrolled; the four places are loaded before the loop (after its barrier),
// carried, and stored after it, before the barrier that orders the copy
// out; the 16-bit copy is still stored every step.

// CHECK-LABEL: func.func @state_update
// CHECK:         gpu.barrier
// CHECK-COUNT-4: vector.load %{{.+}} {alignment = 8 : i64} : memref<16x8xf32, strided<[72, 1], offset: ?>, #gpu.address_space<workgroup>>, vector<2xf32>
// CHECK-NOT:     vector.load
// CHECK:         %[[S:.+]]:4 = scf.for %{{.+}} iter_args(%[[A:.+]] = %{{.+}}, %[[B:.+]] = %{{.+}}, %[[C:.+]] = %{{.+}}, %[[D:.+]] = %{{.+}}) -> (vector<2xf32>, vector<2xf32>, vector<2xf32>, vector<2xf32>)
// CHECK-NOT:       vector.load
// CHECK:           %[[A2:.+]] = arith.mulf %[[A]], %{{.+}} : vector<2xf32>
// CHECK:           vector.store %{{.+}} : memref<64x64xbf16, #gpu.address_space<workgroup>>, vector<2xbf16>
// CHECK-NOT:       vector.store %{{.+}}xf32
// CHECK:           gpu.barrier
// CHECK-NEXT:      scf.yield %[[A2]], %{{.+}}, %{{.+}}, %{{.+}} : vector<2xf32>, vector<2xf32>, vector<2xf32>, vector<2xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    vector.store %[[S]]#0, %{{.+}} {alignment = 8 : i64}
// CHECK-NEXT:    vector.store %[[S]]#1
// CHECK-NEXT:    vector.store %[[S]]#2
// CHECK-NEXT:    vector.store %[[S]]#3
// CHECK-NEXT:    gpu.barrier
// CHECK-NEXT:    memref.load
func.func @state_update(%decay: vector<2xf32>) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %c0 = arith.constant 0 : index
    %c2 = arith.constant 2 : index
    %c4 = arith.constant 4 : index
    %c8 = arith.constant 8 : index
    %c16 = arith.constant 16 : index
    %c32 = arith.constant 32 : index
    %state = memref.alloc() : memref<64x72xf32, #gpu.address_space<workgroup>>
    %copy = memref.alloc() : memref<64x64xbf16, #gpu.address_space<workgroup>>
    %s = memref.subview %state[0, 0] [64, 64] [1, 1] : memref<64x72xf32, #gpu.address_space<workgroup>> to memref<64x64xf32, strided<[72, 1]>, #gpu.address_space<workgroup>>
    gpu.barrier
    scf.for %n = %c0 to %c32 step %c1 {
      %warp = arith.divui %tx, %c32 : index
      scf.for %i = %c0 to %c2 step %c1 {
        %i16 = arith.muli %i, %c16 : index
        %t = arith.addi %warp, %i16 : index
        %tr = arith.divui %t, %c8 : index
        %tc = arith.remui %t, %c8 : index
        %r0 = arith.muli %tr, %c16 : index
        %c0t = arith.muli %tc, %c8 : index
        %tile = memref.subview %s[%r0, %c0t] [16, 8] [1, 1] : memref<64x64xf32, strided<[72, 1]>, #gpu.address_space<workgroup>> to memref<16x8xf32, strided<[72, 1], offset: ?>, #gpu.address_space<workgroup>>
        %lane = gpu.lane_id
        %g = arith.divui %lane, %c4 : index
        %t4 = arith.remui %lane, %c4 : index
        %col = arith.muli %t4, %c2 : index
        %g8 = arith.addi %g, %c8 : index
        %a = vector.load %tile[%g, %col] {alignment = 8 : i64} : memref<16x8xf32, strided<[72, 1], offset: ?>, #gpu.address_space<workgroup>>, vector<2xf32>
        %b = vector.load %tile[%g8, %col] {alignment = 8 : i64} : memref<16x8xf32, strided<[72, 1], offset: ?>, #gpu.address_space<workgroup>>, vector<2xf32>
        %a2 = arith.mulf %a, %decay : vector<2xf32>
        %b2 = arith.mulf %b, %decay : vector<2xf32>
        %ah = arith.truncf %a2 : vector<2xf32> to vector<2xbf16>
        vector.store %ah, %copy[%r0, %col] : memref<64x64xbf16, #gpu.address_space<workgroup>>, vector<2xbf16>
        vector.store %a2, %tile[%g, %col] {alignment = 8 : i64} : memref<16x8xf32, strided<[72, 1], offset: ?>, #gpu.address_space<workgroup>>, vector<2xf32>
        %g8again = arith.addi %g, %c8 : index
        vector.store %b2, %tile[%g8again, %col] {alignment = 8 : i64} : memref<16x8xf32, strided<[72, 1], offset: ?>, #gpu.address_space<workgroup>>, vector<2xf32>
      } {nats.thread_loop}
      gpu.barrier
    }
    gpu.barrier
    %out = memref.load %s[%tx, %c0] : memref<64x64xf32, strided<[72, 1]>, #gpu.address_space<workgroup>>
    gpu.terminator
  }
  return
}

// -----

// A thread loop whose last round is guarded (8 tiles for 16 warps): the
// loads and stores before and after the loop are under the guard's
// condition, and the guard in the loop yields the updated values, or the
// carried ones where it does not run.

// CHECK-LABEL: func.func @guarded
// CHECK:         %[[IN:.+]] = arith.cmpi ult
// CHECK:         %[[INIT:.+]] = scf.if %[[IN]] -> (vector<2xf32>) {
// CHECK-NEXT:      %[[L:.+]] = vector.load
// CHECK-NEXT:      scf.yield %[[L]]
// CHECK-NEXT:    } else {
// CHECK-NEXT:      %[[Z:.+]] = arith.constant dense<0.000000e+00> : vector<2xf32>
// CHECK-NEXT:      scf.yield %[[Z]]
// CHECK:         %[[S:.+]] = scf.for %{{.+}} iter_args(%[[A:.+]] = %[[INIT]]) -> (vector<2xf32>)
// CHECK:           %[[NEW:.+]] = scf.if %{{.+}} -> (vector<2xf32>) {
// CHECK:             %[[A2:.+]] = arith.mulf %[[A]]
// CHECK-NEXT:        scf.yield %[[A2]]
// CHECK-NEXT:      } else {
// CHECK-NEXT:        scf.yield %[[A]]
// CHECK:           scf.yield %[[NEW]]
// CHECK:         scf.if %[[IN]] {
// CHECK-NEXT:      vector.store %[[S]]
// CHECK-NEXT:    }
// CHECK-NEXT:    gpu.barrier
func.func @guarded(%decay: vector<2xf32>) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %c0 = arith.constant 0 : index
    %c8 = arith.constant 8 : index
    %c32 = arith.constant 32 : index
    %state = memref.alloc() : memref<64x8xf32, #gpu.address_space<workgroup>>
    gpu.barrier
    scf.for %n = %c0 to %c32 step %c1 {
      %warp = arith.divui %tx, %c32 : index
      scf.for %i = %c0 to %c1 step %c1 {
        %t = arith.addi %warp, %i : index
        %in = arith.cmpi ult, %t, %c8 : index
        scf.if %in {
          %lane = gpu.lane_id
          %a = vector.load %state[%t, %lane] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
          %a2 = arith.mulf %a, %decay : vector<2xf32>
          vector.store %a2, %state[%t, %lane] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
        }
      } {nats.thread_loop}
      gpu.barrier
    }
    gpu.terminator
  }
  return
}

// -----

// Left as they are: another access in the loop that may touch the places
// (a read of the tile by the block); two places not provably apart; a
// barrier between a load and its store; a loop without a barrier (not the
// block's: every thread may run it alone); a thread loop too long; a store
// through a loop's memref argument (in even steps the places' buffer); a
// cp.async into the places still in flight when the loop starts (waited
// for in it); a loop that may not run; places in two rows whose pieces
// may run past the row's end (indices not provably in bounds).

// CHECK-LABEL: func.func @read_elsewhere
// CHECK:         scf.for
// CHECK-NOT:       iter_args
// CHECK:           vector.load
// CHECK:           vector.store
// CHECK-LABEL: func.func @not_apart
// CHECK:         scf.for
// CHECK-NOT:       iter_args
// CHECK-LABEL: func.func @barrier_between
// CHECK:         scf.for
// CHECK-NOT:       iter_args
// CHECK-LABEL: func.func @no_barrier
// CHECK:         scf.for
// CHECK-NOT:       iter_args
// CHECK-LABEL: func.func @thread_loop_too_long
// CHECK:         scf.for
// CHECK-NOT:       iter_args
// CHECK-LABEL: func.func @loop_memref_argument
// CHECK:         scf.for {{.+}} iter_args(%{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}) -> (memref
// CHECK-NEXT:      vector.load
// CHECK-LABEL: func.func @copy_in_flight
// CHECK:         scf.for
// CHECK-NOT:       iter_args
// CHECK-LABEL: func.func @no_trip
// CHECK:         scf.for
// CHECK-NOT:       iter_args
// CHECK-LABEL: func.func @rows_not_in_bounds
// CHECK:         scf.for
// CHECK-NOT:       iter_args
func.func @read_elsewhere(%decay: vector<2xf32>) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %c0 = arith.constant 0 : index
    %c32 = arith.constant 32 : index
    %state = memref.alloc() : memref<64x8xf32, #gpu.address_space<workgroup>>
    scf.for %n = %c0 to %c32 step %c1 {
      %a = vector.load %state[%tx, %c0] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
      %a2 = arith.mulf %a, %decay : vector<2xf32>
      vector.store %a2, %state[%tx, %c0] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
      gpu.barrier
      %e = memref.load %state[%c0, %c0] : memref<64x8xf32, #gpu.address_space<workgroup>>
      gpu.barrier
    }
    gpu.terminator
  }
  return
}

func.func @not_apart(%decay: vector<2xf32>, %j: index) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %c0 = arith.constant 0 : index
    %c32 = arith.constant 32 : index
    %state = memref.alloc() : memref<64x8xf32, #gpu.address_space<workgroup>>
    scf.for %n = %c0 to %c32 step %c1 {
      %a = vector.load %state[%tx, %c0] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
      %b = vector.load %state[%tx, %j] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
      %a2 = arith.mulf %a, %decay : vector<2xf32>
      %b2 = arith.mulf %b, %decay : vector<2xf32>
      vector.store %a2, %state[%tx, %c0] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
      vector.store %b2, %state[%tx, %j] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
      gpu.barrier
    }
    gpu.terminator
  }
  return
}

func.func @barrier_between(%decay: vector<2xf32>) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %c0 = arith.constant 0 : index
    %c32 = arith.constant 32 : index
    %state = memref.alloc() : memref<64x8xf32, #gpu.address_space<workgroup>>
    scf.for %n = %c0 to %c32 step %c1 {
      %a = vector.load %state[%tx, %c0] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
      gpu.barrier
      %a2 = arith.mulf %a, %decay : vector<2xf32>
      vector.store %a2, %state[%tx, %c0] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
    }
    gpu.terminator
  }
  return
}

func.func @no_barrier(%decay: vector<2xf32>) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %c0 = arith.constant 0 : index
    %c32 = arith.constant 32 : index
    %state = memref.alloc() : memref<64x8xf32, #gpu.address_space<workgroup>>
    scf.for %n = %c0 to %c32 step %c1 {
      %a = vector.load %state[%tx, %c0] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
      %a2 = arith.mulf %a, %decay : vector<2xf32>
      vector.store %a2, %state[%tx, %c0] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
    }
    gpu.terminator
  }
  return
}

// A thread loop of more iterations than kMaxUnroll (4) stays a loop.
func.func @thread_loop_too_long(%decay: vector<2xf32>) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %c0 = arith.constant 0 : index
    %c5 = arith.constant 5 : index
    %c32 = arith.constant 32 : index
    %state = memref.alloc() : memref<64x8xf32, #gpu.address_space<workgroup>>
    scf.for %n = %c0 to %c32 step %c1 {
      scf.for %i = %c0 to %c5 step %c1 {
        %r = arith.addi %tx, %i : index
        %a = vector.load %state[%r, %c0] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
        %a2 = arith.mulf %a, %decay : vector<2xf32>
        vector.store %a2, %state[%r, %c0] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
      } {nats.thread_loop}
      gpu.barrier
    }
    gpu.terminator
  }
  return
}

func.func @loop_memref_argument(%decay: vector<2xf32>, %x: vector<2xf32>) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %c0 = arith.constant 0 : index
    %c32 = arith.constant 32 : index
    %a = memref.alloc() : memref<64x8xf32, #gpu.address_space<workgroup>>
    %b = memref.alloc() : memref<64x8xf32, #gpu.address_space<workgroup>>
    %r:2 = scf.for %n = %c0 to %c32 step %c1 iter_args(%cur = %a, %next = %b)
        -> (memref<64x8xf32, #gpu.address_space<workgroup>>, memref<64x8xf32, #gpu.address_space<workgroup>>) {
      %p = vector.load %a[%tx, %c0] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
      %p2 = arith.mulf %p, %decay : vector<2xf32>
      vector.store %p2, %a[%tx, %c0] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
      vector.store %x, %cur[%tx, %c0] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
      gpu.barrier
      scf.yield %next, %cur : memref<64x8xf32, #gpu.address_space<workgroup>>, memref<64x8xf32, #gpu.address_space<workgroup>>
    }
    gpu.terminator
  }
  return
}

func.func @copy_in_flight(%g: memref<64xf32>, %decay: vector<2xf32>) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %c0 = arith.constant 0 : index
    %c2 = arith.constant 2 : index
    %c32 = arith.constant 32 : index
    %s = memref.alloc() : memref<64xf32, #gpu.address_space<workgroup>>
    %i = arith.muli %tx, %c2 : index
    %t = nvgpu.device_async_copy %g[%i], %s[%i], 2 : memref<64xf32> to memref<64xf32, #gpu.address_space<workgroup>>
    %group = nvgpu.device_async_create_group %t
    scf.for %n = %c0 to %c32 step %c1 {
      nvgpu.device_async_wait %group
      %a = vector.load %s[%i] : memref<64xf32, #gpu.address_space<workgroup>>, vector<2xf32>
      %a2 = arith.mulf %a, %decay : vector<2xf32>
      vector.store %a2, %s[%i] : memref<64xf32, #gpu.address_space<workgroup>>, vector<2xf32>
      gpu.barrier
    }
    gpu.terminator
  }
  return
}

func.func @no_trip(%decay: vector<2xf32>, %n: index) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %c0 = arith.constant 0 : index
    %state = memref.alloc() : memref<64x8xf32, #gpu.address_space<workgroup>>
    scf.for %k = %c0 to %n step %c1 {
      %a = vector.load %state[%tx, %c0] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
      %a2 = arith.mulf %a, %decay : vector<2xf32>
      vector.store %a2, %state[%tx, %c0] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<2xf32>
      gpu.barrier
    }
    gpu.terminator
  }
  return
}

func.func @rows_not_in_bounds(%decay: vector<4xf32>) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %c0 = arith.constant 0 : index
    %c2 = arith.constant 2 : index
    %c6 = arith.constant 6 : index
    %c32 = arith.constant 32 : index
    %state = memref.alloc() : memref<64x8xf32, #gpu.address_space<workgroup>>
    %r = arith.muli %tx, %c2 : index
    %r1 = arith.addi %r, %c1 : index
    scf.for %k = %c0 to %c32 step %c1 {
      %a = vector.load %state[%r, %c6] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<4xf32>
      %a2 = arith.mulf %a, %decay : vector<4xf32>
      vector.store %a2, %state[%r, %c6] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<4xf32>
      %b = vector.load %state[%r1, %c0] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<4xf32>
      %b2 = arith.addf %b, %decay : vector<4xf32>
      vector.store %b2, %state[%r1, %c0] : memref<64x8xf32, #gpu.address_space<workgroup>>, vector<4xf32>
      gpu.barrier
    }
    gpu.terminator
  }
  return
}
