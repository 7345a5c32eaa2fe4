//===- Transforms.h - nats rewrite patterns ---------------------*- C++ -*-===//
//
// The populate functions that hold the logic of the nats passes; passes,
// pipelines and transform ops share them.
//
//===----------------------------------------------------------------------===//

#ifndef NATS_DIALECT_NATS_TRANSFORMS_TRANSFORMS_H
#define NATS_DIALECT_NATS_TRANSFORMS_TRANSFORMS_H

#include "nats/Dialect/Nats/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::nats {

/// Rewrites `nats.chunk_route` into tensor and linalg ops.
void populateNatsDecomposeChunkRoutePatterns(RewritePatternSet &patterns,
                                             PatternBenefit benefit = 1);

/// Rewrites `nats.hybrid_attention` into `nats.gated_delta` and
/// `nats.routed_softmax`.
void populateNatsSplitBranchesPatterns(RewritePatternSet &patterns,
                                       PatternBenefit benefit = 1);

/// Lowers `nats.gated_delta` to the chunked WY/UT form, as `options` say
/// (see NatsFuseGatedDeltaPass: the tile size, the state pass's columns an
/// iteration, the 16-bit terms).
void populateNatsFuseGatedDeltaPatterns(
    RewritePatternSet &patterns, const NatsFuseGatedDeltaPassOptions &options,
    PatternBenefit benefit = 1);

/// Lowers `nats.routed_softmax` to kept-chunk compaction and an online
/// softmax over query blocks of `blockSize` tokens.
void populateNatsCompactRoutedSoftmaxPatterns(RewritePatternSet &patterns,
                                              int64_t blockSize,
                                              PatternBenefit benefit = 1);

} // namespace mlir::nats

#endif // NATS_DIALECT_NATS_TRANSFORMS_TRANSFORMS_H
