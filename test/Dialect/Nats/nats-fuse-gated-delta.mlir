// RUN: nats-opt %s --nats-fuse-gated-delta="tile-size=32" --cse --split-input-file \
// RUN:   --verify-diagnostics | FileCheck %s --implicit-check-not=nats.gated_delta
// RUN: nats-opt %s --nats-fuse-gated-delta="tile-size=32 value-tile=4" --cse \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=COLUMNS

// value-tile=4: V = 16 in groups of 4, a third forall dim; each iteration
// reads its columns of v and of the initial state and writes its columns.
// COLUMNS-LABEL: func.func @gated_delta
// COLUMNS-SAME: %[[V:[^:]+]]: tensor<2x40x4x16xbf16>
// COLUMNS: %[[VP:.+]] = tensor.pad %[[V]] low[0, 0, 0, 0] high[0, 24, 0, 0]
// COLUMNS: scf.forall (%[[B:.+]], %[[H:.+]], %[[J:.+]]) in (2, 4, 4)
// COLUMNS: %[[C0:.+]] = arith.muli %[[J]], %c4
// COLUMNS: tensor.extract_slice %[[VP]][0, 0, 0, %[[C0]]] [2, 64, 4, 4] [1, 1, 1, 1] : tensor<2x64x4x16xbf16> to tensor<2x64x4x4xbf16>
// COLUMNS: tensor.extract_slice %{{.+}}[%[[B]], %[[H]], 0, %[[C0]]] [1, 1, 8, 4] [1, 1, 1, 1] : tensor<2x4x8x16xf32> to tensor<8x4xf32>
// The tile's own foralls over its 4 columns (the triangular solve, one per
// block of 16 rows) first.
// COLUMNS: scf.forall (%{{.+}}) in (4)
// COLUMNS: scf.forall.in_parallel
// COLUMNS: scf.forall (%{{.+}}) in (4)
// COLUMNS: scf.forall.in_parallel
// COLUMNS: scf.forall.in_parallel
// COLUMNS-NEXT: tensor.parallel_insert_slice %{{.+}} into %{{.+}}[%[[B]], 0, %[[H]], %[[C0]]] [1, 40, 1, 4]
// COLUMNS-NEXT: tensor.parallel_insert_slice %{{.+}} into %{{.+}}[%[[B]], %[[H]], 0, %[[C0]]] [1, 1, 8, 4]

// The contractions: A·B, A·Bᵀ (B read as n×k) and Aᵀ·B (A read as k×m).
// CHECK-DAG: #[[$A:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$BT:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$B:.+]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[$AT:.+]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[$C:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>

