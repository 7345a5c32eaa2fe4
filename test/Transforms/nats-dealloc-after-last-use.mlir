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

// A buffer allocated in a loop's body is freed after its last use there; a
// buffer never used right after its allocation; a dealloc of an argument
// stays.
// CHECK-LABEL: func.func @loop_body_and_unused
// CHECK:         scf.for
// CHECK:           %[[T:.+]] = memref.alloc() : memref<4xf32>
// CHECK-NEXT:      memref.store %{{.+}}, %[[T]]
// CHECK-NEXT:      memref.dealloc %[[T]]
// CHECK-NEXT:      arith.addf
// CHECK:         %[[U:.+]] = memref.alloc() : memref<4xf32>
// CHECK-NEXT:    memref.dealloc %[[U]]
// CHECK:         memref.dealloc %arg0
// CHECK-NEXT:    return
func.func @loop_body_and_unused(%arg0: memref<4xf32>, %n: index) {
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
  %u = memref.alloc() : memref<4xf32>
  memref.store %one, %arg0[%c0] : memref<4xf32>
  memref.dealloc %u : memref<4xf32>
  memref.dealloc %arg0 : memref<4xf32>
  return
}

// -----

// What a buffer reaches through a loop's iteration arguments, a pointer
// taken as an index (and what is computed from it) or a tensor keeps it
// alive until its last use; the frees moved behind one op keep their
// order.
// CHECK-LABEL: func.func @derived
// CHECK:         %[[A:.+]] = memref.alloc() : memref<4xf32>
// CHECK:         %[[B:.+]] = memref.alloc() : memref<4xf32>
// CHECK:         %[[R:.+]]:2 = scf.for
// CHECK:         memref.store %{{.+}}, %[[R]]#0
// CHECK-NEXT:    memref.dealloc %[[A]]
// CHECK-NEXT:    memref.dealloc %[[B]]
// CHECK:         %[[P:.+]] = memref.alloc() : memref<4xf32>
// CHECK:         memref.extract_aligned_pointer_as_index %[[P]]
// CHECK:         scf.if
// CHECK:         }
// CHECK-NEXT:    memref.dealloc %[[P]]
// CHECK:         %[[Q:.+]] = memref.alloc() : memref<4xf32>
// CHECK:         bufferization.to_tensor %[[Q]]
// CHECK:         tensor.extract
// CHECK-NEXT:    memref.dealloc %[[Q]]
// CHECK-NEXT:    arith.addf
func.func @derived(%n: index, %out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  %a = memref.alloc() : memref<4xf32>
  %b = memref.alloc() : memref<4xf32>
  %r:2 = scf.for %i = %c0 to %n step %c1 iter_args(%x = %a, %y = %b)
      -> (memref<4xf32>, memref<4xf32>) {
    scf.yield %y, %x : memref<4xf32>, memref<4xf32>
  }
  memref.store %one, %r#0[%c0] : memref<4xf32>
  %p = memref.alloc() : memref<4xf32>
  %ptr = memref.extract_aligned_pointer_as_index %p : memref<4xf32> -> index
  %k = arith.constant 7 : i64
  %int = arith.index_cast %ptr : index to i64
  %odd = arith.cmpi eq, %int, %k : i64
  scf.if %odd {
    memref.store %one, %out[%c0] : memref<4xf32>
  }
  %q = memref.alloc() : memref<4xf32>
  memref.store %one, %q[%c0] : memref<4xf32>
  %t = bufferization.to_tensor %q : memref<4xf32> to tensor<4xf32>
  %e = tensor.extract %t[%c0] : tensor<4xf32>
  %two = arith.addf %one, %one : f32
  memref.store %two, %out[%c0] : memref<4xf32>
  memref.dealloc %a : memref<4xf32>
  memref.dealloc %b : memref<4xf32>
  memref.dealloc %p : memref<4xf32>
  memref.dealloc %q : memref<4xf32>
  return
}

// -----

// Left where they are: a buffer stored into memory (it may be loaded back
// anywhere), a buffer freed only on one path (inside an scf.if).
// CHECK-LABEL: func.func @not_bounded
// CHECK:         memref.store %[[S:.+]], %{{.+}}[] : memref<memref<4xf32>>
// CHECK:         scf.if
// CHECK-NEXT:      memref.dealloc %[[C:.+]] : memref<4xf32>
// CHECK-NEXT:    }
// CHECK-NEXT:    arith.addf
// CHECK-NEXT:    memref.dealloc %[[S]]
// CHECK-NEXT:    return
func.func @not_bounded(%box: memref<memref<4xf32>>, %cond: i1) -> f32 {
  %c0 = arith.constant 0 : index
  %one = arith.constant 1.0 : f32
  %s = memref.alloc() : memref<4xf32>
  memref.store %s, %box[] : memref<memref<4xf32>>
  %c = memref.alloc() : memref<4xf32>
  memref.store %one, %c[%c0] : memref<4xf32>
  scf.if %cond {
    memref.dealloc %c : memref<4xf32>
  }
  %two = arith.addf %one, %one : f32
  memref.dealloc %s : memref<4xf32>
  return %two : f32
}
