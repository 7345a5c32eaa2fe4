// RUN: nats-opt %s -split-input-file --nats-gpu-warp-rows | FileCheck %s
// RUN: nats-opt %s -split-input-file --nats-gpu-warp-rows --nats-gpu='format=isa' | FileCheck %s --check-prefix=PTX
// RUN: nats-opt %s -split-input-file --nats-gpu-warp-rows=prefetch=1 | FileCheck %s --check-prefix=PREFETCH

// The online softmax of nats-compact-routed-softmax, one block of 16 query
// rows over %n key tiles of 16: S = (scale · Q) · Kᵀ, the running maximum m,
// P = exp(S - m), the sum l, O = α · O + P · V; after the loop, O / l. The
// loop and the division become one warp's lane code: Q's A fragments loaded
// first (a scaled product: its factor multiplies S), K and V copied into
// padded shared tiles with cp.async after a barrier each step, a group
// each: S waits for K's alone, P·V for V's, which loads meanwhile; ldmatrix
// (V transposed), bf16 m16n8k16 MMAs, P·V accumulated onto α · O; the row
// maxima and sums over the row's four lanes by xor shuffles; the loop
// carries the lane's 2 + 2 + 8 elements; what the ops after the region read
// (m, O / l) is stored, O in rows padded by 8 columns, and read back as
// tensors.

// CHECK-LABEL: func.func @online_softmax
// CHECK-DAG:   %[[KT:.+]] = memref.alloc() {alignment = 16 : i64} : memref<16x24xbf16, #gpu.address_space<workgroup>>
// CHECK-DAG:   %[[VT:.+]] = memref.alloc() {alignment = 16 : i64} : memref<16x24xbf16, #gpu.address_space<workgroup>>
// CHECK-DAG:   %[[M:.+]] = memref.alloc() : memref<16xf32>
// CHECK-DAG:   %[[OP:.+]] = memref.alloc() : memref<16x24xf32>
// CHECK-DAG:   %[[O:.+]] = memref.subview %[[OP]][0, 0] [16, 16] [1, 1] : memref<16x24xf32> to memref<16x16xf32, strided<[24, 1]>>
// CHECK-DAG:   %[[QB:.+]] = bufferization.to_buffer %arg0 read_only : tensor<16x16xbf16> to memref<16x16xbf16>
// CHECK:       scf.forall (%{{.+}}) in (1) {
// CHECK:         gpu.lane_id
// CHECK-COUNT-4: vector.load %[[QB]]
// CHECK:         %[[LOOP:.+]]:12 = scf.for {{.*}} -> (f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32, f32) {
// CHECK:           gpu.barrier
// CHECK-NOT:       gpu.barrier
// CHECK:           nvgpu.device_async_copy {{.*}}, %[[KT]][{{.*}}], 8 {bypassL1}
// CHECK:           %[[KG:.+]] = nvgpu.device_async_create_group
// CHECK:           nvgpu.device_async_copy {{.*}}, %[[VT]][{{.*}}], 8 {bypassL1}
// CHECK:           %[[VG:.+]] = nvgpu.device_async_create_group
// CHECK-NOT:       nvgpu.device_async_wait
// CHECK:           nvgpu.device_async_wait %[[KG]] {numGroups = 1 : i32}
// CHECK-NEXT:      gpu.barrier
// CHECK:           nvgpu.ldmatrix %[[KT]][{{.*}}] {numTiles = 4 : i32, transpose = false}
// CHECK-NOT:       nvgpu.device_async_wait
// CHECK-COUNT-2:   nvgpu.mma.sync({{.*}}) {mmaShape = [16, 8, 16]} : (vector<4x2xbf16>, vector<2x2xbf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK:           arith.mulf
// CHECK:           gpu.shuffle  xor %{{.+}}, %{{.+}}, %{{.+}} : f32
// CHECK:           math.exp
// CHECK:           arith.truncf %{{.+}} : vector<2xf32> to vector<2xbf16>
// CHECK:           nvgpu.device_async_wait %[[VG]] {numGroups = 0 : i32}
// CHECK-NEXT:      gpu.barrier
// CHECK:           nvgpu.ldmatrix %[[VT]][{{.*}}] {numTiles = 4 : i32, transpose = true}
// CHECK:           nvgpu.mma.sync
// CHECK:           scf.yield
// CHECK-COUNT-8: arith.divf
// CHECK:         %[[FIRST:.+]] = arith.cmpi eq
// CHECK:         scf.if %[[FIRST]] {
// CHECK:           memref.store %[[LOOP]]#0, %[[M]][%{{.+}}] : memref<16xf32>
// CHECK:         vector.store %{{.+}}, %[[O]][%{{.+}}, %{{.+}}] : memref<16x16xf32, strided<[24, 1]>>, vector<2xf32>
// CHECK:       } {mapping = [#gpu.warp<linear_dim_0>]}
// CHECK:       %[[MT:.+]] = bufferization.to_tensor %[[M]] restrict writable
// CHECK:       %[[OT:.+]] = bufferization.to_tensor %[[O]] restrict writable
// CHECK-NOT:   linalg.generic
// CHECK:       scf.forall.in_parallel
// CHECK:         tensor.parallel_insert_slice %[[MT]]
// CHECK:         tensor.parallel_insert_slice %[[OT]]

// With prefetch, two buffers a tile: the first step's tiles are copied
// before the loop (where it has one), and each step starts the next step's
// copies into the buffers the step before read, then waits for all but
// that group.
// PREFETCH-LABEL: func.func @online_softmax
// PREFETCH-COUNT-4: memref.alloc() {alignment = 16 : i64} : memref<16x24xbf16, #gpu.address_space<workgroup>>
// PREFETCH:         scf.if
// PREFETCH-COUNT-2:   nvgpu.device_async_copy
// PREFETCH:         nvgpu.device_async_create_group
// PREFETCH:         scf.for
// PREFETCH:           gpu.barrier
// PREFETCH:           %[[TILE:.+]] = arith.select %[[EVEN:.+]], %{{.+}}, %{{.+}} : memref<16x24xbf16, #gpu.address_space<workgroup>>
// PREFETCH:           scf.if
// PREFETCH:             arith.select %[[EVEN]]
// PREFETCH:             nvgpu.device_async_copy
// PREFETCH:           %[[GROUP:.+]] = nvgpu.device_async_create_group
// PREFETCH-NEXT:      nvgpu.device_async_wait %[[GROUP]] {numGroups = 1 : i32}
// PREFETCH-NEXT:      gpu.barrier
// PREFETCH:           nvgpu.ldmatrix %[[TILE]]