// T = 40 with chunk 16 and tile-size 32: tiles of 32 tokens (two whole
// chunks), tokens padded to 64. One fused region per tile: the l2norms,
// the cumsum of g, K·Kᵀ ⊙ M, the forward substitution, both output terms
// and the routed state update, all on tile-sized tensors; bf16 is widened
// to f32 on load and o narrowed on store.
// CHECK-LABEL: func.func @gated_delta
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<2x40x4x8xbf16>, %[[K:[^:]+]]: tensor<2x40x4x8xbf16>, %[[V:[^:]+]]: tensor<2x40x4x16xbf16>, %[[G:[^:]+]]: tensor<2x40x4xbf16>, %[[BETA:[^:]+]]: tensor<2x40x4xbf16>, %[[ROUTE:[^:]+]]: tensor<2x3x2xi1>, %[[S0:[^:]+]]: tensor<2x4x8x16xf32>)
// Padding: zero q, k, v, and g = beta = 0 (no decay, no write).
// CHECK: %[[QP:.+]] = tensor.pad %[[Q]] low[0, 0, 0, 0] high[0, 24, 0, 0]
// CHECK: %[[KP:.+]] = tensor.pad %[[K]] low[0, 0, 0, 0] high[0, 24, 0, 0]
// CHECK: %[[VP:.+]] = tensor.pad %[[V]] low[0, 0, 0, 0] high[0, 24, 0, 0]
// CHECK: %[[GP:.+]] = tensor.pad %[[G]] low[0, 0, 0] high[0, 24, 0]
// CHECK: %[[BP:.+]] = tensor.pad %[[BETA]] low[0, 0, 0] high[0, 24, 0]
// CHECK: scf.forall (%[[B:.+]], %[[H:.+]]) in (2, 4) shared_outs(%[[O:.+]] = %{{.+}}, %[[S:.+]] = %{{.+}}) -> (tensor<2x40x4x16xbf16>, tensor<2x4x8x16xf32>)
// CHECK: %[[STATE0:.+]] = tensor.extract_slice %[[S0]][%[[B]], %[[H]], 0, 0] [1, 1, 8, 16] [1, 1, 1, 1] : tensor<2x4x8x16xf32> to tensor<8x16xf32>
// Router head of linear head h: h / (H/R).
// CHECK: %[[RH:.+]] = arith.divui %[[H]], %c2
// CHECK: %[[TILES:.+]]:2 = scf.for %[[T0:.+]] = %c0 to %c64 step %c32 iter_args(%[[STATE:.+]] = %[[STATE0]], %{{.+}} = %{{.+}}) -> (tensor<8x16xf32>, tensor<64x16xbf16>)
// CHECK: tensor.extract_slice %[[QP]][%[[B]], %[[T0]], %[[H]], 0] [1, 32, 1, 8] [1, 1, 1, 1] : tensor<2x64x4x8xbf16> to tensor<32x8xbf16>
// CHECK: tensor.extract_slice %[[KP]][%[[B]], %[[T0]], %[[H]], 0] [1, 32, 1, 8]
// CHECK: tensor.extract_slice %[[VP]][%[[B]], %[[T0]], %[[H]], 0] [1, 32, 1, 16]
// CHECK: tensor.extract_slice %[[GP]][%[[B]], %[[T0]], %[[H]]] [1, 32, 1]
// CHECK: tensor.extract_slice %[[BP]][%[[B]], %[[T0]], %[[H]]] [1, 32, 1]
// m: the route bit of each token's chunk (t0 + i) / C, clamped for padding.
// CHECK: %[[M:.+]] = linalg.generic
// CHECK: arith.divui %{{.+}}, %c16
// CHECK: tensor.extract %[[ROUTE]][%[[B]], %{{.+}}, %[[RH]]] : tensor<2x3x2xi1>
// CHECK: arith.uitofp
// q̂ = scale · q / sqrt(Σq² + eps), k̂ = k / sqrt(Σk² + eps).
// CHECK: arith.extf %{{.+}} : bf16 to f32
// CHECK: %[[QN:.+]] = linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : tensor<32x8xf32>, tensor<32xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.addf
// CHECK-NEXT: math.rsqrt
// CHECK-NEXT: arith.mulf %{{.+}}, %cst_{{[0-9]+}} : f32
// CHECK: %[[KN:.+]] = linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : tensor<32x8xf32>, tensor<32xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.addf
// CHECK-NEXT: math.rsqrt
// γ: inclusive cumsum of g over the tile ([j ≤ i] select, row sum).
// CHECK: arith.cmpi ule
// CHECK: %[[GAMMA:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]}
// M_ij = [i ≥ j] e^(γi − γj) [same chunk or m_j = 0].
// CHECK: %[[DECAY:.+]] = linalg.generic {{.*}} ins(%[[GAMMA]], %[[GAMMA]], %[[M]] :
// CHECK-DAG: arith.cmpi eq
// CHECK-DAG: arith.cmpf oeq
// CHECK-DAG: arith.cmpi uge
// CHECK: math.exp
// CHECK: arith.select
// K·Kᵀ, then A = StrictLower(β · K·Kᵀ ⊙ M).
// CHECK: %[[KK:.+]] = linalg.generic {indexing_maps = [#[[$A]], #[[$BT]], #[[$C]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[KN]], %[[KN]] : tensor<32x8xf32>, tensor<32x8xf32>) outs(%{{.+}} : tensor<32x32xf32>)
// CHECK: %[[LMAT:.+]] = linalg.generic {{.*}} ins(%[[KK]], %[[DECAY]], %{{.+}} :
// CHECK: arith.cmpi ugt
// X = β (V − (K ⊙ e^γ) S).
// CHECK: %[[KS:.+]] = linalg.generic {indexing_maps = [#[[$A]], #[[$B]], #[[$C]]], {{.*}} ins(%{{.+}}, %[[STATE]] : tensor<32x8xf32>, tensor<8x16xf32>) outs(%{{.+}} : tensor<32x16xf32>)
// CHECK: %[[X:.+]] = linalg.generic {{.*}} ins(%{{.+}}, %[[KS]], %{{.+}} : tensor<32x16xbf16>, tensor<32x16xf32>, tensor<32xf32>)
// U = (I + A)⁻¹ X by blocks of 16 rows. Block 0: its diagonal block solved
// column by column, one column c per iteration of a forall, each a forward
// substitution U_ic = X_ic − Σ_{j<i} A_ij U_jc, in place in U's rows.
// CHECK: %[[X0:.+]] = tensor.extract_slice %[[X]][0, 0] [16, 16] [1, 1]
// CHECK: %[[UZERO:.+]] = tensor.extract_slice %[[U00:.+]][0, 0] [16, 16] [1, 1]
// CHECK: %[[A00:.+]] = tensor.extract_slice %[[LMAT]][0, 0] [16, 16] [1, 1]
// CHECK: %[[UB0:.+]] = scf.forall (%[[COL:.+]]) in (16) shared_outs(%[[UALL:.+]] = %[[UZERO]]) -> (tensor<16x16xf32>)
// CHECK: %[[UCOL0:.+]] = tensor.extract_slice %[[UALL]][0, %[[COL]]] [16, 1] [1, 1]
// CHECK: %[[UCOL:.+]] = scf.for %[[I:.+]] = %c0 to %c16 step %c1 iter_args(%[[UACC:.+]] = %[[UCOL0]]) -> (tensor<16x1xf32>)
// CHECK: %[[XI:.+]] = tensor.extract %[[X0]][%[[I]], %[[COL]]]
// CHECK: %[[DOT:.+]] = scf.for %[[J:.+]] = %c0 to %[[I]] step %c1 iter_args(%[[ACC:.+]] = %[[XI]]) -> (f32)
// CHECK: tensor.extract %[[A00]][%[[I]], %[[J]]]
// CHECK: tensor.extract %[[UACC]][%[[J]], %c0]
// CHECK: arith.subf %[[ACC]]
// CHECK: tensor.insert %[[DOT]] into %[[UACC]][%[[I]], %c0]
// CHECK: tensor.parallel_insert_slice %[[UCOL]] into %[[UALL]][0, %[[COL]]] [16, 1] [1, 1]
// CHECK: %[[UA:.+]] = tensor.insert_slice %[[UB0]] into %[[U00]][0, 0] [16, 16] [1, 1]
// Block 1: X's rows less A's rows below block 0 times block 0 of U (a
// matmul), then its own diagonal block.
// CHECK: %[[X1:.+]] = tensor.extract_slice %[[X]][16, 0] [16, 16] [1, 1]
// CHECK: %[[A10:.+]] = tensor.extract_slice %[[LMAT]][16, 0] [16, 16] [1, 1]
// CHECK: %[[DONE:.+]] = linalg.generic {indexing_maps = [#[[$A]], #[[$B]], #[[$C]]], {{.*}} ins(%[[A10]], %[[UB0]] : tensor<16x16xf32>, tensor<16x16xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[X1]], %[[DONE]] :
// CHECK: arith.subf
// CHECK: tensor.extract_slice %[[LMAT]][16, 16] [16, 16] [1, 1]
// CHECK: scf.forall (%{{.+}}) in (16)
// CHECK: %[[U:.+]] = tensor.insert_slice %{{.+}} into %[[UA]][16, 0] [16, 16] [1, 1]
// O = (Q ⊙ e^γ) S + (Q·Kᵀ ⊙ M) U.
// CHECK: %[[INTER:.+]] = linalg.generic {indexing_maps = [#[[$A]], #[[$B]], #[[$C]]], {{.*}} ins(%{{.+}}, %[[STATE]] : tensor<32x8xf32>, tensor<8x16xf32>)
// CHECK: %[[QK:.+]] = linalg.generic {indexing_maps = [#[[$A]], #[[$BT]], #[[$C]]], {{.*}} ins(%[[QN]], %[[KN]] : tensor<32x8xf32>, tensor<32x8xf32>)
// CHECK: %[[P:.+]] = linalg.generic {{.*}} ins(%[[QK]], %[[DECAY]] :
// CHECK: %[[INTRA:.+]] = linalg.generic {indexing_maps = [#[[$A]], #[[$B]], #[[$C]]], {{.*}} ins(%[[P]], %[[U]] : tensor<32x32xf32>, tensor<32x16xf32>)
// CHECK: %[[OUT:.+]] = linalg.generic {{.*}} ins(%[[INTER]], %[[INTRA]] : {{.*}} outs(%{{.+}} : tensor<32x16xbf16>)
// CHECK: arith.truncf %{{.+}} : f32 to bf16
// S' = e^γ_L S + (K ⊙ e^(γ_L − γ) ⊙ (1 − m))ᵀ U: kept chunks only decay S.
// CHECK: %[[GLAST:.+]] = tensor.extract %[[GAMMA]][%c31]
// CHECK: %[[KC:.+]] = linalg.generic {{.*}} ins(%[[KN]], %[[GAMMA]], %[[M]] :
// CHECK: arith.subf %[[GLAST]]
// CHECK: math.exp
// CHECK: arith.subf %cst, %
// CHECK: %[[WRITE:.+]] = linalg.generic {indexing_maps = [#[[$AT]], #[[$B]], #[[$C]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[KC]], %[[U]] : tensor<32x8xf32>, tensor<32x16xf32>) outs(%{{.+}} : tensor<8x16xf32>)
// CHECK: %[[DECAYALL:.+]] = math.exp %[[GLAST]]
// CHECK: %[[NEXT:.+]] = linalg.generic {{.*}} ins(%[[STATE]], %[[WRITE]] :
// CHECK: arith.mulf %[[DECAYALL]]
// CHECK: %[[ROWS:.+]] = tensor.insert_slice %[[OUT]] into %{{.+}}[%[[T0]], 0] [32, 16] [1, 1]
// CHECK: scf.yield %[[NEXT]], %[[ROWS]] : tensor<8x16xf32>, tensor<64x16xbf16>
// The padding rows are dropped; one (batch, head) writes its rows and state.
// CHECK: %[[REAL:.+]] = tensor.extract_slice %[[TILES]]#1[0, 0] [40, 16] [1, 1]
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %[[REAL]] into %[[O]][%[[B]], 0, %[[H]], 0] [1, 40, 1, 16]
// CHECK-NEXT: tensor.parallel_insert_slice %[[TILES]]#0 into %[[S]][%[[B]], %[[H]], 0, 0] [1, 1, 8, 16]
func.func @gated_delta(%q: tensor<2x40x4x8xbf16>, %k: tensor<2x40x4x8xbf16>,
                       %v: tensor<2x40x4x16xbf16>, %g: tensor<2x40x4xbf16>,
                       %beta: tensor<2x40x4xbf16>, %route: tensor<2x3x2xi1>,
                       %s0: tensor<2x4x8x16xf32>)
    -> (tensor<2x40x4x16xbf16>, tensor<2x4x8x16xf32>) {
  %o, %s = nats.gated_delta(%q, %k, %v, %g, %beta) route(%route) initial_state(%s0)
      {chunk_size = 16 : i64, scale = 0.35 : f32}
      : (tensor<2x40x4x8xbf16>, tensor<2x40x4x8xbf16>, tensor<2x40x4x16xbf16>,
         tensor<2x40x4xbf16>, tensor<2x40x4xbf16>, tensor<2x3x2xi1>,
         tensor<2x4x8x16xf32>) -> (tensor<2x40x4x16xbf16>, tensor<2x4x8x16xf32>)
  return %o, %s : tensor<2x40x4x16xbf16>, tensor<2x4x8x16xf32>
}

