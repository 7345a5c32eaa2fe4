// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-map-blocks,canonicalize))' \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s

// Each outermost forall becomes a grid of thread blocks, the last dim
// varying fastest; a forall inside one is left to nats-gpu-distribute. A
// forall of one iteration stays a forall (a kernel of one block): without
// the mapping, canonicalization would fold it into its body.
// CHECK-LABEL: func.func @grids
// CHECK: scf.forall (%{{.+}}, %{{.+}}) in (1, 1)
// CHECK: } {mapping = [#gpu.block<linear_dim_1>, #gpu.block<linear_dim_0>]}
// CHECK: scf.forall (%{{.+}}) in (4)
// CHECK: scf.forall (%{{.+}}) in (8)
// CHECK-NOT: mapping
// CHECK: } {mapping = [#gpu.block<linear_dim_0>]}
func.func @grids(%x: tensor<1x1x8xf32>, %y: tensor<4x8xf32>)
    -> (tensor<1x1x8xf32>, tensor<4x8xf32>) {
  %a = scf.forall (%i, %j) in (1, 1) shared_outs(%o = %x) -> (tensor<1x1x8xf32>) {
    %t = tensor.extract_slice %o[%i, %j, 0] [1, 1, 8] [1, 1, 1]
        : tensor<1x1x8xf32> to tensor<8xf32>
    %n = linalg.negf ins(%t : tensor<8xf32>) outs(%t : tensor<8xf32>) -> tensor<8xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %n into %o[%i, %j, 0] [1, 1, 8] [1, 1, 1]
          : tensor<8xf32> into tensor<1x1x8xf32>
    }
  }
  %b = scf.forall (%i) in (4) shared_outs(%o = %y) -> (tensor<4x8xf32>) {
    %row = tensor.extract_slice %o[%i, 0] [1, 8] [1, 1] : tensor<4x8xf32> to tensor<8xf32>
    %r = scf.forall (%k) in (8) shared_outs(%p = %row) -> (tensor<8xf32>) {
      %e = tensor.extract_slice %p[%k] [1] [1] : tensor<8xf32> to tensor<1xf32>
      %n = linalg.negf ins(%e : tensor<1xf32>) outs(%e : tensor<1xf32>) -> tensor<1xf32>
      scf.forall.in_parallel {
        tensor.parallel_insert_slice %n into %p[%k] [1] [1] : tensor<1xf32> into tensor<8xf32>
      }
    }
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %r into %o[%i, 0] [1, 8] [1, 1]
          : tensor<8xf32> into tensor<4x8xf32>
    }
  }
  return %a, %b : tensor<1x1x8xf32>, tensor<4x8xf32>
}

// -----

// A forall that has a mapping keeps it; one under a loop but no forall is
// outermost too.
// CHECK-LABEL: func.func @mapped_and_nested_in_loop
// CHECK: scf.forall (%{{.+}}) in (4)
// CHECK: } {mapping = [#gpu.thread<x>]}
// CHECK: scf.for
// CHECK: scf.forall (%{{.+}}) in (2)
// CHECK: } {mapping = [#gpu.block<linear_dim_0>]}
func.func @mapped_and_nested_in_loop(%x: tensor<4xf32>, %n: index) -> tensor<4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = scf.forall (%i) in (4) shared_outs(%o = %x) -> (tensor<4xf32>) {
    %e = tensor.extract_slice %o[%i] [1] [1] : tensor<4xf32> to tensor<1xf32>
    %m = linalg.negf ins(%e : tensor<1xf32>) outs(%e : tensor<1xf32>) -> tensor<1xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %m into %o[%i] [1] [1] : tensor<1xf32> into tensor<4xf32>
    }
  } {mapping = [#gpu.thread<x>]}
  %b = scf.for %k = %c0 to %n step %c1 iter_args(%t = %a) -> (tensor<4xf32>) {
    %r = scf.forall (%i) in (2) shared_outs(%o = %t) -> (tensor<4xf32>) {
      %e = tensor.extract_slice %o[%i] [2] [1] : tensor<4xf32> to tensor<2xf32>
      %m = linalg.negf ins(%e : tensor<2xf32>) outs(%e : tensor<2xf32>) -> tensor<2xf32>
      scf.forall.in_parallel {
        tensor.parallel_insert_slice %m into %o[%i] [2] [1] : tensor<2xf32> into tensor<4xf32>
      }
    }
    scf.yield %r : tensor<4xf32>
  }
  return %b : tensor<4xf32>
}

// -----

// Every forall that cannot be a grid is reported, not only the first.
func.func @not_grids(%n: index, %x: tensor<?xf32>) -> (tensor<?xf32>, tensor<?xf32>) {
  // expected-error @below {{needs static bounds to become thread blocks}}
  %r = scf.forall (%i) in (%n) shared_outs(%o = %x) -> (tensor<?xf32>) {
    scf.forall.in_parallel {
    }
  }
  // expected-error @below {{has 11 dims; a grid of thread blocks has at most 10}}
  %s = scf.forall (%i0, %i1, %i2, %i3, %i4, %i5, %i6, %i7, %i8, %i9, %i10)
      in (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2) shared_outs(%o = %x) -> (tensor<?xf32>) {
    scf.forall.in_parallel {
    }
  }
  return %r, %s : tensor<?xf32>, tensor<?xf32>
}
