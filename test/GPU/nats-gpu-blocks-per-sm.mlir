// RUN: nats-opt %s --pass-pipeline='builtin.module(gpu.module(nats-gpu-blocks-per-sm{blocks=2}))' \
// RUN:   | FileCheck %s

// Kernels ask for two blocks an SM (PTX .minnctapersm); occupancy is a
// kernel's property, so a device function is left alone.
// CHECK-LABEL: gpu.module @kernels
// CHECK: gpu.func @tile() kernel attributes {nvvm.minctasm = 2 : i32}
// CHECK: gpu.func @helper() {
gpu.module @kernels {
  gpu.func @tile() kernel {
    gpu.return
  }
  gpu.func @helper() {
    gpu.return
  }
}
