// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-fuse-elementwise))' \
// RUN:   --split-input-file | FileCheck %s

// A conversion read by a row norm and by the scale that uses the norm: with
// two uses it stays (folded into each, it would be computed twice). The
// scale has one use, the narrowing after it, element for element: it folds
// into that and is gone.

// CHECK-LABEL: func.func @norm
// CHECK:         %[[F:.+]] = linalg.generic {{.*}} ins(%{{.+}} : tensor<8x64xbf16>)
// CHECK:           arith.extf
// CHECK:         %[[SUM:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]{{.*}} ins(%[[F]] : tensor<8x64xf32>)
// CHECK:         linalg.generic {{.*}} ins(%[[F]], %[[SUM]] : tensor<8x64xf32>, tensor<8xf32>) outs(%{{.+}} : tensor<8x64xbf16>)
// CHECK:           math.rsqrt
// CHECK:           arith.mulf
// CHECK:           arith.truncf
// CHECK-NOT:     linalg.generic
#id = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>
func.func @norm(%x: tensor<8x64xbf16>, %zero: tensor<8xf32>) -> tensor<8x64xbf16> {
  %e = tensor.empty() : tensor<8x64xf32>
  %eb = tensor.empty() : tensor<8x64xbf16>
  %f = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<8x64xbf16>) outs(%e : tensor<8x64xf32>) {
    ^bb0(%a: bf16, %o: f32):
      %y = arith.extf %a : bf16 to f32
      linalg.yield %y : f32
  } -> tensor<8x64xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%f : tensor<8x64xf32>) outs(%zero : tensor<8xf32>) {
    ^bb0(%a: f32, %s: f32):
      %sq = arith.mulf %a, %a : f32
      %t = arith.addf %sq, %s : f32
      linalg.yield %t : f32
  } -> tensor<8xf32>
  %n = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%f, %sum : tensor<8x64xf32>, tensor<8xf32>) outs(%e : tensor<8x64xf32>) {
    ^bb0(%a: f32, %s: f32, %o: f32):
      %r = math.rsqrt %s : f32
      %y = arith.mulf %a, %r : f32
      linalg.yield %y : f32
  } -> tensor<8x64xf32>
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%n : tensor<8x64xf32>) outs(%eb : tensor<8x64xbf16>) {
    ^bb0(%a: f32, %o: bf16):
      %y = arith.truncf %a : f32 to bf16
      linalg.yield %y : bf16
  } -> tensor<8x64xbf16>
  return %b : tensor<8x64xbf16>
}

// -----

// A conversion that a contraction reads stays: the contraction keeps f32
// operands (tensor cores on the GPU), and so does its other user, which
// would otherwise compute it a second time.

// CHECK-LABEL: func.func @contraction
// CHECK:         %[[F:.+]] = linalg.generic {{.*}} ins(%{{.+}} : tensor<16x8xbf16>)
// CHECK:         linalg.generic {{.*}} ins(%[[F]], %[[F]] : tensor<16x8xf32>, tensor<16x8xf32>)
// CHECK:         linalg.generic {{.*}} ins(%[[F]] : tensor<16x8xf32>)
#id = affine_map<(i, j) -> (i, j)>
#a = affine_map<(i, j, k) -> (i, k)>
#b = affine_map<(i, j, k) -> (j, k)>
#c = affine_map<(i, j, k) -> (i, j)>
func.func @contraction(%x: tensor<16x8xbf16>, %acc: tensor<16x16xf32>) -> (tensor<16x16xf32>, tensor<16x8xf32>) {
  %e = tensor.empty() : tensor<16x8xf32>
  %f = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<16x8xbf16>) outs(%e : tensor<16x8xf32>) {
    ^bb0(%v: bf16, %o: f32):
      %y = arith.extf %v : bf16 to f32
      linalg.yield %y : f32
  } -> tensor<16x8xf32>
  %g = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%f, %f : tensor<16x8xf32>, tensor<16x8xf32>) outs(%acc : tensor<16x16xf32>) {
    ^bb0(%l: f32, %r: f32, %o: f32):
      %p = arith.mulf %l, %r : f32
      %s = arith.addf %p, %o : f32
      linalg.yield %s : f32
  } -> tensor<16x16xf32>
  %h = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%f : tensor<16x8xf32>) outs(%e : tensor<16x8xf32>) {
    ^bb0(%v: f32, %o: f32):
      %y = math.exp %v : f32
      linalg.yield %y : f32
  } -> tensor<16x8xf32>
  return %g, %h : tensor<16x16xf32>, tensor<16x8xf32>
}
