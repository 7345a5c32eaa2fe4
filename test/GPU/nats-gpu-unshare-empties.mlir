// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-unshare-empties))' \
// RUN:   | FileCheck %s

// In a block: one empty that CSE gave to two ops, and one zero fill (spread
// over the threads) that starts an accumulator twice, once inside a loop.
// Each user gets its own empty right before it, and each fill's user a fill
// of its own (so bufferization makes no copies); the tensor outside the
// block stays shared.
// CHECK-LABEL: func.func @unshare
// CHECK:         %[[HOST:.+]] = tensor.empty() : tensor<2x64xf32>
// CHECK:         scf.forall (%{{.+}}) in (2) shared_outs(%{{.+}} = %[[HOST]])
// CHECK:           %[[E1:.+]] = tensor.empty() : tensor<64xf32>
// CHECK:           %[[A:.+]] = scf.forall {{.+}} shared_outs(%{{.+}} = %[[E1]])
// CHECK:           %[[E2:.+]] = tensor.empty() : tensor<64xf32>
// CHECK:           %[[B:.+]] = scf.forall {{.+}} shared_outs(%{{.+}} = %[[E2]])
// CHECK:           %[[F1E:.+]] = tensor.empty() : tensor<64xf32>
// CHECK:           %[[F1:.+]] = scf.forall {{.+}} shared_outs(%{{.+}} = %[[F1E]])
// CHECK:             linalg.fill
// CHECK:           %[[SUM:.+]] = scf.forall {{.+}} shared_outs(%{{.+}} = %[[F1]])
// CHECK:           scf.for {{.+}} iter_args(%{{.+}} = %[[SUM]])
// CHECK:             %[[F2E:.+]] = tensor.empty() : tensor<64xf32>
// CHECK:             %[[F2:.+]] = scf.forall {{.+}} shared_outs(%{{.+}} = %[[F2E]])
// CHECK:               linalg.fill
// CHECK:             scf.forall {{.+}} shared_outs(%{{.+}} = %[[F2]])
// CHECK-NOT:     tensor.empty() : tensor<64xf32>
func.func @unshare(%x: tensor<2x64xf32>, %n: index) -> tensor<2x64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %host = tensor.empty() : tensor<2x64xf32>
  %r = scf.forall (%b) in (2) shared_outs(%o = %host) -> (tensor<2x64xf32>) {
    %e = tensor.empty() : tensor<64xf32>
    %row = tensor.extract_slice %x[%b, 0] [1, 64] [1, 1] : tensor<2x64xf32> to tensor<64xf32>
    %a = scf.forall (%i) in (64) shared_outs(%t = %e) -> (tensor<64xf32>) {
      %v = tensor.extract %row[%i] : tensor<64xf32>
      %s = tensor.from_elements %v : tensor<1xf32>
      scf.forall.in_parallel {
        tensor.parallel_insert_slice %s into %t[%i] [1] [1] : tensor<1xf32> into tensor<64xf32>
      }
    } {mapping = [#gpu.thread<linear_dim_0>]}
    %bb = scf.forall (%i) in (64) shared_outs(%t = %e) -> (tensor<64xf32>) {
      %v = tensor.extract %a[%i] : tensor<64xf32>
      %w = arith.addf %v, %v : f32
      %s = tensor.from_elements %w : tensor<1xf32>
      scf.forall.in_parallel {
        tensor.parallel_insert_slice %s into %t[%i] [1] [1] : tensor<1xf32> into tensor<64xf32>
      }
    } {mapping = [#gpu.thread<linear_dim_0>]}
    %z = scf.forall (%i) in (64) shared_outs(%t = %e) -> (tensor<64xf32>) {
      %slot = tensor.extract_slice %t[%i] [1] [1] : tensor<64xf32> to tensor<1xf32>
      %f = linalg.fill ins(%zero : f32) outs(%slot : tensor<1xf32>) -> tensor<1xf32>
      scf.forall.in_parallel {
        tensor.parallel_insert_slice %f into %t[%i] [1] [1] : tensor<1xf32> into tensor<64xf32>
      }
    } {mapping = [#gpu.thread<linear_dim_0>]}
    %sum = scf.forall (%i) in (64) shared_outs(%t = %z) -> (tensor<64xf32>) {
      %u = tensor.extract %t[%i] : tensor<64xf32>
      %v = tensor.extract %bb[%i] : tensor<64xf32>
      %w = arith.addf %u, %v : f32
      %s = tensor.from_elements %w : tensor<1xf32>
      scf.forall.in_parallel {
        tensor.parallel_insert_slice %s into %t[%i] [1] [1] : tensor<1xf32> into tensor<64xf32>
      }
    } {mapping = [#gpu.thread<linear_dim_0>]}
    %loop = scf.for %k = %c0 to %n step %c1 iter_args(%acc = %sum) -> (tensor<64xf32>) {
      %step = scf.forall (%i) in (64) shared_outs(%t = %z) -> (tensor<64xf32>) {
        %u = tensor.extract %acc[%i] : tensor<64xf32>
        %s = tensor.from_elements %u : tensor<1xf32>
        scf.forall.in_parallel {
          tensor.parallel_insert_slice %s into %t[%i] [1] [1] : tensor<1xf32> into tensor<64xf32>
        }
      } {mapping = [#gpu.thread<linear_dim_0>]}
      scf.yield %step : tensor<64xf32>
    }
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %loop into %o[%b, 0] [1, 64] [1, 1] : tensor<64xf32> into tensor<2x64xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<2x64xf32>
}

// A fill that is also the block's result (a parallel insert): nothing can
// go before the insert, so that use keeps the fill, which moves to the end
// of the block (its buffer is live from there on only); the other user
// gets its own.
// CHECK-LABEL: func.func @into_result
// CHECK:         scf.forall (%{{.+}}) in (2)
// CHECK:           %[[OWN:.+]] = scf.forall
// CHECK:             linalg.fill
// CHECK:           scf.forall {{.+}} shared_outs(%{{.+}} = %[[OWN]])
// CHECK:           %[[Z:.+]] = scf.forall
// CHECK:             linalg.fill
// CHECK:           } {mapping = [#gpu.thread<linear_dim_0>]}
// CHECK-NEXT:      scf.forall.in_parallel
// CHECK-NEXT:        tensor.parallel_insert_slice %[[Z]]
func.func @into_result(%n: index) -> tensor<2x64xf32> {
  %zero = arith.constant 0.0 : f32
  %host = tensor.empty() : tensor<2x64xf32>
  %r = scf.forall (%b) in (2) shared_outs(%o = %host) -> (tensor<2x64xf32>) {
    %e = tensor.empty() : tensor<64xf32>
    %z = scf.forall (%i) in (64) shared_outs(%t = %e) -> (tensor<64xf32>) {
      %slot = tensor.extract_slice %t[%i] [1] [1] : tensor<64xf32> to tensor<1xf32>
      %f = linalg.fill ins(%zero : f32) outs(%slot : tensor<1xf32>) -> tensor<1xf32>
      scf.forall.in_parallel {
        tensor.parallel_insert_slice %f into %t[%i] [1] [1] : tensor<1xf32> into tensor<64xf32>
      }
    } {mapping = [#gpu.thread<linear_dim_0>]}
    %w = scf.forall (%i) in (64) shared_outs(%t = %z) -> (tensor<64xf32>) {
      %s = tensor.from_elements %zero : tensor<1xf32>
      scf.forall.in_parallel {
        tensor.parallel_insert_slice %s into %t[%i] [1] [1] : tensor<1xf32> into tensor<64xf32>
      }
    } {mapping = [#gpu.thread<linear_dim_0>]}
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %z into %o[%b, 0] [1, 64] [1, 1] : tensor<64xf32> into tensor<2x64xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<2x64xf32>
}

// A fill that later ops only read: reads share a value without copies, so
// the one fill stays, moved right before the first of them.
// CHECK-LABEL: func.func @read_only
// CHECK:         tensor.extract_slice %{{.+}}[%{{.+}}, 0] [1, 64]
// CHECK:         %[[Z:.+]] = scf.forall
// CHECK-COUNT-1:   linalg.fill
// CHECK:         linalg.add ins(%[[Z]],
// CHECK-NOT:     linalg.fill
func.func @read_only(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  %zero = arith.constant 0.0 : f32
  %host = tensor.empty() : tensor<2x64xf32>
  %r = scf.forall (%b) in (2) shared_outs(%o = %host) -> (tensor<2x64xf32>) {
    %e = tensor.empty() : tensor<64xf32>
    %z = scf.forall (%i) in (64) shared_outs(%t = %e) -> (tensor<64xf32>) {
      %slot = tensor.extract_slice %t[%i] [1] [1] : tensor<64xf32> to tensor<1xf32>
      %f = linalg.fill ins(%zero : f32) outs(%slot : tensor<1xf32>) -> tensor<1xf32>
      scf.forall.in_parallel {
        tensor.parallel_insert_slice %f into %t[%i] [1] [1] : tensor<1xf32> into tensor<64xf32>
      }
    } {mapping = [#gpu.thread<linear_dim_0>]}
    %row = tensor.extract_slice %x[%b, 0] [1, 64] [1, 1] : tensor<2x64xf32> to tensor<64xf32>
    %e2 = tensor.empty() : tensor<64xf32>
    %sum = linalg.add ins(%z, %row : tensor<64xf32>, tensor<64xf32>) outs(%e2 : tensor<64xf32>) -> tensor<64xf32>
    %e3 = tensor.empty() : tensor<64xf32>
    %twice = linalg.add ins(%z, %sum : tensor<64xf32>, tensor<64xf32>) outs(%e3 : tensor<64xf32>) -> tensor<64xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %twice into %o[%b, 0] [1, 64] [1, 1] : tensor<64xf32> into tensor<2x64xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r : tensor<2x64xf32>
}

// A part of an empty updated in place (a slice written by a forall, then
// inserted back, as the blocked solve does) keeps one empty for the slice
// and the insert, so bufferization writes the part where it lies; the
// other user of the CSE-merged empty gets its own.
// CHECK-LABEL: func.func @slice_written_back
// CHECK:         scf.forall (%{{.+}}) in (2)
// CHECK:           %[[OTHER:.+]] = tensor.empty() : tensor<64xf32>
// CHECK:           scf.forall {{.+}} shared_outs(%{{.+}} = %[[OTHER]])
// CHECK:           %[[E:.+]] = tensor.empty() : tensor<64xf32>
// CHECK:           %[[PART:.+]] = tensor.extract_slice %[[E]][0] [16] [1]
// CHECK:           %[[DONE:.+]] = scf.forall {{.+}} shared_outs(%{{.+}} = %[[PART]])
// CHECK:           tensor.insert_slice %[[DONE]] into %[[E]][0] [16] [1]
func.func @slice_written_back(%x: tensor<2x64xf32>) -> (tensor<2x64xf32>, tensor<2x64xf32>) {
  %host = tensor.empty() : tensor<2x64xf32>
  %r:2 = scf.forall (%b) in (2) shared_outs(%o = %host, %p = %host) -> (tensor<2x64xf32>, tensor<2x64xf32>) {
    %e = tensor.empty() : tensor<64xf32>
    %row = tensor.extract_slice %x[%b, 0] [1, 64] [1, 1] : tensor<2x64xf32> to tensor<64xf32>
    %copy = scf.forall (%i) in (64) shared_outs(%t = %e) -> (tensor<64xf32>) {
      %v = tensor.extract %row[%i] : tensor<64xf32>
      %s = tensor.from_elements %v : tensor<1xf32>
      scf.forall.in_parallel {
        tensor.parallel_insert_slice %s into %t[%i] [1] [1] : tensor<1xf32> into tensor<64xf32>
      }
    } {mapping = [#gpu.thread<linear_dim_0>]}
    %part = tensor.extract_slice %e[0] [16] [1] : tensor<64xf32> to tensor<16xf32>
    %done = scf.forall (%i) in (16) shared_outs(%t = %part) -> (tensor<16xf32>) {
      %v = tensor.extract %row[%i] : tensor<64xf32>
      %s = tensor.from_elements %v : tensor<1xf32>
      scf.forall.in_parallel {
        tensor.parallel_insert_slice %s into %t[%i] [1] [1] : tensor<1xf32> into tensor<16xf32>
      }
    } {mapping = [#gpu.thread<linear_dim_0>]}
    %whole = tensor.insert_slice %done into %e[0] [16] [1] : tensor<16xf32> into tensor<64xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %copy into %o[%b, 0] [1, 64] [1, 1] : tensor<64xf32> into tensor<2x64xf32>
      tensor.parallel_insert_slice %whole into %p[%b, 0] [1, 64] [1, 1] : tensor<64xf32> into tensor<2x64xf32>
    }
  } {mapping = [#gpu.block<linear_dim_0>]}
  return %r#0, %r#1 : tensor<2x64xf32>, tensor<2x64xf32>
}
