// RUN: nats-opt %s --nats-gpu='format=isa' | FileCheck %s
// RUN: nats-opt %s --nats-gpu='format=isa warp-rows=false' | FileCheck %s --check-prefix=OFF
// RUN: nats-opt %s --nats-gpu='format=isa warp-rows-prefetch' | FileCheck %s --check-prefix=PREFETCH

// A routed softmax on bf16 data: by default (warp-rows) its attention block
// is one warp per 16 query rows (64 rows: 128 threads) holding S, P and O in
// registers, bf16 m16n8k16 MMAs on K and V tiles that cp.async stages, V read
// transposed by ldmatrix; without it, 512 threads and tf32 MMAs on f32 tiles.
// CHECK-LABEL: llvm.func @softmax(
// CHECK-DAG:   %[[C128:.+]] = llvm.mlir.constant(128 : index) : i64
// CHECK:       gpu.launch_func <%{{.+}} : !llvm.ptr> @routed_softmax::@routed_softmax blocks in ({{.*}}) threads in (%[[C128]],
// CHECK:       gpu.binary @routed_softmax [
// CHECK-SAME:    .maxntid 128, 1, 1
// CHECK-SAME:    cp.async.cg.shared.global
// CHECK-SAME:    mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK-SAME:    ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// With warp-rows-prefetch a step waits for all copies but the next step's
// (the PTX's tab is printed \09).
// PREFETCH:      gpu.binary @routed_softmax [
// PREFETCH-SAME:   cp.async.wait_group \091;
// OFF-LABEL:   llvm.func @softmax(
// OFF:         gpu.binary @routed_softmax [
// OFF-SAME:      .maxntid 512, 1, 1
// OFF-NOT:       m16n8k16
// OFF-SAME:      mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
func.func @softmax(%q: tensor<1x256x2x64xbf16>, %k: tensor<1x256x2x64xbf16>,
                   %v: tensor<1x256x2x64xbf16>, %route: tensor<1x4x2xi1>)
    -> tensor<1x256x2x64xbf16> {
  %os = nats.routed_softmax(%q, %k, %v) route(%route) {scale = 0.125 : f32}
      : (tensor<1x256x2x64xbf16>, tensor<1x256x2x64xbf16>,
         tensor<1x256x2x64xbf16>, tensor<1x4x2xi1>) -> tensor<1x256x2x64xbf16>
  return %os : tensor<1x256x2x64xbf16>
}
