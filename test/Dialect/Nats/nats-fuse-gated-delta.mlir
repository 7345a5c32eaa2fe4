// RUN: nats-opt %s --nats-fuse-gated-delta="tile-size=32" --cse --split-input-file \
// RUN:   --verify-diagnostics | FileCheck %s --implicit-check-not=nats.gated_delta
// RUN: nats-opt %s --nats-fuse-gated-delta="tile-size=32 value-tile=4" --cse \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=COLUMNS
// RUN: nats-opt %s --nats-fuse-gated-delta="tile-size=32 output-tile=4" --cse \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=OUTPUTS
// RUN: nats-opt %s --nats-fuse-gated-delta="tile-size=32 round-output-terms=1" --cse \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=ROUND
// RUN: nats-opt %s --nats-fuse-gated-delta="tile-size=32 round-state-terms=1" --cse \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=WK
// RUN: nats-opt %s --nats-fuse-gated-delta="tile-size=32 round-chunk-operands=1" --cse \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=CHUNK
// RUN: nats-opt %s --nats-fuse-gated-delta="tile-size=32 round-state-operands=1" --cse \
// RUN:   --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=OPERANDS

// value-tile=4: V = 16 in groups of 4, a third dim of the state pass's
// forall; each iteration reads its columns of U₀ and of the initial state
// and writes its columns of U, of the tile-start states and of the state.
// Stages 1 and 3 do not depend on it.
// COLUMNS-LABEL: func.func @gated_delta
// COLUMNS: scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (2, 4, 2) shared_outs
// COLUMNS: scf.forall (%[[B:.+]], %[[H:.+]], %[[J:.+]]) in (2, 4, 4) shared_outs
// COLUMNS: %[[C0:.+]] = arith.muli %[[J]], %c4
// COLUMNS: tensor.extract_slice %{{.+}}[%[[B]], %[[H]], 0, %[[C0]]] [1, 1, 8, 4] [1, 1, 1, 1] : tensor<2x4x8x16xf32> to tensor<8x4xf32>
// COLUMNS: scf.for
// COLUMNS: tensor.extract_slice %{{.+}}[%[[B]], %[[H]], %{{.+}}, 0, %[[C0]]] [1, 1, 1, 32, 4] [1, 1, 1, 1, 1] : tensor<2x4x2x32x16xf32> to tensor<32x4xf32>
// COLUMNS: scf.forall.in_parallel
// COLUMNS-NEXT: tensor.parallel_insert_slice %{{.+}} into %{{.+}}[%[[B]], %[[H]], 0, 0, %[[C0]]] [1, 1, 2, 32, 4]
// COLUMNS-NEXT: tensor.parallel_insert_slice %{{.+}} into %{{.+}}[%[[B]], %[[H]], 0, 0, %[[C0]]] [1, 1, 2, 8, 4]
// COLUMNS-NEXT: tensor.parallel_insert_slice %{{.+}} into %{{.+}}[%[[B]], %[[H]], 0, %[[C0]]] [1, 1, 8, 4]
// COLUMNS: scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (2, 4, 2) shared_outs

// output-tile=4: the outputs' 2 tiles of V = 16 columns in groups of 4, 8
// iterations; iteration n takes tile n / 4 and columns 4 (n mod 4) on.
// OUTPUTS-LABEL: func.func @gated_delta
// OUTPUTS: scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (2, 4, 2) shared_outs
// OUTPUTS: scf.forall (%{{.+}}, %{{.+}}) in (2, 4) shared_outs
// OUTPUTS: scf.forall (%[[B:.+]], %[[H:.+]], %[[N:.+]]) in (2, 4, 8) shared_outs
// OUTPUTS-DAG: %[[REM:.+]] = arith.remui %[[N]], %c4
// OUTPUTS-DAG: %[[C0:.+]] = arith.muli %[[REM]], %c4
// OUTPUTS-DAG: %[[TILE:.+]] = arith.divui %[[N]], %c4
// OUTPUTS: tensor.extract_slice %{{.+}}[%[[B]], %[[H]], %[[TILE]], 0, %[[C0]]] [1, 1, 1, 8, 4]
// OUTPUTS: tensor.extract_slice %{{.+}}[%[[B]], %[[H]], %[[TILE]], 0, %[[C0]]] [1, 1, 1, 32, 4]
// OUTPUTS: scf.forall.in_parallel
// OUTPUTS-NEXT: tensor.parallel_insert_slice %{{.+}} into %{{.+}}[%[[B]], {{.+}}, %[[H]], %[[C0]]] [1, 32, 1, 4]

