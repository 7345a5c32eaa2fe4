#!/usr/bin/env bash
# On the GPU machine, from products that bench/gpu_prepare.sh made: nats
# against FLA and SDPA on the cases of bench/gpu_bench.py (M1, M2, M3). Writes
# every number to $OUT/gpu_bench.json (or ./gpu_bench.json); prints the tables
# last.
#
#   bench/gpu_bench.sh [--groups M1,M2,M3]      (the device tool: carry [".device"])
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/gpu_caches.sh
export PYTHONPATH=$PWD/python NATS_CACHE_DIR=${NATS_CACHE_DIR:-$PWD/.device/cache} \
       NATS_CUDA_RUNTIME=$PWD/.device/lib/libnats_cuda_runtime.so
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/fla .device/whl/*.whl
PYTHONPATH=$PYTHONPATH:/tmp/fla python3 bench/gpu_bench.py --out "${OUT:-.}/gpu_bench.json" "$@"
