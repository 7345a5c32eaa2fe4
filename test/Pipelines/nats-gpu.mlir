// The whole GPU pipeline: nats ops in; out come the host code in the LLVM
// dialect, calling the mgpu* runtime, and one gpu.binary with the kernel.
// RUN: nats-opt %s --nats-gpu='format=isa' | FileCheck %s \
// RUN:   --implicit-check-not="{{(nats|linalg|tensor|memref|scf|cf|arith|math|func|bufferization|affine)\.}}"
// RUN: nats-opt %s --nats-gpu='format=isa block-threads=256 blocks-per-sm=4 chip=sm_80 features=+ptx75' \
// RUN:   | FileCheck %s --check-prefix=OPTIONS
// RUN: nats-opt %s --nats-gpu='format=isa mma=false' | FileCheck %s --check-prefix=FMA
// RUN: nats-opt %s --nats-gpu='format=isa ldmatrix=false' \
// RUN:   | FileCheck %s --check-prefix=PAIRED
// RUN: nats-opt %s --nats-gpu='format=isa' | FileCheck %s --check-prefix=LDMATRIX
// RUN: nats-opt %s --nats-gpu='format=isa prefetch=false' \
// RUN:   | FileCheck %s --check-prefix=NOPREFETCH
// RUN: nats-opt %s --nats-gpu='format=isa kernel-threads=gated_delta_outputs:1024' \
// RUN:   | FileCheck %s --check-prefix=KERNEL-THREADS
// RUN: nats-opt %s --nats-gpu='format=isa mma-precision=bf16' | FileCheck %s --check-prefix=BF16
// With ptxas, the default embeds a cubin.
// RUN: %if ptxas %{ nats-opt %s --nats-gpu | FileCheck %s --check-prefix=CUBIN %}

// Host: on one stream, the blocks' workspace, then a kernel per step: the
// pads of the tokens (grids of their own); the gated delta rule's three
// stages, the chunk terms with one block per (batch, head, tile) = 1·2·2,
// the state pass with one block per (batch, head) = 2, the outputs with one
// block per tile again; the routed softmax's kept-chunk lists with one block
// per (batch, router head) = 2, its attention with one block per (batch,
// softmax head, query block) = 1·2·2; 512 threads each but the chunk
// terms' 256 (kernel-threads' default: two such blocks share an SM); the
// wait; and a C interface. The stages' kernels are named after them (the pads and copies
// keep the function's name).
// CHECK-LABEL: llvm.func @layer_core(
// CHECK-DAG:   %[[THREADS:.+]] = llvm.mlir.constant(512 : index) : i64
// CHECK-DAG:   %[[HALF:.+]] = llvm.mlir.constant(256 : index) : i64
// CHECK-DAG:   %[[FOUR:.+]] = llvm.mlir.constant(4 : index) : i64
// CHECK-DAG:   %[[TWO:.+]] = llvm.mlir.constant(2 : index) : i64
// CHECK-DAG:   %[[ONE:.+]] = llvm.mlir.constant(1 : index) : i64
// CHECK:       %[[STREAM:.+]] = llvm.call @mgpuStreamCreate()
// CHECK:       llvm.call @mgpuMemAlloc(%{{.+}}, %[[STREAM]],
// CHECK:       gpu.launch_func <%[[STREAM]] : !llvm.ptr> @gated_delta_chunk_terms::@gated_delta_chunk_terms blocks in (%[[FOUR]], %[[ONE]], %[[ONE]]) threads in (%[[HALF]], %[[ONE]], %[[ONE]])
// CHECK:       gpu.launch_func <%[[STREAM]] : !llvm.ptr> @gated_delta_state_pass::@gated_delta_state_pass blocks in (%[[TWO]], %[[ONE]], %[[ONE]]) threads in (%[[THREADS]], %[[ONE]], %[[ONE]])
// CHECK:       gpu.launch_func <%[[STREAM]] : !llvm.ptr> @gated_delta_outputs::@gated_delta_outputs blocks in (%[[FOUR]], %[[ONE]], %[[ONE]]) threads in (%[[THREADS]], %[[ONE]], %[[ONE]])
// CHECK:       gpu.launch_func <%[[STREAM]] : !llvm.ptr> @routed_softmax_lists::@routed_softmax_lists blocks in (%[[TWO]], %[[ONE]], %[[ONE]]) threads in (%[[THREADS]], %[[ONE]], %[[ONE]])
// CHECK:       gpu.launch_func <%[[STREAM]] : !llvm.ptr> @routed_softmax::@routed_softmax blocks in (%[[FOUR]], %[[ONE]], %[[ONE]]) threads in (%[[THREADS]], %[[ONE]], %[[ONE]])
// CHECK:       llvm.call @mgpuStreamSynchronize(%[[STREAM]])
// CHECK:     llvm.func @_mlir_ciface_layer_core(
// The chunk-terms kernel, as PTX for Hopper: 256 threads a block, barriers
// between the steps that the threads share, the contractions on tensor
// cores (tf32), the scratch in dynamic shared memory (declared extern:
// nats-gpu-extern-dynamic-shared-memory). The other stages and
// the softmax kernel use the tensor cores too. Its grid of 4 blocks puts
// one on an SM: it may have 65536 / 256 registers a thread, at most 255
// (nats-gpu-blocks-per-sm).
// CHECK:     gpu.binary @gated_delta_chunk_terms [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">
// CHECK-SAME:  .target sm_90a
// CHECK-SAME:  .extern .shared .align 16 .b8 __dynamic_shmem__0[];
// CHECK-SAME:  .visible .entry gated_delta_chunk_terms(
// CHECK-SAME:  .maxntid 256, 1, 1
// CHECK-SAME:  .maxnreg 255
// CHECK-SAME:  bar.sync {{\\09}}0
// CHECK-SAME:  ld.shared.b32
// CHECK-SAME:  mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// The state pass's loop over chunks copies each chunk's tiles a chunk
// ahead, with cp.async (nats-gpu-prefetch, on by default).
// CHECK:     gpu.binary @gated_delta_state_pass
// CHECK-SAME:  cp.async.ca.shared.global
// CHECK-SAME:  cp.async.wait_group
// CHECK-SAME:  mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// CHECK:     gpu.binary @gated_delta_outputs
// CHECK-SAME:  mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// CHECK:     gpu.binary @routed_softmax [
// CHECK-SAME:  mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32