// round-output-terms: P leaves the chunk terms as bf16 (−W, U₀, r, K_c and
// d stay f32), the state pass records U and the start states as bf16 (the
// state it carries and returns stays f32), the outputs widen them and q.
// With round-state-terms, −W, U₀ and K_c (the chunk terms' first, second
// and fifth results) are stored in bf16: K_c rounded in the map that
// computes it, U₀ and −W after their products; the state pass copies U₀'s
// tile and widens it into the tile U accumulates in, and its products take
// −W and K_c as they are, widened in their bodies.
// WK-LABEL: func.func @gated_delta
// WK: scf.forall ({{.+}}) in (2, 4, 2) shared_outs({{.+}}) -> (tensor<2x4x2x32x8xbf16>, tensor<2x4x2x32x16xbf16>, tensor<2x4x2x32x32xf32>, tensor<2x4x2x32xf32>, tensor<2x4x2x32x8xbf16>, tensor<2x4x2xf32>)
// WK: math.exp2
// WK: arith.truncf %{{.+}} : f32 to bf16
// WK: linalg.generic {{.*}} ins(%{{.+}} : tensor<32x16xf32>) outs(%{{.+}} : tensor<32x16xbf16>)
// WK-NEXT: ^bb0
// WK-NEXT: arith.truncf %{{.+}} : f32 to bf16
// WK: linalg.generic {{.*}} ins(%{{.+}} : tensor<32x8xf32>) outs(%{{.+}} : tensor<32x8xbf16>)
// WK-NEXT: ^bb0
// WK-NEXT: arith.truncf %{{.+}} : f32 to bf16
// WK: scf.forall ({{.+}}) in (2, 4) shared_outs
// WK: scf.for
// WK: %[[U0:.+]] = linalg.copy ins(%{{.+}} : tensor<32x16xbf16>)
// WK: %[[U0F:.+]] = linalg.generic {{.*}} ins(%[[U0]] : tensor<32x16xbf16>) outs(%{{.+}} : tensor<32x16xf32>)
// WK-NEXT: ^bb0
// WK-NEXT: arith.extf %{{.+}} : bf16 to f32
// WK: linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : tensor<32x8xbf16>, tensor<8x16xf32>) outs(%[[U0F]] : tensor<32x16xf32>)
// WK-NEXT: ^bb0
// WK-NEXT: arith.extf %{{.+}} : bf16 to f32
// WK: linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : tensor<32x8xbf16>, tensor<32x16xf32>)
// WK-NEXT: ^bb0
// WK-NEXT: arith.extf %{{.+}} : bf16 to f32
// With round-state-operands, S and U enter the state pass's products in
// bf16: the loop carries S's rounded copy beside S (the initial state's
// rounded before the loop), U is rounded for K_cᵀ U, and S' into the
// carried copy in place (its buffer is the loop's).
// OPERANDS-LABEL: func.func @gated_delta
// OPERANDS: scf.forall ({{.+}}) in (2, 4) shared_outs
// OPERANDS: %[[S0:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<8x16xbf16>)
// OPERANDS: scf.for {{.+}} iter_args(%[[S:.+]] = %{{.+}}, %{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}, %[[SR:.+]] = %[[S0]]) -> (tensor<8x16xf32>, tensor<2x32x16xf32>, tensor<2x8x16xf32>, tensor<8x16xbf16>)
// OPERANDS: %[[U:.+]] = linalg.generic {{.*}} ins(%{{.+}}, %[[SR]] : tensor<32x8xf32>, tensor<8x16xbf16>) outs(%{{.+}} : tensor<32x16xf32>)
// OPERANDS: %[[UR:.+]] = linalg.generic {{.*}} ins(%[[U]] : tensor<32x16xf32>) outs(%{{.+}} : tensor<32x16xbf16>)
// OPERANDS: %[[NEXT:.+]] = linalg.generic {{.*}} ins(%{{.+}}, %[[UR]] : tensor<32x8xf32>, tensor<32x16xbf16>) outs(%{{.+}} : tensor<8x16xf32>)
// OPERANDS: %[[NR:.+]] = linalg.generic {{.*}} ins(%[[NEXT]] : tensor<8x16xf32>) outs(%[[SR]] : tensor<8x16xbf16>)
// OPERANDS-NEXT: ^bb0
// OPERANDS-NEXT: arith.truncf
// OPERANDS: scf.yield %[[NEXT]], %{{.+}}, %{{.+}}, %[[NR]]
// With round-chunk-operands, q̂ and k̂, the right-hand sides of U₀ and −W
// and T = (I + A)⁻¹ are rounded to bf16 in the maps that compute them; the
// products with them widen them in their bodies (the results, f32 as
// before).
// CHUNK-LABEL: func.func @gated_delta
// CHUNK: math.rsqrt
// CHUNK: %[[QN:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<32x8xbf16>)
// CHUNK: arith.truncf %{{.+}} : f32 to bf16
// CHUNK: %[[KN:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<32x8xbf16>)
// CHUNK: linalg.generic {{.*}} ins(%[[QN]], %[[KN]] : tensor<32x8xbf16>, tensor<32x8xbf16>) outs(%{{.+}} : tensor<32x32xf32>)
// CHUNK: %[[T:.+]] = linalg.generic {{.*}} ins(%{{.+}} : tensor<32x32xf32>) outs(%{{.+}} : tensor<32x32xbf16>)
// CHUNK: %[[KW:.+]] = linalg.generic {{.*}} ins(%[[KN]], %{{.+}}, %{{.+}} : tensor<32x8xbf16>, tensor<32xf32>, tensor<32xf32>) outs(%{{.+}} : tensor<32x8xbf16>)
// CHUNK: arith.negf
// CHUNK-NEXT: arith.truncf
// CHUNK: %[[VW:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<32x16xbf16>)
// CHUNK: linalg.generic {{.*}} ins(%[[T]], %[[VW]] : tensor<32x32xbf16>, tensor<32x16xbf16>) outs(%{{.+}} : tensor<32x16xf32>)
// CHUNK-NEXT: ^bb0
// CHUNK-NEXT: arith.extf %{{.+}} : bf16 to f32
// CHUNK: linalg.generic {{.*}} ins(%[[T]], %[[KW]] : tensor<32x32xbf16>, tensor<32x8xbf16>) outs(%{{.+}} : tensor<32x8xf32>)
// ROUND-LABEL: func.func @gated_delta
// ROUND: scf.forall ({{.+}}) in (2, 4, 2) shared_outs({{.+}}) -> (tensor<2x4x2x32x8xf32>, tensor<2x4x2x32x16xf32>, tensor<2x4x2x32x32xbf16>, tensor<2x4x2x32xf32>, tensor<2x4x2x32x8xf32>, tensor<2x4x2xf32>)
// ROUND: scf.forall ({{.+}}) in (2, 4) shared_outs({{.+}}) -> (tensor<2x4x2x32x16xbf16>, tensor<2x4x2x8x16xbf16>, tensor<2x4x8x16xf32>)
// ROUND: scf.for {{.+}} -> (tensor<8x16xf32>, tensor<2x32x16xbf16>, tensor<2x8x16xbf16>)
// ROUND-COUNT-2: arith.truncf %{{.+}} : f32 to bf16
// ROUND: scf.forall ({{.+}}) in (2, 4, 2) shared_outs
// ROUND-COUNT-2: arith.extf %{{.+}} : bf16 to f32
// ROUND: linalg.generic
// ROUND-COUNT-2: arith.extf %{{.+}} : bf16 to f32
// ROUND: linalg.generic
// ROUND: arith.truncf

