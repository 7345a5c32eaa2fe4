// RUN: nats-opt %s --nats-compact-routed-softmax="block-size=32" --cse \
// RUN:   --split-input-file --verify-diagnostics \
// RUN:   | FileCheck %s --implicit-check-not=nats.routed_softmax

// T = 40, chunk 16, window 20, query blocks of 32 (two chunks). Scores are
// only ever query block × key block (32×16 or 32×32): no T×T tensor.
// CHECK-LABEL: func.func @routed_softmax
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<2x40x4x8xf16>, %[[V:[^:]+]]: tensor<2x40x4x6xf16>, %[[ROUTE:[^:]+]]: tensor<2x3x2xi1>)
// CHECK-NOT: tensor<40x40xf32>
// CHECK-NOT: tensor<64x64xf32>
// CHECK: scf.forall (%[[B:.+]], %[[S:.+]]) in (2, 4) shared_outs(%[[OUT:.+]] = %{{.+}}) -> (tensor<2x40x4x6xf16>)
// Compaction: a prefix sum gives each kept chunk its slot in the list.
// CHECK: %[[COMPACT:.+]]:3 = scf.for %[[N:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[COUNT:.+]] = %{{.+}}, %{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}) -> (index, tensor<4xindex>, tensor<3xindex>)
// CHECK: tensor.insert %[[COUNT]]
// CHECK: tensor.insert %[[N]]
// CHECK: tensor.extract %[[ROUTE]][%[[B]], %[[N]], %{{.+}}] : tensor<2x3x2xi1>
// CHECK: %[[SLOTS:.+]] = tensor.insert %[[COMPACT]]#0 into %[[COMPACT]]#1
// CHECK: scf.for %[[T0:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%{{.+}} = %{{.+}}) -> (tensor<64x6xf16>)
// a. the kept chunks before the block, through the list, unmasked.
// CHECK: %[[KEPT:.+]] = tensor.extract %[[SLOTS]][%{{.+}}] : tensor<4xindex>
// CHECK: scf.for %[[SLOT:.+]] = %{{.+}} to %[[KEPT]] step %{{.+}} iter_args({{.*}}) -> (tensor<32xf32>, tensor<32xf32>, tensor<32x6xf32>)
// CHECK: tensor.extract %[[COMPACT]]#2[%[[SLOT]]] : tensor<3xindex>
// CHECK: tensor.extract_slice %{{.+}} [1, 16, 1, 8]
// CHECK-NOT: tensor.extract %[[ROUTE]]
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: scf.yield {{.*}} : tensor<32xf32>, tensor<32xf32>, tensor<32x6xf32>
// b. the window band before the block, masked.
// CHECK: scf.for %{{.+}} = %{{.+}} to %[[T0]] step %{{.+}} iter_args({{.*}}) -> (tensor<32xf32>, tensor<32xf32>, tensor<32x6xf32>)
// CHECK: tensor.extract %[[ROUTE]]
// CHECK: scf.yield
// c. the block's own keys, masked; then out = acc / sum.
// CHECK: tensor.extract %[[ROUTE]]
// CHECK: arith.divf
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %{{.+}} into %[[OUT]][%[[B]], 0, %[[S]], 0] [1, 40, 1, 6]
func.func @routed_softmax(%q: tensor<2x40x4x8xf16>, %v: tensor<2x40x4x6xf16>,
                          %route: tensor<2x3x2xi1>) -> tensor<2x40x4x6xf16> {
  %os = nats.routed_softmax(%q, %q, %v) route(%route)
      {chunk_size = 16 : i64, window = 20 : i64, scale = 0.35 : f32}
      : (tensor<2x40x4x8xf16>, tensor<2x40x4x8xf16>, tensor<2x40x4x6xf16>,
         tensor<2x3x2xi1>) -> tensor<2x40x4x6xf16>
  return %os : tensor<2x40x4x6xf16>
}

// -----

// Without a window there is no band loop.
// CHECK-LABEL: func.func @no_window
// CHECK-COUNT-3: scf.for %
// CHECK-NOT: scf.for %
func.func @no_window(%q: tensor<1x64x1x8xf32>, %route: tensor<1x4x1xi1>) -> tensor<1x64x1x8xf32> {
  %os = nats.routed_softmax(%q, %q, %q) route(%route) {chunk_size = 16 : i64, scale = 0.35 : f32}
      : (tensor<1x64x1x8xf32>, tensor<1x64x1x8xf32>, tensor<1x64x1x8xf32>,
         tensor<1x4x1xi1>) -> tensor<1x64x1x8xf32>
  return %os : tensor<1x64x1x8xf32>
}

// -----

func.func @dynamic_tokens(%q: tensor<1x?x1x4xf32>, %route: tensor<1x?x1xi1>) -> tensor<1x?x1x4xf32> {
  // expected-error @+1 {{'nats.routed_softmax' op could not be lowered: needs static shapes and a positive block-size}}
  %os = nats.routed_softmax(%q, %q, %q) route(%route) {scale = 0.5 : f32}
      : (tensor<1x?x1x4xf32>, tensor<1x?x1x4xf32>, tensor<1x?x1x4xf32>,
         tensor<1x?x1xi1>) -> tensor<1x?x1x4xf32>
  return %os : tensor<1x?x1x4xf32>
}
