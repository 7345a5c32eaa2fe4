// Stock mlir-opt with the pass plugin runs the nats passes. Passes that a
// plugin registers are known to --pass-pipeline (mlir-opt builds its pass
// flags before it loads plugins, so they are not flags of their own).
// RUN: mlir-opt %s --load-dialect-plugin=%nats_plugin --load-pass-plugin=%nats_plugin \
// RUN:   --pass-pipeline='builtin.module(func.func(nats-decompose-chunk-route))' \
// RUN:   | FileCheck %s --implicit-check-not=nats.

// CHECK-LABEL: func.func @router
// CHECK: tensor.expand_shape
// CHECK-COUNT-3: linalg.generic
// CHECK: return
func.func @router(%x: tensor<1x128x16xf32>, %wr: tensor<16x4xf32>) -> tensor<1x2x2xi1> {
  %route = nats.chunk_route %x, %wr
      : tensor<1x128x16xf32>, tensor<16x4xf32> -> tensor<1x2x2xi1>
  return %route : tensor<1x2x2xi1>
}