// The contractions: A·B, A·Bᵀ (B read as n×k) and Aᵀ·B (A read as k×m).
// CHECK-DAG: #[[$A:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$BT:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$B:.+]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[$AT:.+]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[$C:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>

// T = 40 with chunk 16 and tile-size 32: tiles of 32 tokens (two whole
// chunks), tokens padded to 64, so 2 tiles. Three foralls: the chunk terms
// of every tile, the state pass over tiles, the outputs of every tile. bf16
// is widened to f32 on load and o narrowed on store.
// CHECK-LABEL: func.func @gated_delta
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<2x40x4x8xbf16>, %[[K:[^:]+]]: tensor<2x40x4x8xbf16>, %[[V:[^:]+]]: tensor<2x40x4x16xbf16>, %[[G:[^:]+]]: tensor<2x40x4xbf16>, %[[BETA:[^:]+]]: tensor<2x40x4xbf16>, %[[ROUTE:[^:]+]]: tensor<2x3x2xi1>, %[[S0:[^:]+]]: tensor<2x4x8x16xf32>)
// Padding: zero q, k, v, and g = beta = 0 (no decay, no write).
// CHECK: %[[QP:.+]] = tensor.pad %[[Q]] low[0, 0, 0, 0] high[0, 24, 0, 0]
// CHECK: %[[KP:.+]] = tensor.pad %[[K]] low[0, 0, 0, 0] high[0, 24, 0, 0]
// CHECK: %[[VP:.+]] = tensor.pad %[[V]] low[0, 0, 0, 0] high[0, 24, 0, 0]
// CHECK: %[[GP:.+]] = tensor.pad %[[G]] low[0, 0, 0] high[0, 24, 0]
// CHECK: %[[BP:.+]] = tensor.pad %[[BETA]] low[0, 0, 0] high[0, 24, 0]

