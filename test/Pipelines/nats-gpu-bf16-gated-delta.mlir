// RUN: nats-opt %s --nats-gpu='format=isa' | FileCheck %s --implicit-check-not=__local_depot
// RUN: nats-opt %s --nats-gpu='format=isa sm-count=2' | FileCheck %s --check-prefix=WIDE
// RUN: nats-opt %s --nats-gpu='format=isa round-output-terms=false' | FileCheck %s --check-prefix=F32
// RUN: nats-opt %s --nats-gpu='format=isa sm-count=2' | FileCheck %s --check-prefix=BLOCKS
// RUN: nats-opt %s --nats-gpu='format=isa sm-count=2 kernel-blocks-per-sm=gated_delta_chunk_terms:1' \
// RUN:   | FileCheck %s --check-prefix=ONE
// RUN: nats-opt %s --nats-gpu='format=isa round-state-operands=1' | FileCheck %s --check-prefix=OPERANDS
// RUN: nats-opt %s --nats-gpu='format=isa' -mlir-print-ir-after=nats-gpu-carry-in-registers \
// RUN:   -o /dev/null 2>&1 | FileCheck %s --check-prefix=CARRY

// The gated delta rule on bf16 data, B·H = 2, four tiles of 64 tokens, V = 64.
// The state pass's width by waves (value-tile=0): on 132 SMs 8 columns
// (16 blocks, one wave); on 2 SMs all 64 (2 blocks: one wave where 16 columns
// take four). The outputs' terms are bf16 (round-output-terms), so its block
// is one warp per 16 rows (64 rows: 128 threads) of bf16 m16n8k16 MMAs, S
// and U read transposed by ldmatrix; with f32 terms, 512 threads and tf32.
// The chunk terms' four products have 16-bit operands on both sides
// (round-chunk-operands: q̂, k̂, T and the right-hand sides): bf16
// m16n8k16 from ldmatrix of 16-bit elements, transposed for T's right-hand
// sides (k-major); the inverse's 16 x 16 blocks stay tf32.
// Products that the blocks read only through the maps fused after them
// (the state pass's U, the chunk terms' K Kᵀ, Q Kᵀ and the right-hand
// sides' products) are kept in registers: no kernel has a local-memory
// array (__local_depot, --implicit-check-not).
// CHECK-LABEL: llvm.func @gated_delta(
// CHECK-DAG:   %[[C16:.+]] = llvm.mlir.constant(16 : index) : i64
// CHECK-DAG:   %[[C128:.+]] = llvm.mlir.constant(128 : index) : i64
// CHECK:       gpu.launch_func <%{{.+}} : !llvm.ptr> @gated_delta_state_pass::@gated_delta_state_pass blocks in (%[[C16]],
// CHECK:       gpu.launch_func <%{{.+}} : !llvm.ptr> @gated_delta_outputs::@gated_delta_outputs blocks in ({{.*}}) threads in (%[[C128]],
// CHECK:       gpu.binary @gated_delta_chunk_terms [
// CHECK-SAME:    ldmatrix.sync.aligned.m8n8.x4.shared.b16
// CHECK-SAME:    mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK-SAME:    mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// CHECK-SAME:    ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// CHECK:       gpu.binary @gated_delta_outputs [
// CHECK-SAME:    .maxntid 128, 1, 1
// CHECK-SAME:    mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// CHECK-SAME:    ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// WIDE-LABEL:  llvm.func @gated_delta(
// WIDE-DAG:    %[[C2:.+]] = llvm.mlir.constant(2 : index) : i64
// WIDE:        gpu.launch_func <%{{.+}} : !llvm.ptr> @gated_delta_state_pass::@gated_delta_state_pass blocks in (%[[C2]],
// F32-LABEL:   llvm.func @gated_delta(
// F32:         gpu.binary @gated_delta_outputs [
// F32-SAME:      .maxntid 512, 1, 1
// F32-NOT:       m16n8k16
// F32-SAME:      mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// kernel-blocks-per-sm (gated_delta_chunk_terms:3 by default): on 2 SMs
// the chunk terms' 8 blocks could put 4 on each; three fit (their shared
// memory), so they ask for three (.minnctapersm) and get three 256-thread
// blocks' 80 registers. With gated_delta_chunk_terms:1 they ask for none
// and may take all 255.
// BLOCKS-LABEL: llvm.func @gated_delta(
// BLOCKS:       gpu.binary @gated_delta_chunk_terms [
// BLOCKS-SAME:    .maxntid 256, 1, 1
// BLOCKS-SAME:    .minnctapersm 3
// BLOCKS-SAME:    .maxnreg 80
// BLOCKS:       gpu.binary @gated_delta_state_pass [
// ONE-LABEL:    llvm.func @gated_delta(
// ONE:          gpu.binary @gated_delta_chunk_terms [
// ONE-SAME:       .maxntid 256, 1, 1
// ONE-NOT:        .minnctapersm
// ONE-SAME:       .maxnreg 255
// ONE:          gpu.binary @gated_delta_state_pass [
// round-state-operands: the state pass's products are bf16 m16n8k16 on
// both sides (−W and S, K_c and U), their tiles read by ldmatrix (S and U
// transposed: k-major); no tf32 left in the kernel.
// OPERANDS-LABEL: llvm.func @gated_delta(
// OPERANDS:       gpu.binary @gated_delta_state_pass [
// OPERANDS-NOT:     tf32
// OPERANDS-SAME:    ldmatrix.sync.aligned.m8n8.x4.shared.b16
// OPERANDS-SAME:    ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16
// OPERANDS-SAME:    mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// OPERANDS-NOT:     tf32
// OPERANDS:       gpu.binary @gated_delta_outputs [
// carry-in-registers: the state pass's walk over the four tiles carries
// each lane's accumulators of S (8 columns: two 32 x 8 warp tiles, rounds
// of 16 warps guarded), loaded before it and stored after it under the
// guard's condition; the walk still stores S's bf16 copy each step.
// CARRY-LABEL:  function(@gated_delta_state_pass)
// CARRY:        %[[INIT:.+]]:4 = scf.if %[[IN:.+]] -> (vector<2xf32>, vector<2xf32>, vector<2xf32>, vector<2xf32>) {
// CARRY:        %[[S:.+]]:4 = scf.for {{.+}} iter_args(%{{.+}} = %[[INIT]]#0, %{{.+}} = %[[INIT]]#1, %{{.+}} = %[[INIT]]#2, %{{.+}} = %[[INIT]]#3)
// CARRY:          memref.store %{{.+}} : memref<32x8xbf16
// CARRY:        scf.if %[[IN]] {
// CARRY-NEXT:     vector.store %[[S]]#0
func.func @gated_delta(%q: tensor<1x256x2x64xbf16>, %k: tensor<1x256x2x64xbf16>,
                       %v: tensor<1x256x2x64xbf16>, %g: tensor<1x256x2xbf16>,
                       %beta: tensor<1x256x2xbf16>, %route: tensor<1x4x2xi1>)
    -> (tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32>) {
  %o, %s = nats.gated_delta(%q, %k, %v, %g, %beta) route(%route)
      {chunk_size = 64 : i64, scale = 0.125 : f32}
      : (tensor<1x256x2x64xbf16>, tensor<1x256x2x64xbf16>, tensor<1x256x2x64xbf16>,
         tensor<1x256x2xbf16>, tensor<1x256x2xbf16>, tensor<1x4x2xi1>)
      -> (tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32>)
  return %o, %s : tensor<1x256x2x64xbf16>, tensor<1x2x64x64xf32>
}
