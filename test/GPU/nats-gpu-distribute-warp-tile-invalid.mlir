// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-distribute{mma warp-tile-m=24}))' \
// RUN:   --verify-diagnostics -o /dev/null
// RUN: not nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-distribute{mma warp-tile-n=0}))' \
// RUN:   -o /dev/null 2>&1 | FileCheck %s --check-prefix=ZERO
// RUN: not nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-distribute{mma kernel-warp-tiles=gated_delta_state_pass:16x4}))' \
// RUN:   -o /dev/null 2>&1 | FileCheck %s --check-prefix=NAMED
// RUN: not nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-distribute{mma kernel-warp-tiles=16x8}))' \
// RUN:   -o /dev/null 2>&1 | FileCheck %s --check-prefix=NONAME

// A warp tile is whole MMA tiles: rows a multiple of 16, columns of 8.

// ZERO: error: 'func.func' op nats-gpu-distribute: warp-tile-m must be a positive multiple of 16 and warp-tile-n of 8, got 16 and 0
// NAMED: error: 'func.func' op nats-gpu-distribute: kernel-warp-tiles: expected name:MxN with M a positive multiple of 16 and N of 8, got 'gated_delta_state_pass:16x4'
// NONAME: error: 'func.func' op nats-gpu-distribute: kernel-warp-tiles: expected name:MxN with M a positive multiple of 16 and N of 8, got '16x8'

// expected-error @below {{nats-gpu-distribute: warp-tile-m must be a positive multiple of 16 and warp-tile-n of 8, got 24 and 8}}
func.func @tile(%a: tensor<32x8xf32>, %b: tensor<8x16xf32>, %c: tensor<32x16xf32>) -> tensor<32x16xf32> {
  %m = linalg.matmul ins(%a, %b : tensor<32x8xf32>, tensor<8x16xf32>) outs(%c : tensor<32x16xf32>) -> tensor<32x16xf32>
  return %m : tensor<32x16xf32>
}
