// nats-run compiles this file through nats-cpu and runs @route on .npy files.
// RUN: rm -rf %t && mkdir -p %t
// RUN: python3 -c "import numpy as np; x = np.zeros((1, 6, 2), np.float32); x[0, :4, 0] = 1; x[0, 4:, 1] = 1; np.save('%t/x.npy', x); np.save('%t/w.npy', np.array([[1, 0, 0, 1], [0, 1, 1, 0]], np.float32))"
// RUN: nats-run %s --function route --inputs %t/x.npy %t/w.npy --outputs %t/r.npy 2>&1 | FileCheck %s --check-prefix=RAN
// RUN: python3 -c "import numpy as np; print(np.load('%t/r.npy').astype(int).tolist())" | FileCheck %s
// RUN: not nats-run %s --function route --inputs %t/w.npy %t/w.npy --outputs %t/bad.npy 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: not nats-run %s --function missing --inputs --outputs 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not test -e %t/bad.npy

// RAN: nats-run: @route ran in
// Chunk 0 (tokens 0-3) is all feature 0: head 0 prefers softmax, head 1
// linear. Chunk 1 (tokens 4-5) the other way round.
// CHECK: {{\[\[\[}}1, 0], [0, 1]]]
// SHAPE: nats-run: error: input 0 ({{.*}}w.npy): expected 1x6x2 f32, got shape (2, 4) dtype float32
// MISSING: nats-run: error: no func.func @missing in the file

func.func @route(%x: tensor<1x6x2xf32>, %w: tensor<2x4xf32>) -> tensor<1x2x2xi1> {
  %r = nats.chunk_route %x, %w {chunk_size = 4 : i64}
      : tensor<1x6x2xf32>, tensor<2x4xf32> -> tensor<1x2x2xi1>
  return %r : tensor<1x2x2xi1>
}
