// The whole CPU pipeline: nats ops in, nothing but the LLVM dialect out.
// RUN: nats-opt %s --nats-cpu | FileCheck %s \
// RUN:   --implicit-check-not="{{(nats|linalg|tensor|memref|scf|cf|arith|math|func|bufferization|affine)\.}}"
// RUN: nats-opt %s --nats-to-linalg | FileCheck %s --check-prefix=LINALG \
// RUN:   --implicit-check-not=nats.
// RUN: nats-opt %s --pass-pipeline='builtin.module(nats-cpu{tile-size=16 block-size=32})' \
// RUN:   | FileCheck %s --check-prefix=OPTIONS

// Results become out-parameters; the C interface takes one descriptor per
// argument (5 inputs, 1 route, 3 results).
// CHECK: llvm.func @layer_core(
// CHECK: llvm.func @_mlir_ciface_layer_core(%{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr, %{{.+}}: !llvm.ptr)
// CHECK-SAME: attributes {llvm.emit_c_interface}

// LINALG-LABEL: func.func @layer_core
// LINALG: scf.forall
// LINALG: linalg.generic
// LINALG: return

// OPTIONS: llvm.func @_mlir_ciface_layer_core

func.func @layer_core(%x: tensor<1x100x16xf32>, %wr: tensor<16x4xf32>,
                      %q: tensor<1x100x2x8xf32>, %g: tensor<1x100x2xf32>)
    -> (tensor<1x100x2x8xf32>, tensor<1x100x2x8xf32>, tensor<1x2x8x8xf32>) {
  %route = nats.chunk_route %x, %wr
      : tensor<1x100x16xf32>, tensor<16x4xf32> -> tensor<1x2x2xi1>
  %o, %os, %s = nats.hybrid_attention linear(%q, %q, %q, %g, %g)
      softmax(%q, %q, %q) route(%route) {window = 4 : i64}
      : (tensor<1x100x2x8xf32>, tensor<1x100x2x8xf32>, tensor<1x100x2x8xf32>,
         tensor<1x100x2xf32>, tensor<1x100x2xf32>, tensor<1x100x2x8xf32>,
         tensor<1x100x2x8xf32>, tensor<1x100x2x8xf32>, tensor<1x2x2xi1>)
      -> (tensor<1x100x2x8xf32>, tensor<1x100x2x8xf32>, tensor<1x2x8x8xf32>)
  return %o, %os, %s : tensor<1x100x2x8xf32>, tensor<1x100x2x8xf32>, tensor<1x2x8x8xf32>
}
