// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-accumulate-in-registers))' \
// RUN:   | FileCheck %s

// A thread's dot product on the GPU (one output element, a reduction over 16): the
// output is loaded once, carried through the loop, stored once.

// CHECK-LABEL: func.func @dot
// CHECK:       gpu.launch
// CHECK:         %[[INIT:.+]] = memref.load %[[C:.+]][%c0, %c0]
// CHECK:         %[[SUM:.+]] = scf.for %[[K:.+]] = %c0 to %c16 step %c1 iter_args(%[[ACC:.+]] = %[[INIT]]) -> (f32)
// CHECK-DAG:       %[[A:.+]] = memref.load %{{.+}}[%c0, %[[K]]]
// CHECK-DAG:       %[[B:.+]] = memref.load %{{.+}}[%[[K]], %c0]
// CHECK:           %[[P:.+]] = arith.mulf %[[A]], %[[B]]
// CHECK:           %[[S:.+]] = arith.addf %[[ACC]], %[[P]]
// CHECK:           scf.yield %[[S]]
// CHECK:         memref.store %[[SUM]], %[[C]][%c0, %c0]
// CHECK-NOT:     linalg.matmul
// An elementwise op (no reduction) is left to convert-linalg-to-loops.
// CHECK:         linalg.generic
func.func @dot(%a: memref<1x16xf32>, %b: memref<16x1xf32>, %c: memref<1x1xf32>) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    linalg.matmul ins(%a, %b : memref<1x16xf32>, memref<16x1xf32>) outs(%c : memref<1x1xf32>)
    linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
        outs(%c : memref<1x1xf32>) {
      ^bb0(%o: f32):
        %n = arith.negf %o : f32
        linalg.yield %n : f32
    }
    gpu.terminator
  }
  return
}

// A row reduction that reads its index: linalg.index of the reduction dim
// is the loop's induction variable.

// CHECK-LABEL: func.func @argsum
// CHECK:         scf.for %[[J:.+]] = %c0 to %c8 step %c1 iter_args
// CHECK:           arith.index_cast %[[J]]
func.func @argsum(%in8: memref<1x8xf32>, %c: memref<1xi64>) {
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                    iterator_types = ["parallel", "reduction"]}
        ins(%in8 : memref<1x8xf32>) outs(%c : memref<1xi64>) {
      ^bb0(%in: f32, %o: i64):
        %j = linalg.index 1 : index
        %ji = arith.index_cast %j : index to i64
        %s = arith.addi %o, %ji : i64
        linalg.yield %s : i64
    }
    gpu.terminator
  }
  return
}

// A whole matmul (the CPU path): loops over the output elements outside,
// the reduction inside carrying the element.

// CHECK-LABEL: func.func @matmul
// CHECK:       scf.for %[[I:.+]] = %c0 to %c4 step %c1 {
// CHECK-NEXT:    scf.for %[[J:.+]] = %c0 to %c3 step %c1 {
// CHECK-NEXT:      %[[INIT:.+]] = memref.load %[[C:.+]][%[[I]], %[[J]]]
// CHECK-NEXT:      %[[SUM:.+]] = scf.for %[[K:.+]] = %c0 to %c5 step %c1 iter_args(%[[ACC:.+]] = %[[INIT]]) -> (f32)
// CHECK-DAG:         memref.load %{{.+}}[%[[I]], %[[K]]]
// CHECK-DAG:         memref.load %{{.+}}[%[[K]], %[[J]]]
// CHECK:           memref.store %[[SUM]], %[[C]][%[[I]], %[[J]]]
// CHECK-NOT:   linalg.matmul
func.func @matmul(%a: memref<4x5xf32>, %b: memref<5x3xf32>, %c: memref<4x3xf32>) {
  linalg.matmul ins(%a, %b : memref<4x5xf32>, memref<5x3xf32>) outs(%c : memref<4x3xf32>)
  return
}
