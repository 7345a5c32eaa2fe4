// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-aligned-arguments))' \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-aligned-arguments{bytes=64}))' \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=WIDE

// A public function's memref arguments are read through
// memref.assume_alignment of 16 bytes (the runtime's device arrays); its
// other arguments, an unused one and a private function's (whose callers
// may pass views at any offset) are left alone.
// CHECK-LABEL: func.func @entry
// CHECK-SAME:    (%[[A:.+]]: memref<4x8xbf16>, %[[I:.+]]: index, %[[OUT:.+]]: memref<4xf32>, %{{.+}}: memref<2xf32>)
// CHECK-DAG:     %[[AA:.+]] = memref.assume_alignment %[[A]], 16 : memref<4x8xbf16>
// CHECK-DAG:     %[[OA:.+]] = memref.assume_alignment %[[OUT]], 16 : memref<4xf32>
// CHECK:         %[[X:.+]] = memref.load %[[AA]][%[[I]], %[[I]]]
// CHECK:         memref.store %{{.+}}, %[[OA]][%[[I]]]
// CHECK-NOT:     memref.assume_alignment
// CHECK-LABEL: func.func private @helper
// CHECK-NOT:     memref.assume_alignment
// WIDE-LABEL: func.func @entry
// WIDE-COUNT-2: memref.assume_alignment %{{.+}}, 64
func.func @entry(%a: memref<4x8xbf16>, %i: index, %out: memref<4xf32>, %unused: memref<2xf32>) {
  %x = memref.load %a[%i, %i] : memref<4x8xbf16>
  %y = arith.extf %x : bf16 to f32
  memref.store %y, %out[%i] : memref<4xf32>
  return
}
func.func private @helper(%a: memref<4x8xbf16>, %i: index) -> bf16 {
  %x = memref.load %a[%i, %i] : memref<4x8xbf16>
  return %x : bf16
}
