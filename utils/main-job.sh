#!/usr/bin/env bash
# The main job: compile the example NAtS-L layer graph (nats.layer.graph in
# python/nats/layer.py; the build writes it to build/examples/nats_l_layer.mlir)
# with nats for the CPU, run it on inputs and weights from a fixed seed, and
# print its error against the float64 reference and the time taken.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHONPATH=build/python_packages python3 examples/run_layer.py "$@"
