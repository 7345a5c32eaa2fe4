#!/usr/bin/env bash
# The main job: compile the example NAtS-L layer graph with nats-opt.
# Until the CPU lowering lands (issue 4) this verifies and prints the graph;
# then it will also run it against the float64 reference.
set -euo pipefail
cd "$(dirname "$0")/.."

example=examples/nats_l_layer.mlir
echo "== nats-opt $example"
build/bin/nats-opt "$example"
echo "== $example verifies"
