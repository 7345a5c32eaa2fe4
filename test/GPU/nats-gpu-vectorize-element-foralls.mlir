// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-vectorize-element-foralls))' \
// RUN:   --split-input-file | FileCheck %s

// The state pass's snapshot: S in f32 (rows of 68, 16-byte aligned) to
// bf16 in global memory. The f32 side bounds a piece at 4 elements (16
// bytes): 64 columns become 16 pieces, a load of 4 f32, their truncation
// and a store of 4 bf16 each.

// CHECK-LABEL: func.func @snapshot
// CHECK:       scf.forall (%[[I:.+]], %[[J:.+]]) in (8, 16) {
// CHECK:         %[[C:.+]] = arith.muli %[[J]], %c4 overflow<nsw, nuw>
// CHECK-NEXT:    %[[S:.+]] = vector.load %{{.+}}[%[[I]], %[[C]]] : memref<8x64xf32, strided<[68, 1]>>, vector<4xf32>
// CHECK-NEXT:    %[[H:.+]] = arith.truncf %[[S]] : vector<4xf32> to vector<4xbf16>
// CHECK-NEXT:    vector.store %[[H]], %{{.+}}[%[[I]], %[[C]]] : memref<8x64xbf16, strided<[256, 1], offset: ?>>, vector<4xbf16>
// CHECK-NEXT:  } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
func.func @snapshot(%i: index) {
  %state = memref.alloc() {alignment = 64 : i64} : memref<8x68xf32>
  %h = memref.alloc() {alignment = 64 : i64} : memref<4x8x256xbf16>
  %s = memref.subview %state[0, 0] [8, 64] [1, 1] : memref<8x68xf32> to memref<8x64xf32, strided<[68, 1]>>
  %hi = memref.subview %h[%i, 0, 64] [1, 8, 64] [1, 1, 1] : memref<4x8x256xbf16> to memref<8x64xbf16, strided<[256, 1], offset: ?>>
  scf.forall (%r, %c) in (8, 64) {
    %from = memref.subview %s[%r, %c] [1, 1] [1, 1] : memref<8x64xf32, strided<[68, 1]>> to memref<1x1xf32, strided<[68, 1], offset: ?>>
    %to = memref.subview %hi[%r, %c] [1, 1] [1, 1] : memref<8x64xbf16, strided<[256, 1], offset: ?>> to memref<1x1xbf16, strided<[256, 1], offset: ?>>
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                    iterator_types = ["parallel", "parallel"]}
        ins(%from : memref<1x1xf32, strided<[68, 1], offset: ?>>) outs(%to : memref<1x1xbf16, strided<[256, 1], offset: ?>>) {
    ^bb0(%in: f32, %out: bf16):
      %t = arith.truncf %in : f32 to bf16
      linalg.yield %t : bf16
    }
  } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
  return
}

// -----

// A fill broadcasts its value; a map that reads its output and a scalar
// from outside loads the output's piece and broadcasts the scalar; one that
// yields a scalar from outside stores its broadcast (it crashed before).

