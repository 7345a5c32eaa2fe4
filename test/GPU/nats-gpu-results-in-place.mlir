// RUN: nats-opt %s --pass-pipeline='builtin.module(func.func(nats-gpu-results-in-place))' \
// RUN:   | FileCheck %s

// A block's result inserted into the kernel output: the empty it is
// computed into becomes that output's slice (no scratch tensor, no copy at
// the block's end).
// CHECK-LABEL: func.func @in_place
// CHECK:         scf.forall (%[[B:.+]]) in (2) shared_outs(%[[OUT:.+]] = %{{.+}})
// CHECK:           %[[DEST:.+]] = tensor.extract_slice %[[OUT]][%[[B]], 0] [1, 64] [1, 1] : tensor<2x64xf32> to tensor<64xf32>
// CHECK:           %[[R:.+]] = linalg.generic {{.+}} outs(%[[DEST]] : tensor<64xf32>)
// CHECK:           tensor.parallel_insert_slice %[[R]] into %[[OUT]][%[[B]], 0] [1, 64] [1, 1]
func.func @in_place(%x: tensor<2x64xf32>) -> tensor<2x64xf32> {
  %out = tensor.empty() : tensor<2x64xf32>
  %r = scf.forall (%b) in (2) shared_outs(%o = %out) -> (tensor<2x64xf32>) {
    %row = tensor.extract_slice %x[%b, 0] [1, 64] [1, 1] : tensor<2x64xf32> to tensor<64xf32>
    %e = tensor.empty() : tensor<64xf32>
    %y = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                         iterator_types = ["parallel"]}
        ins(%row : tensor<64xf32>) outs(%e : tensor<64xf32>) {
    ^bb0(%a: f32, %unused: f32):
      %s = arith.mulf %a, %a : f32
      linalg.yield %s : f32
    } -> tensor<64xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %y into %o[%b, 0] [1, 64] [1, 1] : tensor<64xf32> into tensor<2x64xf32>
    }
  } {mapping = [#gpu.block<x>]}
  return %r : tensor<2x64xf32>
}

// A value that a loop carries (a state updated every iteration) keeps its
// scratch tensor, which the loop reads back each time, and is copied out
// once; what the loop records in an output each iteration is computed there.
// CHECK-LABEL: func.func @loop_carried
// CHECK:         scf.forall (%[[B:.+]]) in (2) shared_outs(%[[OUT:.+]] = %{{.+}}, %[[RECS:.+]] = %{{.+}})
// CHECK:           %[[E:.+]] = tensor.empty() : tensor<64xf32>
// CHECK:           %[[INIT:.+]] = linalg.fill {{.+}} outs(%[[E]] : tensor<64xf32>)
// CHECK:           %[[ROWS:.+]] = tensor.extract_slice %[[RECS]][%[[B]], 0, 0]
// CHECK:           scf.for %[[I:.+]] = {{.+}} iter_args(%[[S:.+]] = %[[INIT]], %[[R:.+]] = %[[ROWS]])
// CHECK:             %[[NEXT:.+]] = linalg.generic {{.+}} outs(%[[S]] : tensor<64xf32>)
// CHECK:             %[[ROW:.+]] = tensor.extract_slice %[[R]][%[[I]], 0] [1, 64] [1, 1]
// CHECK:             %[[REC:.+]] = linalg.copy ins(%[[NEXT]] : tensor<64xf32>) outs(%[[ROW]] : tensor<64xf32>)
// CHECK:             tensor.insert_slice %[[REC]] into %[[R]][%[[I]], 0] [1, 64] [1, 1]
func.func @loop_carried(%x: tensor<2x64xf32>) -> (tensor<2x64xf32>, tensor<2x4x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %out = tensor.empty() : tensor<2x64xf32>
  %rec = tensor.empty() : tensor<2x4x64xf32>
  %r:2 = scf.forall (%b) in (2) shared_outs(%o = %out, %w = %rec) -> (tensor<2x64xf32>, tensor<2x4x64xf32>) {
    %row = tensor.extract_slice %x[%b, 0] [1, 64] [1, 1] : tensor<2x64xf32> to tensor<64xf32>
    %e = tensor.empty() : tensor<64xf32>
    %init = linalg.fill ins(%zero : f32) outs(%e : tensor<64xf32>) -> tensor<64xf32>
    %rows = tensor.extract_slice %w[%b, 0, 0] [1, 4, 64] [1, 1, 1] : tensor<2x4x64xf32> to tensor<4x64xf32>
    %s:2 = scf.for %i = %c0 to %c4 step %c1 iter_args(%state = %init, %recorded = %rows) -> (tensor<64xf32>, tensor<4x64xf32>) {
      %next = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                              iterator_types = ["parallel"]}
          ins(%row : tensor<64xf32>) outs(%state : tensor<64xf32>) {
      ^bb0(%a: f32, %acc: f32):
        %sum = arith.addf %a, %acc : f32
        linalg.yield %sum : f32
      } -> tensor<64xf32>
      %er = tensor.empty() : tensor<64xf32>
      %copy = linalg.copy ins(%next : tensor<64xf32>) outs(%er : tensor<64xf32>) -> tensor<64xf32>
      %rec2 = tensor.insert_slice %copy into %recorded[%i, 0] [1, 64] [1, 1] : tensor<64xf32> into tensor<4x64xf32>
      scf.yield %next, %rec2 : tensor<64xf32>, tensor<4x64xf32>
    }
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %s#0 into %o[%b, 0] [1, 64] [1, 1] : tensor<64xf32> into tensor<2x64xf32>
      tensor.parallel_insert_slice %s#1 into %w[%b, 0, 0] [1, 4, 64] [1, 1, 1] : tensor<4x64xf32> into tensor<2x4x64xf32>
    }
  } {mapping = [#gpu.block<x>]}
  return %r#0, %r#1 : tensor<2x64xf32>, tensor<2x4x64xf32>
}

// Also where the loop's value reaches the insert through one branch of an
// scf.if: the loop's start stays an empty of its own.
// CHECK-LABEL: func.func @loop_carried_if
// CHECK:         %[[E:.+]] = tensor.empty() : tensor<64xf32>
// CHECK:         %[[INIT:.+]] = linalg.fill {{.+}} outs(%[[E]] : tensor<64xf32>)
// CHECK:         scf.for {{.+}} iter_args(%{{.+}} = %[[INIT]])
func.func @loop_carried_if(%x: tensor<2x64xf32>, %c: i1) -> tensor<2x64xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %out = tensor.empty() : tensor<2x64xf32>
  %r = scf.forall (%b) in (2) shared_outs(%o = %out) -> (tensor<2x64xf32>) {
    %row = tensor.extract_slice %x[%b, 0] [1, 64] [1, 1] : tensor<2x64xf32> to tensor<64xf32>
    %e = tensor.empty() : tensor<64xf32>
    %init = linalg.fill ins(%zero : f32) outs(%e : tensor<64xf32>) -> tensor<64xf32>
    %s = scf.for %i = %c0 to %c4 step %c1 iter_args(%state = %init) -> (tensor<64xf32>) {
      %next = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                              iterator_types = ["parallel"]}
          ins(%row : tensor<64xf32>) outs(%state : tensor<64xf32>) {
      ^bb0(%a: f32, %acc: f32):
        %sum = arith.addf %a, %acc : f32
        linalg.yield %sum : f32
      } -> tensor<64xf32>
      scf.yield %next : tensor<64xf32>
    }
    %chosen = scf.if %c -> tensor<64xf32> {
      scf.yield %s : tensor<64xf32>
    } else {
      scf.yield %row : tensor<64xf32>
    }
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %chosen into %o[%b, 0] [1, 64] [1, 1] : tensor<64xf32> into tensor<2x64xf32>
    }
  } {mapping = [#gpu.block<x>]}
  return %r : tensor<2x64xf32>
}

// A value that the block reads again besides recording it (the state
// pass's rounded U, an operand of the next product) keeps its scratch
// tensor: computed in place it would be read back from global memory.
// CHECK-LABEL: func.func @read_again
// CHECK:         %[[E:.+]] = tensor.empty() : tensor<64xf32>
// CHECK:         %[[Y:.+]] = linalg.generic {{.+}} outs(%[[E]] : tensor<64xf32>)
// CHECK:         linalg.generic {{.+}} ins(%[[Y]] : tensor<64xf32>)
// CHECK:         tensor.parallel_insert_slice %[[Y]]
func.func @read_again(%x: tensor<2x64xf32>) -> (tensor<2x64xf32>, tensor<2x64xf32>) {
  %out = tensor.empty() : tensor<2x64xf32>
  %out2 = tensor.empty() : tensor<2x64xf32>
  %r:2 = scf.forall (%b) in (2) shared_outs(%o = %out, %o2 = %out2) -> (tensor<2x64xf32>, tensor<2x64xf32>) {
    %row = tensor.extract_slice %x[%b, 0] [1, 64] [1, 1] : tensor<2x64xf32> to tensor<64xf32>
    %e = tensor.empty() : tensor<64xf32>
    %y = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                         iterator_types = ["parallel"]}
        ins(%row : tensor<64xf32>) outs(%e : tensor<64xf32>) {
    ^bb0(%a: f32, %unused: f32):
      %s = arith.mulf %a, %a : f32
      linalg.yield %s : f32
    } -> tensor<64xf32>
    %e2 = tensor.empty() : tensor<64xf32>
    %z = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                         iterator_types = ["parallel"]}
        ins(%y : tensor<64xf32>) outs(%e2 : tensor<64xf32>) {
    ^bb0(%a: f32, %unused: f32):
      %s = arith.addf %a, %a : f32
      linalg.yield %s : f32
    } -> tensor<64xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %y into %o[%b, 0] [1, 64] [1, 1] : tensor<64xf32> into tensor<2x64xf32>
      tensor.parallel_insert_slice %z into %o2[%b, 0] [1, 64] [1, 1] : tensor<64xf32> into tensor<2x64xf32>
    }
  } {mapping = [#gpu.block<x>]}
  return %r#0, %r#1 : tensor<2x64xf32>, tensor<2x64xf32>
}
