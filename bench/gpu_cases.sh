# Sourced by gpu_prepare.sh (which compiles them) and gpu_check.sh (which runs
# them): the layer the GPU check runs besides the example, the paper's 340M
# sizes in bf16 (examples/run_layer.py's options); the pipelines besides the
# default that the correctness matrix also runs through, and those both
# layers also run through: options whose speed bench/gpu_bench.py's variants
# and layer rows measure, before they become defaults.
PAPER_LAYER="--sizes 340m --dtype bfloat16 --tokens 4096"
# kernel-threads sizes the outputs kernel of the op-by-op lowering: with
# 16-bit terms (round-output-terms) that block is one warp per 16 rows; the
# same pipeline keeps every term in f32 (round-state-terms=0,
# round-chunk-operands=0 and round-state-operands=0 too); a kernel-threads
# list replaces the default's (gated_delta_chunk_terms:256), so its chunk
# terms have block-threads;
# kernel-blocks-per-sm=gated_delta_chunk_terms:1 leaves the chunk terms the
# registers ptxas chooses (the default caps them at 80, for three blocks of
# 256 threads an SM) and the state pass as many blocks an SM as fit (the
# default keeps it at one), which the first pipeline's checks run through;
# kernel-warp-tiles gives the state pass alone 16 x 8 warp tiles (the
# fourth pipeline's are 16 x 16 elsewhere), and warp-reductions=0 leaves
# each of the chunk terms' row reductions to one thread (the default shares
# them out over groups of lanes); merge-tiles=0 keeps warp tiles on
# tensor cores and copies in phases of their own (the default before stop
# 37); vector-element-foralls=0 moves element-wise thread foralls an
# element at a time, and carry-in-registers=0 leaves the state pass's S in
# shared memory across the chunk loop (the defaults before stop 38).
OTHER_PIPELINES=("nats-gpu{block-threads=1024 kernel-blocks-per-sm=gated_delta_chunk_terms:1}"
                 "nats-gpu{kernel-threads=gated_delta_outputs:1024 round-output-terms=0 round-state-terms=0 round-chunk-operands=0 round-state-operands=0}"
                 "nats-gpu{merge-phases=false ldmatrix=false warp-tile-m=16 warp-tile-n=8}"
                 "nats-gpu{warp-tile-m=16 mma-precision=3xtf32 kernel-warp-tiles=gated_delta_state_pass:16x8 warp-reductions=0}"
                 "nats-gpu{warp-rows=0}"
                 "nats-gpu{merge-tiles=0}"
                 "nats-gpu{vector-element-foralls=0}"
                 "nats-gpu{carry-in-registers=0}")
LAYER_PIPELINES=("nats-gpu{warp-tile-m=16}" "nats-gpu{warp-rows=0}"
                 "nats-gpu{vector-element-foralls=0}"
                 "nats-gpu{carry-in-registers=0}")