// Stage 1, one iteration per (batch, head, tile): −W, U₀, P, r, K_c, d.
// CHECK: %[[TERMS:.+]]:6 = scf.forall (%[[B:.+]], %[[H:.+]], %[[N:.+]]) in (2, 4, 2) shared_outs(%[[WO:.+]] = %{{.+}}, %[[U0O:.+]] = %{{.+}}, %[[PO:.+]] = %{{.+}}, %[[RO:.+]] = %{{.+}}, %[[KCO:.+]] = %{{.+}}, %[[DO:.+]] = %{{.+}}) -> (tensor<2x4x2x32x8xf32>, tensor<2x4x2x32x16xf32>, tensor<2x4x2x32x32xf32>, tensor<2x4x2x32xf32>, tensor<2x4x2x32x8xf32>, tensor<2x4x2xf32>)
// CHECK: %[[T0:.+]] = arith.muli %[[N]], %c32
// CHECK: tensor.extract_slice %[[QP]][%[[B]], %[[T0]], %[[H]], 0] [1, 32, 1, 8] [1, 1, 1, 1] : tensor<2x64x4x8xbf16> to tensor<32x8xbf16>
// CHECK: tensor.extract_slice %[[KP]][%[[B]], %[[T0]], %[[H]], 0] [1, 32, 1, 8]
// CHECK: %[[VT:.+]] = tensor.extract_slice %[[VP]][%[[B]], %[[T0]], %[[H]], 0] [1, 32, 1, 16]
// CHECK: tensor.extract_slice %[[GP]][%[[B]], %[[T0]], %[[H]]] [1, 32, 1]
// CHECK: tensor.extract_slice %[[BP]][%[[B]], %[[T0]], %[[H]]] [1, 32, 1]
// Router head of linear head h: h / (H/R). m: the route bit of each token's
// chunk (t0 + i) / C, clamped for padding.
// CHECK: %[[RH:.+]] = arith.divui %[[H]], %c2
// CHECK: %[[M:.+]] = linalg.generic
// CHECK: arith.divui %{{.+}}, %c16
// CHECK: tensor.extract %[[ROUTE]][%[[B]], %{{.+}}, %[[RH]]] : tensor<2x3x2xi1>
// CHECK: arith.uitofp
// q̂ = scale · q / sqrt(Σq² + eps), k̂ = k / sqrt(Σk² + eps), from a copy
// of the bf16 tile, widened where read; each row's factor (scale · rsqrt)
// once, in a vector of its own.
// CHECK: %[[QCOPY:.+]] = linalg.copy ins(%{{.+}} : tensor<32x8xbf16>)
// CHECK: %[[QSQ:.+]] = linalg.generic {{.*}} ins(%[[QCOPY]] : tensor<32x8xbf16>) outs(%{{.+}} : tensor<32xf32>)
// CHECK: arith.extf %{{.+}} : bf16 to f32
// CHECK: %[[QF:.+]] = linalg.generic {{.*}} ins(%[[QSQ]] : tensor<32xf32>) outs(%{{.+}} : tensor<32xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.addf
// CHECK-NEXT: math.rsqrt
// CHECK-NEXT: arith.mulf %{{.+}}, %cst_{{[0-9]+}} : f32
// CHECK: %[[QN:.+]] = linalg.generic {{.*}} ins(%[[QCOPY]], %[[QF]] : tensor<32x8xbf16>, tensor<32xf32>) outs(%{{.+}} : tensor<32x8xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.extf
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: linalg.yield
// CHECK: %[[KCOPY:.+]] = linalg.copy ins(%{{.+}} : tensor<32x8xbf16>)
// CHECK: %[[KSQ:.+]] = linalg.generic {{.*}} ins(%[[KCOPY]] : tensor<32x8xbf16>) outs(%{{.+}} : tensor<32xf32>)
// CHECK: %[[KF:.+]] = linalg.generic {{.*}} ins(%[[KSQ]] : tensor<32xf32>)
// CHECK: math.rsqrt
// CHECK: %[[KN:.+]] = linalg.generic {{.*}} ins(%[[KCOPY]], %[[KF]] : tensor<32x8xbf16>, tensor<32xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.extf
// CHECK-NEXT: arith.mulf
// γ: inclusive cumsum of g over the tile ([j ≤ i] select, row sum).
// CHECK: arith.cmpi ule
// CHECK: %[[GAMMA:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]}
// CHECK: %[[EG:.+]] = linalg.generic {{.*}} ins(%[[GAMMA]] : tensor<32xf32>)
// CHECK: math.exp2
// M_ij = [i ≥ j] e^(γi − γj) [same chunk or m_j = 0] (e^x as 2^(x·log2 e)).
// CHECK: %[[DECAY:.+]] = linalg.generic {{.*}} ins(%[[GAMMA]], %[[GAMMA]], %[[M]] :
// CHECK-DAG: arith.cmpi eq
// CHECK-DAG: arith.cmpf oeq
// CHECK-DAG: arith.cmpi uge
// CHECK: math.exp2
// CHECK: arith.select
// First the terms that need no solve (Q̂'s last use): P = Q·Kᵀ ⊙ M and
// r = e^γ · scale / sqrt(Σq² + eps), Q_γ's factor of each row of q.
// CHECK: %[[QK:.+]] = linalg.generic {indexing_maps = [#[[$A]], #[[$BT]], #[[$C]]], {{.*}} ins(%[[QN]], %[[KN]] : tensor<32x8xf32>, tensor<32x8xf32>)
// CHECK: %[[P:.+]] = linalg.generic {{.*}} ins(%[[QK]], %[[DECAY]] :
// CHECK: %[[R:.+]] = linalg.generic {{.*}} ins(%[[EG]], %[[QF]] : tensor<32xf32>, tensor<32xf32>)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.mulf %{{.+}}, %{{.+}} : f32
// CHECK-NEXT: linalg.yield
// d = e^γ_L and K_c = K ⊙ e^(γ_L − γ) ⊙ (1 − m): kept chunks only decay S.
// CHECK: %[[GL:.+]] = tensor.extract_slice %[[GAMMA]][31] [1] [1]
// CHECK: %[[D:.+]] = linalg.generic {{.*}} ins(%[[GL]] : tensor<1xf32>)
// CHECK: math.exp2
// CHECK: %[[GLAST:.+]] = tensor.extract %[[GAMMA]][%c31]
// CHECK: %[[KC:.+]] = linalg.generic {{.*}} ins(%[[KN]], %[[GAMMA]], %[[M]] :
// CHECK: arith.subf %[[GLAST]]
// CHECK: math.exp2
// CHECK: arith.subf %{{cst(_[0-9]+)?}}, %
// K·Kᵀ, then −A = −StrictLower(β · K·Kᵀ ⊙ M).
// CHECK: %[[KK:.+]] = linalg.generic {indexing_maps = [#[[$A]], #[[$BT]], #[[$C]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[KN]], %[[KN]] : tensor<32x8xf32>, tensor<32x8xf32>) outs(%{{.+}} : tensor<32x32xf32>)
// CHECK: %[[LMAT:.+]] = linalg.generic {{.*}} ins(%[[KK]], %[[DECAY]], %{{.+}} :
// CHECK: arith.cmpi ugt
// CHECK: arith.negf
// T = (I + A)⁻¹ by blocks of 16 rows. First the inverses T_bb of both
// diagonal blocks, one forall over all 32 columns, each twice: compact (16
// columns) and at its place in a zero fill (CSE merges it with K·Kᵀ's):
// column c of block b (rows from 16b) is t_i = δ_ic + Σ_{j<i} (−A)_ij t_j
// for i = 0..15, straight-line code on scalars (t_j is zero for j < c).
// CHECK: %[[DIAG:.+]]:2 = scf.forall (%[[COL:.+]]) in (32) shared_outs(%[[TB:.+]] = %{{.+}}, %[[TALL:.+]] = %{{.+}}) -> (tensor<32x16xf32>, tensor<32x32xf32>)
// CHECK-NOT: scf.for
// CHECK: %[[LOCAL:.+]] = arith.remui %[[COL]], %c16
// CHECK: %[[FIRST:.+]] = arith.subi %[[COL]], %[[LOCAL]]
// CHECK: %[[ON0:.+]] = arith.cmpi eq, %[[LOCAL]], %c0
// CHECK: %[[T0:.+]] = arith.select %[[ON0]], %[[ONE:.+]], %[[ZERO:.+]] : f32
// CHECK: %[[ON1:.+]] = arith.cmpi eq, %[[LOCAL]], %c1
// CHECK: %[[D1:.+]] = arith.select %[[ON1]], %[[ONE]], %[[ZERO]] : f32
// CHECK: %[[ROW1:.+]] = arith.addi %[[FIRST]], %c1
// CHECK: %[[A10:.+]] = tensor.extract %[[LMAT]][%[[ROW1]], %[[FIRST]]]
// CHECK: %[[P10:.+]] = arith.mulf %[[A10]], %[[T0]]
// CHECK: %[[T1:.+]] = arith.addf %[[D1]], %[[P10]]
// CHECK-COUNT-119: tensor.extract %[[LMAT]]
// CHECK-NOT: scf.for
// CHECK: %[[TCOL:.+]] = tensor.extract_slice %[[TB]][%[[FIRST]], %[[LOCAL]]] [16, 1] [1, 1]
// CHECK: %[[C0:.+]] = tensor.insert %[[T0]] into %[[TCOL]][%c0, %c0]
// CHECK: tensor.insert %[[T1]] into %[[C0]][%c1, %c0]
// CHECK: tensor.parallel_insert_slice %[[COLUMN:.+]] into %[[TB]][%[[FIRST]], %[[LOCAL]]] [16, 1] [1, 1]
// CHECK: tensor.parallel_insert_slice %[[COLUMN]] into %[[TALL]][%[[FIRST]], %[[COL]]] [16, 1] [1, 1]
// Block row 1 left of its diagonal: T_11 ((−A)_10 T_00), T_11 read from the
// compact copy, accumulated onto the zeros there in place.
// CHECK: %[[T00:.+]] = tensor.extract_slice %[[DIAG]]#1[0, 0] [16, 16] [1, 1]
// CHECK: %[[A10:.+]] = tensor.extract_slice %[[LMAT]][16, 0] [16, 16] [1, 1]
// CHECK: %[[LEFT:.+]] = linalg.generic {indexing_maps = [#[[$A]], #[[$B]], #[[$C]]], {{.*}} ins(%[[A10]], %[[T00]] : tensor<16x16xf32>, tensor<16x16xf32>)
// CHECK: %[[T10:.+]] = tensor.extract_slice %[[DIAG]]#1[16, 0] [16, 16] [1, 1]
// CHECK: %[[T11:.+]] = tensor.extract_slice %[[DIAG]]#0[16, 0] [16, 16] [1, 1]
// CHECK: %[[ROW1:.+]] = linalg.generic {{.*}} ins(%[[T11]], %[[LEFT]] : {{.*}} outs(%[[T10]] :
// CHECK: %[[INV:.+]] = tensor.insert_slice %[[ROW1]] into %[[DIAG]]#1[16, 0] [16, 16] [1, 1]
// Then, after the solve (its buffers and theirs never live at once), the
// right-hand sides: −β (K ⊙ e^γ) (W comes out negated, for the state pass)
// and β V.
// CHECK: %[[KW:.+]] = linalg.generic {{.*}} ins(%[[KN]], %[[EG]], %{{.+}} : tensor<32x8xf32>, tensor<32xf32>, tensor<32xf32>)
// CHECK: arith.negf
// CHECK: %[[VW:.+]] = linalg.generic {{.*}} ins(%[[VT]], %{{.+}} : tensor<32x16xbf16>, tensor<32xf32>)
// U₀ and −W: whole-tile products with T.
// CHECK: %[[U0:.+]] = linalg.generic {indexing_maps = [#[[$A]], #[[$B]], #[[$C]]], {{.*}} ins(%[[INV]], %[[VW]] : tensor<32x32xf32>, tensor<32x16xf32>)
// CHECK: %[[W:.+]] = linalg.generic {indexing_maps = [#[[$A]], #[[$B]], #[[$C]]], {{.*}} ins(%[[INV]], %[[KW]] : tensor<32x32xf32>, tensor<32x8xf32>)
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %[[W]] into %[[WO]][%[[B]], %[[H]], %[[N]], 0, 0] [1, 1, 1, 32, 8]
// CHECK-NEXT: tensor.parallel_insert_slice %[[U0]] into %[[U0O]][%[[B]], %[[H]], %[[N]], 0, 0] [1, 1, 1, 32, 16]
// CHECK-NEXT: tensor.parallel_insert_slice %[[P]] into %[[PO]][%[[B]], %[[H]], %[[N]], 0, 0] [1, 1, 1, 32, 32]
// CHECK-NEXT: tensor.parallel_insert_slice %[[R]] into %[[RO]][%[[B]], %[[H]], %[[N]], 0] [1, 1, 1, 32]
// CHECK-NEXT: tensor.parallel_insert_slice %[[KC]] into %[[KCO]][%[[B]], %[[H]], %[[N]], 0, 0] [1, 1, 1, 32, 8]
// CHECK-NEXT: tensor.parallel_insert_slice %[[D]] into %[[DO]][%[[B]], %[[H]], %[[N]]] [1, 1, 1]

