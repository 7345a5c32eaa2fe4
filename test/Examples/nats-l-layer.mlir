// The example NAtS-L layer (spec §4), as the build writes it from
// python/nats/layer.py to build/examples/nats_l_layer.mlir (example sizes,
// f32), verifies, prints back, survives a generic-form round trip, and its
// upstream part generalizes. The same generator at the paper's 340M sizes in
// bf16 (T = 4096) verifies too, with bf16 operands on the nats ops.
// RUN: nats-opt %nats_l_layer_example | FileCheck %s
// RUN: nats-opt %nats_l_layer_example | nats-opt | FileCheck %s
// RUN: nats-opt %nats_l_layer_example --mlir-print-op-generic | nats-opt | FileCheck %s
// RUN: nats-opt %nats_l_layer_example --mlir-print-op-generic | FileCheck %s --check-prefix=GENOP
// RUN: nats-opt %nats_l_layer_example --linalg-generalize-named-ops | FileCheck %s --check-prefix=GENERIC
// RUN: %nats_l_layer_graph --sizes 340m --tokens 4096 --dtype bfloat16 | nats-opt | FileCheck %s --check-prefix=BF16

// CHECK-LABEL: func.func @nats_l_layer
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x1024x512xf32>,
// CHECK-SAME: %{{[^:]+}}: tensor<512x256xf32>, %{{[^:]+}}: tensor<512x256xf32>, %{{[^:]+}}: tensor<512x512xf32>,
// CHECK-SAME: %{{[^:]+}}: tensor<4x256xf32>, %{{[^:]+}}: tensor<4x256xf32>, %{{[^:]+}}: tensor<4x512xf32>,
// CHECK-SAME: %{{[^:]+}}: tensor<512x4xf32>, %{{[^:]+}}: tensor<512x4xf32>, %{{[^:]+}}: tensor<4xf32>, %{{[^:]+}}: tensor<4xf32>,
// CHECK-SAME: %{{[^:]+}}: tensor<32xf32>, %{{[^:]+}}: tensor<32xf32>,
// CHECK-SAME: %[[WR:[^:]+]]: tensor<512x8xf32>,
// CHECK-SAME: %{{[^:]+}}: tensor<256x16xf32>, %{{[^:]+}}: tensor<512x512xf32>,
// CHECK-SAME: %{{[^:]+}}: tensor<64xf32>, %{{[^:]+}}: tensor<64xf32>,
// CHECK-SAME: %[[WO:[^:]+]]: tensor<512x512xf32>) -> tensor<1x1024x512xf32>

// §4.1: projection, causal ShortConv4 (3 zero tokens on the left), SiLU.
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<1024x512xf32>, tensor<512x256xf32>)
// CHECK: tensor.pad %{{.+}} low[0, 3, 0] high[0, 0, 0]
// CHECK: } : tensor<1x1024x256xf32> to tensor<1x1027x256xf32>
// CHECK: linalg.depthwise_conv_1d_nwc_wc {{.*}}ins(%{{.+}}, %{{.+}} : tensor<1x1027x256xf32>, tensor<4x256xf32>) outs(%{{.+}} : tensor<1x1024x256xf32>)
// CHECK: math.exp

// §4.4: the router. chunk_size = 64 is the default, so the custom form
// elides it; the generic form below shows it.
// CHECK: %[[ROUTE:.+]] = nats.chunk_route %[[X]], %[[WR]] : tensor<1x1024x512xf32>, tensor<512x8xf32> -> tensor<1x16x4xi1>

// §4.5: the core op; every attribute at its default (chunk_size 64 included),
// so none is printed.
// CHECK: %[[O:.+]], %[[OS:.+]], %{{.+}} = nats.hybrid_attention linear(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) softmax(%{{.+}}, %{{.+}}, %{{.+}}) route(%[[ROUTE]]) :
// CHECK-SAME: (tensor<1x1024x4x64xf32>, tensor<1x1024x4x64xf32>, tensor<1x1024x4x128xf32>, tensor<1x1024x4xf32>, tensor<1x1024x4xf32>, tensor<1x1024x8x32xf32>, tensor<1x1024x8x32xf32>, tensor<1x1024x8x64xf32>, tensor<1x16x4xi1>)
// CHECK-SAME: -> (tensor<1x1024x4x128xf32>, tensor<1x1024x8x64xf32>, tensor<1x4x64x128xf32>)

