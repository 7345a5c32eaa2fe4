//===- TileHybridAttention.cpp - placeholder, being written ---------------===//

#include "nats/Dialect/Nats/IR/NatsOps.h"
#include "nats/Dialect/Nats/Transforms/Passes.h"

namespace mlir::nats {
#define GEN_PASS_DEF_NATSTILEHYBRIDATTENTIONPASS
#include "nats/Dialect/Nats/Transforms/Passes.h.inc"
} // namespace mlir::nats

using namespace mlir;

namespace {
struct NatsTileHybridAttentionPass
    : nats::impl::NatsTileHybridAttentionPassBase<NatsTileHybridAttentionPass> {
  using Base::Base;
  void runOnOperation() override {}
};
} // namespace