// -----

// A chunk (64) larger than tile-size (32) makes the tile one chunk; T = 128
// needs no padding. Without initial_state the state starts at zero; without
// qk_l2norm q is only scaled. f32 needs no widening or narrowing.
// CHECK-LABEL: func.func @chunk_above_tile_size
// CHECK-NOT: tensor.pad
// CHECK: scf.forall (%[[B:.+]], %[[H:.+]]) in (1, 2)
// CHECK: %[[ZERO:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<4x8xf32>)
// CHECK: scf.for %{{.+}} = %c0 to %c128 step %c64 iter_args(%{{.+}} = %[[ZERO]], %{{.+}} = %{{.+}}) -> (tensor<4x8xf32>, tensor<128x8xf32>)
// CHECK-COUNT-4: scf.forall (%{{.+}}) in (8)
// CHECK: scf.forall.in_parallel
// CHECK-NOT: arith.extf
// CHECK-NOT: arith.truncf
// CHECK-NOT: math.rsqrt
func.func @chunk_above_tile_size(%q: tensor<1x128x2x4xf32>, %v: tensor<1x128x2x8xf32>,
                                 %g: tensor<1x128x2xf32>, %route: tensor<1x2x1xi1>)
    -> (tensor<1x128x2x8xf32>, tensor<1x2x4x8xf32>) {
  %o, %s = nats.gated_delta(%q, %q, %v, %g, %g) route(%route)
      {chunk_size = 64 : i64, scale = 0.5 : f32, qk_l2norm = false}
      : (tensor<1x128x2x4xf32>, tensor<1x128x2x4xf32>, tensor<1x128x2x8xf32>,
         tensor<1x128x2xf32>, tensor<1x128x2xf32>, tensor<1x2x1xi1>)
      -> (tensor<1x128x2x8xf32>, tensor<1x2x4x8xf32>)
  return %o, %s : tensor<1x128x2x8xf32>, tensor<1x2x4x8xf32>
}

