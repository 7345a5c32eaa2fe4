// RUN: nats-opt %s --split-input-file \
// RUN:   --pass-pipeline='builtin.module(func.func(nats-dealloc-after-last-use))' \
// RUN:   | FileCheck %s

// Three steps, each reading the buffer the one before wrote: each buffer is
// freed after the last step that reads it (through a view for %b), not at
// the end of the function.
// CHECK-LABEL: func.func @steps
// CHECK:         %[[A:.+]] = memref.alloc() : memref<16xf32>
// CHECK:         linalg.fill {{.*}} outs(%[[A]] : memref<16xf32>)
// CHECK:         %[[B:.+]] = memref.alloc() : memref<16xf32>
// CHECK:         linalg.copy ins(%[[A]] : memref<16xf32>) outs(%[[B]] : memref<16xf32>)
// CHECK-NEXT:    memref.dealloc %[[A]]
// CHECK:         %[[V:.+]] = memref.expand_shape %[[B]]
// CHECK:         scf.forall
// CHECK:           memref.load %[[V]]
// CHECK:         }
// CHECK-NEXT:    memref.dealloc %[[B]]
// CHECK:         linalg.copy ins(%[[C:[a-z0-9_]+]] : memref<2x8xf32>)
// CHECK-NEXT:    memref.dealloc %[[C]]
// CHECK-NEXT:    return
func.func @steps(%out: memref<2x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %a = memref.alloc() : memref<16xf32>
  linalg.fill ins(%zero : f32) outs(%a : memref<16xf32>)
  %b = memref.alloc() : memref<16xf32>
  linalg.copy ins(%a : memref<16xf32>) outs(%b : memref<16xf32>)
  %v = memref.expand_shape %b [[0, 1]] output_shape [2, 8]
      : memref<16xf32> into memref<2x8xf32>
  %c = memref.alloc() : memref<2x8xf32>
  scf.forall (%i, %j) in (2, 8) {
    %x = memref.load %v[%i, %j] : memref<2x8xf32>
    memref.store %x, %c[%i, %j] : memref<2x8xf32>
  }
  linalg.copy ins(%c : memref<2x8xf32>) outs(%out : memref<2x8xf32>)
  memref.dealloc %a : memref<16xf32>
  memref.dealloc %b : memref<16xf32>
  memref.dealloc %c : memref<2x8xf32>
  return
}

// -----

// A buffer allocated in a loop's body is freed after its last use there;
// one whose pointer is taken as an index is kept until the last use of
// what is computed from it; a dealloc of a function argument is left where
// it is.
// CHECK-LABEL: func.func @in_loop
// CHECK:         scf.for
// CHECK:           %[[T:.+]] = memref.alloc() : memref<4xf32>
// CHECK:           memref.store %{{.+}}, %[[T]]
// CHECK-NEXT:      memref.dealloc %[[T]]
// CHECK-NEXT:      arith.addf
// CHECK:         %[[P:.+]] = memref.alloc() : memref<4xf32>
// CHECK:         %[[I:.+]] = memref.extract_aligned_pointer_as_index %[[P]]
// CHECK:         arith.index_cast %[[I]]
// CHECK-NEXT:    arith.addi
// CHECK-NEXT:    memref.dealloc %[[P]]
// CHECK:         memref.dealloc %arg0
// CHECK-NEXT:    return
func.func @in_loop(%arg0: memref<4xf32>, %n: index) -> i64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  scf.for %i = %c0 to %n step %c1 {
    %t = memref.alloc() : memref<4xf32>
    memref.store %one, %t[%c0] : memref<4xf32>
    %s = arith.addf %one, %one : f32
    memref.store %s, %arg0[%c0] : memref<4xf32>
    memref.dealloc %t : memref<4xf32>
  }
  %p = memref.alloc() : memref<4xf32>
  %ptr = memref.extract_aligned_pointer_as_index %p : memref<4xf32> -> index
  %k = arith.constant 7 : i64
  %int = arith.index_cast %ptr : index to i64
  %sum = arith.addi %int, %k : i64
  memref.dealloc %p : memref<4xf32>
  memref.dealloc %arg0 : memref<4xf32>
  return %sum : i64
}
