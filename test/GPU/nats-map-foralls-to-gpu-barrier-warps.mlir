// RUN: nats-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(nats-map-foralls-to-gpu{block-threads=512}))' --verify-diagnostics \
// RUN:   | FileCheck %s

// A warp forall that holds barriers (nats-gpu-warp-rows' lane code) needs
// every warp at each barrier: its block gets one warp per iteration (4 warps
// = 128 threads, not block-threads), so that its loop is one round, unguarded.

// CHECK-LABEL: func.func @barrier_warps
// CHECK-DAG:   %[[C128:.+]] = arith.constant 128 : index
// CHECK:       gpu.launch {{.*}} threads({{.*}}) in (%{{.+}} = %[[C128]], %{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}) function(@routed_softmax)
// CHECK-NOT:     scf.if
// CHECK:         gpu.barrier
// CHECK:         memref.store
// CHECK:         gpu.barrier
// CHECK:         memref.load
func.func @barrier_warps(%buf: memref<2x4xf32>) {
  %one = arith.constant 1.0 : f32
  %c0 = arith.constant 0 : index
  scf.forall (%b) in (2) {
    scf.forall (%w) in (4) {
      memref.store %one, %buf[%b, %w] : memref<2x4xf32>
      gpu.barrier
      %x = memref.load %buf[%b, %c0] : memref<2x4xf32>
      memref.store %x, %buf[%b, %w] : memref<2x4xf32>
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]} loc("routed_softmax")
  return
}

// -----

func.func @two_counts(%buf: memref<2x4xf32>) {
  %one = arith.constant 1.0 : f32
  scf.forall (%b) in (2) {
    scf.forall (%w) in (4) {
      memref.store %one, %buf[%b, %w] : memref<2x4xf32>
      gpu.barrier
    } {mapping = [#gpu.warp<linear_dim_0>]}
    // expected-error @below {{holds barriers, so its block needs one warp per iteration: 64 threads, where another such forall needs 128}}
    scf.forall (%w) in (2) {
      memref.store %one, %buf[%b, %w] : memref<2x4xf32>
      gpu.barrier
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

func.func @too_many_warps(%buf: memref<2x64xf32>) {
  %one = arith.constant 1.0 : f32
  scf.forall (%b) in (2) {
    // expected-error @below {{holds barriers, so its block needs one warp per iteration: 2048 threads, more than a block has}}
    scf.forall (%w) in (64) {
      memref.store %one, %buf[%b, %w] : memref<2x64xf32>
      gpu.barrier
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}
