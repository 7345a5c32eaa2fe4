//===- nats-opt.cpp - the nats optimizer driver ---------------------------===//
//
// An mlir-opt-style driver with the nats dialect, passes and pipelines next to
// the upstream dialects and passes that nats IR is lowered through.
//
//===----------------------------------------------------------------------===//

#include "nats/InitAllNats.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::nats::registerNatsPasses();

  mlir::DialectRegistry registry;
  mlir::nats::registerNatsCompilerDialects(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "nats optimizer driver\n", registry));
}