// Through the whole pipeline: one warp a block (32 threads), bf16 MMAs.
// PTX: .maxntid 32, 1, 1
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#vec = affine_map<(d0) -> (d0)>
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#bt = affine_map<(d0, d1, d2) -> (d1, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @online_softmax(%q: tensor<16x16xbf16>, %k: tensor<64x16xbf16>,
                          %v: tensor<64x16xbf16>, %n: index)
    -> (tensor<2x16xf32>, tensor<2x16x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %scale = arith.constant 0.25 : f32
  %e2 = tensor.empty() : tensor<2x16xf32>
  %e3 = tensor.empty() : tensor<2x16x16xf32>
  %r:2 = scf.forall (%blk) in (2) shared_outs(%om = %e2, %oo = %e3)
      -> (tensor<2x16xf32>, tensor<2x16x16xf32>) {
    %e = tensor.empty() : tensor<16x16xf32>
    %ev = tensor.empty() : tensor<16xf32>
    %qt = tensor.extract_slice %q[0, 0] [16, 16] [1, 1] : tensor<16x16xbf16> to tensor<16x16xbf16>
    %qs = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%qt : tensor<16x16xbf16>) outs(%e : tensor<16x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      %y = arith.mulf %w, %scale : f32
      linalg.yield %y : f32
    } -> tensor<16x16xf32>
    %m0 = linalg.fill ins(%ninf : f32) outs(%ev : tensor<16xf32>) -> tensor<16xf32>
    %l0 = linalg.fill ins(%zero : f32) outs(%ev : tensor<16xf32>) -> tensor<16xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
    %res:3 = scf.for %i = %c0 to %n step %c1 iter_args(%m = %m0, %l = %l0, %acc = %z)
        -> (tensor<16xf32>, tensor<16xf32>, tensor<16x16xf32>) {
      %off = arith.muli %i, %c16 : index
      %ks = tensor.extract_slice %k[%off, 0] [16, 16] [1, 1] : tensor<64x16xbf16> to tensor<16x16xbf16>
      %kt = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%ks : tensor<16x16xbf16>) outs(%e : tensor<16x16xf32>) {
      ^bb0(%x: bf16, %o: f32):
        %w = arith.extf %x : bf16 to f32
        linalg.yield %w : f32
      } -> tensor<16x16xf32>
      %s = linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%qs, %kt : tensor<16x16xf32>, tensor<16x16xf32>) outs(%z : tensor<16x16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %p = arith.mulf %x, %y : f32
        %t = arith.addf %p, %o : f32
        linalg.yield %t : f32
      } -> tensor<16x16xf32>
      %vs = tensor.extract_slice %v[%off, 0] [16, 16] [1, 1] : tensor<64x16xbf16> to tensor<16x16xbf16>
      %vt = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%vs : tensor<16x16xbf16>) outs(%e : tensor<16x16xf32>) {
      ^bb0(%x: bf16, %o: f32):
        %w = arith.extf %x : bf16 to f32
        linalg.yield %w : f32
      } -> tensor<16x16xf32>
      %rmax = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
          ins(%s : tensor<16x16xf32>) outs(%m0 : tensor<16xf32>) {
      ^bb0(%x: f32, %o: f32):
        %t = arith.maximumf %x, %o : f32
        linalg.yield %t : f32
      } -> tensor<16xf32>
      %mn = linalg.generic {indexing_maps = [#vec, #vec, #vec], iterator_types = ["parallel"]}
          ins(%m, %rmax : tensor<16xf32>, tensor<16xf32>) outs(%ev : tensor<16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %t = arith.maximumf %x, %y : f32
        linalg.yield %t : f32
      } -> tensor<16xf32>
      %p = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
          ins(%s, %mn : tensor<16x16xf32>, tensor<16xf32>) outs(%e : tensor<16x16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %inf = arith.cmpf oeq, %y, %ninf : f32
        %d = arith.subf %x, %y : f32
        %ex = math.exp %d : f32
        %t = arith.select %inf, %zero, %ex : f32
        linalg.yield %t : f32
      } -> tensor<16x16xf32>
      %alpha = linalg.generic {indexing_maps = [#vec, #vec, #vec], iterator_types = ["parallel"]}
          ins(%m, %mn : tensor<16xf32>, tensor<16xf32>) outs(%ev : tensor<16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %inf = arith.cmpf oeq, %y, %ninf : f32
        %d = arith.subf %x, %y : f32
        %ex = math.exp %d : f32
        %t = arith.select %inf, %one, %ex : f32
        linalg.yield %t : f32
      } -> tensor<16xf32>
      %rsum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
          ins(%p : tensor<16x16xf32>) outs(%l0 : tensor<16xf32>) {
      ^bb0(%x: f32, %o: f32):
        %t = arith.addf %x, %o : f32
        linalg.yield %t : f32
      } -> tensor<16xf32>
      %ln = linalg.generic {indexing_maps = [#vec, #vec, #vec, #vec], iterator_types = ["parallel"]}
          ins(%l, %alpha, %rsum : tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) outs(%ev : tensor<16xf32>) {
      ^bb0(%x: f32, %y: f32, %w: f32, %o: f32):
        %t = arith.mulf %x, %y : f32
        %u = arith.addf %t, %w : f32
        linalg.yield %u : f32
      } -> tensor<16xf32>
      %pv = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%p, %vt : tensor<16x16xf32>, tensor<16x16xf32>) outs(%z : tensor<16x16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %pr = arith.mulf %x, %y : f32
        %t = arith.addf %pr, %o : f32
        linalg.yield %t : f32
      } -> tensor<16x16xf32>
      %on = linalg.generic {indexing_maps = [#id, #row, #id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%acc, %alpha, %pv : tensor<16x16xf32>, tensor<16xf32>, tensor<16x16xf32>) outs(%e : tensor<16x16xf32>) {
      ^bb0(%x: f32, %y: f32, %w: f32, %o: f32):
        %t = arith.mulf %x, %y : f32
        %u = arith.addf %t, %w : f32
        linalg.yield %u : f32
      } -> tensor<16x16xf32>
      scf.yield %mn, %ln, %on : tensor<16xf32>, tensor<16xf32>, tensor<16x16xf32>
    }
    %out = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
        ins(%res#2, %res#1 : tensor<16x16xf32>, tensor<16xf32>) outs(%e : tensor<16x16xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %t = arith.divf %x, %y : f32
      linalg.yield %t : f32
    } -> tensor<16x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %res#0 into %om[%blk, 0] [1, 16] [1, 1] : tensor<16xf32> into tensor<2x16xf32>
      tensor.parallel_insert_slice %out into %oo[%blk, 0, 0] [1, 16, 16] [1, 1, 1] : tensor<16x16xf32> into tensor<2x16x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r#0, %r#1 : tensor<2x16xf32>, tensor<2x16x16xf32>
}

// -----

// V's tile widened outside the loop (copied once, before it): its
// contraction in the loop has no pieces to wait for, so the step keeps one
// group for K, waited for whole before anything reads, and the copy from
// before the loop lands by that wait too.
// CHECK-LABEL: func.func @tile_from_outside_the_loop
// CHECK:         nvgpu.device_async_create_group
// CHECK:         scf.for
// CHECK:           gpu.barrier
// CHECK:           nvgpu.device_async_copy
// CHECK:           %[[G:.+]] = nvgpu.device_async_create_group
// CHECK-NEXT:      nvgpu.device_async_wait %[[G]] {numGroups = 0 : i32}
// CHECK-NEXT:      gpu.barrier
// CHECK-NOT:       nvgpu.device_async_wait
// CHECK:           scf.yield

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#vec = affine_map<(d0) -> (d0)>
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#bt = affine_map<(d0, d1, d2) -> (d1, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @tile_from_outside_the_loop(%q: tensor<16x16xbf16>,
                                      %k: tensor<64x16xbf16>,
                                      %v: tensor<64x16xbf16>, %n: index)
    -> (tensor<2x16xf32>, tensor<2x16x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %scale = arith.constant 0.25 : f32
  %e2 = tensor.empty() : tensor<2x16xf32>
  %e3 = tensor.empty() : tensor<2x16x16xf32>
  %r:2 = scf.forall (%blk) in (2) shared_outs(%om = %e2, %oo = %e3)
      -> (tensor<2x16xf32>, tensor<2x16x16xf32>) {
    %e = tensor.empty() : tensor<16x16xf32>
    %ev = tensor.empty() : tensor<16xf32>
    %qt = tensor.extract_slice %q[0, 0] [16, 16] [1, 1] : tensor<16x16xbf16> to tensor<16x16xbf16>
    %qs = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%qt : tensor<16x16xbf16>) outs(%e : tensor<16x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      %y = arith.mulf %w, %scale : f32
      linalg.yield %y : f32
    } -> tensor<16x16xf32>
    %m0 = linalg.fill ins(%ninf : f32) outs(%ev : tensor<16xf32>) -> tensor<16xf32>
    %l0 = linalg.fill ins(%zero : f32) outs(%ev : tensor<16xf32>) -> tensor<16xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
    %vs = tensor.extract_slice %v[%c0, 0] [16, 16] [1, 1] : tensor<64x16xbf16> to tensor<16x16xbf16>
    %vt = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%vs : tensor<16x16xbf16>) outs(%e : tensor<16x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<16x16xf32>
    %res:3 = scf.for %i = %c0 to %n step %c1 iter_args(%m = %m0, %l = %l0, %acc = %z)
        -> (tensor<16xf32>, tensor<16xf32>, tensor<16x16xf32>) {
      %off = arith.muli %i, %c16 : index
      %ks = tensor.extract_slice %k[%off, 0] [16, 16] [1, 1] : tensor<64x16xbf16> to tensor<16x16xbf16>
      %kt = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%ks : tensor<16x16xbf16>) outs(%e : tensor<16x16xf32>) {
      ^bb0(%x: bf16, %o: f32):
        %w = arith.extf %x : bf16 to f32
        linalg.yield %w : f32
      } -> tensor<16x16xf32>
      %s = linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%qs, %kt : tensor<16x16xf32>, tensor<16x16xf32>) outs(%z : tensor<16x16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %p = arith.mulf %x, %y : f32
        %t = arith.addf %p, %o : f32
        linalg.yield %t : f32
      } -> tensor<16x16xf32>
      %rmax = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
          ins(%s : tensor<16x16xf32>) outs(%m0 : tensor<16xf32>) {
      ^bb0(%x: f32, %o: f32):
        %t = arith.maximumf %x, %o : f32
        linalg.yield %t : f32
      } -> tensor<16xf32>
      %mn = linalg.generic {indexing_maps = [#vec, #vec, #vec], iterator_types = ["parallel"]}
          ins(%m, %rmax : tensor<16xf32>, tensor<16xf32>) outs(%ev : tensor<16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %t = arith.maximumf %x, %y : f32
        linalg.yield %t : f32
      } -> tensor<16xf32>
      %p = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
          ins(%s, %mn : tensor<16x16xf32>, tensor<16xf32>) outs(%e : tensor<16x16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %inf = arith.cmpf oeq, %y, %ninf : f32
        %d = arith.subf %x, %y : f32
        %ex = math.exp %d : f32
        %t = arith.select %inf, %zero, %ex : f32
        linalg.yield %t : f32
      } -> tensor<16x16xf32>
      %alpha = linalg.generic {indexing_maps = [#vec, #vec, #vec], iterator_types = ["parallel"]}
          ins(%m, %mn : tensor<16xf32>, tensor<16xf32>) outs(%ev : tensor<16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %inf = arith.cmpf oeq, %y, %ninf : f32
        %d = arith.subf %x, %y : f32
        %ex = math.exp %d : f32
        %t = arith.select %inf, %one, %ex : f32
        linalg.yield %t : f32
      } -> tensor<16xf32>
      %rsum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
          ins(%p : tensor<16x16xf32>) outs(%l0 : tensor<16xf32>) {
      ^bb0(%x: f32, %o: f32):
        %t = arith.addf %x, %o : f32
        linalg.yield %t : f32
      } -> tensor<16xf32>
      %ln = linalg.generic {indexing_maps = [#vec, #vec, #vec, #vec], iterator_types = ["parallel"]}
          ins(%l, %alpha, %rsum : tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) outs(%ev : tensor<16xf32>) {
      ^bb0(%x: f32, %y: f32, %w: f32, %o: f32):
        %t = arith.mulf %x, %y : f32
        %u = arith.addf %t, %w : f32
        linalg.yield %u : f32
      } -> tensor<16xf32>
      %pv = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%p, %vt : tensor<16x16xf32>, tensor<16x16xf32>) outs(%z : tensor<16x16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %pr = arith.mulf %x, %y : f32
        %t = arith.addf %pr, %o : f32
        linalg.yield %t : f32
      } -> tensor<16x16xf32>
      %on = linalg.generic {indexing_maps = [#id, #row, #id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%acc, %alpha, %pv : tensor<16x16xf32>, tensor<16xf32>, tensor<16x16xf32>) outs(%e : tensor<16x16xf32>) {
      ^bb0(%x: f32, %y: f32, %w: f32, %o: f32):
        %t = arith.mulf %x, %y : f32
        %u = arith.addf %t, %w : f32
        linalg.yield %u : f32
      } -> tensor<16x16xf32>
      scf.yield %mn, %ln, %on : tensor<16xf32>, tensor<16xf32>, tensor<16x16xf32>
    }
    %out = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
        ins(%res#2, %res#1 : tensor<16x16xf32>, tensor<16xf32>) outs(%e : tensor<16x16xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %t = arith.divf %x, %y : f32
      linalg.yield %t : f32
    } -> tensor<16x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %res#0 into %om[%blk, 0] [1, 16] [1, 1] : tensor<16xf32> into tensor<2x16xf32>
      tensor.parallel_insert_slice %out into %oo[%blk, 0, 0] [1, 16, 16] [1, 1, 1] : tensor<16x16xf32> into tensor<2x16x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r#0, %r#1 : tensor<2x16xf32>, tensor<2x16x16xf32>
}

// -----

// Key tiles of 128 rows, two pieces of 64 each, a group each, in the
// step: S reads K's rows as its n, so it waits for all of K (two groups
// younger may still fly: V's); P·V reads V's rows as its depth, so its
// first depth steps wait for V's first piece alone.
// CHECK-LABEL: func.func @pieces_in_a_loop
// CHECK:         scf.for
// CHECK-COUNT-4:   nvgpu.device_async_create_group
// CHECK-NOT:       nvgpu.device_async_wait
// CHECK:           nvgpu.device_async_wait %{{.+}} {numGroups = 2 : i32}
// CHECK-NEXT:      gpu.barrier
// CHECK:           nvgpu.ldmatrix %{{.+}} {numTiles = 4 : i32, transpose = false}
// CHECK:           nvgpu.device_async_wait %{{.+}} {numGroups = 1 : i32}
// CHECK-NEXT:      gpu.barrier
// CHECK:           nvgpu.ldmatrix %{{.+}} {numTiles = 4 : i32, transpose = true}
// CHECK:           nvgpu.device_async_wait %{{.+}} {numGroups = 0 : i32}
// CHECK-NEXT:      gpu.barrier
// CHECK:           nvgpu.ldmatrix %{{.+}} {numTiles = 4 : i32, transpose = true}
// CHECK:           scf.yield

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#vec = affine_map<(d0) -> (d0)>
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#bt = affine_map<(d0, d1, d2) -> (d1, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @pieces_in_a_loop(%q: tensor<16x16xbf16>, %k: tensor<256x16xbf16>,
                            %v: tensor<256x16xbf16>, %n: index)
    -> (tensor<2x16xf32>, tensor<2x16x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %scale = arith.constant 0.25 : f32
  %e2 = tensor.empty() : tensor<2x16xf32>
  %e3 = tensor.empty() : tensor<2x16x16xf32>
  %r:2 = scf.forall (%blk) in (2) shared_outs(%om = %e2, %oo = %e3)
      -> (tensor<2x16xf32>, tensor<2x16x16xf32>) {
    %e = tensor.empty() : tensor<16x16xf32>
    %ev = tensor.empty() : tensor<16xf32>
    %eb = tensor.empty() : tensor<128x16xf32>
    %es = tensor.empty() : tensor<16x128xf32>
    %qt = tensor.extract_slice %q[0, 0] [16, 16] [1, 1] : tensor<16x16xbf16> to tensor<16x16xbf16>
    %qs = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%qt : tensor<16x16xbf16>) outs(%e : tensor<16x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      %y = arith.mulf %w, %scale : f32
      linalg.yield %y : f32
    } -> tensor<16x16xf32>
    %m0 = linalg.fill ins(%ninf : f32) outs(%ev : tensor<16xf32>) -> tensor<16xf32>
    %l0 = linalg.fill ins(%zero : f32) outs(%ev : tensor<16xf32>) -> tensor<16xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
    %zs = linalg.fill ins(%zero : f32) outs(%es : tensor<16x128xf32>) -> tensor<16x128xf32>
    %res:3 = scf.for %i = %c0 to %n step %c1 iter_args(%m = %m0, %l = %l0, %acc = %z)
        -> (tensor<16xf32>, tensor<16xf32>, tensor<16x16xf32>) {
      %off = arith.muli %i, %c128 : index
      %ks = tensor.extract_slice %k[%off, 0] [128, 16] [1, 1] : tensor<256x16xbf16> to tensor<128x16xbf16>
      %kt = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%ks : tensor<128x16xbf16>) outs(%eb : tensor<128x16xf32>) {
      ^bb0(%x: bf16, %o: f32):
        %w = arith.extf %x : bf16 to f32
        linalg.yield %w : f32
      } -> tensor<128x16xf32>
      %s = linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%qs, %kt : tensor<16x16xf32>, tensor<128x16xf32>) outs(%zs : tensor<16x128xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %p = arith.mulf %x, %y : f32
        %t = arith.addf %p, %o : f32
        linalg.yield %t : f32
      } -> tensor<16x128xf32>
      %vs = tensor.extract_slice %v[%off, 0] [128, 16] [1, 1] : tensor<256x16xbf16> to tensor<128x16xbf16>
      %vt = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%vs : tensor<128x16xbf16>) outs(%eb : tensor<128x16xf32>) {
      ^bb0(%x: bf16, %o: f32):
        %w = arith.extf %x : bf16 to f32
        linalg.yield %w : f32
      } -> tensor<128x16xf32>
      %rmax = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
          ins(%s : tensor<16x128xf32>) outs(%m0 : tensor<16xf32>) {
      ^bb0(%x: f32, %o: f32):
        %t = arith.maximumf %x, %o : f32
        linalg.yield %t : f32
      } -> tensor<16xf32>
      %mn = linalg.generic {indexing_maps = [#vec, #vec, #vec], iterator_types = ["parallel"]}
          ins(%m, %rmax : tensor<16xf32>, tensor<16xf32>) outs(%ev : tensor<16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %t = arith.maximumf %x, %y : f32
        linalg.yield %t : f32
      } -> tensor<16xf32>
      %p = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
          ins(%s, %mn : tensor<16x128xf32>, tensor<16xf32>) outs(%es : tensor<16x128xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %inf = arith.cmpf oeq, %y, %ninf : f32
        %d = arith.subf %x, %y : f32
        %ex = math.exp %d : f32
        %t = arith.select %inf, %zero, %ex : f32
        linalg.yield %t : f32
      } -> tensor<16x128xf32>
      %alpha = linalg.generic {indexing_maps = [#vec, #vec, #vec], iterator_types = ["parallel"]}
          ins(%m, %mn : tensor<16xf32>, tensor<16xf32>) outs(%ev : tensor<16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %inf = arith.cmpf oeq, %y, %ninf : f32
        %d = arith.subf %x, %y : f32
        %ex = math.exp %d : f32
        %t = arith.select %inf, %one, %ex : f32
        linalg.yield %t : f32
      } -> tensor<16xf32>
      %rsum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
          ins(%p : tensor<16x128xf32>) outs(%l0 : tensor<16xf32>) {
      ^bb0(%x: f32, %o: f32):
        %t = arith.addf %x, %o : f32
        linalg.yield %t : f32
      } -> tensor<16xf32>
      %ln = linalg.generic {indexing_maps = [#vec, #vec, #vec, #vec], iterator_types = ["parallel"]}
          ins(%l, %alpha, %rsum : tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) outs(%ev : tensor<16xf32>) {
      ^bb0(%x: f32, %y: f32, %w: f32, %o: f32):
        %t = arith.mulf %x, %y : f32
        %u = arith.addf %t, %w : f32
        linalg.yield %u : f32
      } -> tensor<16xf32>
      %pv = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%p, %vt : tensor<16x128xf32>, tensor<128x16xf32>) outs(%z : tensor<16x16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %pr = arith.mulf %x, %y : f32
        %t = arith.addf %pr, %o : f32
        linalg.yield %t : f32
      } -> tensor<16x16xf32>
      %on = linalg.generic {indexing_maps = [#id, #row, #id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%acc, %alpha, %pv : tensor<16x16xf32>, tensor<16xf32>, tensor<16x16xf32>) outs(%e : tensor<16x16xf32>) {
      ^bb0(%x: f32, %y: f32, %w: f32, %o: f32):
        %t = arith.mulf %x, %y : f32
        %u = arith.addf %t, %w : f32
        linalg.yield %u : f32
      } -> tensor<16x16xf32>
      scf.yield %mn, %ln, %on : tensor<16xf32>, tensor<16xf32>, tensor<16x16xf32>
    }
    %out = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
        ins(%res#2, %res#1 : tensor<16x16xf32>, tensor<16xf32>) outs(%e : tensor<16x16xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %t = arith.divf %x, %y : f32
      linalg.yield %t : f32
    } -> tensor<16x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %res#0 into %om[%blk, 0] [1, 16] [1, 1] : tensor<16xf32> into tensor<2x16xf32>
      tensor.parallel_insert_slice %out into %oo[%blk, 0, 0] [1, 16, 16] [1, 1, 1] : tensor<16x16xf32> into tensor<2x16x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r#0, %r#1 : tensor<2x16xf32>, tensor<2x16x16xf32>
}

// -----

// Loops the lanes cannot hold are left to nats-gpu-distribute: B of f32 (no
// 16-bit tile to stage), ...
// CHECK-LABEL: func.func @f32_tiles
// CHECK-NOT:   #gpu.warp
// CHECK:       scf.for {{.*}} -> (tensor<16x16xf32>)
#id = affine_map<(d0, d1) -> (d0, d1)>
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#bt = affine_map<(d0, d1, d2) -> (d1, d2)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @f32_tiles(%q: tensor<16x16xf32>, %k: tensor<64x16xf32>, %n: index)
    -> tensor<2x16x16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %e3 = tensor.empty() : tensor<2x16x16xf32>
  %r = scf.forall (%blk) in (2) shared_outs(%oo = %e3) -> tensor<2x16x16xf32> {
    %e = tensor.empty() : tensor<16x16xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
    %res = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> tensor<16x16xf32> {
      %off = arith.muli %i, %c16 : index
      %ks = tensor.extract_slice %k[%off, 0] [16, 16] [1, 1] : tensor<64x16xf32> to tensor<16x16xf32>
      %s = linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%q, %ks : tensor<16x16xf32>, tensor<16x16xf32>) outs(%acc : tensor<16x16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %p = arith.mulf %x, %y : f32
        %t = arith.addf %p, %o : f32
        linalg.yield %t : f32
      } -> tensor<16x16xf32>
      scf.yield %s : tensor<16x16xf32>
    }
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %res into %oo[%blk, 0, 0] [1, 16, 16] [1, 1, 1] : tensor<16x16xf32> into tensor<2x16x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<2x16x16xf32>
}

// -----

// ... and a loop carrying rows that are no multiple of a warp's 16.
// CHECK-LABEL: func.func @eight_rows
// CHECK-NOT:   #gpu.warp
// CHECK:       scf.for {{.*}} -> (tensor<8xf32>)
func.func @eight_rows(%x: tensor<8xf32>, %n: index) -> tensor<2x8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %e2 = tensor.empty() : tensor<2x8xf32>
  %r = scf.forall (%blk) in (2) shared_outs(%oo = %e2) -> tensor<2x8xf32> {
    %ev = tensor.empty() : tensor<8xf32>
    %res = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %x) -> tensor<8xf32> {
      %s = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
          ins(%acc : tensor<8xf32>) outs(%ev : tensor<8xf32>) {
      ^bb0(%a: f32, %o: f32):
        %t = arith.addf %a, %a : f32
        linalg.yield %t : f32
      } -> tensor<8xf32>
      scf.yield %s : tensor<8xf32>
    }
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %res into %oo[%blk, 0] [1, 8] [1, 1] : tensor<8xf32> into tensor<2x8xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<2x8xf32>
}

// -----

// A product after the loop whose one user the lanes cannot compute (it
// reads the loop's result transposed) is not accumulated into that user: it
// is an output of the region, stored and read back, and the user stays.
// CHECK-LABEL: func.func @product_read_outside
// CHECK:       scf.forall (%{{.+}}) in (1) {
// CHECK:         scf.for
// CHECK:         nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK:         nvgpu.mma.sync
// CHECK:       } {mapping = [#gpu.warp<linear_dim_0>]}
// CHECK-DAG:   %[[RES:.+]] = bufferization.to_tensor %{{.+}} restrict writable : memref<16x16xf32, strided<[24, 1]>>
// CHECK-DAG:   %[[PROD:.+]] = bufferization.to_tensor %{{.+}} restrict writable : memref<16x16xf32, strided<[24, 1]>>
// CHECK:       linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : tensor<16x16xf32>, tensor<16x16xf32>)
#id = affine_map<(d0, d1) -> (d0, d1)>
#tr = affine_map<(d0, d1) -> (d1, d0)>
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#bt = affine_map<(d0, d1, d2) -> (d1, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @product_read_outside(%q: tensor<16x16xbf16>, %k: tensor<64x16xbf16>,
                                %v: tensor<16x16xbf16>, %n: index)
    -> tensor<2x16x16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %e3 = tensor.empty() : tensor<2x16x16xf32>
  %r = scf.forall (%blk) in (2) shared_outs(%oo = %e3) -> tensor<2x16x16xf32> {
    %e = tensor.empty() : tensor<16x16xf32>
    %qs = tensor.extract_slice %q[0, 0] [16, 16] [1, 1] : tensor<16x16xbf16> to tensor<16x16xbf16>
    %qt = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%qs : tensor<16x16xbf16>) outs(%e : tensor<16x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<16x16xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
    %res = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> tensor<16x16xf32> {
      %off = arith.muli %i, %c16 : index
      %ks = tensor.extract_slice %k[%off, 0] [16, 16] [1, 1] : tensor<64x16xbf16> to tensor<16x16xbf16>
      %kt = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%ks : tensor<16x16xbf16>) outs(%e : tensor<16x16xf32>) {
      ^bb0(%x: bf16, %o: f32):
        %w = arith.extf %x : bf16 to f32
        linalg.yield %w : f32
      } -> tensor<16x16xf32>
      %s = linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%qt, %kt : tensor<16x16xf32>, tensor<16x16xf32>) outs(%acc : tensor<16x16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %p = arith.mulf %x, %y : f32
        %t = arith.addf %p, %o : f32
        linalg.yield %t : f32
      } -> tensor<16x16xf32>
      scf.yield %s : tensor<16x16xf32>
    }
    %vs = tensor.extract_slice %v[0, 0] [16, 16] [1, 1] : tensor<16x16xbf16> to tensor<16x16xbf16>
    %vt = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%vs : tensor<16x16xbf16>) outs(%e : tensor<16x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<16x16xf32>
    %pv = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%res, %vt : tensor<16x16xf32>, tensor<16x16xf32>) outs(%z : tensor<16x16xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %p = arith.mulf %x, %y : f32
      %t = arith.addf %p, %o : f32
      linalg.yield %t : f32
    } -> tensor<16x16xf32>
    %out = linalg.generic {indexing_maps = [#id, #tr, #id], iterator_types = ["parallel", "parallel"]}
        ins(%pv, %res : tensor<16x16xf32>, tensor<16x16xf32>) outs(%e : tensor<16x16xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %t = arith.addf %x, %y : f32
      linalg.yield %t : f32
    } -> tensor<16x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %out into %oo[%blk, 0, 0] [1, 16, 16] [1, 1, 1] : tensor<16x16xf32> into tensor<2x16x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<2x16x16xf32>
}

// -----

// A K tile whose rows do not start 16 bytes apart in its source (column
// offset 4 of 24) cannot be copied 16 bytes a cp.async: the loop is left.
// CHECK-LABEL: func.func @unaligned_rows
// CHECK-NOT:   #gpu.warp
// CHECK:       scf.for {{.*}} -> (tensor<16x16xf32>)
#id = affine_map<(d0, d1) -> (d0, d1)>
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#bt = affine_map<(d0, d1, d2) -> (d1, d2)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @unaligned_rows(%q: tensor<16x16xbf16>, %k: tensor<64x24xbf16>, %n: index)
    -> tensor<2x16x16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %e3 = tensor.empty() : tensor<2x16x16xf32>
  %r = scf.forall (%blk) in (2) shared_outs(%oo = %e3) -> tensor<2x16x16xf32> {
    %e = tensor.empty() : tensor<16x16xf32>
    %qs = tensor.extract_slice %q[0, 0] [16, 16] [1, 1] : tensor<16x16xbf16> to tensor<16x16xbf16>
    %qt = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%qs : tensor<16x16xbf16>) outs(%e : tensor<16x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<16x16xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
    %res = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> tensor<16x16xf32> {
      %off = arith.muli %i, %c16 : index
      %ks = tensor.extract_slice %k[%off, 4] [16, 16] [1, 1] : tensor<64x24xbf16> to tensor<16x16xbf16>
      %kt = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%ks : tensor<16x16xbf16>) outs(%e : tensor<16x16xf32>) {
      ^bb0(%x: bf16, %o: f32):
        %w = arith.extf %x : bf16 to f32
        linalg.yield %w : f32
      } -> tensor<16x16xf32>
      %s = linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%qt, %kt : tensor<16x16xf32>, tensor<16x16xf32>) outs(%acc : tensor<16x16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %p = arith.mulf %x, %y : f32
        %t = arith.addf %p, %o : f32
        linalg.yield %t : f32
      } -> tensor<16x16xf32>
      scf.yield %s : tensor<16x16xf32>
    }
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %res into %oo[%blk, 0, 0] [1, 16, 16] [1, 1, 1] : tensor<16x16xf32> into tensor<2x16x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<2x16x16xf32>
}

// -----

// A block without a loop (the gated delta rule's outputs with 16-bit terms):
// O = r ⊙ (q·S) + P·U. Its first contraction the lanes compute starts the
// region: one warp for the 16 rows, q's (rows of the input [T, H, K]) and
// P's A fragments loaded from global memory, S and U copied once into
// padded shared tiles, a group each, and read transposed (they are k × n). P·U's MMAs
// accumulate onto q·S's rows scaled by r (which the lanes read from
// memory): one set of accumulators and no sum after them, rounded to bf16
// in the lanes and stored. Each block takes a group of 32 of the 64 value
// columns (as at head dim 256): the tiles' column offset is not a
// constant, but a multiple of 8, so their rows stay 16-byte aligned for
// cp.async.

// CHECK-LABEL: func.func @outputs
// CHECK-DAG:   memref.alloc() {alignment = 16 : i64} : memref<32x40xbf16, #gpu.address_space<workgroup>>
// CHECK-DAG:   memref.alloc() {alignment = 16 : i64} : memref<16x40xbf16, #gpu.address_space<workgroup>>
// CHECK:       scf.forall (%{{.+}}) in (1) {
// CHECK:         gpu.lane_id
// CHECK-COUNT-2: nvgpu.device_async_copy
// CHECK:         nvgpu.device_async_wait
// CHECK:         gpu.barrier
// CHECK:         nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK:         nvgpu.mma.sync
// CHECK-NOT:     scf.for
// CHECK:         tensor.extract %{{.+}}[%{{.+}}] : tensor<16xf32>
// CHECK:         arith.mulf
// CHECK:         nvgpu.mma.sync
// CHECK-NOT:     arith.addf
// CHECK:         arith.truncf {{.*}} : f32 to bf16
// CHECK:       } {mapping = [#gpu.warp<linear_dim_0>]}
// CHECK:       bufferization.to_tensor

// PTX: llvm.func @outputs
// PTX: .maxntid 32, 1, 1
// PTX: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>

func.func @outputs(%q: tensor<32x3x32xbf16>, %s: tensor<2x32x64xbf16>,
                   %p: tensor<2x16x16xbf16>, %u: tensor<2x16x64xbf16>,
                   %rows: tensor<2x16xf32>)
    -> tensor<2x16x64xbf16> {
  %zero = arith.constant 0.0 : f32
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %e = tensor.empty() : tensor<2x16x64xbf16>
  %r = scf.forall (%n, %group) in (2, 2) shared_outs(%out = %e) -> (tensor<2x16x64xbf16>) {
    %col = arith.muli %group, %c32 : index
    %t0 = arith.muli %n, %c16 : index
    %e32 = tensor.empty() : tensor<16x32xf32>
    %ess = tensor.empty() : tensor<32x32xf32>
    %epp = tensor.empty() : tensor<16x16xf32>
    %qs = tensor.extract_slice %q[%t0, 1, 0] [16, 1, 32] [1, 1, 1] : tensor<32x3x32xbf16> to tensor<16x32xbf16>
    %qw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%qs : tensor<16x32xbf16>) outs(%e32 : tensor<16x32xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<16x32xf32>
    %ss = tensor.extract_slice %s[%n, 0, %col] [1, 32, 32] [1, 1, 1] : tensor<2x32x64xbf16> to tensor<32x32xbf16>
    %sw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%ss : tensor<32x32xbf16>) outs(%ess : tensor<32x32xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<32x32xf32>
    %z1 = linalg.fill ins(%zero : f32) outs(%e32 : tensor<16x32xf32>) -> tensor<16x32xf32>
    %fromState = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%qw, %sw : tensor<16x32xf32>, tensor<32x32xf32>) outs(%z1 : tensor<16x32xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %m = arith.mulf %x, %y : f32
      %t = arith.addf %m, %o : f32
      linalg.yield %t : f32
    } -> tensor<16x32xf32>
    %ps = tensor.extract_slice %p[%n, 0, 0] [1, 16, 16] [1, 1, 1] : tensor<2x16x16xbf16> to tensor<16x16xbf16>
    %pw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%ps : tensor<16x16xbf16>) outs(%epp : tensor<16x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<16x16xf32>
    %us = tensor.extract_slice %u[%n, 0, %col] [1, 16, 32] [1, 1, 1] : tensor<2x16x64xbf16> to tensor<16x32xbf16>
    %uw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%us : tensor<16x32xbf16>) outs(%e32 : tensor<16x32xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<16x32xf32>
    %z2 = linalg.fill ins(%zero : f32) outs(%e32 : tensor<16x32xf32>) -> tensor<16x32xf32>
    %inTile = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%pw, %uw : tensor<16x16xf32>, tensor<16x32xf32>) outs(%z2 : tensor<16x32xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %m = arith.mulf %x, %y : f32
      %t = arith.addf %m, %o : f32
      linalg.yield %t : f32
    } -> tensor<16x32xf32>
    %rs = tensor.extract_slice %rows[%n, 0] [1, 16] [1, 1] : tensor<2x16xf32> to tensor<16xf32>
    %eo = tensor.empty() : tensor<16x32xbf16>
    %o = linalg.generic {indexing_maps = [#id, #id, #row, #id], iterator_types = ["parallel", "parallel"]}
        ins(%fromState, %inTile, %rs : tensor<16x32xf32>, tensor<16x32xf32>, tensor<16xf32>) outs(%eo : tensor<16x32xbf16>) {
    ^bb0(%x: f32, %y: f32, %f: f32, %o: bf16):
      %fx = arith.mulf %f, %x : f32
      %t = arith.addf %fx, %y : f32
      %h = arith.truncf %t : f32 to bf16
      linalg.yield %h : bf16
    } -> tensor<16x32xbf16>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %o into %out[%n, 0, %col] [1, 16, 32] [1, 1, 1] : tensor<16x32xbf16> into tensor<2x16x64xbf16>
    }
  } {mapping = [#gpu.block<linear_dim_1>, #gpu.block<linear_dim_0>]}
  return %r : tensor<2x16x64xbf16>
}

// -----

// The outputs at head dim 128: S's 128 rows are copied in two pieces of 64,
// a group each, then U's (3 groups). q·S's depth steps run in order, all
// n-tiles of a step together: the first waits for S's first piece (2 groups
// may stay in flight), the fifth (rows 64 on) for its second; P·U waits for
// U's.

// CHECK-LABEL: func.func @outputs_pieces
// CHECK-COUNT-3: nvgpu.device_async_create_group
// CHECK:       nvgpu.device_async_wait %{{.+}} {numGroups = 2 : i32}
// CHECK-NEXT:  gpu.barrier
// CHECK-COUNT-8: nvgpu.ldmatrix
// CHECK-NOT:   nvgpu.ldmatrix
// CHECK:       nvgpu.device_async_wait %{{.+}} {numGroups = 1 : i32}
// CHECK-NEXT:  gpu.barrier
// CHECK-COUNT-8: nvgpu.ldmatrix
// CHECK-NOT:   nvgpu.ldmatrix
// CHECK:       nvgpu.device_async_wait %{{.+}} {numGroups = 0 : i32}
// CHECK-NEXT:  gpu.barrier
// CHECK:       nvgpu.ldmatrix
// CHECK-NOT:   nvgpu.device_async_wait
// CHECK:       } {mapping = [#gpu.warp<linear_dim_0>]}

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>

func.func @outputs_pieces(%q: tensor<32x3x128xbf16>, %s: tensor<2x128x64xbf16>,
                   %p: tensor<2x16x16xbf16>, %u: tensor<2x16x64xbf16>,
                   %rows: tensor<2x16xf32>)
    -> tensor<2x16x64xbf16> {
  %zero = arith.constant 0.0 : f32
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %e = tensor.empty() : tensor<2x16x64xbf16>
  %r = scf.forall (%n, %group) in (2, 2) shared_outs(%out = %e) -> (tensor<2x16x64xbf16>) {
    %col = arith.muli %group, %c32 : index
    %t0 = arith.muli %n, %c16 : index
    %e32 = tensor.empty() : tensor<16x32xf32>
    %ess = tensor.empty() : tensor<128x32xf32>
    %eq = tensor.empty() : tensor<16x128xf32>
    %epp = tensor.empty() : tensor<16x16xf32>
    %qs = tensor.extract_slice %q[%t0, 1, 0] [16, 1, 128] [1, 1, 1] : tensor<32x3x128xbf16> to tensor<16x128xbf16>
    %qw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%qs : tensor<16x128xbf16>) outs(%eq : tensor<16x128xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<16x128xf32>
    %ss = tensor.extract_slice %s[%n, 0, %col] [1, 128, 32] [1, 1, 1] : tensor<2x128x64xbf16> to tensor<128x32xbf16>
    %sw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%ss : tensor<128x32xbf16>) outs(%ess : tensor<128x32xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<128x32xf32>
    %z1 = linalg.fill ins(%zero : f32) outs(%e32 : tensor<16x32xf32>) -> tensor<16x32xf32>
    %fromState = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%qw, %sw : tensor<16x128xf32>, tensor<128x32xf32>) outs(%z1 : tensor<16x32xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %m = arith.mulf %x, %y : f32
      %t = arith.addf %m, %o : f32
      linalg.yield %t : f32
    } -> tensor<16x32xf32>
    %ps = tensor.extract_slice %p[%n, 0, 0] [1, 16, 16] [1, 1, 1] : tensor<2x16x16xbf16> to tensor<16x16xbf16>
    %pw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%ps : tensor<16x16xbf16>) outs(%epp : tensor<16x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<16x16xf32>
    %us = tensor.extract_slice %u[%n, 0, %col] [1, 16, 32] [1, 1, 1] : tensor<2x16x64xbf16> to tensor<16x32xbf16>
    %uw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%us : tensor<16x32xbf16>) outs(%e32 : tensor<16x32xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<16x32xf32>
    %z2 = linalg.fill ins(%zero : f32) outs(%e32 : tensor<16x32xf32>) -> tensor<16x32xf32>
    %inTile = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%pw, %uw : tensor<16x16xf32>, tensor<16x32xf32>) outs(%z2 : tensor<16x32xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %m = arith.mulf %x, %y : f32
      %t = arith.addf %m, %o : f32
      linalg.yield %t : f32
    } -> tensor<16x32xf32>
    %rs = tensor.extract_slice %rows[%n, 0] [1, 16] [1, 1] : tensor<2x16xf32> to tensor<16xf32>
    %eo = tensor.empty() : tensor<16x32xbf16>
    %o = linalg.generic {indexing_maps = [#id, #id, #row, #id], iterator_types = ["parallel", "parallel"]}
        ins(%fromState, %inTile, %rs : tensor<16x32xf32>, tensor<16x32xf32>, tensor<16xf32>) outs(%eo : tensor<16x32xbf16>) {
    ^bb0(%x: f32, %y: f32, %f: f32, %o: bf16):
      %fx = arith.mulf %f, %x : f32
      %t = arith.addf %fx, %y : f32
      %h = arith.truncf %t : f32 to bf16
      linalg.yield %h : bf16
    } -> tensor<16x32xbf16>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %o into %out[%n, 0, %col] [1, 16, 32] [1, 1, 1] : tensor<16x32xbf16> into tensor<2x16x64xbf16>
    }
  } {mapping = [#gpu.block<linear_dim_1>, #gpu.block<linear_dim_0>]}
  return %r : tensor<2x16x64xbf16>
}

// -----

// A tile in pieces that a contraction reads with its rows as n (q·kᵀ, k's
// 128 rows the product's columns): one wait, for its last piece (groups
// complete in order), and a barrier before any of its steps; U's group,
// committed after it, may stay in flight until P·U.

// CHECK-LABEL: func.func @pieces_as_columns
// CHECK-COUNT-3: nvgpu.device_async_create_group
// CHECK-NOT:   nvgpu.ldmatrix
// CHECK:       nvgpu.device_async_wait %{{.+}} {numGroups = 1 : i32}
// CHECK-NEXT:  gpu.barrier
// CHECK-NOT:   nvgpu.device_async_wait
// CHECK:       nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false}
// CHECK:       nvgpu.device_async_wait %{{.+}} {numGroups = 0 : i32}
// CHECK-NEXT:  gpu.barrier
// CHECK:       nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#bt = affine_map<(d0, d1, d2) -> (d1, d2)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @pieces_as_columns(%q: tensor<32x3x32xbf16>, %k: tensor<2x128x64xbf16>,
                   %p: tensor<2x16x16xbf16>, %u: tensor<2x16x128xbf16>) -> tensor<2x16x128xbf16> {
  %zero = arith.constant 0.0 : f32
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %e = tensor.empty() : tensor<2x16x128xbf16>
  %r = scf.forall (%n, %group) in (2, 2) shared_outs(%out = %e) -> (tensor<2x16x128xbf16>) {
    %col = arith.muli %group, %c32 : index
    %t0 = arith.muli %n, %c16 : index
    %e128 = tensor.empty() : tensor<16x128xf32>
    %ekk = tensor.empty() : tensor<128x32xf32>
    %eq = tensor.empty() : tensor<16x32xf32>
    %epp = tensor.empty() : tensor<16x16xf32>
    %qs = tensor.extract_slice %q[%t0, 1, 0] [16, 1, 32] [1, 1, 1] : tensor<32x3x32xbf16> to tensor<16x32xbf16>
    %qw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%qs : tensor<16x32xbf16>) outs(%eq : tensor<16x32xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<16x32xf32>
    %ks = tensor.extract_slice %k[%n, 0, %col] [1, 128, 32] [1, 1, 1] : tensor<2x128x64xbf16> to tensor<128x32xbf16>
    %kw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%ks : tensor<128x32xbf16>) outs(%ekk : tensor<128x32xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<128x32xf32>
    %z1 = linalg.fill ins(%zero : f32) outs(%e128 : tensor<16x128xf32>) -> tensor<16x128xf32>
    %qk = linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%qw, %kw : tensor<16x32xf32>, tensor<128x32xf32>) outs(%z1 : tensor<16x128xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %m = arith.mulf %x, %y : f32
      %t = arith.addf %m, %o : f32
      linalg.yield %t : f32
    } -> tensor<16x128xf32>
    %ps = tensor.extract_slice %p[%n, 0, 0] [1, 16, 16] [1, 1, 1] : tensor<2x16x16xbf16> to tensor<16x16xbf16>
    %pw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%ps : tensor<16x16xbf16>) outs(%epp : tensor<16x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<16x16xf32>
    %us = tensor.extract_slice %u[%n, 0, 0] [1, 16, 128] [1, 1, 1] : tensor<2x16x128xbf16> to tensor<16x128xbf16>
    %uw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%us : tensor<16x128xbf16>) outs(%e128 : tensor<16x128xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<16x128xf32>
    %z2 = linalg.fill ins(%zero : f32) outs(%e128 : tensor<16x128xf32>) -> tensor<16x128xf32>
    %pu = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%pw, %uw : tensor<16x16xf32>, tensor<16x128xf32>) outs(%z2 : tensor<16x128xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %m = arith.mulf %x, %y : f32
      %t = arith.addf %m, %o : f32
      linalg.yield %t : f32
    } -> tensor<16x128xf32>
    %eo = tensor.empty() : tensor<16x128xbf16>
    %o = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%qk, %pu : tensor<16x128xf32>, tensor<16x128xf32>) outs(%eo : tensor<16x128xbf16>) {
    ^bb0(%x: f32, %y: f32, %o: bf16):
      %t = arith.addf %x, %y : f32
      %h = arith.truncf %t : f32 to bf16
      linalg.yield %h : bf16
    } -> tensor<16x128xbf16>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %o into %out[%n, 0, 0] [1, 16, 128] [1, 1, 1] : tensor<16x128xbf16> into tensor<2x16x128xbf16>
    }
  } {mapping = [#gpu.block<linear_dim_1>, #gpu.block<linear_dim_0>]}
  return %r : tensor<2x16x128xbf16>
}

// -----

// A block with a loop the lanes cannot hold (its product is 8 columns wide,
// not a multiple of 16) is left whole, though a contraction the lanes could
// compute follows the loop: only blocks without loops start a region at a
// contraction.

// CHECK-LABEL: func.func @rejected_loop_then_contraction
// CHECK-NOT:   gpu.warp

#id = affine_map<(d0, d1) -> (d0, d1)>
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>

func.func @rejected_loop_then_contraction(%x: tensor<16x16xbf16>, %w: tensor<64x8xbf16>,
                                          %y: tensor<16x16xbf16>, %n: index)
    -> (tensor<2x16x8xf32>, tensor<2x16x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %e8 = tensor.empty() : tensor<2x16x8xf32>
  %e16 = tensor.empty() : tensor<2x16x16xf32>
  %r:2 = scf.forall (%blk) in (2) shared_outs(%o8 = %e8, %o16 = %e16)
      -> (tensor<2x16x8xf32>, tensor<2x16x16xf32>) {
    %e = tensor.empty() : tensor<16x16xf32>
    %en = tensor.empty() : tensor<16x8xf32>
    %xs = tensor.extract_slice %x[0, 0] [16, 16] [1, 1] : tensor<16x16xbf16> to tensor<16x16xbf16>
    %xw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%xs : tensor<16x16xbf16>) outs(%e : tensor<16x16xf32>) {
    ^bb0(%v: bf16, %o: f32):
      %t = arith.extf %v : bf16 to f32
      linalg.yield %t : f32
    } -> tensor<16x16xf32>
    %z8 = linalg.fill ins(%zero : f32) outs(%en : tensor<16x8xf32>) -> tensor<16x8xf32>
    %acc = scf.for %i = %c0 to %n step %c1 iter_args(%s = %z8) -> (tensor<16x8xf32>) {
      %off = arith.muli %i, %c16 : index
      %ws = tensor.extract_slice %w[%off, 0] [16, 8] [1, 1] : tensor<64x8xbf16> to tensor<16x8xbf16>
      %ww = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%ws : tensor<16x8xbf16>) outs(%en : tensor<16x8xf32>) {
      ^bb0(%v: bf16, %o: f32):
        %t = arith.extf %v : bf16 to f32
        linalg.yield %t : f32
      } -> tensor<16x8xf32>
      %p = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%xw, %ww : tensor<16x16xf32>, tensor<16x8xf32>) outs(%s : tensor<16x8xf32>) {
      ^bb0(%u: f32, %v: f32, %o: f32):
        %m = arith.mulf %u, %v : f32
        %t = arith.addf %m, %o : f32
        linalg.yield %t : f32
      } -> tensor<16x8xf32>
      scf.yield %p : tensor<16x8xf32>
    }
    %ys = tensor.extract_slice %y[0, 0] [16, 16] [1, 1] : tensor<16x16xbf16> to tensor<16x16xbf16>
    %yw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%ys : tensor<16x16xbf16>) outs(%e : tensor<16x16xf32>) {
    ^bb0(%v: bf16, %o: f32):
      %t = arith.extf %v : bf16 to f32
      linalg.yield %t : f32
    } -> tensor<16x16xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
    %q = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%xw, %yw : tensor<16x16xf32>, tensor<16x16xf32>) outs(%z : tensor<16x16xf32>) {
    ^bb0(%u: f32, %v: f32, %o: f32):
      %m = arith.mulf %u, %v : f32
      %t = arith.addf %m, %o : f32
      linalg.yield %t : f32
    } -> tensor<16x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %acc into %o8[%blk, 0, 0] [1, 16, 8] [1, 1, 1] : tensor<16x8xf32> into tensor<2x16x8xf32>
      tensor.parallel_insert_slice %q into %o16[%blk, 0, 0] [1, 16, 16] [1, 1, 1] : tensor<16x16xf32> into tensor<2x16x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r#0, %r#1 : tensor<2x16x8xf32>, tensor<2x16x16xf32>
}