// CHECK-LABEL: func.func @fill_and_scale
// CHECK:       scf.forall (%{{.+}}, %{{.+}}) in (4, 4) {
// CHECK:         %[[Z:.+]] = vector.broadcast %{{.+}} : f32 to vector<4xf32>
// CHECK-NEXT:    vector.store %[[Z]]
// CHECK:       scf.forall (%{{.+}}, %{{.+}}) in (4, 4) {
// CHECK:         %[[OLD:.+]] = vector.load %{{.+}} : memref<4x16xf32>, vector<4xf32>
// CHECK-NEXT:    %[[G:.+]] = vector.broadcast %{{.+}} : f32 to vector<4xf32>
// CHECK-NEXT:    %[[NEW:.+]] = arith.mulf %[[G]], %[[OLD]] : vector<4xf32>
// CHECK-NEXT:    vector.store %[[NEW]]
// CHECK:       scf.forall (%{{.+}}, %{{.+}}) in (4, 4) {
// CHECK:         %[[GY:.+]] = vector.broadcast %{{.+}} : f32 to vector<4xf32>
// CHECK-NEXT:    vector.store %[[GY]]
func.func @fill_and_scale(%g: f32) {
  %zero = arith.constant 0.0 : f32
  %s = memref.alloc() {alignment = 16 : i64} : memref<4x16xf32>
  scf.forall (%r, %c) in (4, 16) {
    %e = memref.subview %s[%r, %c] [1, 1] [1, 1] : memref<4x16xf32> to memref<1x1xf32, strided<[16, 1], offset: ?>>
    linalg.fill ins(%zero : f32) outs(%e : memref<1x1xf32, strided<[16, 1], offset: ?>>)
  } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
  scf.forall (%r, %c) in (4, 16) {
    %e = memref.subview %s[%r, %c] [1, 1] [1, 1] : memref<4x16xf32> to memref<1x1xf32, strided<[16, 1], offset: ?>>
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
        outs(%e : memref<1x1xf32, strided<[16, 1], offset: ?>>) {
    ^bb0(%out: f32):
      %m = arith.mulf %g, %out : f32
      linalg.yield %m : f32
    }
  } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
  // A generic that yields a scalar from outside: broadcast too.
  scf.forall (%r, %c) in (4, 16) {
    %e = memref.subview %s[%r, %c] [1, 1] [1, 1] : memref<4x16xf32> to memref<1x1xf32, strided<[16, 1], offset: ?>>
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
        outs(%e : memref<1x1xf32, strided<[16, 1], offset: ?>>) {
    ^bb0(%out: f32):
      linalg.yield %g : f32
    }
  } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
  return
}

// -----

// A map that scales each row by its factor (diag(β)·V in the chunk terms):
// the factor, read at the row, is loaded once a piece and broadcast; only
// x's and y's tiles decide the pieces' width (the factors' alignment is not
// known: a function argument).

// CHECK-LABEL: func.func @row_factor
// CHECK:       scf.forall (%[[R:.+]], %[[C:.+]]) in (4, 4) {
// CHECK:         %[[X:.+]] = vector.load %{{.+}}[%[[R]], %{{.+}}] : memref<4x16xf32>, vector<4xf32>
// CHECK-NEXT:    %[[F:.+]] = memref.load %{{.+}}[%[[R]]] : memref<4xf32>
// CHECK-NEXT:    %[[FV:.+]] = vector.broadcast %[[F]] : f32 to vector<4xf32>
// CHECK-NEXT:    %[[Y:.+]] = arith.mulf %[[X]], %[[FV]] : vector<4xf32>
// CHECK-NEXT:    vector.store %[[Y]]
func.func @row_factor(%f: memref<4xf32>) {
  %x = memref.alloc() {alignment = 16 : i64} : memref<4x16xf32>
  %y = memref.alloc() {alignment = 16 : i64} : memref<4x16xf32>
  scf.forall (%r, %c) in (4, 16) {
    %xe = memref.subview %x[%r, %c] [1, 1] [1, 1] : memref<4x16xf32> to memref<1x1xf32, strided<[16, 1], offset: ?>>
    %fe = memref.subview %f[%r] [1] [1] : memref<4xf32> to memref<1xf32, strided<[1], offset: ?>>
    %ye = memref.subview %y[%r, %c] [1, 1] [1, 1] : memref<4x16xf32> to memref<1x1xf32, strided<[16, 1], offset: ?>>
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
        ins(%xe, %fe : memref<1x1xf32, strided<[16, 1], offset: ?>>, memref<1xf32, strided<[1], offset: ?>>)
        outs(%ye : memref<1x1xf32, strided<[16, 1], offset: ?>>) {
    ^bb0(%a: f32, %b: f32, %out: f32):
      %m = arith.mulf %a, %b : f32
      linalg.yield %m : f32
    }
  } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
  return
}

// -----

// Views of a row's value that the op does not read as one: a fill's
// output, a generic's output (its map reads the row), a column's value (map
// (d1)) at the column: each forall left as it is.

