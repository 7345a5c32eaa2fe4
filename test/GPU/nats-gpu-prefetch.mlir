// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-prefetch{shared-memory-bytes=40000}))' \
// RUN:   --split-input-file | FileCheck %s
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-prefetch{shared-memory-bytes=4000}))' \
// RUN:   --split-input-file | FileCheck %s --check-prefix=SMALL
// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-prefetch{shared-memory-bytes=4800}))' \
// RUN:   --split-input-file | FileCheck %s --check-prefix=MIXED

// A block's loop stages a tile of %src per iteration (8 x 16 f32, 512 B)
// and reads it. The buffer becomes two in workgroup memory: before the
// loop the first tile is copied into one with cp.async, waited for, and
// the block meets at a barrier; each iteration takes the buffer of its
// parity, starts the next iteration's copy into the other (a group of its
// own), and waits for it at its end. The users keep a generic pointer.

// CHECK-LABEL: func.func @staged
// CHECK:       scf.forall
// CHECK:         %[[B0:.+]] = memref.alloc() : memref<8x16xf32, #gpu.address_space<workgroup>>
// CHECK:         %[[B1:.+]] = memref.alloc() : memref<8x16xf32, #gpu.address_space<workgroup>>
// CHECK:         %[[ANY:.+]] = arith.cmpi slt, %c0, %c4
// CHECK:         scf.if %[[ANY]] {
// CHECK:           %[[R0:.+]] = arith.muli %c0, %c8
// CHECK:           %[[T0:.+]] = memref.subview %{{.+}}[%[[R0]], 0] [8, 16] [1, 1]
// CHECK:           scf.forall (%[[I:.+]], %[[J:.+]]) in (8, 16) {
// CHECK:             nvgpu.device_async_copy %[[T0]][%[[I]], %[[J]]], %[[B0]][%[[I]], %[[J]]], 1
// CHECK:           } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// CHECK:         }
// CHECK:         %[[G0:.+]] = nvgpu.device_async_create_group
// CHECK:         nvgpu.device_async_wait %[[G0]] {numGroups = 0 : i32}
// CHECK:         gpu.barrier
// CHECK:         scf.for %[[IV:.+]] = %c0 to %c4 step %c1 {
// CHECK:           %[[EVEN:.+]] = arith.cmpi eq
// CHECK:           %[[CUR:.+]] = arith.select %[[EVEN]], %[[B0]], %[[B1]]
// CHECK:           %[[NEXT:.+]] = arith.select %[[EVEN]], %[[B1]], %[[B0]]
// CHECK:           %[[GENERIC:.+]] = memref.memory_space_cast %[[CUR]] : memref<8x16xf32, #gpu.address_space<workgroup>> to memref<8x16xf32>
// CHECK:           %[[NIV:.+]] = arith.addi %[[IV]], %c1
// CHECK:           %[[MORE:.+]] = arith.cmpi slt, %[[NIV]], %c4
// CHECK:           scf.if %[[MORE]] {
// CHECK:             %[[ROW:.+]] = arith.muli %[[NIV]], %c8
// CHECK:             %[[T:.+]] = memref.subview %{{.+}}[%[[ROW]], 0] [8, 16] [1, 1]
// CHECK:             scf.forall
// CHECK:               nvgpu.device_async_copy %[[T]][{{.+}}], %[[NEXT]][{{.+}}], 1
// CHECK:             } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// CHECK-NEXT:      }
// CHECK-NEXT:      %[[G:.+]] = nvgpu.device_async_create_group
// CHECK-NOT:       linalg.copy
// CHECK:           memref.load %[[GENERIC]]
// CHECK:           nvgpu.device_async_wait %[[G]] {numGroups = 0 : i32}
// CHECK:           gpu.barrier
// CHECK-NEXT:    }

