//===- RewriteAll.h - rewrite every op of a kind, or say why not *- C++ -*-===//
//
// The passes that lower a nats op apply their patterns and then every op of
// that kind must be gone; one that is left gets a diagnostic at its location
// instead of surviving into a later pass that cannot handle it.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_DIALECT_NATS_TRANSFORMS_REWRITEALL_H
#define LIB_DIALECT_NATS_TRANSFORMS_REWRITEALL_H

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::nats {

/// Applies `patterns` greedily under `root`; then emits "`reason`" at every
/// op of type `OpT` still there. Fails if any was left.
template <typename OpT>
LogicalResult rewriteAllOrReport(Operation *root, RewritePatternSet &&patterns,
                                 StringRef reason) {
  if (failed(applyPatternsGreedily(root, std::move(patterns))))
    return root->emitError() << "nats: rewriting " << OpT::getOperationName()
                             << " did not converge";
  bool left = false;
  root->walk([&](OpT op) {
    op.emitOpError() << reason;
    left = true;
  });
  return failure(left);
}

} // namespace mlir::nats

#endif // LIB_DIALECT_NATS_TRANSFORMS_REWRITEALL_H