// CHECK-LABEL: func.func @row_views_left_alone
// CHECK-NOT:   vector.
// CHECK:       scf.forall (%{{.+}}, %{{.+}}) in (4, 16)
// CHECK:       scf.forall (%{{.+}}, %{{.+}}) in (4, 16)
// CHECK:       scf.forall (%{{.+}}, %{{.+}}) in (4, 16)
// CHECK-NOT:   vector.
func.func @row_views_left_alone() {
  %x = memref.alloc() {alignment = 16 : i64} : memref<4x16xf32>
  %f = memref.alloc() {alignment = 16 : i64} : memref<4xf32>
  %g = memref.alloc() {alignment = 16 : i64} : memref<16xf32>
  %y = memref.alloc() {alignment = 16 : i64} : memref<4x16xf32>
  %zero = arith.constant 0.0 : f32
  scf.forall (%r, %c) in (4, 16) {
    %fe = memref.subview %f[%r] [1] [1] : memref<4xf32> to memref<1xf32, strided<[1], offset: ?>>
    linalg.fill ins(%zero : f32) outs(%fe : memref<1xf32, strided<[1], offset: ?>>)
  } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
  scf.forall (%r, %c) in (4, 16) {
    %xe = memref.subview %x[%r, %c] [1, 1] [1, 1] : memref<4x16xf32> to memref<1x1xf32, strided<[16, 1], offset: ?>>
    %fe = memref.subview %f[%r] [1] [1] : memref<4xf32> to memref<1xf32, strided<[1], offset: ?>>
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "parallel"]}
        ins(%xe : memref<1x1xf32, strided<[16, 1], offset: ?>>)
        outs(%fe : memref<1xf32, strided<[1], offset: ?>>) {
    ^bb0(%a: f32, %out: f32):
      linalg.yield %a : f32
    }
  } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
  scf.forall (%r, %c) in (4, 16) {
    %xe = memref.subview %x[%r, %c] [1, 1] [1, 1] : memref<4x16xf32> to memref<1x1xf32, strided<[16, 1], offset: ?>>
    %ge = memref.subview %g[%c] [1] [1] : memref<16xf32> to memref<1xf32, strided<[1], offset: ?>>
    %ye = memref.subview %y[%r, %c] [1, 1] [1, 1] : memref<4x16xf32> to memref<1x1xf32, strided<[16, 1], offset: ?>>
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
        ins(%xe, %ge : memref<1x1xf32, strided<[16, 1], offset: ?>>, memref<1xf32, strided<[1], offset: ?>>)
        outs(%ye : memref<1x1xf32, strided<[16, 1], offset: ?>>) {
    ^bb0(%a: f32, %b: f32, %out: f32):
      %m = arith.mulf %a, %b : f32
      linalg.yield %m : f32
    }
  } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
  return
}

// -----

// A tile whose rows are not known to be aligned (a function argument), a
// last bound no piece divides, and a forall with more than the op: each
// left as it is.

// CHECK-LABEL: func.func @left_alone
// CHECK-NOT:   vector.
// CHECK:       scf.forall (%{{.+}}, %{{.+}}) in (4, 16)
// CHECK:       scf.forall (%{{.+}}) in (7)
// CHECK:       scf.forall (%{{.+}}) in (8)
// CHECK-NOT:   vector.
func.func @left_alone(%x: memref<4x16xf32>, %v: memref<8xf32>) {
  %zero = arith.constant 0.0 : f32
  scf.forall (%r, %c) in (4, 16) {
    %e = memref.subview %x[%r, %c] [1, 1] [1, 1] : memref<4x16xf32> to memref<1x1xf32, strided<[16, 1], offset: ?>>
    linalg.fill ins(%zero : f32) outs(%e : memref<1x1xf32, strided<[16, 1], offset: ?>>)
  } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
  %y = memref.alloc() {alignment = 64 : i64} : memref<7xf32>
  scf.forall (%c) in (7) {
    %e = memref.subview %y[%c] [1] [1] : memref<7xf32> to memref<1xf32, strided<[1], offset: ?>>
    linalg.fill ins(%zero : f32) outs(%e : memref<1xf32, strided<[1], offset: ?>>)
  } {mapping = [#gpu.thread<linear_dim_0>]}
  %z = memref.alloc() {alignment = 64 : i64} : memref<8xf32>
  scf.forall (%c) in (8) {
    %e = memref.subview %z[%c] [1] [1] : memref<8xf32> to memref<1xf32, strided<[1], offset: ?>>
    linalg.fill ins(%zero : f32) outs(%e : memref<1xf32, strided<[1], offset: ?>>)
    memref.store %zero, %v[%c] : memref<8xf32>
  } {mapping = [#gpu.thread<linear_dim_0>]}
  return
}