// With 4000 bytes the two buffers do not fit beside the block's other
// buffer (3072 + 2 x 512 B), one does: the copy is staged in place, issued
// at the start of each iteration (its tile computed there again) and
// waited for where it was.
// SMALL-LABEL: func.func @staged
// SMALL:       scf.for %[[IV:.+]] = %c0 to %c4 step %c1 {
// SMALL-NEXT:    %[[ROW:.+]] = arith.muli %[[IV]], %c8
// SMALL-NEXT:    %[[T:.+]] = memref.subview %{{.+}}[%[[ROW]], 0] [8, 16] [1, 1]
// SMALL-NEXT:    %[[B:.+]] = memref.alloc() : memref<8x16xf32, #gpu.address_space<workgroup>>
// SMALL-NEXT:    %[[GENERIC:.+]] = memref.memory_space_cast %[[B]]
// SMALL-NEXT:    scf.forall
// SMALL-NEXT:      nvgpu.device_async_copy %[[T]][{{.+}}], %[[B]][{{.+}}], 1
// SMALL:         %[[G:.+]] = nvgpu.device_async_create_group
// SMALL:         nvgpu.device_async_wait %[[G]] {numGroups = 0 : i32}
// SMALL-NEXT:    gpu.barrier
// SMALL-NOT:     linalg.copy
// SMALL:         memref.load %[[GENERIC]]
func.func @staged(%src: memref<32x16xf32>, %out: memref<2x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.forall (%b) in (2) {
    %other = memref.alloc() : memref<768xf32>
    scf.for %i = %c0 to %c4 step %c1 {
      %row = arith.muli %i, %c8 : index
      %tile = memref.subview %src[%row, 0] [8, 16] [1, 1]
          : memref<32x16xf32> to memref<8x16xf32, strided<[16, 1], offset: ?>>
      %buf = memref.alloc() : memref<8x16xf32>
      scf.forall (%r, %c) in (8, 16) {
        %from = memref.subview %tile[%r, %c] [1, 1] [1, 1]
            : memref<8x16xf32, strided<[16, 1], offset: ?>> to memref<1x1xf32, strided<[16, 1], offset: ?>>
        %to = memref.subview %buf[%r, %c] [1, 1] [1, 1]
            : memref<8x16xf32> to memref<1x1xf32, strided<[16, 1], offset: ?>>
        linalg.copy ins(%from : memref<1x1xf32, strided<[16, 1], offset: ?>>)
                    outs(%to : memref<1x1xf32, strided<[16, 1], offset: ?>>)
      } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
      %v = memref.load %buf[%c0, %c1] : memref<8x16xf32>
      memref.store %v, %other[%c0] : memref<768xf32>
    }
    %x = memref.load %other[%c0] : memref<768xf32>
    memref.store %x, %out[%b, %c0] : memref<2x4xf32>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// A loop stages two tiles: %a's, read first, and %b's, read after the
// iteration has stored something. With 4000 bytes neither fits twice: both
// are staged in place, issued at the start of the iteration in the order
// they are needed, each waited for where its copy was, %a's letting %b's
// run on. With 4800 bytes %a's fits twice and is prefetched, its group
// committed as soon as it is issued; %b's is staged in place, issued first,
// and its wait lets the prefetch run on.

// SMALL-LABEL: func.func @two_tiles
// SMALL:       scf.for %
// SMALL:         nvgpu.device_async_copy %{{.+}}, %[[A:.+]][{{.+}}], 1
// SMALL:         %[[GA:.+]] = nvgpu.device_async_create_group
// SMALL:         nvgpu.device_async_copy %{{.+}}, %[[B:.+]][{{.+}}], 1
// SMALL:         %[[GB:.+]] = nvgpu.device_async_create_group
// SMALL:         nvgpu.device_async_wait %[[GA]] {numGroups = 1 : i32}
// SMALL-NEXT:    gpu.barrier
// SMALL:         memref.store
// SMALL:         nvgpu.device_async_wait %[[GB]] {numGroups = 0 : i32}
// SMALL-NEXT:    gpu.barrier

// MIXED-LABEL: func.func @two_tiles
// MIXED:       memref.alloc() : memref<8x16xf32, #gpu.address_space<workgroup>>
// MIXED:       memref.alloc() : memref<8x16xf32, #gpu.address_space<workgroup>>
// MIXED:       scf.for %
// MIXED:         nvgpu.device_async_copy %{{.+}}, %[[B:.+]][{{.+}}], 1
// MIXED:         %[[GB:.+]] = nvgpu.device_async_create_group
// MIXED:         scf.if
// MIXED:           nvgpu.device_async_copy
// MIXED:           } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// MIXED-NEXT:    }
// MIXED-NEXT:    nvgpu.device_async_create_group
// MIXED:         nvgpu.device_async_wait %[[GB]] {numGroups = 1 : i32}
// MIXED-NEXT:    gpu.barrier
// MIXED-NOT:     linalg.copy
// MIXED:         nvgpu.device_async_wait %{{.+}} {numGroups = 0 : i32}
// MIXED-NEXT:    gpu.barrier
// MIXED-NEXT:  }
func.func @two_tiles(%a: memref<32x16xf32>, %b: memref<32x16xf32>, %out: memref<2x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.forall (%blk) in (2) {
    %other = memref.alloc() : memref<768xf32>
    scf.for %i = %c0 to %c4 step %c1 {
      %row = arith.muli %i, %c8 : index
      %ta = memref.subview %a[%row, 0] [8, 16] [1, 1]
          : memref<32x16xf32> to memref<8x16xf32, strided<[16, 1], offset: ?>>
      %bufa = memref.alloc() : memref<8x16xf32>
      scf.forall (%r, %c) in (8, 16) {
        %from = memref.subview %ta[%r, %c] [1, 1] [1, 1]
            : memref<8x16xf32, strided<[16, 1], offset: ?>> to memref<1x1xf32, strided<[16, 1], offset: ?>>
        %to = memref.subview %bufa[%r, %c] [1, 1] [1, 1]
            : memref<8x16xf32> to memref<1x1xf32, strided<[16, 1], offset: ?>>
        linalg.copy ins(%from : memref<1x1xf32, strided<[16, 1], offset: ?>>)
                    outs(%to : memref<1x1xf32, strided<[16, 1], offset: ?>>)
      } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
      %va = memref.load %bufa[%c0, %c1] : memref<8x16xf32>
      memref.store %va, %other[%c0] : memref<768xf32>
      %tb = memref.subview %b[%row, 0] [8, 16] [1, 1]
          : memref<32x16xf32> to memref<8x16xf32, strided<[16, 1], offset: ?>>
      %bufb = memref.alloc() : memref<8x16xf32>
      scf.forall (%r, %c) in (8, 16) {
        %from = memref.subview %tb[%r, %c] [1, 1] [1, 1]
            : memref<8x16xf32, strided<[16, 1], offset: ?>> to memref<1x1xf32, strided<[16, 1], offset: ?>>
        %to = memref.subview %bufb[%r, %c] [1, 1] [1, 1]
            : memref<8x16xf32> to memref<1x1xf32, strided<[16, 1], offset: ?>>
        linalg.copy ins(%from : memref<1x1xf32, strided<[16, 1], offset: ?>>)
                    outs(%to : memref<1x1xf32, strided<[16, 1], offset: ?>>)
      } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
      %vb = memref.load %bufb[%c0, %c1] : memref<8x16xf32>
      memref.store %vb, %other[%c1] : memref<768xf32>
    }
    %x = memref.load %other[%c0] : memref<768xf32>
    memref.store %x, %out[%blk, %c0] : memref<2x4xf32>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// A tile of memory that the loop writes (%src itself) is not copied ahead:
// the next iteration's tile may not hold its values yet.

// CHECK-LABEL: func.func @source_written
// CHECK-NOT:   nvgpu.device_async_copy
// CHECK:       linalg.copy
func.func @source_written(%src: memref<32x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %f = arith.constant 1.0 : f32
  scf.forall (%b) in (2) {
    scf.for %i = %c0 to %c4 step %c1 {
      %row = arith.muli %i, %c8 : index
      %tile = memref.subview %src[%row, 0] [8, 16] [1, 1]
          : memref<32x16xf32> to memref<8x16xf32, strided<[16, 1], offset: ?>>
      %buf = memref.alloc() : memref<8x16xf32>
      scf.forall (%r, %c) in (8, 16) {
        %from = memref.subview %tile[%r, %c] [1, 1] [1, 1]
            : memref<8x16xf32, strided<[16, 1], offset: ?>> to memref<1x1xf32, strided<[16, 1], offset: ?>>
        %to = memref.subview %buf[%r, %c] [1, 1] [1, 1]
            : memref<8x16xf32> to memref<1x1xf32, strided<[16, 1], offset: ?>>
        linalg.copy ins(%from : memref<1x1xf32, strided<[16, 1], offset: ?>>)
                    outs(%to : memref<1x1xf32, strided<[16, 1], offset: ?>>)
      } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
      memref.store %f, %src[%row, %c0] : memref<32x16xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// A buffer written before its copy in the iteration is not prefetched:
// the early write would land in a buffer whose copy has already arrived.

// CHECK-LABEL: func.func @touched_before
// CHECK-NOT:   nvgpu.device_async_copy
func.func @touched_before(%src: memref<32x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %f = arith.constant 1.0 : f32
  scf.forall (%b) in (2) {
    scf.for %i = %c0 to %c4 step %c1 {
      %row = arith.muli %i, %c8 : index
      %tile = memref.subview %src[%row, 0] [8, 16] [1, 1]
          : memref<32x16xf32> to memref<8x16xf32, strided<[16, 1], offset: ?>>
      %buf = memref.alloc() : memref<8x16xf32>
      memref.store %f, %buf[%c0, %c0] : memref<8x16xf32>
      scf.forall (%r, %c) in (8, 16) {
        %from = memref.subview %tile[%r, %c] [1, 1] [1, 1]
            : memref<8x16xf32, strided<[16, 1], offset: ?>> to memref<1x1xf32, strided<[16, 1], offset: ?>>
        %to = memref.subview %buf[%r, %c] [1, 1] [1, 1]
            : memref<8x16xf32> to memref<1x1xf32, strided<[16, 1], offset: ?>>
        linalg.copy ins(%from : memref<1x1xf32, strided<[16, 1], offset: ?>>)
                    outs(%to : memref<1x1xf32, strided<[16, 1], offset: ?>>)
      } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// A tile whose place the loop carries (%row) is not known for the next
// iteration before this one ends: not copied ahead.

// CHECK-LABEL: func.func @carried_offset
// CHECK-NOT:   nvgpu.device_async_copy
// CHECK:       linalg.copy
func.func @carried_offset(%src: memref<32x16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  scf.forall (%b) in (2) {
    %last = scf.for %i = %c0 to %c4 step %c1 iter_args(%row = %c0) -> (index) {
      %tile = memref.subview %src[%row, 0] [8, 16] [1, 1]
          : memref<32x16xf32> to memref<8x16xf32, strided<[16, 1], offset: ?>>
      %buf = memref.alloc() : memref<8x16xf32>
      scf.forall (%r, %c) in (8, 16) {
        %from = memref.subview %tile[%r, %c] [1, 1] [1, 1]
            : memref<8x16xf32, strided<[16, 1], offset: ?>> to memref<1x1xf32, strided<[16, 1], offset: ?>>
        %to = memref.subview %buf[%r, %c] [1, 1] [1, 1]
            : memref<8x16xf32> to memref<1x1xf32, strided<[16, 1], offset: ?>>
        linalg.copy ins(%from : memref<1x1xf32, strided<[16, 1], offset: ?>>)
                    outs(%to : memref<1x1xf32, strided<[16, 1], offset: ?>>)
      } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
      %next = arith.addi %row, %c8 : index
      scf.yield %next : index
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// The same loop over a tile of an aligned allocation (64-byte aligned, rows
// of 16 f32), at a column offset that is a multiple of four: every row of
// both tiles is 16-byte aligned and divides into fours, so each cp.async
// moves four elements (a forall over 8 x 4 copies at columns 4·j).
// CHECK-LABEL: func.func @staged_vector
// CHECK:         scf.forall (%[[I:.+]], %[[J:.+]]) in (8, 4) {
// CHECK:           %[[COL:.+]] = arith.muli %[[J]], %c4
// CHECK:           nvgpu.device_async_copy %{{.+}}[%[[I]], %[[COL]]], %{{.+}}[%[[I]], %[[COL]]], 4
// CHECK:         scf.for
// CHECK:           scf.forall ({{.+}}) in (8, 4) {
// CHECK:             nvgpu.device_async_copy {{.+}}, 4
func.func @staged_vector(%out: memref<2x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %src = memref.alloc() {alignment = 64 : i64} : memref<32x32xf32>
  scf.forall (%b) in (2) {
    %col = arith.muli %b, %c8 : index
    %other = memref.alloc() : memref<768xf32>
    scf.for %i = %c0 to %c4 step %c1 {
      %row = arith.muli %i, %c8 : index
      %tile = memref.subview %src[%row, %col] [8, 16] [1, 1]
          : memref<32x32xf32> to memref<8x16xf32, strided<[32, 1], offset: ?>>
      %buf = memref.alloc() {alignment = 64 : i64} : memref<8x16xf32>
      scf.forall (%r, %c) in (8, 16) {
        %from = memref.subview %tile[%r, %c] [1, 1] [1, 1]
            : memref<8x16xf32, strided<[32, 1], offset: ?>> to memref<1x1xf32, strided<[32, 1], offset: ?>>
        %to = memref.subview %buf[%r, %c] [1, 1] [1, 1]
            : memref<8x16xf32> to memref<1x1xf32, strided<[16, 1], offset: ?>>
        linalg.copy ins(%from : memref<1x1xf32, strided<[32, 1], offset: ?>>)
                    outs(%to : memref<1x1xf32, strided<[16, 1], offset: ?>>)
      } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
      %v = memref.load %buf[%c0, %c1] : memref<8x16xf32>
      memref.store %v, %other[%c0] : memref<768xf32>
    }
    %x = memref.load %other[%c0] : memref<768xf32>
    memref.store %x, %out[%b, %c0] : memref<2x4xf32>
  } {mapping = [#gpu.block<linear_dim_0>]}
  memref.dealloc %src : memref<32x32xf32>
  return
}

// -----

// A tile of bf16 (the state terms stored in 16 bits): 16 bytes are eight
// elements, so each cp.async moves eight (8 x 2 copies at columns 8·j).
// Where the column offset is a multiple of two only (rows 4-byte aligned),
// two elements a copy (8 x 8); a 16-bit tile is never copied element by
// element (cp.async moves 4 bytes at least).
// CHECK-LABEL: func.func @staged_bf16
// CHECK:         scf.forall (%[[I:.+]], %[[J:.+]]) in (8, 2) {
// CHECK:           %[[COL:.+]] = arith.muli %[[J]], %c8
// CHECK:           nvgpu.device_async_copy %{{.+}}[%[[I]], %[[COL]]], %{{.+}}[%[[I]], %[[COL]]], 8
// CHECK:         scf.for
// CHECK:           scf.forall ({{.+}}) in (8, 2) {
// CHECK:             nvgpu.device_async_copy {{.+}}, 8
// CHECK-LABEL: func.func @staged_bf16_pairs
// CHECK:         scf.forall ({{.+}}) in (8, 8) {
// CHECK:           nvgpu.device_async_copy {{.+}}, 2
func.func @staged_bf16(%out: memref<2x4xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %src = memref.alloc() {alignment = 64 : i64} : memref<32x32xbf16>
  scf.forall (%b) in (2) {
    %col = arith.muli %b, %c8 : index
    %other = memref.alloc() : memref<768xbf16>
    scf.for %i = %c0 to %c4 step %c1 {
      %row = arith.muli %i, %c8 : index
      %tile = memref.subview %src[%row, %col] [8, 16] [1, 1]
          : memref<32x32xbf16> to memref<8x16xbf16, strided<[32, 1], offset: ?>>
      %buf = memref.alloc() {alignment = 64 : i64} : memref<8x16xbf16>
      scf.forall (%r, %c) in (8, 16) {
        %from = memref.subview %tile[%r, %c] [1, 1] [1, 1]
            : memref<8x16xbf16, strided<[32, 1], offset: ?>> to memref<1x1xbf16, strided<[32, 1], offset: ?>>
        %to = memref.subview %buf[%r, %c] [1, 1] [1, 1]
            : memref<8x16xbf16> to memref<1x1xbf16, strided<[16, 1], offset: ?>>
        linalg.copy ins(%from : memref<1x1xbf16, strided<[32, 1], offset: ?>>)
                    outs(%to : memref<1x1xbf16, strided<[16, 1], offset: ?>>)
      } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
      %v = memref.load %buf[%c0, %c1] : memref<8x16xbf16>
      memref.store %v, %other[%c0] : memref<768xbf16>
    }
    %x = memref.load %other[%c0] : memref<768xbf16>
    memref.store %x, %out[%b, %c0] : memref<2x4xbf16>
  } {mapping = [#gpu.block<linear_dim_0>]}
  memref.dealloc %src : memref<32x32xbf16>
  return
}

func.func @staged_bf16_pairs(%out: memref<2x4xbf16>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %src = memref.alloc() {alignment = 64 : i64} : memref<32x32xbf16>
  scf.forall (%b) in (2) {
    %col = arith.muli %b, %c2 : index
    %other = memref.alloc() : memref<768xbf16>
    scf.for %i = %c0 to %c4 step %c1 {
      %row = arith.muli %i, %c8 : index
      %tile = memref.subview %src[%row, %col] [8, 16] [1, 1]
          : memref<32x32xbf16> to memref<8x16xbf16, strided<[32, 1], offset: ?>>
      %buf = memref.alloc() {alignment = 64 : i64} : memref<8x16xbf16>
      scf.forall (%r, %c) in (8, 16) {
        %from = memref.subview %tile[%r, %c] [1, 1] [1, 1]
            : memref<8x16xbf16, strided<[32, 1], offset: ?>> to memref<1x1xbf16, strided<[32, 1], offset: ?>>
        %to = memref.subview %buf[%r, %c] [1, 1] [1, 1]
            : memref<8x16xbf16> to memref<1x1xbf16, strided<[16, 1], offset: ?>>
        linalg.copy ins(%from : memref<1x1xbf16, strided<[32, 1], offset: ?>>)
                    outs(%to : memref<1x1xbf16, strided<[16, 1], offset: ?>>)
      } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
      %v = memref.load %buf[%c0, %c1] : memref<8x16xbf16>
      memref.store %v, %other[%c0] : memref<768xbf16>
    }
    %x = memref.load %other[%c0] : memref<768xbf16>
    memref.store %x, %out[%b, %c0] : memref<2x4xbf16>
  } {mapping = [#gpu.block<linear_dim_0>]}
  memref.dealloc %src : memref<32x32xbf16>
  return
}

// -----

// Copies outside the block's loops (the chunk terms' tiles of q and k):
// from an argument promised 16-byte aligned (as nats-gpu-aligned-arguments
// reads one), rows of 96 · 128 bf16, into a buffer with rows of 136
// (padded): cp.async of 8 elements (16 bytes) a copy into a workgroup
// buffer in place of the old one, issued as soon as its tile is known, as a
// group of its own, and waited for where the copy was; its users read it
// through a generic pointer. The first wait lets the second tile's group
// (issued after it) run on: numGroups = 1. The tile of an argument that
// promises nothing stays a copy an element at a time (a pair of bf16 is not
// known to be 4-byte aligned). With 4000 bytes the workgroup buffers
// (17,408 B each) would not fit: the copies stay as they are
// (nats-gpu-workspace must place workgroup buffers in shared memory).
// CHECK-LABEL: func.func @straight
// CHECK:       scf.forall
// CHECK:         memref.subview %{{.+}}[%{{.+}}, 0, 3, 0]
// CHECK:         %[[S:.+]] = memref.alloc() : memref<64x136xbf16, #gpu.address_space<workgroup>>
// CHECK:         %[[G:.+]] = memref.memory_space_cast %[[S]] : memref<64x136xbf16, #gpu.address_space<workgroup>> to memref<64x136xbf16>
// CHECK:         %[[T:.+]] = memref.subview %[[S]][0, 0] [64, 128] [1, 1]
// CHECK:         scf.forall (%[[I:.+]], %[[J:.+]]) in (64, 16) {
// CHECK:           %[[J8:.+]] = arith.muli %[[J]], %c8
// CHECK:           nvgpu.device_async_copy %{{.+}}[%[[I]], %[[J8]]], %[[T]][%[[I]], %[[J8]]], 8
// CHECK:         } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
// CHECK:         %[[GROUP:.+]] = nvgpu.device_async_create_group
// CHECK:         memref.subview %{{.+}}[%{{.+}}, 0, 5, 0]
// CHECK:         %[[S2:.+]] = memref.alloc() : memref<64x136xbf16, #gpu.address_space<workgroup>>
// CHECK:         nvgpu.device_async_copy
// CHECK:         %[[GROUP2:.+]] = nvgpu.device_async_create_group
// CHECK:         %[[READ:.+]] = memref.subview %[[G]][0, 0] [64, 128] [1, 1]
// CHECK:         nvgpu.device_async_wait %[[GROUP]] {numGroups = 1 : i32}
// CHECK:         gpu.barrier
// CHECK:         memref.load %[[READ]]
// CHECK:         linalg.copy
// CHECK:         nvgpu.device_async_wait %[[GROUP2]] {numGroups = 0 : i32}
// CHECK:         gpu.barrier
// CHECK-NOT:     nvgpu.device_async_copy
// CHECK:       } {mapping = [#gpu.block<linear_dim_0>]}
// SMALL-LABEL: func.func @straight
// SMALL-NOT:   nvgpu.device_async_copy
// SMALL:       linalg.copy
func.func @straight(%q0: memref<2x64x96x128xbf16>,
                    %k: memref<2x64x96x128xbf16>, %out: memref<2x3xbf16>) {
  %q = memref.assume_alignment %q0, 16 : memref<2x64x96x128xbf16>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  scf.forall (%b) in (2) {
    %tile = memref.subview %q[%b, 0, 3, 0] [1, 64, 1, 128] [1, 1, 1, 1]
        : memref<2x64x96x128xbf16> to memref<64x128xbf16, strided<[12288, 1], offset: ?>>
    %tile2 = memref.subview %q[%b, 0, 5, 0] [1, 64, 1, 128] [1, 1, 1, 1]
        : memref<2x64x96x128xbf16> to memref<64x128xbf16, strided<[12288, 1], offset: ?>>
    %padded = memref.alloc() {alignment = 64 : i64} : memref<64x136xbf16>
    %buf = memref.subview %padded[0, 0] [64, 128] [1, 1]
        : memref<64x136xbf16> to memref<64x128xbf16, strided<[136, 1]>>
    scf.forall (%r, %c) in (64, 128) {
      %from = memref.subview %tile[%r, %c] [1, 1] [1, 1]
          : memref<64x128xbf16, strided<[12288, 1], offset: ?>> to memref<1x1xbf16, strided<[12288, 1], offset: ?>>
      %to = memref.subview %buf[%r, %c] [1, 1] [1, 1]
          : memref<64x128xbf16, strided<[136, 1]>> to memref<1x1xbf16, strided<[136, 1], offset: ?>>
      linalg.copy ins(%from : memref<1x1xbf16, strided<[12288, 1], offset: ?>>)
                  outs(%to : memref<1x1xbf16, strided<[136, 1], offset: ?>>)
    } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
    %v = memref.load %buf[%c0, %c1] : memref<64x128xbf16, strided<[136, 1]>>
    %ktile = memref.subview %k[%b, 0, 3, 0] [1, 64, 1, 128] [1, 1, 1, 1]
        : memref<2x64x96x128xbf16> to memref<64x128xbf16, strided<[12288, 1], offset: ?>>
    %kbuf = memref.alloc() {alignment = 64 : i64} : memref<64x128xbf16>
    scf.forall (%r, %c) in (64, 128) {
      %from = memref.subview %ktile[%r, %c] [1, 1] [1, 1]
          : memref<64x128xbf16, strided<[12288, 1], offset: ?>> to memref<1x1xbf16, strided<[12288, 1], offset: ?>>
      %to = memref.subview %kbuf[%r, %c] [1, 1] [1, 1]
          : memref<64x128xbf16> to memref<1x1xbf16, strided<[128, 1], offset: ?>>
      linalg.copy ins(%from : memref<1x1xbf16, strided<[12288, 1], offset: ?>>)
                  outs(%to : memref<1x1xbf16, strided<[128, 1], offset: ?>>)
    } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
    %w = memref.load %kbuf[%c0, %c1] : memref<64x128xbf16>
    %padded2 = memref.alloc() {alignment = 64 : i64} : memref<64x136xbf16>
    %buf2 = memref.subview %padded2[0, 0] [64, 128] [1, 1]
        : memref<64x136xbf16> to memref<64x128xbf16, strided<[136, 1]>>
    scf.forall (%r, %c) in (64, 128) {
      %from = memref.subview %tile2[%r, %c] [1, 1] [1, 1]
          : memref<64x128xbf16, strided<[12288, 1], offset: ?>> to memref<1x1xbf16, strided<[12288, 1], offset: ?>>
      %to = memref.subview %buf2[%r, %c] [1, 1] [1, 1]
          : memref<64x128xbf16, strided<[136, 1]>> to memref<1x1xbf16, strided<[136, 1], offset: ?>>
      linalg.copy ins(%from : memref<1x1xbf16, strided<[12288, 1], offset: ?>>)
                  outs(%to : memref<1x1xbf16, strided<[136, 1], offset: ?>>)
    } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
    %x = memref.load %buf2[%c0, %c1] : memref<64x128xbf16, strided<[136, 1]>>
    memref.store %v, %out[%b, %c0] : memref<2x3xbf16>
    memref.store %w, %out[%b, %c1] : memref<2x3xbf16>
    memref.store %x, %out[%b, %c2] : memref<2x3xbf16>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}

// -----

// A copy's cp.async starts no earlier than a write of the block that may
// touch its tile: here a fill of the argument the tile is read from.
// CHECK-LABEL: func.func @after_write
// CHECK:       scf.forall
// CHECK:         linalg.fill
// CHECK:         memref.alloc() : memref<64x136xbf16, #gpu.address_space<workgroup>>
// CHECK:         nvgpu.device_async_copy
// CHECK:         nvgpu.device_async_create_group
func.func @after_write(%q0: memref<2x64x96x128xbf16>, %out: memref<2xbf16>) {
  %q = memref.assume_alignment %q0, 16 : memref<2x64x96x128xbf16>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : bf16
  scf.forall (%b) in (2) {
    %tile = memref.subview %q[%b, 0, 3, 0] [1, 64, 1, 128] [1, 1, 1, 1]
        : memref<2x64x96x128xbf16> to memref<64x128xbf16, strided<[12288, 1], offset: ?>>
    linalg.fill ins(%zero : bf16) outs(%tile : memref<64x128xbf16, strided<[12288, 1], offset: ?>>)
    %padded = memref.alloc() {alignment = 64 : i64} : memref<64x136xbf16>
    %buf = memref.subview %padded[0, 0] [64, 128] [1, 1]
        : memref<64x136xbf16> to memref<64x128xbf16, strided<[136, 1]>>
    scf.forall (%r, %c) in (64, 128) {
      %from = memref.subview %tile[%r, %c] [1, 1] [1, 1]
          : memref<64x128xbf16, strided<[12288, 1], offset: ?>> to memref<1x1xbf16, strided<[12288, 1], offset: ?>>
      %to = memref.subview %buf[%r, %c] [1, 1] [1, 1]
          : memref<64x128xbf16, strided<[136, 1]>> to memref<1x1xbf16, strided<[136, 1], offset: ?>>
      linalg.copy ins(%from : memref<1x1xbf16, strided<[12288, 1], offset: ?>>)
                  outs(%to : memref<1x1xbf16, strided<[136, 1], offset: ?>>)
    } {mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]}
    %v = memref.load %buf[%c0, %c1] : memref<64x128xbf16, strided<[136, 1]>>
    memref.store %v, %out[%b] : memref<2xbf16>
  } {mapping = [#gpu.block<linear_dim_0>]}
  return
}
