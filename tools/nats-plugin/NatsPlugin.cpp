//===- NatsPlugin.cpp - nats as a plugin of stock mlir-opt ----------------===//
//
// `mlir-opt --load-dialect-plugin=NatsPlugin.so --load-pass-plugin=...` gets
// the nats dialect and every nats pass and pipeline.
//
//===----------------------------------------------------------------------===//

#include "nats/InitAllNats.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/Plugins/DialectPlugin.h"
#include "mlir/Tools/Plugins/PassPlugin.h"
#include "llvm/Config/llvm-config.h"

using namespace mlir;

extern "C" LLVM_ATTRIBUTE_WEAK DialectPluginLibraryInfo
mlirGetDialectPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "NatsDialect", LLVM_VERSION_STRING,
          [](DialectRegistry *registry) {
            nats::registerNatsDialects(*registry);
          }};
}

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo mlirGetPassPluginInfo() {
  return {MLIR_PLUGIN_API_VERSION, "NatsPasses", LLVM_VERSION_STRING,
          []() { nats::registerNatsPasses(); }};
}