// -----

// A block without loops one of whose contractions the lanes cannot compute
// (Q_γ·S of depth 8, not a multiple of 16) is left whole: its other
// contraction would run on the warps' threads op by op otherwise.

// CHECK-LABEL: func.func @outputs_shallow
// CHECK-NOT:   gpu.warp

#id = affine_map<(d0, d1) -> (d0, d1)>
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>

func.func @outputs_shallow(%qg: tensor<2x16x8xbf16>, %s: tensor<2x8x32xbf16>,
                           %p: tensor<2x16x16xbf16>, %u: tensor<2x16x32xbf16>)
    -> tensor<2x16x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x16x32xf32>
  %r = scf.forall (%n) in (2) shared_outs(%out = %e) -> (tensor<2x16x32xf32>) {
    %e32 = tensor.empty() : tensor<16x32xf32>
    %eq = tensor.empty() : tensor<16x8xf32>
    %es = tensor.empty() : tensor<8x32xf32>
    %epp = tensor.empty() : tensor<16x16xf32>
    %qs = tensor.extract_slice %qg[%n, 0, 0] [1, 16, 8] [1, 1, 1] : tensor<2x16x8xbf16> to tensor<16x8xbf16>
    %qw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%qs : tensor<16x8xbf16>) outs(%eq : tensor<16x8xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<16x8xf32>
    %ss = tensor.extract_slice %s[%n, 0, 0] [1, 8, 32] [1, 1, 1] : tensor<2x8x32xbf16> to tensor<8x32xbf16>
    %sw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%ss : tensor<8x32xbf16>) outs(%es : tensor<8x32xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<8x32xf32>
    %z1 = linalg.fill ins(%zero : f32) outs(%e32 : tensor<16x32xf32>) -> tensor<16x32xf32>
    %fromState = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%qw, %sw : tensor<16x8xf32>, tensor<8x32xf32>) outs(%z1 : tensor<16x32xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %m = arith.mulf %x, %y : f32
      %t = arith.addf %m, %o : f32
      linalg.yield %t : f32
    } -> tensor<16x32xf32>
    %ps = tensor.extract_slice %p[%n, 0, 0] [1, 16, 16] [1, 1, 1] : tensor<2x16x16xbf16> to tensor<16x16xbf16>
    %pw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%ps : tensor<16x16xbf16>) outs(%epp : tensor<16x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<16x16xf32>
    %us = tensor.extract_slice %u[%n, 0, 0] [1, 16, 32] [1, 1, 1] : tensor<2x16x32xbf16> to tensor<16x32xbf16>
    %uw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%us : tensor<16x32xbf16>) outs(%e32 : tensor<16x32xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<16x32xf32>
    %inTile = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%pw, %uw : tensor<16x16xf32>, tensor<16x32xf32>) outs(%fromState : tensor<16x32xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %m = arith.mulf %x, %y : f32
      %t = arith.addf %m, %o : f32
      linalg.yield %t : f32
    } -> tensor<16x32xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %inTile into %out[%n, 0, 0] [1, 16, 32] [1, 1, 1] : tensor<16x32xf32> into tensor<2x16x32xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<2x16x32xf32>
}