// Stage 2, one iteration per (batch, head): the walk over the tiles from
// the initial state. It records each tile's start state and U, in place in
// its outputs; every tile's decay is copied before the walk.
// CHECK: %[[PASS:.+]]:3 = scf.forall (%[[B2:.+]], %[[H2:.+]]) in (2, 4) shared_outs(%[[UO:.+]] = %{{.+}}, %[[SO:.+]] = %{{.+}}, %[[FO:.+]] = %{{.+}}) -> (tensor<2x4x2x32x16xf32>, tensor<2x4x2x8x16xf32>, tensor<2x4x8x16xf32>)
// CHECK: %[[STATE0:.+]] = tensor.extract_slice %[[S0]][%[[B2]], %[[H2]], 0, 0] [1, 1, 8, 16] [1, 1, 1, 1] : tensor<2x4x8x16xf32> to tensor<8x16xf32>
// CHECK: %[[UROWS:.+]] = tensor.extract_slice %[[UO]][%[[B2]], %[[H2]], 0, 0, 0] [1, 1, 2, 32, 16]
// CHECK: %[[STARTS:.+]] = tensor.extract_slice %[[SO]][%[[B2]], %[[H2]], 0, 0, 0] [1, 1, 2, 8, 16]
// CHECK: %[[DS:.+]] = tensor.extract_slice %[[TERMS]]#5[%[[B2]], %[[H2]], 0] [1, 1, 2] [1, 1, 1] : tensor<2x4x2xf32> to tensor<2xf32>
// CHECK: %[[DECAYS:.+]] = linalg.copy ins(%[[DS]] : tensor<2xf32>)
// CHECK: %[[WALK:.+]]:3 = scf.for %[[N2:.+]] = %c0 to %c2 step %c1 iter_args(%[[STATE:.+]] = %[[STATE0]], %[[UC:.+]] = %[[UROWS]], %[[SC:.+]] = %[[STARTS]]) -> (tensor<8x16xf32>, tensor<2x32x16xf32>, tensor<2x8x16xf32>)
// CHECK: %[[STARTED:.+]] = tensor.insert_slice %[[STATE]] into %[[SC]][%[[N2]], 0, 0] [1, 8, 16]
// CHECK: %[[WT:.+]] = tensor.extract_slice %[[TERMS]]#0[%[[B2]], %[[H2]], %[[N2]], 0, 0] [1, 1, 1, 32, 8]
// CHECK: %[[U0T:.+]] = tensor.extract_slice %[[TERMS]]#1[%[[B2]], %[[H2]], %[[N2]], 0, 0] [1, 1, 1, 32, 16]
// CHECK: %[[KCT:.+]] = tensor.extract_slice %[[TERMS]]#4[%[[B2]], %[[H2]], %[[N2]], 0, 0] [1, 1, 1, 32, 8]
// CHECK: %[[DT:.+]] = tensor.extract %[[DECAYS]][%[[N2]]]
// U = U₀ + (−W) S, accumulated onto a copy of U₀.
// CHECK: %[[U0C:.+]] = linalg.copy ins(%[[U0T]] : tensor<32x16xf32>)
// CHECK: %[[U:.+]] = linalg.generic {indexing_maps = [#[[$A]], #[[$B]], #[[$C]]], {{.*}} ins(%[[WT]], %[[STATE]] : tensor<32x8xf32>, tensor<8x16xf32>) outs(%[[U0C]] : tensor<32x16xf32>)
// S' = d S + K_cᵀ U: S decays as the output of its own update, then the
// product accumulates onto it.
// CHECK: %[[DECAYED:.+]] = linalg.generic {{.*}} outs(%[[STATE]] : tensor<8x16xf32>)
// CHECK: arith.mulf %[[DT]]
// CHECK: %[[NEXT:.+]] = linalg.generic {indexing_maps = [#[[$AT]], #[[$B]], #[[$C]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[KCT]], %[[U]] : tensor<32x8xf32>, tensor<32x16xf32>) outs(%[[DECAYED]] : tensor<8x16xf32>)
// CHECK: %[[UNEXT:.+]] = tensor.insert_slice %[[U]] into %[[UC]][%[[N2]], 0, 0] [1, 32, 16]
// CHECK: scf.yield %[[NEXT]], %[[UNEXT]], %[[STARTED]]
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %[[WALK]]#1 into %[[UO]][%[[B2]], %[[H2]], 0, 0, 0] [1, 1, 2, 32, 16]
// CHECK-NEXT: tensor.parallel_insert_slice %[[WALK]]#2 into %[[SO]][%[[B2]], %[[H2]], 0, 0, 0] [1, 1, 2, 8, 16]
// CHECK-NEXT: tensor.parallel_insert_slice %[[WALK]]#0 into %[[FO]][%[[B2]], %[[H2]], 0, 0] [1, 1, 8, 16]

