#!/usr/bin/env bash
# On the GPU machine, from products that bench/gpu_prepare.sh made: the
# correctness matrix of nats.hybrid_attention (test/python/
# test_hybrid_attention.py) on the GPU against the float64 reference, with
# fresh random inputs (a new --seed each run; SEED=N repeats one) and
# outputs poisoned with NaN before each launch. Ends with the table of
# measured errors.
#
#   bench/gpu_check.sh          (the device tool: carry [".device"])
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD/python NATS_CACHE_DIR=$PWD/.device/cache \
       NATS_CUDA_RUNTIME=$PWD/.device/lib/libnats_cuda_runtime.so
seed=${SEED:-$RANDOM}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
echo "seed $seed"
python3 examples/run_layer.py --target cuda
python3 -m pytest -q -p no:cacheprovider test/python/test_hybrid_attention.py \
  --target=cuda --seed="$seed" "$@"