// -----

// Two own-chunk steps after a loop, each S = Q·Kᵀ masked causally (key <=
// query, both offset by the block's first token, the second as query >
// key: strict), then P = 0 where the mask hid the score and O + P·V. Warp
// w (rows 16w .. 16w + 15) computes S's second pair of n-tiles (keys 16 ..
// 31) and P·V's second depth step (the same keys) only where its last row
// is at or past key 16 (past it where strict); the loop's step has no
// mask, and computes all of its products. The P·V of each step
// accumulates onto O (the else branch keeps O as it was).
// CHECK-LABEL: func.func @own_steps_causal
// CHECK:       scf.forall (%[[W:.+]]) in (2) {
// CHECK:         %[[R0:.+]] = arith.muli %[[W]], %c16
// CHECK-NEXT:    %c15 = arith.constant 15 : index
// CHECK-NEXT:    %[[LAST:.+]] = arith.addi %[[R0]], %c15 : index
// CHECK:         scf.for
// CHECK-NOT:       scf.if
// CHECK:           scf.yield
// CHECK:         %[[S1:.+]] = arith.cmpi ule, %c16{{(_[0-9]+)?}}, %[[LAST]] : index
// CHECK-NEXT:    %{{.+}}:8 = scf.if %[[S1]] -> (f32, f32, f32, f32, f32, f32, f32, f32) {
// CHECK-COUNT-2:   nvgpu.mma.sync
// CHECK:           scf.yield
// CHECK-NEXT:    } else {
// CHECK:         %[[S2:.+]] = arith.cmpi ult, %c16{{(_[0-9]+)?}}, %[[LAST]] : index
// CHECK-NEXT:    %{{.+}}:8 = scf.if %[[S2]] -> (f32, f32, f32, f32, f32, f32, f32, f32) {
// CHECK:         %[[P1:.+]] = arith.cmpi ule, %c16{{(_[0-9]+)?}}, %[[LAST]] : index
// CHECK-NEXT:    %{{.+}}:8 = scf.if %[[P1]] -> (f32, f32, f32, f32, f32, f32, f32, f32) {
// CHECK:           nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}
// CHECK-COUNT-2:   nvgpu.mma.sync
// CHECK:           scf.yield
// CHECK-NEXT:    } else {
// CHECK-NEXT:      scf.yield
// CHECK:         %[[P2:.+]] = arith.cmpi ult, %c16{{(_[0-9]+)?}}, %[[LAST]] : index
// CHECK-NEXT:    %{{.+}}:8 = scf.if %[[P2]] -> (f32, f32, f32, f32, f32, f32, f32, f32) {
// CHECK-NOT:     scf.if %{{.+}} -> (f32
// CHECK:       } {mapping = [#gpu.warp<linear_dim_0>]}

