// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-map-foralls-to-gpu{block-threads=64 kernel-threads=gated_delta_outputs:256,absent:32}))' \
// RUN:   | FileCheck %s
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-map-foralls-to-gpu{kernel-threads=gated_delta_outputs}))' --verify-diagnostics
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-map-foralls-to-gpu{kernel-threads=gated_delta_outputs:2048}))' --verify-diagnostics
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-map-foralls-to-gpu{kernel-threads=:64}))' --verify-diagnostics
// RUN: not nats-opt %s --pass-pipeline='builtin.module(func.func(nats-map-foralls-to-gpu{kernel-threads=gated_delta_outputs}))' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NO-COUNT
// RUN: not nats-opt %s --pass-pipeline='builtin.module(func.func(nats-map-foralls-to-gpu{kernel-threads=gated_delta_outputs:2048}))' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=TOO-MANY
// RUN: not nats-opt %s --pass-pipeline='builtin.module(func.func(nats-map-foralls-to-gpu{kernel-threads=:64}))' 2>&1 \
// RUN:   | FileCheck %s --check-prefix=NO-NAME

// kernel-threads gives the block forall of one kernel its own thread count
// (its loops step by it); the other kernels keep block-threads, and a name
// no kernel has changes nothing.

// CHECK-LABEL: func.func @two_kernels
// CHECK:       %[[C256:.+]] = arith.constant 256 : index
// CHECK:       gpu.launch {{.*}} threads({{.*}}) in (%{{.+}} = %[[C256]], %{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}) function(@gated_delta_outputs)
// CHECK:         arith.constant 256 : index
// CHECK:       %[[C64:.+]] = arith.constant 64 : index
// CHECK:       gpu.launch {{.*}} threads({{.*}}) in (%{{.+}} = %[[C64]], %{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}) function(@gated_delta_state_pass)
// NO-COUNT: error: kernel-threads: expected name:threads with threads in [1, 1024], got 'gated_delta_outputs'
// TOO-MANY: error: kernel-threads: expected name:threads with threads in [1, 1024], got 'gated_delta_outputs:2048'
// NO-NAME: error: kernel-threads: expected name:threads with threads in [1, 1024], got ':64'
// A bad entry's error is at the function (one expected diagnostic serves the
// three runs; FileCheck checks each message whole).
// expected-error-re @below {{kernel-threads: expected name:threads with threads in [1, 1024], got '{{(gated_delta_outputs|gated_delta_outputs:2048|:64)}}'}}
func.func @two_kernels(%buf: memref<2x512xf32>) {
  %one = arith.constant 1.0 : f32
  scf.forall (%b) in (2) {
    scf.forall (%i) in (512) {
      memref.store %one, %buf[%b, %i] : memref<2x512xf32>
    } {mapping = [#gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]} loc("gated_delta_outputs")
  scf.forall (%b) in (2) {
    scf.forall (%i) in (512) {
      memref.store %one, %buf[%b, %i] : memref<2x512xf32>
    } {mapping = [#gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]} loc("gated_delta_state_pass")
  return
}