// mma=false: FMA loops only.
// FMA:       gpu.binary @gated_delta_chunk_terms
// FMA-NOT:   mma.sync

// prefetch=false: the tiles are copied in their iteration, synchronously.
// NOPREFETCH: gpu.binary @gated_delta_state_pass
// NOPREFETCH-NOT: cp.async
// NOPREFETCH: gpu.binary @gated_delta_outputs

// paired-loads (without ldmatrix): a lane reads its two elements of an
// operand row at once (unshare-empties: every operand in the block's own,
// aligned buffers).
// PAIRED:    gpu.binary @gated_delta_chunk_terms
// PAIRED-SAME: ld.shared.v2.b32
// PAIRED-SAME: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32

// ldmatrix (the default): the tensor cores' operands in shared memory are
// read a fragment at a time.
// LDMATRIX:    gpu.binary @gated_delta_chunk_terms
// LDMATRIX-SAME: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// LDMATRIX-SAME: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
// LDMATRIX:    gpu.binary @routed_softmax [
// LDMATRIX-SAME: ldmatrix.sync.aligned.m8n8.x4.shared.b16

// kernel-threads: the outputs' kernel with 1024 threads, the others with
// block-threads (the list replaces the default's, the chunk terms' 256).
// KERNEL-THREADS:      gpu.binary @gated_delta_chunk_terms
// KERNEL-THREADS-SAME: .maxntid 512, 1, 1
// KERNEL-THREADS:      gpu.binary @gated_delta_outputs
// KERNEL-THREADS-SAME: .maxntid 1024, 1, 1
// KERNEL-THREADS:      gpu.binary @routed_softmax [
// KERNEL-THREADS-SAME: .maxntid 512, 1, 1

// mma-precision=bf16: contractions take bf16 m16n8k16 products, 16 deep
// a step, of registers packed by cvt.rn.bf16x2.f32.
// BF16:      gpu.binary @gated_delta_chunk_terms
// BF16-SAME:   cvt.rn.bf16x2.f32
// BF16-SAME:   mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// BF16:      gpu.binary @routed_softmax [
// BF16-SAME:   mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32

// blocks-per-sm=4 for every kernel but those kernel-blocks-per-sm names:
// its default names the chunk terms (three blocks, as many as fit: here
// one, so no .minnctapersm and ptxas's registers) and the state pass.
// OPTIONS:   gpu.binary @gated_delta_chunk_terms [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx75">
// OPTIONS-SAME: .target sm_80
// OPTIONS-SAME: .maxntid 256, 1, 1
// OPTIONS-NOT:  .minnctapersm
// OPTIONS-SAME: .maxnreg 255
// OPTIONS:   gpu.binary @gated_delta_outputs
// OPTIONS-SAME: .maxntid 256, 1, 1
// OPTIONS-SAME: .minnctapersm 4
// OPTIONS-SAME: .maxnreg 64

// CUBIN:     gpu.binary @gated_delta_chunk_terms [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">, {{.*}}bin = "\7FELF

func.func @layer_core(%q: tensor<1x100x2x8xf32>, %g: tensor<1x100x2xf32>,
                      %route: tensor<1x2x2xi1>)
    -> (tensor<1x100x2x8xf32>, tensor<1x100x2x8xf32>, tensor<1x2x8x8xf32>) {
  %o, %os, %s = nats.hybrid_attention linear(%q, %q, %q, %g, %g)
      softmax(%q, %q, %q) route(%route) {window = 4 : i64}
      : (tensor<1x100x2x8xf32>, tensor<1x100x2x8xf32>, tensor<1x100x2x8xf32>,
         tensor<1x100x2xf32>, tensor<1x100x2xf32>, tensor<1x100x2x8xf32>,
         tensor<1x100x2x8xf32>, tensor<1x100x2x8xf32>, tensor<1x2x2xi1>)
      -> (tensor<1x100x2x8xf32>, tensor<1x100x2x8xf32>, tensor<1x2x8x8xf32>)
  return %o, %os, %s
      : tensor<1x100x2x8xf32>, tensor<1x100x2x8xf32>, tensor<1x2x8x8xf32>
}
