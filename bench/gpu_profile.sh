#!/usr/bin/env bash
# On the GPU machine: one nats call under Nsight Compute, from the products
# of bench/gpu_prepare.sh: at bench/fla_compare.py's first shape, or with
# B T H D RHO at that case of bench/gpu_bench.py's M3 group (a softmax head
# of the same dim per head; with HS DS, HS softmax heads of dim DS: 1 16 is
# an M1 or M2 case), through PIPELINE if set. Prints, per kernel, its time,
# launch geometry, registers, shared memory, tensor instructions, throughputs
# and shared-memory bank conflicts, then each kernel's speed of light, warp
# states and occupancy. The clocks stay as the card has them. With SASS_OUT=DIR, also
# the nats kernels' SASS with their sampled warp stalls (Nsight Compute's
# source page, CSV, one profiled run) in DIR/sass.csv, for
# bench/sass_phases.py (KERNELS: a regex of the kernels to sample, by default
# all of nats').
#
#   [SASS_OUT=$OUT] [PIPELINE=...] bench/gpu_profile.sh [B T H D RHO [HS DS]]
#                                                      (the device tool: carry [".device"])
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=$PWD/python:$PWD/bench NATS_CACHE_DIR=${NATS_CACHE_DIR:-$PWD/.device/cache} \
       NATS_CUDA_RUNTIME=$PWD/.device/lib/libnats_cuda_runtime.so
NCU=$(command -v ncu || ls /usr/local/cuda*/bin/ncu | head -1)
one=$(mktemp --suffix=.py)
cat > "$one" <<'PY'
import os
import sys
import torch
import fla_compare, gpu_bench, nats
from nats import cuda
if len(sys.argv) > 1:
    B, T, H, D = map(int, sys.argv[1:5])
    Hs, Ds = map(int, sys.argv[6:8]) if len(sys.argv) > 6 else (H, D)
    c = gpu_bench.Case("M3", B, T, H, D, Hs, Ds, Hs, float(sys.argv[5]))
    x = {n: cuda.from_torch(t) for n, t in
         gpu_bench.random_inputs(torch, c, torch.Generator(device="cuda")).items()}
    K = D
else:
    B, T, H, K, V = fla_compare.SHAPES[0]
    x = fla_compare.inputs(B, T, H, K, V, 1)
nats.hybrid_attention(**x, chunk_size=fla_compare.CHUNK, scale=K ** -0.5, target="cuda",
                      pipeline=os.environ.get("PIPELINE") or None)
PY
metrics=gpu__time_duration.sum,launch__grid_size,launch__block_size
metrics+=,launch__registers_per_thread,launch__shared_mem_per_block_dynamic
metrics+=,sm__inst_executed_pipe_tensor_op_hmma.sum
metrics+=,sm__throughput.avg.pct_of_peak_sustained_elapsed
metrics+=,l1tex__throughput.avg.pct_of_peak_sustained_elapsed
metrics+=,dram__throughput.avg.pct_of_peak_sustained_elapsed
metrics+=,l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum
metrics+=,l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum
metrics+=,smsp__inst_executed.sum
"$NCU" --clock-control none --csv --metrics "$metrics" python3 "$one" "$@" | grep -v '^==PROF==' | python3 -c '
import csv, sys
rows = [r for r in csv.reader(sys.stdin) if len(r) > 10]
head = {name: i for i, name in enumerate(rows[0])}
kernels = {}
for r in rows[1:]:
    kernel = r[head["ID"]] + " " + r[head["Kernel Name"]]
    kernels.setdefault(kernel, {})[r[head["Metric Name"]]] = r[head["Metric Value"]]
for kernel, values in kernels.items():
    print(f"kernel {kernel}: " + "  ".join(f"{k}={v}" for k, v in values.items()))
'
"$NCU" --clock-control none --section WarpStateStats --section SpeedOfLight \
  --section Occupancy python3 "$one" "$@" | grep -iE "gated_delta|routed_softmax|hybrid_attention|Duration|Throughput|Warp Cycles|Occupancy|stall"
if [ -n "${SASS_OUT:-}" ]; then
  "$NCU" --clock-control none --section SourceCounters --page source --print-source sass \
    --csv -k "regex:${KERNELS:-^(gated_delta|routed_softmax)}" python3 "$one" "$@" \
    | grep -v '^==PROF==' > "$SASS_OUT/sass.csv"
fi
rm -f "$one"