#id = affine_map<(d0, d1) -> (d0, d1)>
#tr = affine_map<(d0, d1) -> (d1, d0)>
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#bt = affine_map<(d0, d1, d2) -> (d1, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @own_steps_causal(%q: tensor<64x16xbf16>, %k: tensor<64x16xbf16>,
    %v: tensor<64x16xbf16>, %n: index, %flag: i1) -> tensor<2x32x16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %out0 = tensor.empty() : tensor<2x32x16xf32>
  %r = scf.forall (%blk) in (2) shared_outs(%out = %out0) -> (tensor<2x32x16xf32>) {
    %t0 = arith.muli %blk, %c32 : index
    %e = tensor.empty() : tensor<32x16xf32>
    %es = tensor.empty() : tensor<32x32xf32>
    %qs = tensor.extract_slice %q[%t0, 0] [32, 16] [1, 1] : tensor<64x16xbf16> to tensor<32x16xbf16>
    %qw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%qs : tensor<32x16xbf16>) outs(%e : tensor<32x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<32x16xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<32x16xf32>) -> tensor<32x16xf32>
    %zs = linalg.fill ins(%zero : f32) outs(%es : tensor<32x32xf32>) -> tensor<32x32xf32>
    %loop = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> (tensor<32x16xf32>) {
      %off = arith.muli %i, %c32 : index
      %kt = tensor.extract_slice %k[%off, 0] [32, 16] [1, 1] : tensor<64x16xbf16> to tensor<32x16xbf16>
      %kw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%kt : tensor<32x16xbf16>) outs(%e : tensor<32x16xf32>) {
      ^bb0(%x: bf16, %o: f32):
        %w = arith.extf %x : bf16 to f32
        linalg.yield %w : f32
      } -> tensor<32x16xf32>
      %s = linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%qw, %kw : tensor<32x16xf32>, tensor<32x16xf32>) outs(%zs : tensor<32x32xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %p = arith.mulf %x, %y : f32
        %t = arith.addf %p, %o : f32
        linalg.yield %t : f32
      } -> tensor<32x32xf32>
      %vt = tensor.extract_slice %v[%off, 0] [32, 16] [1, 1] : tensor<64x16xbf16> to tensor<32x16xbf16>
      %vw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%vt : tensor<32x16xbf16>) outs(%e : tensor<32x16xf32>) {
      ^bb0(%x: bf16, %o: f32):
        %w = arith.extf %x : bf16 to f32
        linalg.yield %w : f32
      } -> tensor<32x16xf32>
      %sv = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%s, %vw : tensor<32x32xf32>, tensor<32x16xf32>) outs(%z : tensor<32x16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %p = arith.mulf %x, %y : f32
        %t = arith.addf %p, %o : f32
        linalg.yield %t : f32
      } -> tensor<32x16xf32>
      %next = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%acc, %sv : tensor<32x16xf32>, tensor<32x16xf32>) outs(%e : tensor<32x16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %t = arith.addf %x, %y : f32
        linalg.yield %t : f32
      } -> tensor<32x16xf32>
      scf.yield %next : tensor<32x16xf32>
    }
    %ks_le = tensor.extract_slice %k[%t0, 0] [32, 16] [1, 1] : tensor<64x16xbf16> to tensor<32x16xbf16>
    %kw_le = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%ks_le : tensor<32x16xbf16>) outs(%e : tensor<32x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<32x16xf32>
    %s_le = linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%qw, %kw_le : tensor<32x16xf32>, tensor<32x16xf32>) outs(%zs : tensor<32x32xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %p = arith.mulf %x, %y : f32
      %t = arith.addf %p, %o : f32
      linalg.yield %t : f32
    } -> tensor<32x32xf32>
    %m_le = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%s_le : tensor<32x32xf32>) outs(%es : tensor<32x32xf32>) {
    ^bb0(%x: f32, %o: f32):
      %i = linalg.index 0 : index
      %j = linalg.index 1 : index
      %query = arith.addi %t0, %i : index
      %key = arith.addi %t0, %j : index
      %see = arith.cmpi ule, %key, %query : index
      %visible = arith.andi %see, %flag : i1
      %t = arith.select %visible, %x, %ninf : f32
      linalg.yield %t : f32
    } -> tensor<32x32xf32>
    %p_le = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%m_le : tensor<32x32xf32>) outs(%es : tensor<32x32xf32>) {
    ^bb0(%x: f32, %o: f32):
      %hidden = arith.cmpf oeq, %x, %ninf : f32
      %ex = math.exp2 %x : f32
      %t = arith.select %hidden, %zero, %ex : f32
      linalg.yield %t : f32
    } -> tensor<32x32xf32>
    %vs_le = tensor.extract_slice %v[%t0, 0] [32, 16] [1, 1] : tensor<64x16xbf16> to tensor<32x16xbf16>
    %vw_le = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%vs_le : tensor<32x16xbf16>) outs(%e : tensor<32x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<32x16xf32>
    %pv_le = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%p_le, %vw_le : tensor<32x32xf32>, tensor<32x16xf32>) outs(%z : tensor<32x16xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %p = arith.mulf %x, %y : f32
      %t = arith.addf %p, %o : f32
      linalg.yield %t : f32
    } -> tensor<32x16xf32>
    %ks_lt = tensor.extract_slice %k[%t0, 0] [32, 16] [1, 1] : tensor<64x16xbf16> to tensor<32x16xbf16>
    %kw_lt = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%ks_lt : tensor<32x16xbf16>) outs(%e : tensor<32x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<32x16xf32>
    %s_lt = linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%qw, %kw_lt : tensor<32x16xf32>, tensor<32x16xf32>) outs(%zs : tensor<32x32xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %p = arith.mulf %x, %y : f32
      %t = arith.addf %p, %o : f32
      linalg.yield %t : f32
    } -> tensor<32x32xf32>
    %m_lt = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%s_lt : tensor<32x32xf32>) outs(%es : tensor<32x32xf32>) {
    ^bb0(%x: f32, %o: f32):
      %i = linalg.index 0 : index
      %j = linalg.index 1 : index
      %query = arith.addi %t0, %i : index
      %key = arith.addi %t0, %j : index
      %see = arith.cmpi ugt, %query, %key : index
      %visible = arith.andi %flag, %see : i1
      %t = arith.select %visible, %x, %ninf : f32
      linalg.yield %t : f32
    } -> tensor<32x32xf32>
    %p_lt = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%m_lt : tensor<32x32xf32>) outs(%es : tensor<32x32xf32>) {
    ^bb0(%x: f32, %o: f32):
      %hidden = arith.cmpf oeq, %x, %ninf : f32
      %ex = math.exp2 %x : f32
      %t = arith.select %hidden, %zero, %ex : f32
      linalg.yield %t : f32
    } -> tensor<32x32xf32>
    %vs_lt = tensor.extract_slice %v[%t0, 0] [32, 16] [1, 1] : tensor<64x16xbf16> to tensor<32x16xbf16>
    %vw_lt = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%vs_lt : tensor<32x16xbf16>) outs(%e : tensor<32x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<32x16xf32>
    %pv_lt = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%p_lt, %vw_lt : tensor<32x32xf32>, tensor<32x16xf32>) outs(%z : tensor<32x16xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %p = arith.mulf %x, %y : f32
      %t = arith.addf %p, %o : f32
      linalg.yield %t : f32
    } -> tensor<32x16xf32>
    %o_le = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%loop, %pv_le : tensor<32x16xf32>, tensor<32x16xf32>) outs(%e : tensor<32x16xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %t = arith.addf %x, %y : f32
      linalg.yield %t : f32
    } -> tensor<32x16xf32>
    %o_lt = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%o_le, %pv_lt : tensor<32x16xf32>, tensor<32x16xf32>) outs(%e : tensor<32x16xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %t = arith.addf %x, %y : f32
      linalg.yield %t : f32
    } -> tensor<32x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %o_lt into %out[%blk, 0, 0] [1, 32, 16] [1, 1, 1] : tensor<32x16xf32> into tensor<2x32x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<2x32x16xf32>
}