// Combine and the output projection.
// CHECK: tensor.collapse_shape %[[O]] {{\[}}[0], [1], [2, 3]] : tensor<1x1024x4x128xf32> into tensor<1x1024x512xf32>
// CHECK: ins(%[[OS]], %{{.+}}, %{{.+}} : tensor<1x1024x8x64xf32>, tensor<1x1024x8xf32>, tensor<64xf32>)
// CHECK: %[[Y:.+]] = tensor.collapse_shape %{{.+}} {{\[}}[0, 1], [2, 3]] : tensor<1x1024x8x64xf32> into tensor<1024x512xf32>
// CHECK: %[[OUT_FLAT:.+]] = linalg.matmul ins(%[[Y]], %[[WO]] : tensor<1024x512xf32>, tensor<512x512xf32>) outs(%{{.+}} : tensor<1024x512xf32>) -> tensor<1024x512xf32>
// CHECK: %[[OUT:.+]] = tensor.expand_shape %[[OUT_FLAT]] {{\[}}[0, 1], [2]] output_shape [1, 1024, 512] : tensor<1024x512xf32> into tensor<1x1024x512xf32>
// CHECK: return %[[OUT]] : tensor<1x1024x512xf32>

// The generic form carries chunk_size = 64 on both nats ops.
// GENOP: %[[GROUTE:.+]] = "nats.chunk_route"(%arg0, %arg13) <{chunk_size = 64 : i64}> : (tensor<1x1024x512xf32>, tensor<512x8xf32>) -> tensor<1x16x4xi1>
// GENOP: "nats.hybrid_attention"(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[GROUTE]]) <{chunk_size = 64 : i64, qk_l2norm = true, window = 0 : i64}>

// Named ops generalize; the nats ops are left for the nats lowering.
// GENERIC-LABEL: func.func @nats_l_layer
// GENERIC-NOT: linalg.matmul
// GENERIC-NOT: linalg.depthwise_conv_1d_nwc_wc
// GENERIC: nats.chunk_route
// GENERIC: nats.hybrid_attention
// GENERIC: return

// 340M in bf16: bf16 arguments and result, matmuls of bf16 operands into an
// f32 accumulator, bf16 operands and outputs on both nats ops (the state
// stays f32).
// BF16-LABEL: func.func @nats_l_layer
// BF16-SAME: (%{{[^:]+}}: tensor<1x4096x1024xbf16>, %{{[^:]+}}: tensor<1024x768xbf16>,
// BF16-SAME: -> tensor<1x4096x1024xbf16>
// BF16: linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<4096x1024xbf16>, tensor<1024x768xbf16>) outs(%{{.+}} : tensor<4096x768xf32>)
// BF16: nats.chunk_route %{{.+}}, %{{.+}} : tensor<1x4096x1024xbf16>, tensor<1024x12xbf16> -> tensor<1x64x6xi1>
// BF16: nats.hybrid_attention linear(%{{.+}}) softmax(%{{.+}}) route(%{{.+}}) :
// BF16-SAME: (tensor<1x4096x6x128xbf16>, tensor<1x4096x6x128xbf16>, tensor<1x4096x6x256xbf16>, tensor<1x4096x6xbf16>, tensor<1x4096x6xbf16>, tensor<1x4096x12x64xbf16>, tensor<1x4096x12x64xbf16>, tensor<1x4096x12x128xbf16>, tensor<1x64x6xi1>)
// BF16-SAME: -> (tensor<1x4096x6x256xbf16>, tensor<1x4096x12x128xbf16>, tensor<1x6x128x256xf32>)
// BF16: return %{{.+}} : tensor<1x4096x1024xbf16>