// -----

func.func @dynamic_tokens(%q: tensor<1x?x1x4xf32>, %g: tensor<1x?x1xf32>,
                          %route: tensor<1x?x1xi1>) -> tensor<1x?x1x4xf32> {
  // expected-error @+1 {{'nats.gated_delta' op could not be lowered: needs static shapes and a positive tile-size}}
  %o, %s = nats.gated_delta(%q, %q, %q, %g, %g) route(%route) {scale = 0.5 : f32}
      : (tensor<1x?x1x4xf32>, tensor<1x?x1x4xf32>, tensor<1x?x1x4xf32>,
         tensor<1x?x1xf32>, tensor<1x?x1xf32>, tensor<1x?x1xi1>)
      -> (tensor<1x?x1x4xf32>, tensor<1x1x4x4xf32>)
  return %o : tensor<1x?x1x4xf32>
}

// -----

// Static operands, but a dynamic dim in a result type (the verifier allows
// it): the lowering builds static results and refuses.
func.func @dynamic_result(%q: tensor<1x4x1x4xf32>, %g: tensor<1x4x1xf32>,
                          %route: tensor<1x1x1xi1>) -> tensor<?x1x4x4xf32> {
  // expected-error @+1 {{'nats.gated_delta' op could not be lowered: needs static shapes and a positive tile-size}}
  %o, %s = nats.gated_delta(%q, %q, %q, %g, %g) route(%route) {chunk_size = 4 : i64, scale = 0.5 : f32}
      : (tensor<1x4x1x4xf32>, tensor<1x4x1x4xf32>, tensor<1x4x1x4xf32>,
         tensor<1x4x1xf32>, tensor<1x4x1xf32>, tensor<1x1x1xi1>)
      -> (tensor<1x4x1x4xf32>, tensor<?x1x4x4xf32>)
  return %s : tensor<?x1x4x4xf32>
}
