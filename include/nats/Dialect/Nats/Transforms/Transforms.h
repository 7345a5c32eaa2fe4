//===- Transforms.h - nats rewrite patterns ---------------------*- C++ -*-===//
//
// The populate functions that hold the logic of the nats passes; passes,
// pipelines and transform ops share them.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_DIALECT_NATS_TRANSFORMS_TRANSFORMS_H
#define NATS_DIALECT_NATS_TRANSFORMS_TRANSFORMS_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::nats {

/// Rewrites `nats.chunk_route` into tensor and linalg ops.
void populateNatsDecomposeChunkRoutePatterns(RewritePatternSet &patterns,
                                             PatternBenefit benefit = 1);

/// Rewrites `nats.hybrid_attention` into `nats.gated_delta` and
/// `nats.routed_softmax`.
void populateNatsSplitBranchesPatterns(RewritePatternSet &patterns,
                                       PatternBenefit benefit = 1);

/// Lowers `nats.gated_delta` to the chunked WY/UT form with tiles of about
/// `tileSize` tokens, and `valueTile` state columns an iteration of the state
/// pass where that divides V (0: all of them), or with `smCount` (> 0) SMs
/// the width with the fewest waves of them (by a measured cost); with
/// `roundOutputTerms` the terms only the outputs read, with
/// `roundStateTerms` −W and K_c, are stored in the inputs' element type (see
/// NatsFuseGatedDeltaPass).
void populateNatsFuseGatedDeltaPatterns(RewritePatternSet &patterns,
                                        int64_t tileSize, int64_t valueTile,
                                        int64_t smCount = 0,
                                        bool roundOutputTerms = false,
                                        bool roundStateTerms = false,
                                        PatternBenefit benefit = 1);

/// Lowers `nats.routed_softmax` to kept-chunk compaction and an online
/// softmax over query blocks of `blockSize` tokens.
void populateNatsCompactRoutedSoftmaxPatterns(RewritePatternSet &patterns,
                                              int64_t blockSize,
                                              PatternBenefit benefit = 1);

} // namespace mlir::nats

#endif // NATS_DIALECT_NATS_TRANSFORMS_TRANSFORMS_H