// Stage 3, one iteration per (batch, head, tile): O = diag(r) (q S) + P U,
// q the input's tile, widened where it is read.
// CHECK: %[[OUT:.+]] = scf.forall (%[[B3:.+]], %[[H3:.+]], %[[N3:.+]]) in (2, 4, 2) shared_outs(%[[OO:.+]] = %{{.+}}) -> (tensor<2x64x4x16xbf16>)
// CHECK: %[[T3:.+]] = arith.muli %[[N3]], %c32
// CHECK: %[[QT:.+]] = tensor.extract_slice %[[QP]][%[[B3]], %[[T3]], %[[H3]], 0] [1, 32, 1, 8]
// CHECK: %[[QW:.+]] = linalg.generic {{.*}} ins(%[[QT]] : tensor<32x8xbf16>) outs(%{{.+}} : tensor<32x8xf32>)
// CHECK: %[[ST:.+]] = tensor.extract_slice %[[PASS]]#1[%[[B3]], %[[H3]], %[[N3]], 0, 0] [1, 1, 1, 8, 16]
// CHECK: %[[INTER:.+]] = linalg.generic {indexing_maps = [#[[$A]], #[[$B]], #[[$C]]], {{.*}} ins(%[[QW]], %[[ST]] : tensor<32x8xf32>, tensor<8x16xf32>)
// CHECK: %[[PT:.+]] = tensor.extract_slice %[[TERMS]]#2[%[[B3]], %[[H3]], %[[N3]], 0, 0] [1, 1, 1, 32, 32]
// CHECK: %[[UT:.+]] = tensor.extract_slice %[[PASS]]#0[%[[B3]], %[[H3]], %[[N3]], 0, 0] [1, 1, 1, 32, 16]
// CHECK: %[[INTRA:.+]] = linalg.generic {indexing_maps = [#[[$A]], #[[$B]], #[[$C]]], {{.*}} ins(%[[PT]], %[[UT]] : tensor<32x32xf32>, tensor<32x16xf32>)
// CHECK: %[[RT:.+]] = tensor.extract_slice %[[TERMS]]#3[%[[B3]], %[[H3]], %[[N3]], 0] [1, 1, 1, 32]
// CHECK: %[[OT:.+]] = linalg.generic {{.*}} ins(%[[INTER]], %[[INTRA]], %[[RT]] : {{.*}} outs(%{{.+}} : tensor<32x16xbf16>)
// CHECK-NEXT: ^bb0(%[[X:.+]]: f32, %[[Y:.+]]: f32, %[[RI:.+]]: f32, %{{.+}}: bf16)
// CHECK-NEXT: %[[RX:.+]] = arith.mulf %[[RI]], %[[X]]
// CHECK-NEXT: arith.addf %[[RX]], %[[Y]]
// CHECK: arith.truncf %{{.+}} : f32 to bf16
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %[[OT]] into %[[OO]][%[[B3]], %[[T3]], %[[H3]], 0] [1, 32, 1, 16]
// The padding rows are dropped.
// CHECK: %[[REAL:.+]] = tensor.extract_slice %[[OUT]][0, 0, 0, 0] [2, 40, 4, 16] [1, 1, 1, 1]
// CHECK: return %[[REAL]], %[[PASS]]#2
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

