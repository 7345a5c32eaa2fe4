// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-workspace{shared-memory-bytes=256}))' \
// RUN:   --verify-diagnostics -o /dev/null

// A buffer in workgroup memory must be in shared memory: two of 256 bytes
// do not fit in 256.
func.func @too_large(%out: memref<3xf32>) {
  %c0 = arith.constant 0 : index
  %f = arith.constant 1.0 : f32
  scf.forall (%i) in (3) {
    %a = memref.alloc() : memref<64xf32, #gpu.address_space<workgroup>>
    // expected-error @below {{needs 256 bytes of shared memory at offset 256, beyond the block's 256}}
    %b = memref.alloc() : memref<64xf32, #gpu.address_space<workgroup>>
    memref.store %f, %a[%c0] : memref<64xf32, #gpu.address_space<workgroup>>
    memref.store %f, %b[%c0] : memref<64xf32, #gpu.address_space<workgroup>>
    %x = memref.load %a[%c0] : memref<64xf32, #gpu.address_space<workgroup>>
    %y = memref.load %b[%c0] : memref<64xf32, #gpu.address_space<workgroup>>
    %z = arith.addf %x, %y : f32
    memref.store %z, %out[%i] : memref<3xf32>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}
