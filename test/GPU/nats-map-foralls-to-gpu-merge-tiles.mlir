// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-map-foralls-to-gpu{block-threads=64 merge-phases}))' \
// RUN:   --split-input-file | FileCheck %s --check-prefix=PHASES
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-map-foralls-to-gpu{block-threads=64 merge-phases merge-tiles}))' \
// RUN:   --split-input-file | FileCheck %s --check-prefix=TILES

// A tile written by the threads, copied out to global memory (the copy
// reads what they wrote: a barrier), read by a warp tile on tensor cores
// (ldmatrix, mma.sync) that writes elsewhere, then written again (after
// everything that reads it: a barrier). With merge-phases alone the warp
// tile's effects count as unknown (mma.sync declares none, ldmatrix a read
// of no memref) and the copy is no phase: a barrier before the warp tile.
// With merge-tiles the copy and the warp tile only read the tile: one
// phase.
// PHASES-LABEL: func.func @copy_then_tile
// PHASES:         scf.for
// PHASES:         gpu.barrier
// PHASES:         scf.for
// PHASES:           memref.store %{{.+}}, %arg0
// PHASES:         gpu.barrier
// PHASES:         scf.for
// PHASES:           nvgpu.ldmatrix
// PHASES:         gpu.barrier
// PHASES:         scf.for
// TILES-LABEL: func.func @copy_then_tile
// TILES:         scf.for
// TILES:         gpu.barrier
// TILES:         scf.for
// TILES:           memref.store %{{.+}}, %arg0
// TILES-NOT:     gpu.barrier
// TILES:         scf.for
// TILES:           nvgpu.ldmatrix
// TILES:           nvvm.mma.sync
// TILES:         gpu.barrier
// TILES:         scf.for
func.func @copy_then_tile(%out: memref<16x8xbf16>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.0 : bf16
  scf.forall (%blk) in (1) {
    %pool = memref.alloca() : memref<512xi8, #gpu.address_space<workgroup>>
    %u = memref.view %pool[%c0][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<16x8xbf16, #gpu.address_space<workgroup>>
    %s = memref.view %pool[%c256][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    scf.forall (%i, %j) in (16, 8) {
      memref.store %zero, %u[%i, %j] : memref<16x8xbf16, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
    memref.copy %u, %out : memref<16x8xbf16, #gpu.address_space<workgroup>> to memref<16x8xbf16>
    scf.forall (%w) in (2) {
      %lane = gpu.lane_id
      %row = arith.remui %lane, %c16 : index
      %b = nvgpu.ldmatrix %u[%row, %c0] {numTiles = 2 : i32, transpose = true} : memref<16x8xbf16, #gpu.address_space<workgroup>> -> vector<2x2xbf16>
      %b0 = vector.extract %b[0] : vector<2xbf16> from vector<2x2xbf16>
      %b1 = vector.extract %b[1] : vector<2xbf16> from vector<2x2xbf16>
      %i0 = vector.bitcast %b0 : vector<2xbf16> to vector<1xi32>
      %i1 = vector.bitcast %b1 : vector<2xbf16> to vector<1xi32>
      %x0 = vector.extract %i0[0] : i32 from vector<1xi32>
      %x1 = vector.extract %i1[0] : i32 from vector<1xi32>
      %acc = arith.constant 0.0 : f32
      %d = nvvm.mma.sync A[%x0, %x1, %x0, %x1] B[%x0, %x1] C[%acc, %acc, %acc, %acc] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
      %e = llvm.extractvalue %d[0] : !llvm.struct<(f32, f32, f32, f32)>
      %k = arith.muli %w, %c32 : index
      %where = arith.addi %k, %lane : index
      memref.store %e, %s[%where] : memref<64xf32, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.warp<linear_dim_0>]}
    scf.forall (%i, %j) in (16, 8) {
      memref.store %zero, %u[%i, %j] : memref<16x8xbf16, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// The barriers stay where the copy or the warp tile conflicts: the copy
// reads what the threads wrote before it, the threads after it write what
// it read, and the warp tile reads what those threads wrote.
// TILES-LABEL: func.func @conflicts
// TILES:         scf.for
// TILES:         gpu.barrier
// TILES:         scf.for
// TILES:           memref.store %{{.+}}, %arg0
// TILES:         gpu.barrier
// TILES:         scf.for
// TILES:         gpu.barrier
// TILES:         scf.for
// TILES:           nvgpu.ldmatrix
func.func @conflicts(%out: memref<16x8xbf16>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : bf16
  scf.forall (%blk) in (1) {
    %pool = memref.alloca() : memref<512xi8, #gpu.address_space<workgroup>>
    %u = memref.view %pool[%c0][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<16x8xbf16, #gpu.address_space<workgroup>>
    scf.forall (%i, %j) in (16, 8) {
      memref.store %zero, %u[%i, %j] : memref<16x8xbf16, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
    memref.copy %u, %out : memref<16x8xbf16, #gpu.address_space<workgroup>> to memref<16x8xbf16>
    scf.forall (%i, %j) in (16, 8) {
      memref.store %zero, %u[%i, %j] : memref<16x8xbf16, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
    scf.forall (%w) in (2) {
      %lane = gpu.lane_id
      %row = arith.remui %lane, %c16 : index
      %b = nvgpu.ldmatrix %u[%row, %c0] {numTiles = 2 : i32, transpose = true} : memref<16x8xbf16, #gpu.address_space<workgroup>> -> vector<2x2xbf16>
      vector.store %b, %out[%row, %c0] : memref<16x8xbf16>, vector<2x2xbf16>
    } {mapping = [#gpu.warp<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// A copy onto itself is erased, no phase: the threads after it read what
// those before it wrote at other elements, and the barrier between them
// stays.
// TILES-LABEL: func.func @self_copy
// TILES:         scf.for
// TILES:           memref.store %{{.+}}, %view
// TILES:         gpu.barrier
// TILES:         scf.for
// TILES:           memref.load
func.func @self_copy(%out: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c63 = arith.constant 63 : index
  %c256 = arith.constant 256 : index
  %zero = arith.constant 0.0 : f32
  scf.forall (%blk) in (1) {
    %pool = memref.alloca() : memref<512xi8, #gpu.address_space<workgroup>>
    %a = memref.view %pool[%c0][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    %b = memref.view %pool[%c256][] : memref<512xi8, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    scf.forall (%i) in (64) {
      memref.store %zero, %a[%i] : memref<64xf32, #gpu.address_space<workgroup>>
      memref.store %zero, %b[%i] : memref<64xf32, #gpu.address_space<workgroup>>
    } {mapping = [#gpu.thread<linear_dim_0>]}
    memref.copy %a, %a : memref<64xf32, #gpu.address_space<workgroup>> to memref<64xf32, #gpu.address_space<workgroup>>
    scf.forall (%i) in (64) {
      %j = arith.subi %c63, %i : index
      %x = memref.load %b[%j] : memref<64xf32, #gpu.address_space<workgroup>>
      memref.store %x, %out[%i] : memref<64xf32>
    } {mapping = [#gpu.thread<linear_dim_0>]}
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}
