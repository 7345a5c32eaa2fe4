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

} // namespace mlir::nats

#endif // NATS_DIALECT_NATS_TRANSFORMS_TRANSFORMS_H
