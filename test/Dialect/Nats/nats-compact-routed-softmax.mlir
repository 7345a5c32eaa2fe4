// RUN: nats-opt %s --nats-compact-routed-softmax="block-size=32" --canonicalize \
// RUN:   --cse --split-input-file --verify-diagnostics \
// RUN:   | FileCheck %s --implicit-check-not=nats.routed_softmax \
// RUN:     --implicit-check-not='tensor<40x40x' --implicit-check-not='tensor<64x64x' \
// RUN:     --implicit-check-not='tensor<100x100x' --implicit-check-not='tensor<128x128x'
//
// The implicit checks: no T×T (or padded T×T) tensor anywhere; scores are
// query block × key block tiles only.

// T = 40, chunk 16, window 20, query blocks of 32 tokens (two chunks), so a
// full key block gathers two kept chunks; f16 in, f32 inside.
// CHECK-LABEL: func.func @window_band
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<2x40x4x8xf16>, %[[K:[^:]+]]: tensor<2x40x4x8xf16>, %[[V:[^:]+]]: tensor<2x40x4x6xf16>, %[[ROUTE:[^:]+]]: tensor<2x3x2xi1>)
// CHECK-DAG: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[NEG_INF:.+]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[LOG2E:.+]] = arith.constant 1.44269502 : f32
// CHECK-DAG: %[[SCALE:.+]] = arith.constant 3.500000e-01 : f32
// Tokens padded to whole blocks (64).
// CHECK-DAG: %[[QP:.+]] = tensor.pad %[[Q]] low[0, 0, 0, 0] high[0, 24, 0, 0]
// CHECK-DAG: %[[KP:.+]] = tensor.pad %[[K]] low[0, 0, 0, 0] high[0, 24, 0, 0]
// CHECK-DAG: %[[VP:.+]] = tensor.pad %[[V]] low[0, 0, 0, 0] high[0, 24, 0, 0]
//
// Compaction, once per (batch, router head), data-parallel: the route bits
// as indices; their inclusive prefix sum by doubling (shifts 1 and 2 for 3
// chunks); each chunk's slot (the exclusive sum); and the list of kept
// chunks by slot, 4 long (two key blocks of two), each slot a binary search
// of the sums.
// CHECK: %[[LISTS:.+]]:2 = scf.forall (%[[LB:.+]], %[[LR:.+]]) in (2, 2) shared_outs(%[[SLOTS_OUT:.+]] = %{{.+}}, %[[LIST_OUT:.+]] = %{{.+}}) -> (tensor<2x2x3xindex>, tensor<2x2x4xindex>)
// CHECK: %[[BITS:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<3xindex>)
// CHECK: tensor.extract %[[ROUTE]][%[[LB]], %{{.+}}, %[[LR]]]
// CHECK: arith.index_castui
// CHECK: %[[SUM1:.+]] = linalg.generic {{.*}} ins(%[[BITS]] : tensor<3xindex>)
// CHECK: arith.cmpi uge, %{{.+}}, %c1
// CHECK: tensor.extract %[[BITS]]
// CHECK: %[[SUM2:.+]] = linalg.generic {{.*}} ins(%[[SUM1]] : tensor<3xindex>)
// CHECK: arith.cmpi uge, %{{.+}}, %c2
// CHECK: tensor.extract %[[SUM1]]
// CHECK: %[[SLOTS:.+]] = linalg.generic {{.*}} ins(%[[SUM2]], %[[BITS]] : tensor<3xindex>, tensor<3xindex>)
// CHECK: arith.subi
// CHECK: %[[LIST:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<4xindex>)
// CHECK: tensor.extract %[[SUM2]]
// CHECK: arith.cmpi ugt
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %[[SLOTS]] into %[[SLOTS_OUT]][%[[LB]], %[[LR]], 0] [1, 1, 3]
// CHECK-NEXT: tensor.parallel_insert_slice %[[LIST]] into %[[LIST_OUT]][%[[LB]], %[[LR]], 0] [1, 1, 4]
//
// One iteration per (batch, softmax head, query block), each on its own:
// the padded output is cut to T after the loop.
// CHECK: %[[ALL:.+]] = scf.forall (%[[B:.+]], %[[S:.+]], %[[BLK:.+]]) in (2, 4, 2) shared_outs(%[[OUT:.+]] = %{{.+}}) -> (tensor<2x64x4x6xf16>)
// CHECK: %[[R:.+]] = arith.divui %[[S]], %c2
//
// The query block; the queries are scaled once.
// CHECK: %[[T0:.+]] = arith.muli %[[BLK]], %c32
// CHECK: %[[QT:.+]] = tensor.extract_slice %[[QP]][%[[B]], %[[T0]], %[[S]], 0] [1, 32, 1, 8]
// CHECK: %[[QS:.+]] = linalg.generic {{.*}} ins(%[[QT]] : tensor<32x8xf16>)
// CHECK: arith.mulf %{{.+}}, %[[SCALE]]
// CHECK: %[[M0:.+]] = linalg.fill ins(%[[NEG_INF]] : f32) outs(%{{.+}} : tensor<32xf32>)
//
// a. Kept chunks before the block, two per key block, unmasked: the loop
//    bound is the prefix sum at the block's first chunk, rounded down to
//    whole pairs.
// CHECK: %[[C0:.+]] = arith.divui %[[T0]], %c16
// CHECK: %[[BEFORE:.+]] = tensor.extract %[[LISTS]]#0[%[[B]], %[[R]], %[[C0]]] : tensor<2x2x3xindex>
// CHECK: %[[PAIRS:.+]] = arith.divui %[[BEFORE]], %c2
// CHECK: %[[FULL:.+]] = arith.muli %[[PAIRS]], %c2
// CHECK: %[[A:.+]]:3 = scf.for %[[SLOT:.+]] = %c0 to %[[FULL]] step %c2 iter_args(%[[M:.+]] = %[[M0]], %[[L:.+]] = %{{.+}}, %[[ACC:.+]] = %{{.+}}) -> (tensor<32xf32>, tensor<32xf32>, tensor<32x6xf32>)
// Keys gathered through the list.
// CHECK: %[[KEYS:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<32x8xf32>)
// CHECK: arith.addi %[[SLOT]]
// CHECK: tensor.extract %[[LISTS]]#1[%[[B]], %[[R]], %{{.+}}] : tensor<2x2x4xindex>
// CHECK: tensor.extract %[[KP]]
// CHECK-NOT: arith.select %{{.+}}, %{{.+}}, %[[NEG_INF]]
// Q·Kᵀ: a contraction over the key dim.
// CHECK: %[[SC:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[QS]], %[[KEYS]] : tensor<32x8xf32>, tensor<32x8xf32>) outs(%{{.+}} : tensor<32x32xf32>)
// CHECK-NOT: arith.select %{{.+}}, %{{.+}}, %[[NEG_INF]]
// CHECK: %[[VALS:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<32x6xf32>)
// CHECK: tensor.extract %[[VP]]
// CHECK-NOT: arith.select %{{.+}}, %{{.+}}, %[[NEG_INF]]
// Online softmax: m' = max(m, rowmax), p = exp(s - m'), alpha = exp(m - m')
// (exp(x) as 2^(x·log2 e); alpha 1 while m' = -inf; a kept chunk's scores
// are all finite, so p needs no such case), l' = alpha l + rowsum p, acc' =
// alpha acc + P·V.
// CHECK: %[[ROWMAX:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]} ins(%[[SC]] : tensor<32x32xf32>)
// CHECK: arith.maximumf
// CHECK: %[[NEWMAX:.+]] = linalg.generic {{.*}} ins(%[[M]], %[[ROWMAX]] : tensor<32xf32>, tensor<32xf32>)
// CHECK: arith.maximumf
// CHECK: %[[P:.+]] = linalg.generic {{.*}} ins(%[[SC]], %[[NEWMAX]] : tensor<32x32xf32>, tensor<32xf32>)
// CHECK: %[[D:.+]] = arith.subf
// CHECK-NEXT: %[[X:.+]] = arith.mulf %[[D]], %[[LOG2E]] : f32
// CHECK-NEXT: %[[E:.+]] = math.exp2 %[[X]]
// CHECK-NEXT: linalg.yield %[[E]]
// CHECK: %[[ALPHA:.+]] = linalg.generic {{.*}} ins(%[[M]], %[[NEWMAX]] : tensor<32xf32>, tensor<32xf32>)
// CHECK: %[[E2:.+]] = math.exp2
// CHECK: arith.select %{{.+}}, %[[ONE]], %[[E2]]
// CHECK: %[[PSUM:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]} ins(%[[P]] : tensor<32x32xf32>)
// CHECK: %[[NEWL:.+]] = linalg.generic {{.*}} ins(%[[L]], %[[ALPHA]], %[[PSUM]] : tensor<32xf32>, tensor<32xf32>, tensor<32xf32>)
// P·V: a contraction over the keys.
// CHECK: %[[PV:.+]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[P]], %[[VALS]] : tensor<32x32xf32>, tensor<32x6xf32>) outs(%{{.+}} : tensor<32x6xf32>)
// CHECK: %[[NEWACC:.+]] = linalg.generic {{.*}} ins(%[[ACC]], %[[ALPHA]], %[[PV]] : tensor<32x6xf32>, tensor<32xf32>, tensor<32x6xf32>)
// CHECK: scf.yield %[[NEWMAX]], %[[NEWL]], %[[NEWACC]] : tensor<32xf32>, tensor<32xf32>, tensor<32x6xf32>
//
// The odd kept chunk left over fills half a key block: its other half is
// hidden by a column mask.
// CHECK: %[[REST:.+]] = arith.subi %[[BEFORE]], %[[FULL]]
// CHECK: %[[ANY:.+]] = arith.cmpi ne, %[[REST]], %c0
// CHECK: %[[PART:.+]]:3 = scf.if %[[ANY]] -> (tensor<32xf32>, tensor<32xf32>, tensor<32x6xf32>)
// CHECK: tensor.extract %[[LISTS]]#1[%[[B]], %[[R]], %{{.+}}] : tensor<2x2x4xindex>
// CHECK: linalg.index 1
// CHECK: %[[VALID:.+]] = arith.cmpi ult, %{{.+}}, %[[REST]]
// CHECK: arith.select %[[VALID]], %{{.+}}, %[[NEG_INF]]
// CHECK: } else {
// CHECK-NEXT: scf.yield %[[A]]#0, %[[A]]#1, %[[A]]#2
//
// b. The window band: key blocks of 32 from below t0 - 19 up to t0, masked
//    by the rule (causal; same chunk, kept, or in the window) and hiding
//    the kept chunks that (a) counted.
// CHECK: %[[BAND:.+]]:3 = scf.for %[[KS:.+]] = %{{.+}} to %[[T0]] step %c32 iter_args(%{{.+}} = %[[PART]]#0, %{{.+}} = %[[PART]]#1, %{{.+}} = %[[PART]]#2)
// The route bit of each key's chunk, read once per key block (the last
// chunk's for padding keys).
// CHECK: %[[KEPTB:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<32xi1>)
// CHECK: arith.addi %[[KS]]
// CHECK: arith.minui %{{.+}}, %c2
// CHECK: tensor.extract %[[ROUTE]][%[[B]], %{{.+}}, %[[R]]]
// CHECK: tensor.extract_slice %[[KP]][%[[B]], %[[KS]], %[[S]], 0] [1, 32, 1, 8]
// CHECK: ins(%{{.+}}, %[[KEPTB]] : tensor<32x32xf32>, tensor<32xi1>)
// CHECK: arith.cmpi eq
// CHECK: arith.cmpi ult, %{{.+}}, %c20
// CHECK: arith.cmpi ult, %{{.+}}, %[[C0]]
// CHECK: arith.cmpi ule
// CHECK: arith.select %{{.+}}, %{{.+}}, %[[NEG_INF]]
// CHECK: math.exp2
// CHECK: scf.yield
//
// c. The block's own keys, masked by the same rule: p is 0 exactly where
//    the mask hid the score; then os = acc · (1 / l), one division a row.
// CHECK: %[[KEPTD:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<32xi1>)
// CHECK: arith.addi %[[T0]]
// CHECK: arith.minui %{{.+}}, %c2
// CHECK: tensor.extract %[[ROUTE]][%[[B]], %{{.+}}, %[[R]]]
// CHECK: %[[HID:.+]] = linalg.generic {{.*}} ins(%{{.+}}, %[[KEPTD]] : tensor<32x32xf32>, tensor<32xi1>)
// CHECK: arith.select %{{.+}}, %{{.+}}, %[[NEG_INF]]
// CHECK: linalg.generic {{.*}} ins(%[[HID]], %{{.+}} : tensor<32x32xf32>, tensor<32xf32>)
// CHECK-NEXT: ^bb0(%[[SCORE:[^:]+]]: f32,
// CHECK: %[[E3:.+]] = math.exp2
// CHECK-NEXT: %[[GONE:.+]] = arith.cmpf oeq, %[[SCORE]], %[[NEG_INF]] : f32
// CHECK-NEXT: arith.select %[[GONE]], %[[ZERO]], %[[E3]]
// CHECK: %[[INV:.+]] = linalg.generic {{.*}} ins(%{{[^ ,]+}} : tensor<32xf32>) outs(%{{.+}} : tensor<32xf32>)
// CHECK-NEXT: ^bb0(%[[SUM:[^:]+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: arith.divf %[[ONE]], %[[SUM]] : f32
// CHECK: linalg.generic {{.*}} ins(%{{.+}}, %[[INV]] : tensor<32x6xf32>, tensor<32xf32>)
// CHECK-NOT: arith.divf
// CHECK: arith.mulf
// CHECK-NEXT: arith.truncf %{{.+}} : f32 to f16
// CHECK: scf.forall.in_parallel
// CHECK-NEXT: tensor.parallel_insert_slice %{{.+}} into %[[OUT]][%[[B]], %[[T0]], %[[S]], 0] [1, 32, 1, 6] [1, 1, 1, 1] : tensor<32x6xf16> into tensor<2x64x4x6xf16>
// CHECK: %[[REAL:.+]] = tensor.extract_slice %[[ALL]][0, 0, 0, 0] [2, 40, 4, 6] [1, 1, 1, 1] : tensor<2x64x4x6xf16> to tensor<2x40x4x6xf16>
// CHECK: return %[[REAL]]
func.func @window_band(%q: tensor<2x40x4x8xf16>, %k: tensor<2x40x4x8xf16>,
                       %v: tensor<2x40x4x6xf16>, %route: tensor<2x3x2xi1>)
    -> tensor<2x40x4x6xf16> {
  %os = nats.routed_softmax(%q, %k, %v) route(%route)
      {chunk_size = 16 : i64, window = 20 : i64, scale = 0.35 : f32}
      : (tensor<2x40x4x8xf16>, tensor<2x40x4x8xf16>, tensor<2x40x4x6xf16>,
         tensor<2x3x2xi1>) -> tensor<2x40x4x6xf16>
  return %os : tensor<2x40x4x6xf16>
}

