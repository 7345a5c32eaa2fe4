// RUN: nats-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(nats-gpu-mma-precision))' \
// RUN:   | FileCheck %s
// RUN: nats-opt %s --split-input-file --verify-diagnostics \
// RUN:   --pass-pipeline='builtin.module(func.func(nats-gpu-mma-precision,nats-gpu-mma-sync))' \
// RUN:   | FileCheck %s --check-prefix=MMA

// 16-bit attention data: one tf32 product a step (bf16 is exact in tf32).
// CHECK-LABEL: func.func @bf16_router
// CHECK-SAME:    attributes {nats.mma_precision = "tf32"}
// MMA-LABEL:   func.func @bf16_router
func.func @bf16_router(%x: tensor<1x128x32xbf16>, %w: tensor<32x4xbf16>) -> tensor<1x2x2xi1> {
  %route = nats.chunk_route %x, %w {chunk_size = 64 : i64}
      : tensor<1x128x32xbf16>, tensor<32x4xbf16> -> tensor<1x2x2xi1>
  return %route : tensor<1x2x2xi1>
}

// -----

// f32 data anywhere: 3xTF32.
// CHECK-LABEL: func.func @mixed
// CHECK-SAME:    attributes {nats.mma_precision = "3xtf32"}
func.func @mixed(%x: tensor<1x128x32xbf16>, %w: tensor<32x4xbf16>,
                 %y: tensor<1x128x32xf32>, %v: tensor<32x4xf32>) -> (tensor<1x2x2xi1>, tensor<1x2x2xi1>) {
  %a = nats.chunk_route %x, %w {chunk_size = 64 : i64}
      : tensor<1x128x32xbf16>, tensor<32x4xbf16> -> tensor<1x2x2xi1>
  %b = nats.chunk_route %y, %v {chunk_size = 64 : i64}
      : tensor<1x128x32xf32>, tensor<32x4xf32> -> tensor<1x2x2xi1>
  return %a, %b : tensor<1x2x2xi1>, tensor<1x2x2xi1>
}

// -----

// A user's mark stays; a function without nats ops gets none.
// CHECK-LABEL: func.func @marked
// CHECK-SAME:    attributes {nats.mma_precision = "3xtf32"}
// CHECK-LABEL: func.func @plain
// CHECK-NOT:     nats.mma_precision
// CHECK:       // -----
func.func @marked(%x: tensor<1x128x32xbf16>, %w: tensor<32x4xbf16>) -> tensor<1x2x2xi1>
    attributes {nats.mma_precision = "3xtf32"} {
  %route = nats.chunk_route %x, %w {chunk_size = 64 : i64}
      : tensor<1x128x32xbf16>, tensor<32x4xbf16> -> tensor<1x2x2xi1>
  return %route : tensor<1x2x2xi1>
}
func.func @plain(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// -----

// nats-gpu-mma-sync (precision=auto) follows the mark: "tf32" is one
// mma.sync a step.
// MMA-LABEL: func.func @tf32_tile
// MMA-NOT:     nats.mma_precision
// MMA:         scf.for
// MMA-NOT:       arith.subf
// MMA:           nvgpu.mma.sync
// MMA-NOT:       nvgpu.mma.sync
// MMA:           scf.yield
func.func @tf32_tile(%a: memref<16x8xf32>, %b: memref<8x8xf32>, %c: memref<16x8xf32>)
    attributes {nats.mma_precision = "tf32"} {
  scf.forall (%blk) in (1) {
    scf.forall (%w) in (1) {
      linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x8xf32>) outs(%c : memref<16x8xf32>)
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

