// Stock mlir-opt with the nats dialect plugin parses, verifies and prints
// nats IR, in both forms, and reports verifier errors.
// RUN: mlir-opt %s --load-dialect-plugin=%nats_plugin | FileCheck %s
// RUN: mlir-opt %s --load-dialect-plugin=%nats_plugin --mlir-print-op-generic \
// RUN:   | mlir-opt --load-dialect-plugin=%nats_plugin | FileCheck %s
// RUN: mlir-opt %S/../Dialect/Nats/invalid.mlir --load-dialect-plugin=%nats_plugin \
// RUN:   --split-input-file --verify-diagnostics

// CHECK-LABEL: func.func @layer_core
// CHECK: nats.chunk_route %{{.+}}, %{{.+}} : tensor<1x128x16xf32>, tensor<16x4xf32> -> tensor<1x2x2xi1>
// CHECK: nats.hybrid_attention linear(%{{.+}}) softmax(%{{.+}}) route(%{{.+}}) {window = 4 : i64}
func.func @layer_core(%x: tensor<1x128x16xf32>, %wr: tensor<16x4xf32>,
                      %q: tensor<1x128x2x8xf32>, %g: tensor<1x128x2xf32>)
    -> (tensor<1x128x2x8xf32>, tensor<1x128x2x8xf32>, tensor<1x2x8x8xf32>) {
  %route = nats.chunk_route %x, %wr
      : tensor<1x128x16xf32>, tensor<16x4xf32> -> tensor<1x2x2xi1>
  %o, %os, %s = "nats.hybrid_attention"(%q, %q, %q, %g, %g, %q, %q, %q, %route)
      {window = 4 : i64}
      : (tensor<1x128x2x8xf32>, tensor<1x128x2x8xf32>, tensor<1x128x2x8xf32>,
         tensor<1x128x2xf32>, tensor<1x128x2xf32>, tensor<1x128x2x8xf32>,
         tensor<1x128x2x8xf32>, tensor<1x128x2x8xf32>, tensor<1x2x2xi1>)
      -> (tensor<1x128x2x8xf32>, tensor<1x128x2x8xf32>, tensor<1x2x8x8xf32>)
  return %o, %os, %s : tensor<1x128x2x8xf32>, tensor<1x128x2x8xf32>, tensor<1x2x8x8xf32>
}