// -----

// A chunk (64) longer than a block (32): a full key block is one kept chunk,
// read as a slice (f32: no copy), so there is no partial group; a block may
// start inside its chunk, so a masked band reads the chunk's earlier keys
// even without a window.
// CHECK-LABEL: func.func @chunk_above_block
// CHECK-SAME: (%{{[^:]+}}: tensor<1x100x2x8xf32>, %[[K:[^:]+]]: tensor<1x100x2x8xf32>
// CHECK-DAG: %[[NEG_INF:.+]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[KP:.+]] = tensor.pad %[[K]] low[0, 0, 0, 0] high[0, 28, 0, 0]
// With one batch and one router head, the lists' forall has one iteration,
// which canonicalization folds (nats-gpu keeps it: nats-gpu-map-blocks).
// CHECK: %[[SLOTS:.+]] = linalg.generic {{.*}} ins(%{{.+}}, %{{.+}} : tensor<2xindex>, tensor<2xindex>)
// CHECK: %[[LIST:.+]] = linalg.generic {{.*}} outs(%{{.+}} : tensor<2xindex>)
// CHECK: %[[ALL_SLOTS:.+]] = tensor.insert_slice %[[SLOTS]] into %{{.+}}[0, 0, 0] [1, 1, 2]
// CHECK: %[[ALL_LISTS:.+]] = tensor.insert_slice %[[LIST]] into %{{.+}}[0, 0, 0] [1, 1, 2]
// CHECK: scf.forall (%[[S:.+]], %[[BLK:.+]]) in (2, 4)
// CHECK: %[[R:.+]] = arith.divui %[[S]], %c2
// CHECK: %[[T0:.+]] = arith.muli %[[BLK]], %c32
// CHECK: %[[C0:.+]] = arith.divui %[[T0]], %c64
// CHECK: %[[BEFORE:.+]] = tensor.extract %[[ALL_SLOTS]][%c0, %[[R]], %[[C0]]]
// CHECK: scf.for %[[SLOT:.+]] = %c0 to %[[BEFORE]] step %c1
// CHECK: %[[CHUNK:.+]] = tensor.extract %[[ALL_LISTS]][%c0, %[[R]], %[[SLOT]]]
// CHECK: %[[START:.+]] = arith.muli %[[CHUNK]], %c64
// CHECK: %[[KEYS:.+]] = tensor.extract_slice %[[KP]][0, %[[START]], %{{.+}}, 0] [1, 64, 1, 8]
// CHECK-NOT: arith.select %{{.+}}, %{{.+}}, %[[NEG_INF]]
// CHECK: ins(%{{.+}}, %[[KEYS]] : tensor<32x8xf32>, tensor<64x8xf32>) outs(%{{.+}} : tensor<32x64xf32>)
// CHECK-NOT: arith.select %{{.+}}, %{{.+}}, %[[NEG_INF]]
// CHECK: scf.yield
// CHECK-NOT: scf.if
// The band starts at the own chunk's start, aligned down to a block.
// CHECK: %[[LO:.+]] = arith.muli %[[C0]], %c64
// CHECK: %[[FROM_BLOCKS:.+]] = arith.divui %[[LO]], %c32
// CHECK: %[[FROM:.+]] = arith.muli %[[FROM_BLOCKS]], %c32
// CHECK: scf.for %{{.+}} = %[[FROM]] to %[[T0]] step %c32
// CHECK: arith.select %{{.+}}, %{{.+}}, %[[NEG_INF]]
// CHECK: scf.yield
// The block's own keys all lie in its queries' chunk (32 divides 64): the
// mask is key <= query alone, and no route bit is read.
// CHECK-NOT: tensor<32xi1>
// CHECK: %[[OWN:.+]] = arith.cmpi ule, %{{.+}}, %{{.+}} : index
// CHECK-NEXT: arith.select %[[OWN]], %{{.+}}, %[[NEG_INF]]
// CHECK: arith.divf
func.func @chunk_above_block(%q: tensor<1x100x2x8xf32>, %k: tensor<1x100x2x8xf32>,
                             %v: tensor<1x100x2x4xf32>, %route: tensor<1x2x1xi1>)
    -> tensor<1x100x2x4xf32> {
  %os = nats.routed_softmax(%q, %k, %v) route(%route)
      {chunk_size = 64 : i64, scale = 0.35 : f32}
      : (tensor<1x100x2x8xf32>, tensor<1x100x2x8xf32>, tensor<1x100x2x4xf32>,
         tensor<1x2x1xi1>) -> tensor<1x100x2x4xf32>
  return %os : tensor<1x100x2x4xf32>
}

