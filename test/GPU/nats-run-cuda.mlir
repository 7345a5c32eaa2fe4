// Runs on the GPU, where there is one (lit feature cuda-gpu; CI has none and
// lists this test as UNSUPPORTED). The full GPU correctness matrix is
// bench/gpu_check.sh.
// REQUIRES: cuda-gpu
// RUN: rm -rf %t && mkdir -p %t
// RUN: python3 -c "import numpy as np; np.save('%t/a.npy', np.arange(6, dtype=np.float32).reshape(2, 3)); np.save('%t/b.npy', np.eye(3, 2, dtype=np.float32) * 2)"
// RUN: nats-run %s --target cuda --function matmul --inputs %t/a.npy %t/b.npy --outputs %t/c.npy
// RUN: python3 -c "import numpy as np; print(np.load('%t/c.npy').tolist())" | FileCheck %s
// CHECK: {{\[\[}}0.0, 2.0], [6.0, 8.0]]

func.func @matmul(%a: tensor<2x3xf32>, %b: tensor<3x2xf32>) -> tensor<2x2xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x2xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>
  %c = linalg.matmul ins(%a, %b : tensor<2x3xf32>, tensor<3x2xf32>)
                     outs(%f : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %c : tensor<2x2xf32>
}
