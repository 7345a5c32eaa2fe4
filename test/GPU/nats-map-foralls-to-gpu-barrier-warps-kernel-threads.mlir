// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-map-foralls-to-gpu{kernel-threads=routed_softmax:256}))' --verify-diagnostics

// kernel-threads cannot give a block whose warp forall holds barriers
// another thread count than one warp per iteration.
func.func @conflict(%buf: memref<2x4xf32>) {
  %one = arith.constant 1.0 : f32
  scf.forall (%b) in (2) {
    // expected-error @below {{holds barriers, so its block needs one warp per iteration: 128 threads, where kernel-threads gives it 256}}
    scf.forall (%w) in (4) {
      memref.store %one, %buf[%b, %w] : memref<2x4xf32>
      gpu.barrier
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]} loc("routed_softmax")
  return
}