// -----

// Blocks of whole chunks and a window of one token (the token itself, in
// its own chunk): no band loop, only the kept-chunk loop (the compaction
// has none); the diagonal block has no window compare.
// CHECK-LABEL: func.func @no_band
// CHECK-COUNT-1: scf.for %
// CHECK-NOT: scf.for %
// CHECK-NOT: arith.cmpi ult, %{{.+}}, %c1 :
// CHECK: return
func.func @no_band(%q: tensor<1x64x1x8xf32>, %route: tensor<1x4x1xi1>) -> tensor<1x64x1x8xf32> {
  %os = nats.routed_softmax(%q, %q, %q) route(%route)
      {chunk_size = 16 : i64, window = 1 : i64, scale = 0.35 : f32}
      : (tensor<1x64x1x8xf32>, tensor<1x64x1x8xf32>, tensor<1x64x1x8xf32>,
         tensor<1x4x1xi1>) -> tensor<1x64x1x8xf32>
  return %os : tensor<1x64x1x8xf32>
}

// -----

func.func @dynamic_tokens(%q: tensor<1x?x1x4xf32>, %route: tensor<1x?x1xi1>) -> tensor<1x?x1x4xf32> {
  // expected-error @+1 {{'nats.routed_softmax' op could not be lowered: needs static shapes and a positive block-size}}
  %os = nats.routed_softmax(%q, %q, %q) route(%route) {scale = 0.5 : f32}
      : (tensor<1x?x1x4xf32>, tensor<1x?x1x4xf32>, tensor<1x?x1x4xf32>,
         tensor<1x?x1xi1>) -> tensor<1x?x1x4xf32>
  return %os : tensor<1x?x1x4xf32>
}

// -----

// Static operands, but a dynamic result: rejected too.
func.func @dynamic_result(%q: tensor<1x8x1x4xf32>, %route: tensor<1x1x1xi1>) -> tensor<1x?x1x4xf32> {
  // expected-error @+1 {{'nats.routed_softmax' op could not be lowered: needs static shapes and a positive block-size}}
  %os = nats.routed_softmax(%q, %q, %q) route(%route) {chunk_size = 8 : i64, scale = 0.5 : f32}
      : (tensor<1x8x1x4xf32>, tensor<1x8x1x4xf32>, tensor<1x8x1x4xf32>,
         tensor<1x1x1xi1>) -> tensor<1x?x1x4xf32>
  return %os : tensor<1x?x1x4xf32>
}
