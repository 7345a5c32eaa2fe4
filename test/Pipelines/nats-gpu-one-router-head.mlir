// RUN: nats-opt %s --nats-gpu='format=isa' | FileCheck %s

// One batch and one router head: the routed softmax's kept-chunk lists are
// a forall of one iteration, which stays a kernel of one block
// (nats-gpu-map-blocks) instead of being folded into its maps, each of
// which would become a grid of its own. The attention reads the lists:
// one block per (softmax head, query block) = 2 · 2.
// CHECK-LABEL: llvm.func @one_router_head(
// CHECK-DAG:   %[[FOUR:.+]] = llvm.mlir.constant(4 : index) : i64
// CHECK-DAG:   %[[ONE:.+]] = llvm.mlir.constant(1 : index) : i64
// CHECK-NOT:   gpu.launch_func
// CHECK:       gpu.launch_func <%{{.+}} : !llvm.ptr> @routed_softmax_lists::@routed_softmax_lists blocks in (%[[ONE]], %[[ONE]], %[[ONE]])
// CHECK:       gpu.launch_func <%{{.+}} : !llvm.ptr> @routed_softmax::@routed_softmax blocks in (%[[FOUR]], %[[ONE]], %[[ONE]])
// CHECK-NOT:   gpu.launch_func
// CHECK:       gpu.binary @routed_softmax_lists [
// CHECK-SAME:    .visible .entry routed_softmax_lists(
// CHECK:       gpu.binary @routed_softmax [
func.func @one_router_head(%q: tensor<1x128x2x16xbf16>, %route: tensor<1x2x1xi1>)
    -> tensor<1x128x2x16xbf16> {
  %os = nats.routed_softmax(%q, %q, %q) route(%route)
      {chunk_size = 64 : i64, scale = 0.25 : f32}
      : (tensor<1x128x2x16xbf16>, tensor<1x128x2x16xbf16>, tensor<1x128x2x16xbf16>,
         tensor<1x2x1xi1>) -> tensor<1x128x2x16xbf16>
  return %os : tensor<1x128x2x16xbf16>
}