// Value dim 256: the outputs run in groups of 128 value columns, two
// iterations a tile (adjacent, so that the tile's q, r and P they both read
// are fresh in L2); iteration i reads tile i / 2's and columns
// 128 · (i mod 2) of its start state and U, and writes those of o.
// CHECK-LABEL: func.func @wide_values
// CHECK: scf.forall (%{{.+}}, %{{.+}}, %[[I:.+]]) in (1, 1, 4) shared_outs(%[[O:.+]] = %{{.+}}) -> (tensor<1x64x1x256xf32>)
// CHECK: %[[GROUP:.+]] = arith.remui %[[I]], %c2
// CHECK: %[[COL:.+]] = arith.muli %[[GROUP]], %c128
// CHECK: %[[TILE:.+]] = arith.divui %[[I]], %c2
// CHECK: %[[T0:.+]] = arith.muli %[[TILE]], %c32
// CHECK: tensor.extract_slice %{{.+}}[%{{.+}}, %[[T0]], %{{.+}}, 0] [1, 32, 1, 4]
// CHECK: tensor.extract_slice %{{.+}}[%{{.+}}, %{{.+}}, %[[TILE]], 0, %[[COL]]] [1, 1, 1, 4, 128]
// CHECK: tensor.extract_slice %{{.+}}[%{{.+}}, %{{.+}}, %[[TILE]], 0, 0] [1, 1, 1, 32, 32]
// CHECK: tensor.extract_slice %{{.+}}[%{{.+}}, %{{.+}}, %[[TILE]], 0, %[[COL]]] [1, 1, 1, 32, 128]
// CHECK: tensor.extract_slice %{{.+}}[%{{.+}}, %{{.+}}, %[[TILE]], 0] [1, 1, 1, 32]
// CHECK: tensor.parallel_insert_slice %{{.+}} into %[[O]][%{{.+}}, %[[T0]], %{{.+}}, %[[COL]]] [1, 32, 1, 128]
func.func @wide_values(%q: tensor<1x64x1x4xf32>, %v: tensor<1x64x1x256xf32>,
                       %g: tensor<1x64x1xf32>, %route: tensor<1x2x1xi1>)
    -> (tensor<1x64x1x256xf32>, tensor<1x1x4x256xf32>) {
  %o, %s = nats.gated_delta(%q, %q, %v, %g, %g) route(%route)
      {chunk_size = 32 : i64, scale = 0.5 : f32}
      : (tensor<1x64x1x4xf32>, tensor<1x64x1x4xf32>, tensor<1x64x1x256xf32>,
         tensor<1x64x1xf32>, tensor<1x64x1xf32>, tensor<1x2x1xi1>)
      -> (tensor<1x64x1x256xf32>, tensor<1x1x4x256xf32>)
  return %o, %s : tensor<1x64x1x256xf32>, tensor<1x1x4x256xf32>
}

