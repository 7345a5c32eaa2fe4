// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-distribute{graph-matmuls}))' \
// RUN:   --verify-diagnostics -o /dev/null

// graph-matmuls puts the graph's matmuls on tensor cores: without mma there
// are none.

// expected-error @below {{nats-gpu-distribute: graph-matmuls needs mma}}
func.func @projection(%x: tensor<64x64xbf16>, %w: tensor<64x64xbf16>, %acc: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %y = linalg.matmul ins(%x, %w : tensor<64x64xbf16>, tensor<64x64xbf16>)
      outs(%acc : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %y : tensor<64x64xf32>
}
