// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-align-vector-accesses))' \
// RUN:   --split-input-file | FileCheck %s

// A lane's pair of bf16 (column 2t of a row) in a 64-byte aligned
// allocation with even strides, through a tile's subview: 4-byte aligned.
// The next column (2t + 1) is not provably so, nor is anything in a
// function argument (the caller's address); an alignment already given
// stays.
// CHECK-LABEL: func.func @pairs
// CHECK:         vector.load %[[S:.+]][%{{.+}}, %[[T2:.+]]] {alignment = 4 : i64} : memref<16x32xbf16, strided<[128, 1], offset: ?>>, vector<2xbf16>
// CHECK:         vector.load %[[S]][%{{.+}}, %{{.+}}] : memref<16x32xbf16, strided<[128, 1], offset: ?>>, vector<2xbf16>
// CHECK:         vector.load %{{.+}}[%{{.+}}, %[[T2]]] : memref<64x128xbf16>, vector<2xbf16>
// CHECK:         vector.load %[[S]][%{{.+}}, %[[T2]]] {alignment = 2 : i64}
// CHECK-COUNT-4: vector.store %{{.+}}, %{{.+}}[%{{.+}}, %[[T2]]] {alignment = 4 : i64} : memref<64x128xbf16>, vector<2xbf16>
func.func @pairs(%arg: memref<64x128xbf16>, %i: index, %t: index, %r: index) -> memref<64x128xbf16> {
  %buffer = memref.alloc() {alignment = 64 : i64} : memref<64x128xbf16>
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %row = arith.muli %i, %c16 : index
  %col = arith.muli %i, %c32 : index
  %tile = memref.subview %buffer[%row, %col] [16, 32] [1, 1] : memref<64x128xbf16> to memref<16x32xbf16, strided<[128, 1], offset: ?>>
  %t2 = arith.muli %t, %c2 : index
  %t21 = arith.addi %t2, %c1 : index
  %a = vector.load %tile[%r, %t2] : memref<16x32xbf16, strided<[128, 1], offset: ?>>, vector<2xbf16>
  %b = vector.load %tile[%r, %t21] : memref<16x32xbf16, strided<[128, 1], offset: ?>>, vector<2xbf16>
  %c = vector.load %arg[%r, %t2] : memref<64x128xbf16>, vector<2xbf16>
  %d = vector.load %tile[%r, %t2] {alignment = 2 : i64} : memref<16x32xbf16, strided<[128, 1], offset: ?>>, vector<2xbf16>
  vector.store %a, %buffer[%r, %t2] : memref<64x128xbf16>, vector<2xbf16>
  vector.store %b, %buffer[%r, %t2] : memref<64x128xbf16>, vector<2xbf16>
  vector.store %c, %buffer[%r, %t2] : memref<64x128xbf16>, vector<2xbf16>
  vector.store %d, %buffer[%r, %t2] : memref<64x128xbf16>, vector<2xbf16>
  return %buffer : memref<64x128xbf16>
}

// -----

// Four f32 at a multiple of 4 in the block's shared-memory pool (16-byte
// aligned) at a byte shift that is a multiple of 16, rows of 20: one
// 16-byte store. Eight f32 (32 bytes) are wider than one access.
// CHECK-LABEL: func.func @pool
// CHECK:         vector.store %{{.+}}, %{{.+}}[%{{.+}}, %{{.+}}] {alignment = 16 : i64} : memref<8x20xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK:         vector.store %{{.+}}, %{{.+}}[%{{.+}}, %{{.+}}] : memref<8x20xf32, #gpu.address_space<workgroup>>, vector<8xf32>
func.func @pool(%v: vector<4xf32>, %w: vector<8xf32>, %r: index, %j: index) {
  %c64 = arith.constant 64 : index
  %c4 = arith.constant 4 : index
  %pool = memref.alloca() : memref<1024xi8, #gpu.address_space<workgroup>>
  %view = memref.view %pool[%c64][] : memref<1024xi8, #gpu.address_space<workgroup>> to memref<8x20xf32, #gpu.address_space<workgroup>>
  %col = arith.muli %j, %c4 : index
  vector.store %v, %view[%r, %col] : memref<8x20xf32, #gpu.address_space<workgroup>>, vector<4xf32>
  vector.store %w, %view[%r, %col] : memref<8x20xf32, #gpu.address_space<workgroup>>, vector<8xf32>
  return
}

// -----

// Memory promised aligned (memref.assume_alignment, as
// nats-gpu-aligned-arguments reads a function's arguments): a pair of bf16
// at an even column of a row of 96 · 128 elements promised 16-byte aligned
// is 4-byte aligned, 4 f32 at a multiple of 4 16-byte aligned; a promise of
// 2 bytes, and a memref at a dynamic offset, leave theirs as they are.
// CHECK-LABEL: func.func @assumed
// CHECK:         vector.load %{{.+}}[%{{.+}}, %{{.+}}, %[[T2:.+]]] {alignment = 4 : i64} : memref<64x96x128xbf16>, vector<2xbf16>
// CHECK:         vector.load %{{.+}}[%{{.+}}, %{{.+}}] {alignment = 16 : i64} : memref<8x64xf32>, vector<4xf32>
// CHECK:         vector.load %{{.+}}[%{{.+}}, %[[T2]]] : memref<64x128xbf16>, vector<2xbf16>
// CHECK:         vector.load %{{.+}}[%{{.+}}, %[[T2]]] : memref<64x128xbf16, strided<[128, 1], offset: ?>>, vector<2xbf16>
func.func @assumed(%q0: memref<64x96x128xbf16>, %x0: memref<8x64xf32>,
                   %y0: memref<64x128xbf16>,
                   %z0: memref<64x128xbf16, strided<[128, 1], offset: ?>>,
                   %r: index, %t: index) -> (vector<2xbf16>, vector<4xf32>, vector<2xbf16>, vector<2xbf16>) {
  %q = memref.assume_alignment %q0, 16 : memref<64x96x128xbf16>
  %x = memref.assume_alignment %x0, 16 : memref<8x64xf32>
  %y = memref.assume_alignment %y0, 2 : memref<64x128xbf16>
  %z = memref.assume_alignment %z0, 16 : memref<64x128xbf16, strided<[128, 1], offset: ?>>
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %t2 = arith.muli %t, %c2 : index
  %t4 = arith.muli %t, %c4 : index
  %a = vector.load %q[%r, %c1, %t2] : memref<64x96x128xbf16>, vector<2xbf16>
  %b = vector.load %x[%r, %t4] : memref<8x64xf32>, vector<4xf32>
  %c = vector.load %y[%r, %t2] : memref<64x128xbf16>, vector<2xbf16>
  %d = vector.load %z[%r, %t2] : memref<64x128xbf16, strided<[128, 1], offset: ?>>, vector<2xbf16>
  return %a, %b, %c, %d : vector<2xbf16>, vector<4xf32>, vector<2xbf16>, vector<2xbf16>
}
