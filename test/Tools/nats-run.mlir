// nats-run compiles this file through nats-cpu and runs its functions on .npy files.
// RUN: rm -rf %t && mkdir -p %t
// RUN: python3 -c "import numpy as np; x = np.zeros((1, 6, 2), np.float32); x[0, :4, 0] = 1; x[0, 4:, 1] = 1; np.save('%t/x.npy', x); np.save('%t/w.npy', np.array([[1, 0, 0, 1], [0, 1, 1, 0]], np.float32)); np.save('%t/a.npy', np.arange(6, dtype=np.float32).reshape(2, 3)); np.save('%t/b.npy', np.eye(3, 2, dtype=np.float32) * 2)"

// The router: one i1 result.
// RUN: nats-run %s --function route --inputs %t/x.npy %t/w.npy --outputs %t/r.npy 2>&1 | FileCheck %s --check-prefix=RAN
// RUN: python3 -c "import numpy as np; r = np.load('%t/r.npy'); print(r.dtype, r.astype(int).tolist())" | FileCheck %s --check-prefix=ROUTE
// RAN: nats-run: @route ran in
// Chunk 0 (tokens 0-3) is all feature 0: head 0 prefers softmax, head 1
// linear. Chunk 1 (tokens 4-5) the other way round.
// ROUTE: bool {{\[\[\[}}1, 0], [0, 1]]]

// Plain linalg, two results, an output name without the .npy suffix kept as given.
// RUN: nats-run %s --function matmul_sum --inputs %t/a.npy %t/b.npy --outputs %t/c.npy %t/s.out
// RUN: python3 -c "import numpy as np; print(np.load('%t/c.npy').tolist(), np.load('%t/s.out').tolist())" | FileCheck %s --check-prefix=MATMUL
// MATMUL: {{\[\[}}0.0, 2.0], [6.0, 8.0]] 16.0

// Errors: a message naming the argument, a non-zero exit, no output written.
// RUN: not nats-run %s --function route --inputs %t/w.npy %t/w.npy --outputs %t/bad.npy 2>&1 | FileCheck %s --check-prefix=SHAPE
// SHAPE: nats-run: error: input 0 ({{.*}}w.npy): expected tensor<1x6x2xf32>, got float32 array of shape (2, 4)
// RUN: python3 -c "import numpy as np; np.save('%t/x16.npy', np.load('%t/x.npy').astype(np.float16))"
// RUN: not nats-run %s --function route --inputs %t/x16.npy %t/w.npy --outputs %t/bad.npy 2>&1 | FileCheck %s --check-prefix=DTYPE
// DTYPE: nats-run: error: input 0 ({{.*}}x16.npy): expected tensor<1x6x2xf32>, got float16 array of shape (1, 6, 2)
// RUN: not nats-run %s --function matmul_sum --inputs %t/a.npy %t/a.npy --outputs %t/bad.npy %t/bad2.npy 2>&1 | FileCheck %s --check-prefix=SECOND
// SECOND: nats-run: error: input 1 ({{.*}}a.npy): expected tensor<3x2xf32>, got float32 array of shape (2, 3)
// RUN: not nats-run %s --function route --inputs %t/x.npy --outputs %t/bad.npy 2>&1 | FileCheck %s --check-prefix=COUNT
// COUNT: nats-run: error: @route takes 2 inputs, got 1 .npy files
// RUN: not nats-run %s --function route --inputs %t/x.npy %t/w.npy --outputs %t/bad.npy %t/bad2.npy 2>&1 | FileCheck %s --check-prefix=RESULTS
// RESULTS: nats-run: error: @route has 1 results, got 2 output files
// RUN: not nats-run %s --function route --inputs %t/x.npy %t/missing.npy --outputs %t/bad.npy 2>&1 | FileCheck %s --check-prefix=NOFILE
// NOFILE: nats-run: error: input 1 ({{.*}}missing.npy): cannot read a .npy file
// RUN: not nats-run %s --function missing --inputs --outputs 2>&1 | FileCheck %s --check-prefix=MISSING
// MISSING: nats-run: error: no func.func @missing in the file
// RUN: not nats-run %s --function dynamic --inputs %t/a.npy --outputs %t/bad.npy 2>&1 | FileCheck %s --check-prefix=DYNAMIC
// DYNAMIC: nats-run: error: @dynamic argument 0 has type tensor<?x3xf32>: nats-run takes statically shaped tensors only
// An output that cannot be written: the other one is not written either.
// RUN: not nats-run %s --function matmul_sum --inputs %t/a.npy %t/b.npy --outputs %t/bad.npy %t/nodir/s.npy 2>&1 | FileCheck %s --check-prefix=NODIR
// NODIR: nats-run: error: {{.*}}nodir
// RUN: not test -e %t/bad.npy
// RUN: not test -e %t/bad2.npy

func.func @route(%x: tensor<1x6x2xf32>, %w: tensor<2x4xf32>) -> tensor<1x2x2xi1> {
  %r = nats.chunk_route %x, %w {chunk_size = 4 : i64}
      : tensor<1x6x2xf32>, tensor<2x4xf32> -> tensor<1x2x2xi1>
  return %r : tensor<1x2x2xi1>
}

func.func @matmul_sum(%a: tensor<2x3xf32>, %b: tensor<3x2xf32>)
    -> (tensor<2x2xf32>, tensor<f32>) {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<2x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<2x2xf32>) -> tensor<2x2xf32>
  %c = linalg.matmul ins(%a, %b : tensor<2x3xf32>, tensor<3x2xf32>)
                     outs(%acc : tensor<2x2xf32>) -> tensor<2x2xf32>
  %sinit = tensor.empty() : tensor<f32>
  %sacc = linalg.fill ins(%zero : f32) outs(%sinit : tensor<f32>) -> tensor<f32>
  %s = linalg.reduce { arith.addf } ins(%c : tensor<2x2xf32>) outs(%sacc : tensor<f32>)
      dimensions = [0, 1]
  return %c, %s : tensor<2x2xf32>, tensor<f32>
}

func.func @dynamic(%a: tensor<?x3xf32>) -> tensor<?x3xf32> {
  return %a : tensor<?x3xf32>
}
