// RUN: nats-opt %s --nats-gpu='format=isa' | FileCheck %s
// RUN: nats-opt %s --nats-gpu='format=isa warp-rows=false' | FileCheck %s --check-prefix=OFF
// RUN: nats-opt %s --nats-gpu='format=isa warp-rows-prefetch' | FileCheck %s --check-prefix=PREFETCH
// RUN: nats-opt %s --nats-gpu='format=isa' --mlir-print-ir-after=nats-gpu-warp-rows \
// RUN:   -o /dev/null 2>&1 | FileCheck %s --check-prefix=CAUSAL

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
// The own chunk's step is masked causally (key <= query, both counted from
// the block's first token), so of its S = Q·Kᵀ warp w (rows 16w .. 16w +
// 15) computes only the pairs of n-tiles that its rows can see: the first
// always, those from columns 16, 32 and 48 where its last row is at or past
// them, each behind a branch of its own (warp-uniform, no barrier in it).
// P is 0 where the mask hid a score, so of P·V the warp takes the same
// depth steps (keys 0, 16, 32, 48 on) and no others. The kept chunks'
// steps, which no such mask reads, compute every pair and step.
// CAUSAL-LABEL: IR Dump After NatsGPUWarpRowsPass
// CAUSAL:         scf.forall (%[[WARP:.+]]) in (4) {
// CAUSAL:           %[[ROW0:.+]] = arith.muli %[[WARP]], %c16
// CAUSAL:           %[[LAST:.+]] = arith.addi %[[ROW0]], %c15
// CAUSAL:           scf.for
// CAUSAL-NOT:         scf.if
// CAUSAL:             scf.yield
// CAUSAL-COUNT-8:   nvgpu.mma.sync
// CAUSAL:           %[[SEE16:.+]] = arith.cmpi ule, %c16{{(_[0-9]+)?}}, %[[LAST]]
// CAUSAL-NEXT:      %{{.+}}:8 = scf.if %[[SEE16]] -> (f32, f32, f32, f32, f32, f32, f32, f32) {
// CAUSAL-NOT:         gpu.barrier
// CAUSAL-COUNT-8:     nvgpu.mma.sync
// CAUSAL-NOT:         gpu.barrier
// CAUSAL:             scf.yield
// CAUSAL-NEXT:      } else {
// CAUSAL-NEXT:        scf.yield %[[ZERO:.+]], %[[ZERO]], %[[ZERO]], %[[ZERO]], %[[ZERO]], %[[ZERO]], %[[ZERO]], %[[ZERO]] :
// CAUSAL:           %[[SEE32:.+]] = arith.cmpi ule, %c32{{(_[0-9]+)?}}, %[[LAST]]
// CAUSAL-NEXT:      scf.if %[[SEE32]]
// CAUSAL:           %[[SEE48:.+]] = arith.cmpi ule, %c48{{(_[0-9]+)?}}, %[[LAST]]
// CAUSAL-NEXT:      scf.if %[[SEE48]]
// CAUSAL:           math.exp2
// CAUSAL:           nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}
// CAUSAL-COUNT-8:   nvgpu.mma.sync
// CAUSAL:           %[[KEYS16:.+]] = arith.cmpi ule, %c16{{(_[0-9]+)?}}, %[[LAST]]
// CAUSAL-NEXT:      %{{.+}}:32 = scf.if %[[KEYS16]]
// CAUSAL-COUNT-8:     nvgpu.mma.sync
// CAUSAL:           arith.cmpi ule, %c32{{(_[0-9]+)?}}, %[[LAST]]
// CAUSAL:           arith.cmpi ule, %c48{{(_[0-9]+)?}}, %[[LAST]]
// CAUSAL-NOT:       arith.cmpi ule, %{{.+}}, %[[LAST]]
// CAUSAL:         } {mapping = [#gpu.warp<linear_dim_0>]}
func.func @softmax(%q: tensor<1x256x2x64xbf16>, %k: tensor<1x256x2x64xbf16>,
                   %v: tensor<1x256x2x64xbf16>, %route: tensor<1x4x2xi1>)
    -> tensor<1x256x2x64xbf16> {
  %os = nats.routed_softmax(%q, %k, %v) route(%route) {scale = 0.125 : f32}
      : (tensor<1x256x2x64xbf16>, tensor<1x256x2x64xbf16>,
         tensor<1x256x2x64xbf16>, tensor<1x4x2xi1>) -> tensor<1x256x2x64xbf16>
  return %os : tensor<1x256x2x64xbf16>
}
