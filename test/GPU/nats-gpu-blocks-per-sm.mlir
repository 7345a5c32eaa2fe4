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

// RUN: nats-opt %s --pass-pipeline='builtin.module(gpu.module(nats-gpu-blocks-per-sm{threads=1024}))' \
// RUN:   | FileCheck %s --check-prefix=BUDGET
// RUN: nats-opt %s --pass-pipeline='builtin.module(gpu.module(nats-gpu-blocks-per-sm{blocks=2 threads=128}))' \
// RUN:   | FileCheck %s --check-prefix=CAPPED

// With threads, each kernel's register budget, 65536 / (blocks * threads):
// 64 for one block of 1024; 256 would be over a thread's 255.
// BUDGET: gpu.func @tile() kernel attributes {nvvm.maxnreg = 64 : i32}
// BUDGET: gpu.func @helper() {
// CAPPED: gpu.func @tile() kernel attributes {nvvm.maxnreg = 255 : i32, nvvm.minctasm = 2 : i32}
