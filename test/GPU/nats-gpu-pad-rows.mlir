// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-pad-rows))' \
// RUN:   | FileCheck %s

// A block's 64 x 32 f32 scratch has 128-byte rows, each starting in bank 0:
// it becomes the top-left slice of a 64 x 36 tensor (16 bytes a row more).
// Rows of 64 bytes start in two banks, every other row in the same: padded
// too. Rows of 32 bytes, a thread's own tile and a tensor outside any
// block stay as they are.
// CHECK-LABEL: func.func @pad
// CHECK:         tensor.empty() : tensor<8x32xf32>
// CHECK:         scf.forall
// CHECK:           %[[P:.+]] = tensor.empty() : tensor<64x36xf32>
// CHECK:           tensor.extract_slice %[[P]][0, 0] [64, 32] [1, 1] : tensor<64x36xf32> to tensor<64x32xf32>
// CHECK:           %[[H:.+]] = tensor.empty() : tensor<64x40xbf16>
// CHECK:           tensor.extract_slice %[[H]][0, 0] [64, 32] [1, 1] : tensor<64x40xbf16> to tensor<64x32xbf16>
// CHECK:           tensor.empty() : tensor<64x8xf32>
// CHECK:           scf.forall
// CHECK:             tensor.empty() : tensor<4x32xf32>
func.func @pad(%out: tensor<3x64x32xf32>) -> tensor<3x64x32xf32> {
  %cst = arith.constant 0.0 : f32
  %host = tensor.empty() : tensor<8x32xf32>
  %r = scf.forall (%b) in (3) shared_outs(%o = %out) -> (tensor<3x64x32xf32>) {
    %e = tensor.empty() : tensor<64x32xf32>
    %f = linalg.fill ins(%cst : f32) outs(%e : tensor<64x32xf32>) -> tensor<64x32xf32>
    %half = tensor.empty() : tensor<64x32xbf16>
    %narrow = tensor.empty() : tensor<64x8xf32>
    %t = scf.forall (%i) in (16) shared_outs(%acc = %f) -> (tensor<64x32xf32>) {
      %own = tensor.empty() : tensor<4x32xf32>
      %z = linalg.fill ins(%cst : f32) outs(%own : tensor<4x32xf32>) -> tensor<4x32xf32>
      %row = arith.muli %i, %i : index
      scf.forall.in_parallel {
        tensor.parallel_insert_slice %z into %acc[%row, 0] [4, 32] [1, 1] : tensor<4x32xf32> into tensor<64x32xf32>
      }
    } {mapping = [#gpu.thread<linear_dim_0>]}
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %t into %o[%b, 0, 0] [1, 64, 32] [1, 1, 1] : tensor<64x32xf32> into tensor<3x64x32xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<3x64x32xf32>
}