// -----

// Masks that hide nothing a warp may skip: a disjunction with the causal
// test, a key offset unlike the query's, a mask that writes its result
// transposed. Every product is computed whole.
// CHECK-LABEL: func.func @own_steps_not_causal
// CHECK:       scf.forall (%{{.+}}) in (2) {
// CHECK-NOT:     scf.if %{{.+}} -> (f32
// CHECK:       } {mapping = [#gpu.warp<linear_dim_0>]}

#id = affine_map<(d0, d1) -> (d0, d1)>
#tr = affine_map<(d0, d1) -> (d1, d0)>
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#bt = affine_map<(d0, d1, d2) -> (d1, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @own_steps_not_causal(%q: tensor<64x16xbf16>, %k: tensor<64x16xbf16>,
    %v: tensor<64x16xbf16>, %n: index, %flag: i1) -> tensor<2x32x16xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %out0 = tensor.empty() : tensor<2x32x16xf32>
  %r = scf.forall (%blk) in (2) shared_outs(%out = %out0) -> (tensor<2x32x16xf32>) {
    %t0 = arith.muli %blk, %c32 : index
    %e = tensor.empty() : tensor<32x16xf32>
    %es = tensor.empty() : tensor<32x32xf32>
    %qs = tensor.extract_slice %q[%t0, 0] [32, 16] [1, 1] : tensor<64x16xbf16> to tensor<32x16xbf16>
    %qw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%qs : tensor<32x16xbf16>) outs(%e : tensor<32x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<32x16xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<32x16xf32>) -> tensor<32x16xf32>
    %zs = linalg.fill ins(%zero : f32) outs(%es : tensor<32x32xf32>) -> tensor<32x32xf32>
    %loop = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %z) -> (tensor<32x16xf32>) {
      %off = arith.muli %i, %c32 : index
      %kt = tensor.extract_slice %k[%off, 0] [32, 16] [1, 1] : tensor<64x16xbf16> to tensor<32x16xbf16>
      %kw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%kt : tensor<32x16xbf16>) outs(%e : tensor<32x16xf32>) {
      ^bb0(%x: bf16, %o: f32):
        %w = arith.extf %x : bf16 to f32
        linalg.yield %w : f32
      } -> tensor<32x16xf32>
      %s = linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%qw, %kw : tensor<32x16xf32>, tensor<32x16xf32>) outs(%zs : tensor<32x32xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %p = arith.mulf %x, %y : f32
        %t = arith.addf %p, %o : f32
        linalg.yield %t : f32
      } -> tensor<32x32xf32>
      %vt = tensor.extract_slice %v[%off, 0] [32, 16] [1, 1] : tensor<64x16xbf16> to tensor<32x16xbf16>
      %vw = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%vt : tensor<32x16xbf16>) outs(%e : tensor<32x16xf32>) {
      ^bb0(%x: bf16, %o: f32):
        %w = arith.extf %x : bf16 to f32
        linalg.yield %w : f32
      } -> tensor<32x16xf32>
      %sv = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
          ins(%s, %vw : tensor<32x32xf32>, tensor<32x16xf32>) outs(%z : tensor<32x16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %p = arith.mulf %x, %y : f32
        %t = arith.addf %p, %o : f32
        linalg.yield %t : f32
      } -> tensor<32x16xf32>
      %next = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
          ins(%acc, %sv : tensor<32x16xf32>, tensor<32x16xf32>) outs(%e : tensor<32x16xf32>) {
      ^bb0(%x: f32, %y: f32, %o: f32):
        %t = arith.addf %x, %y : f32
        linalg.yield %t : f32
      } -> tensor<32x16xf32>
      scf.yield %next : tensor<32x16xf32>
    }
    %ks_or = tensor.extract_slice %k[%t0, 0] [32, 16] [1, 1] : tensor<64x16xbf16> to tensor<32x16xbf16>
    %kw_or = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%ks_or : tensor<32x16xbf16>) outs(%e : tensor<32x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<32x16xf32>
    %s_or = linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%qw, %kw_or : tensor<32x16xf32>, tensor<32x16xf32>) outs(%zs : tensor<32x32xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %p = arith.mulf %x, %y : f32
      %t = arith.addf %p, %o : f32
      linalg.yield %t : f32
    } -> tensor<32x32xf32>
    %m_or = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%s_or : tensor<32x32xf32>) outs(%es : tensor<32x32xf32>) {
    ^bb0(%x: f32, %o: f32):
      %i = linalg.index 0 : index
      %j = linalg.index 1 : index
      %query = arith.addi %t0, %i : index
      %key = arith.addi %t0, %j : index
      %see = arith.cmpi ule, %key, %query : index
      %visible = arith.ori %see, %flag : i1
      %t = arith.select %visible, %x, %ninf : f32
      linalg.yield %t : f32
    } -> tensor<32x32xf32>
    %p_or = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%m_or : tensor<32x32xf32>) outs(%es : tensor<32x32xf32>) {
    ^bb0(%x: f32, %o: f32):
      %hidden = arith.cmpf oeq, %x, %ninf : f32
      %ex = math.exp2 %x : f32
      %t = arith.select %hidden, %zero, %ex : f32
      linalg.yield %t : f32
    } -> tensor<32x32xf32>
    %vs_or = tensor.extract_slice %v[%t0, 0] [32, 16] [1, 1] : tensor<64x16xbf16> to tensor<32x16xbf16>
    %vw_or = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%vs_or : tensor<32x16xbf16>) outs(%e : tensor<32x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<32x16xf32>
    %pv_or = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%p_or, %vw_or : tensor<32x32xf32>, tensor<32x16xf32>) outs(%z : tensor<32x16xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %p = arith.mulf %x, %y : f32
      %t = arith.addf %p, %o : f32
      linalg.yield %t : f32
    } -> tensor<32x16xf32>
    %ks_off = tensor.extract_slice %k[%t0, 0] [32, 16] [1, 1] : tensor<64x16xbf16> to tensor<32x16xbf16>
    %kw_off = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%ks_off : tensor<32x16xbf16>) outs(%e : tensor<32x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<32x16xf32>
    %s_off = linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%qw, %kw_off : tensor<32x16xf32>, tensor<32x16xf32>) outs(%zs : tensor<32x32xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %p = arith.mulf %x, %y : f32
      %t = arith.addf %p, %o : f32
      linalg.yield %t : f32
    } -> tensor<32x32xf32>
    %m_off = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%s_off : tensor<32x32xf32>) outs(%es : tensor<32x32xf32>) {
    ^bb0(%x: f32, %o: f32):
      %i = linalg.index 0 : index
      %j = linalg.index 1 : index
      %query = arith.addi %t0, %i : index
      %key = arith.addi %c16, %j : index
      %visible = arith.cmpi ule, %key, %query : index
      %t = arith.select %visible, %x, %ninf : f32
      linalg.yield %t : f32
    } -> tensor<32x32xf32>
    %p_off = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%m_off : tensor<32x32xf32>) outs(%es : tensor<32x32xf32>) {
    ^bb0(%x: f32, %o: f32):
      %hidden = arith.cmpf oeq, %x, %ninf : f32
      %ex = math.exp2 %x : f32
      %t = arith.select %hidden, %zero, %ex : f32
      linalg.yield %t : f32
    } -> tensor<32x32xf32>
    %vs_off = tensor.extract_slice %v[%t0, 0] [32, 16] [1, 1] : tensor<64x16xbf16> to tensor<32x16xbf16>
    %vw_off = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%vs_off : tensor<32x16xbf16>) outs(%e : tensor<32x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<32x16xf32>
    %pv_off = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%p_off, %vw_off : tensor<32x32xf32>, tensor<32x16xf32>) outs(%z : tensor<32x16xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %p = arith.mulf %x, %y : f32
      %t = arith.addf %p, %o : f32
      linalg.yield %t : f32
    } -> tensor<32x16xf32>
    %ks_tr = tensor.extract_slice %k[%t0, 0] [32, 16] [1, 1] : tensor<64x16xbf16> to tensor<32x16xbf16>
    %kw_tr = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%ks_tr : tensor<32x16xbf16>) outs(%e : tensor<32x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<32x16xf32>
    %s_tr = linalg.generic {indexing_maps = [#a, #bt, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%qw, %kw_tr : tensor<32x16xf32>, tensor<32x16xf32>) outs(%zs : tensor<32x32xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %p = arith.mulf %x, %y : f32
      %t = arith.addf %p, %o : f32
      linalg.yield %t : f32
    } -> tensor<32x32xf32>
    %m_tr = linalg.generic {indexing_maps = [#id, #tr], iterator_types = ["parallel", "parallel"]}
        ins(%s_tr : tensor<32x32xf32>) outs(%es : tensor<32x32xf32>) {
    ^bb0(%x: f32, %o: f32):
      %i = linalg.index 0 : index
      %j = linalg.index 1 : index
      %query = arith.addi %t0, %i : index
      %key = arith.addi %t0, %j : index
      %visible = arith.cmpi ule, %key, %query : index
      %t = arith.select %visible, %x, %ninf : f32
      linalg.yield %t : f32
    } -> tensor<32x32xf32>
    %p_tr = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%m_tr : tensor<32x32xf32>) outs(%es : tensor<32x32xf32>) {
    ^bb0(%x: f32, %o: f32):
      %hidden = arith.cmpf oeq, %x, %ninf : f32
      %ex = math.exp2 %x : f32
      %t = arith.select %hidden, %zero, %ex : f32
      linalg.yield %t : f32
    } -> tensor<32x32xf32>
    %vs_tr = tensor.extract_slice %v[%t0, 0] [32, 16] [1, 1] : tensor<64x16xbf16> to tensor<32x16xbf16>
    %vw_tr = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%vs_tr : tensor<32x16xbf16>) outs(%e : tensor<32x16xf32>) {
    ^bb0(%x: bf16, %o: f32):
      %w = arith.extf %x : bf16 to f32
      linalg.yield %w : f32
    } -> tensor<32x16xf32>
    %pv_tr = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%p_tr, %vw_tr : tensor<32x32xf32>, tensor<32x16xf32>) outs(%z : tensor<32x16xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %p = arith.mulf %x, %y : f32
      %t = arith.addf %p, %o : f32
      linalg.yield %t : f32
    } -> tensor<32x16xf32>
    %o_or = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%loop, %pv_or : tensor<32x16xf32>, tensor<32x16xf32>) outs(%e : tensor<32x16xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %t = arith.addf %x, %y : f32
      linalg.yield %t : f32
    } -> tensor<32x16xf32>
    %o_off = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%o_or, %pv_off : tensor<32x16xf32>, tensor<32x16xf32>) outs(%e : tensor<32x16xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %t = arith.addf %x, %y : f32
      linalg.yield %t : f32
    } -> tensor<32x16xf32>
    %o_tr = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%o_off, %pv_tr : tensor<32x16xf32>, tensor<32x16xf32>) outs(%e : tensor<32x16xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %t = arith.addf %x, %y : f32
      linalg.yield %t : f32
    } -> tensor<32x16xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %o_tr into %out[%blk, 0, 0] [1, 32, 16] [1, 1, 1] : tensor<32x16xf32> into tensor<2x32x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<2x32x16xf32>
}
