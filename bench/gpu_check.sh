#!/usr/bin/env bash
# On the GPU machine, from products that bench/gpu_prepare.sh made: the
# correctness matrix of nats.hybrid_attention (test/python/
# test_hybrid_attention.py) on the GPU against the float64 reference, with
# fresh random inputs (a new --seed each run; SEED=N repeats one) and
# outputs poisoned with NaN before each launch; the example layer on the
# GPU and the layer at the paper's 340M sizes in bf16, both again through
# each of LAYER_PIPELINES; the matrix again through each of OTHER_PIPELINES
# (bench/gpu_cases.sh); and nats against
# FLA's chunk_gated_delta_rule (bench/fla_compare.py).
# Ends with the tables of measured errors.
#
#   bench/gpu_check.sh          (the device tool: carry [".device"])
set -uo pipefail
cd "$(dirname "$0")/.."
source bench/gpu_cases.sh
source bench/gpu_caches.sh
export PYTHONPATH=$PWD/python NATS_CACHE_DIR=${NATS_CACHE_DIR:-$PWD/.device/cache} \
       NATS_CUDA_RUNTIME=$PWD/.device/lib/libnats_cuda_runtime.so
seed=${SEED:-$RANDOM}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo "seed $seed"
status=0
# "" is the default pipeline; the example layer, then the 340M one.
for pipeline in "" "${LAYER_PIPELINES[@]}"; do
  for sizes in "" "$PAPER_LAYER"; do
    echo "the ${sizes:+340M }layer through ${pipeline:-the default pipeline}"
    python3 examples/run_layer.py --target cuda --seed "$seed" $sizes \
      ${pipeline:+--pipeline "$pipeline"} || status=1
  done
done
for pipeline in "" "${OTHER_PIPELINES[@]}"; do
  echo "the matrix through ${pipeline:-the default pipeline}"
  python3 -m pytest -q -p no:cacheprovider test/python/test_hybrid_attention.py \
    --target=cuda --seed="$seed" ${pipeline:+--pipeline="$pipeline"} "$@" || status=1
done
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/fla .device/whl/*.whl \
  && PYTHONPATH=$PYTHONPATH:/tmp/fla python3 bench/fla_compare.py --seed "$seed" || status=1
exit $status