// -----

// A chunk (64) larger than tile-size (32) makes the tile one chunk; T = 128
// needs no padding: 2 tiles and no crop. Without initial_state the state
// starts at zero; without qk_l2norm q is only scaled. f32 needs no widening
// or narrowing. The inverse (I + A)⁻¹ starts from the 4 diagonal blocks of
// the 64-row tile, inverted in one forall over their 64 columns.
// CHECK-LABEL: func.func @chunk_above_tile_size
// CHECK-NOT: tensor.pad
// CHECK: scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (1, 2, 2)
// CHECK-NOT: arith.extf
// CHECK-NOT: math.rsqrt
// CHECK: scf.forall (%{{.+}}) in (64) {{.*}} -> (tensor<64x16xf32>, tensor<64x64xf32>)
// CHECK-NOT: scf.forall (%{{.+}}) in (64)
// CHECK-NOT: arith.extf
// CHECK-NOT: math.rsqrt
// CHECK: scf.forall (%{{.+}}, %{{.+}}) in (1, 2)
// CHECK: %[[ZERO:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<4x8xf32>)
// CHECK: scf.for %{{.+}} = %c0 to %c2 step %c1 iter_args(%{{.+}} = %[[ZERO]], %{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}) -> (tensor<4x8xf32>, tensor<2x64x8xf32>, tensor<2x4x8xf32>)
// CHECK: %[[OUT:.+]] = scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) in (1, 2, 2) {{.*}} -> (tensor<1x128x2x8xf32>)
// CHECK-NOT: arith.truncf
// CHECK-NOT: tensor.extract_slice %[[OUT]]
// CHECK: return %[[OUT]]
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
