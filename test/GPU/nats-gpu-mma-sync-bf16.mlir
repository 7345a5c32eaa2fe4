// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-mma-sync{precision=bf16}))' \
// RUN:   --split-input-file | FileCheck %s

// precision=bf16: a 16-deep step loads the f32 fragments of two k8 steps
// (k0 + t, k0 + t + 4, then 8 further), rounds each pair of a lane's
// elements into a register of two bf16 (A: rows g and g + 8 of each half,
// the columns t and t + 4 in a register; B: the rows t and t + 4 of a half)
// and runs one m16n8k16 bf16 MMA on the accumulator's four elements:
// nvgpu.mma.sync on the fragments, which the pass then lowers itself to
// nvvm.mma.sync on their i32 registers (nvgpu's has no bf16 lowering in
// MLIR 22).
// CHECK-LABEL: func.func @bf16_steps
// CHECK:         %[[STEP:.+]] = arith.constant 16 : index
// CHECK:         scf.for %{{.+}} = %{{.+}} to %{{.+}} step %[[STEP]] iter_args(%{{.+}} = %{{.+}}) -> (vector<2x2xf32>)
// CHECK-COUNT-12:  memref.load
// CHECK-NOT:       memref.load
// CHECK:           %[[PAIR:.+]] = vector.from_elements %{{.+}}, %{{.+}} : vector<2xf32>
// CHECK:           arith.truncf %[[PAIR]] : vector<2xf32> to vector<2xbf16>
// CHECK-COUNT-5:   arith.truncf {{.+}} : vector<2xf32> to vector<2xbf16>
// CHECK-NOT:       nvgpu.mma.sync
// CHECK:           %[[BITS:.+]] = vector.bitcast %{{.+}} : vector<2xbf16> to vector<1xi32>
// CHECK:           vector.extract %[[BITS]][0] : i32 from vector<1xi32>
// CHECK:           %[[D:.+]] = nvvm.mma.sync A[{{.+}}, {{.+}}, {{.+}}, {{.+}}] B[{{.+}}, {{.+}}] C[{{.+}}, {{.+}}, {{.+}}, {{.+}}]
// CHECK-SAME:        multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>
// CHECK-SAME:        shape = #nvvm.shape<m = 16, n = 8, k = 16>
// CHECK-SAME:        (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK:           llvm.extractvalue %[[D]][3]
// CHECK:           scf.yield
func.func @bf16_steps(%a: memref<16x16xf32>, %b: memref<16x8xf32>, %c: memref<16x8xf32>) {
  scf.forall (%i) in (1) {
    linalg.matmul ins(%a, %b : memref<16x16xf32>, memref<16x8xf32>)
        outs(%c : memref<16x8xf32>)
  } {mapping = [#gpu.warp<linear_dim_0>]}
  return
}

// -----

// A depth of 8 is no multiple of 16: tf32 steps (one product each).
// CHECK-LABEL: func.func @shallow
// CHECK-NOT:     nvvm.mma.sync
// CHECK:         nvgpu.mma.sync
// CHECK-NOT:     nvgpu.mma.sync
func.func @shallow(%a: memref<16x8xf32>, %b: memref<8x8xf32>, %c: memref<16x8xf32>) {
  scf.forall (%i) in (1) {
    linalg.matmul ins(%a, %b : memref<16x8xf32>, memref<8x8xf32>)
        outs(%c : memref<16x8xf32>)
  } {mapping = [#gpu.warp<linear_dim_0>]}
  return
}
