#!/usr/bin/env bash
# On the build machine: everything the GPU machine needs, in .device/ (git
# ignores it; name it in the device tool's `carry`). The GPU machine has no
# MLIR, so the products are compiled here: the CUDA runtime, and every
# function the GPU checks run, in a cache that travels with them; and the
# wheels of the FLA baseline (the GPU machine has no internet).
#
#   utils/build.sh && bench/gpu_prepare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/gpu_cases.sh
cmake --build build >/dev/null  # the staged package must be current
mkdir -p .device/lib .device/cache
cp build/lib/libnats_cuda_runtime.so .device/lib/
export PYTHONPATH=$PWD/build/python_packages NATS_CACHE_DIR=$PWD/.device/cache
# Every product this run compiles or uses again is newer than the stamp; the
# rest is pruned at the end, so that .device stays within what may be carried.
stamp=$(mktemp)
trap 'rm -f "$stamp"' EXIT
# "" is the default pipeline.
for pipeline in "" "${OTHER_PIPELINES[@]}"; do
  python3 -m pytest -q -p no:cacheprovider test/python/test_hybrid_attention.py \
    --target=cuda --compile-only ${pipeline:+--pipeline="$pipeline"}
done
for pipeline in "" "${LAYER_PIPELINES[@]}"; do
  for sizes in "" "$PAPER_LAYER"; do
    python3 examples/run_layer.py --target cuda --compile-only $sizes \
      ${pipeline:+--pipeline "$pipeline"}
  done
done
python3 bench/fla_compare.py --prepare
PYTHONPATH=$PYTHONPATH:bench python3 bench/gpu_bench.py --prepare >/dev/null
find .device/cache -type f ! -newer "$stamp" -delete
# The FLA baseline travels as wheels (pure Python; torch and triton are there).
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux_2_28_x86_64 -d .device/whl \
  flash-linear-attention==0.6.0 fla-core==0.6.0
du -sh .device
