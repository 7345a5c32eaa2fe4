// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-mma-sync))' \
// RUN:   --verify-diagnostics

// expected-error @below {{has nats.mma_precision = "fp8", expected "tf32", "3xtf32" or "bf16"}}
func.func @bad_mark(%a: memref<16x8xf32>, %b: memref<8x8xf32>, %c: memref<16x8xf32>)
    attributes {nats.mma_precision = "fp8"} {
  return
}
