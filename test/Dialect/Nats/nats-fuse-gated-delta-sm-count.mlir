// RUN: nats-opt %s --nats-fuse-gated-delta="sm-count=4" | FileCheck %s --check-prefix=WHOLE
// RUN: nats-opt %s --nats-fuse-gated-delta="sm-count=8" | FileCheck %s --check-prefix=HALVES
// RUN: nats-opt %s --nats-fuse-gated-delta="sm-count=16 value-tile=8" | FileCheck %s --check-prefix=QUARTERS
// RUN: nats-opt %s --nats-fuse-gated-delta="sm-count=32" | FileCheck %s --check-prefix=EIGHTHS

// sm-count chooses the state pass's columns an iteration (value-tile is then
// not used): of 8, 16, 32 and 64 (V = 64), the fewest waves of
// B·H·V/columns iterations over that many SMs, times an iteration's cost
// (0.76, 1, 1.25, 2). B·H = 4 (batch, head) pairs: 32, 16, 8 or 4
// iterations.
// One tile (T = 64): the chunk terms and the outputs over (batch, head).
// 4 SMs: 8, 4, 2, 1 waves (costs 6.08, 4, 2.5, 2): all 64 columns, no third dim.
// WHOLE: scf.forall (%{{[^,]+}}, %{{[^,]+}}) in (1, 4) shared_outs
// WHOLE: scf.forall (%{{[^,]+}}, %{{[^,]+}}) in (1, 4) shared_outs
// WHOLE-NOT: in (1, 4, {{[0-9]+}})
// 8 SMs: 4, 2, 1, 1 waves (costs 3.04, 2, 1.25, 2): 32 columns, two iterations.
// HALVES: scf.forall (%{{[^,]+}}, %{{[^,]+}}) in (1, 4) shared_outs
// HALVES: scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (1, 4, 2) shared_outs
// HALVES: tensor.extract_slice {{.+}} [1, 1, 1, 64, 32] [1, 1, 1, 1, 1] : tensor<1x4x1x64x64xf32> to tensor<64x32xf32>
// 16 SMs: one wave at 16 columns already (8: two, 1.52): 16, four
// iterations.
// QUARTERS: scf.forall (%{{[^,]+}}, %{{[^,]+}}) in (1, 4) shared_outs
// QUARTERS: scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (1, 4, 4) shared_outs
// 32 SMs: one wave at 8 columns: 8, eight iterations.
// EIGHTHS: scf.forall (%{{[^,]+}}, %{{[^,]+}}) in (1, 4) shared_outs
// EIGHTHS: scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (1, 4, 8) shared_outs
// EIGHTHS: tensor.extract_slice {{.+}} [1, 1, 1, 64, 8] [1, 1, 1, 1, 1] : tensor<1x4x1x64x64xf32> to tensor<64x8xf32>

func.func @gated_delta(%q: tensor<1x64x4x16xf32>, %k: tensor<1x64x4x16xf32>,
                       %v: tensor<1x64x4x64xf32>, %g: tensor<1x64x4xf32>,
                       %beta: tensor<1x64x4xf32>, %route: tensor<1x1x4xi1>)
    -> (tensor<1x64x4x64xf32>, tensor<1x4x16x64xf32>) {
  %o, %s = nats.gated_delta(%q, %k, %v, %g, %beta) route(%route) {chunk_size = 64 : i64, scale = 0.25 : f32}
      : (tensor<1x64x4x16xf32>, tensor<1x64x4x16xf32>, tensor<1x64x4x64xf32>,
         tensor<1x64x4xf32>, tensor<1x64x4xf32>, tensor<1x1x4xi1>)
      -> (tensor<1x64x4x64xf32>, tensor<1x4x16x64xf32>)
  return %o, %s : tensor<1x64x4x64xf32>, tensor<1x4x16x64xf32>
}
