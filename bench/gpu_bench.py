"""nats against the kernels users run today, on the GPU (docs/benchmarks.md).

    python3 bench/gpu_bench.py --prepare               (build machine: compile every case)
    bench/gpu_bench.sh [--groups M1,M2,M3,layer]      (GPU machine: torch, triton, FLA)

--pipeline P (both steps) compiles with P wherever a case has the default
pipeline: an option measured on every group before it becomes the default.

Groups (bf16 inputs, f32 state, chunk 64, every case on fresh random inputs):
- M1, FLA's own shapes, and M2, long context: every route 0, so nats' linear
  branch is the gated delta rule; baseline FLA's chunk_gated_delta_rule with
  use_qk_l2norm_in_kernel=True. nats' softmax branch is there but as small as the
  op allows (one 16-dim head and one router head: own chunks only).
- M3, the routed fraction sweep: B*T = 16k, H*D = 2048, a router head per head,
  exactly round(rho * N) chunks of each (batch, head) kept in softmax memory.
  Baselines on the same inputs: compiled FlexAttention with the routed block mask
  (its build timed apart), SDPA dense causal (flash and cuDNN), FLA's GDN alone,
  and "unfused NAtS-L" = FLA's GDN, the block mask's build and FlexAttention
  (bench/baselines.py says where they differ from nats).
- layer: the NAtS-L layer graph (nats.layer) at the paper's 340M sizes against the
  same layer in torch with FLA and FlexAttention (baselines.torch_layer), through
  each of LAYER_PIPELINES.
- variants: (2, 4096, 8, 128) and (1, 16384, 8, 128), every route 0, and
  (1, 16384, 32, 64) with a quarter of the chunks routed (M3's, where the
  routed softmax is most of the time), compiled with other nats-gpu options
  (VARIANTS), for the performance work: each option's time and kernels side
  by side, its outputs against the default's, and (route 0) its error and
  FLA's against the float64 reference on the same (bf16) inputs; each one's o
  against its own second run (and FLA's), which only a nondeterministic
  kernel changes.

Timing: CUDA events on torch's current stream (nats runs on it through
nats.cuda.set_stream), median of REPEAT runs after WARMUP, the L2 flushed (a
256 MiB write) before each run. nats' kernels (and FLA's) are also timed one
by one, from one run under torch.profiler. Peak memory: what one call holds
beyond its inputs, its outputs included (torch's allocator statistics for the
baselines; for nats the device pool's high watermark, plus its outputs). The
ceilings that the roofline fraction divides by are measured first: a
device-to-device copy (bytes read plus written) and a bf16 matrix product
through torch.

Writes every number to --out (JSON; bench/plot_bench.py draws docs/ plots from it)
and prints the tables and the issue's targets last.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from dataclasses import asdict, dataclass

import numpy as np

import nats
from nats import cuda, layer, reference
from nats.runtime import BF16

CHUNK = 64
WARMUP = 3
REPEAT = 20

M1 = [(1, 8192, 96, 128), (2, 16384, 16, 128), (4, 2048, 16, 128), (4, 4096, 64, 128),
      (8, 1024, 8, 64), (8, 2048, 32, 256)]
M2 = [(1, T, H, 128) for H in (8, 32) for T in (8192, 16384, 32768, 65536)]
M3_RHO = [0.0, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0]
M3 = [(16384 // T, T, 2048 // D, D) for T in (4096, 16384) for D in (64, 128)]
LAYER_TOKENS = (4096, 16384)
SMALL_SOFTMAX = (1, 16)  # (heads, dim) of nats' softmax branch in M1 and M2
# (B, T, H, D, Hs, Ds, R, rho): the gated delta rule, then the routed softmax.
# (1, 16384, 8, 128): M2's H = 8, where a store that LLVM deleted left the
# state pass's start to stale shared memory (nats' o 0.11-0.19 off float64,
# different in every call: run 94; nats-gpu-extern-dynamic-shared-memory).
VARIANT_SHAPES = [(2, 4096, 8, 128, *SMALL_SOFTMAX, 1, 0.0), (1, 16384, 32, 64, 32, 64, 32, 0.25),
                  (1, 16384, 8, 128, *SMALL_SOFTMAX, 1, 0.0)]
# The default, then without its tf32 for 16-bit data, then other options.
VARIANTS = [None, "nats-gpu{mma-precision=3xtf32}", "nats-gpu{warp-tile-m=16}",
            "nats-gpu{block-threads=1024}", "nats-gpu{round-output-terms=0}",
            "nats-gpu{warp-rows=0}", "nats-gpu{results-in-place=0}",
            "nats-gpu{round-state-terms=0}",
            "nats-gpu{round-chunk-operands=0 kernel-threads=gated_delta_chunk_terms:512}",
            "nats-gpu{kernel-blocks-per-sm=gated_delta_chunk_terms:1}",
            "nats-gpu{kernel-warp-tiles=gated_delta_state_pass:16x8}",
            "nats-gpu{warp-reductions=0}", "nats-gpu{result-maps=0}",
            "nats-gpu{round-state-operands=0}", "nats-gpu{value-tile=16}",
            "nats-gpu{merge-tiles=0}", "nats-gpu{vector-element-foralls=0}",
            "nats-gpu{carry-in-registers=0}"]
LAYER_PIPELINES = [None, "nats-gpu{mma-precision=3xtf32}", "nats-gpu{warp-tile-m=16}",
                   "nats-gpu{block-threads=1024}", "nats-gpu{warp-rows=0}"]
GROUPS = ("M1", "M2", "M3", "layer", "variants")


@dataclass(frozen=True)
class Case:
    group: str
    B: int
    T: int
    H: int
    D: int
    Hs: int
    Ds: int
    R: int
    rho: float = 0.0
    pipeline: str | None = None  # nats-gpu with other options; None: the default


def group_cases(group, default=None):
    """Every case of one group, in order; `default` (a pipeline) where a case
    has the default one."""
    if group in ("M1", "M2"):
        for B, T, H, D in M1 if group == "M1" else M2:
            yield Case(group, B, T, H, D, *SMALL_SOFTMAX, 1, pipeline=default)
    elif group == "M3":
        for B, T, H, D in M3:
            for rho in M3_RHO:
                yield Case("M3", B, T, H, D, H, D, H, rho, pipeline=default)
    elif group == "layer":
        cfg = layer.PAPER_340M
        for T in LAYER_TOKENS:
            for pipeline in LAYER_PIPELINES:
                yield Case("layer", 1, T, cfg.H, cfg.K, cfg.Hs, cfg.Ks, cfg.R,
                           pipeline=pipeline or default)
    elif group == "variants":
        for shape in VARIANT_SHAPES:
            for pipeline in VARIANTS:
                yield Case("variants", *shape, pipeline=pipeline or default)


def cases(groups, default=None, shapes=None):
    """Every case of `groups`, group by group in the order given (a call that
    reaches its time limit keeps the groups named first); with `shapes` (a set
    of (B, T, H, D)), only the cases of those shapes."""
    for group in groups:
        for c in group_cases(group, default):
            if shapes is None or (c.B, c.T, c.H, c.D) in shapes:
                yield c


def operand_shapes(c: Case):
    """Shapes and dtypes of hybrid_attention's operands and results for a case."""
    N = -(-c.T // CHUNK)
    per_head = lambda H, D: ((c.B, c.T, H, D), BF16)
    operands = dict(q=per_head(c.H, c.D), k=per_head(c.H, c.D), v=per_head(c.H, c.D),
                    g=((c.B, c.T, c.H), BF16), beta=((c.B, c.T, c.H), BF16),
                    qs=per_head(c.Hs, c.Ds), ks=per_head(c.Hs, c.Ds), vs=per_head(c.Hs, c.Ds),
                    route=((c.B, N, c.R), np.bool_))
    results = [per_head(c.H, c.D), per_head(c.Hs, c.Ds), ((c.B, c.H, c.D, c.D), np.float32)]
    return operands, results


def layer_graph(T):
    return layer.graph(layer.PAPER_340M, 1, T, dtype="bfloat16")


def prepare(groups, default, shapes):
    """Compiles every case of `groups` (of `shapes`) into $NATS_CACHE_DIR (the route is data: M3
    needs one function per shape and pipeline)."""
    compiled = set()
    for c in cases(groups, default, shapes):
        key = (c.group == "layer", c.B, c.T, c.H, c.D, c.Hs, c.Ds, c.R, c.pipeline)
        if key in compiled:
            continue
        compiled.add(key)
        if c.group == "layer":
            nats.compile_module(layer_graph(c.T), pipeline=c.pipeline, target="cuda", load=False)
        else:
            views = {n: cuda.DeviceArray.wrap(0x1000, s, d)
                     for n, (s, d) in operand_shapes(c)[0].items()}
            nats.api.precompile(**views, chunk_size=CHUNK, scale=c.D ** -0.5, target="cuda",
                                pipeline=c.pipeline)
        print(f"compiled {c}", flush=True)


# --------------------------------------------------------------------------------------------
# Work and bytes, the numerators of TFLOP/s, GB/s and the roofline fraction
# --------------------------------------------------------------------------------------------


def gdn_flops(B, T, H, K, V):
    """FLOPs of the chunked gated delta rule (chunk L), counted as its matrix
    products: per chunk K·Kᵀ and Q·Kᵀ (2·L²·K each), the triangular solve for
    [W | U₀] (L²·(K + V)), P·U (2·L²·V), and W·S, Q·S and K_cᵀ·U (2·L·K·V each)."""
    L = CHUNK
    per_chunk = 4 * L * L * K + L * L * (K + V) + 2 * L * L * V + 6 * L * K * V
    return B * H * math.ceil(T / L) * per_chunk


def visited_pairs(T, route, heads):
    """(query, key) pairs the routed softmax visits (window 0): for each query the
    kept chunks before its own, and its own chunk up to itself; route (B, N, R)
    bool, `heads` softmax heads sharing the router heads evenly."""
    B, N, R = route.shape
    n = np.minimum(CHUNK, T - np.arange(N) * CHUNK)  # tokens of each chunk
    kept_before = (np.cumsum(route, axis=1) - route) * CHUNK  # keys, (B, N, R)
    per_router = (kept_before * n[None, :, None]).sum() + B * R * (n * (n + 1) // 2).sum()
    return int(per_router) * (heads // R)


def softmax_flops(T, route, heads, dim):
    """4·dim FLOPs (Q·Kᵀ and P·V) per visited pair."""
    return 4 * dim * visited_pairs(T, route, heads)


def dense_causal_flops(B, T, heads, dim):
    return 4 * dim * B * heads * T * (T + 1) // 2


def op_bytes(c: Case):
    """Bytes the op must move at least: its bf16 operands and results, once each,
    and the f32 final state."""
    operands, results = operand_shapes(c)
    return sum(int(np.prod(s)) * np.dtype(d).itemsize
               for s, d in list(operands.values()) + results)


def layer_flops(cfg, T, route):
    """The layer's matrix products (projections, branch mix, output) plus its core op."""
    D, H, K, V, Hs, R = cfg.D, cfg.H, cfg.K, cfg.V, cfg.Hs, cfg.R
    projections = 2 * T * (D * (2 * H * K + 2 * H * V + 2 * H) + H * K * 2 * Hs + H * V * D)
    router = 2 * math.ceil(T / CHUNK) * D * 2 * R
    return (projections + router + gdn_flops(1, T, H, K, V)
            + softmax_flops(T, route, Hs, cfg.Ks))


def layer_bytes(cfg, T):
    weights = sum(int(np.prod(s)) for s in reference.layer_weight_shapes(cfg).values())
    return 2 * (2 * T * cfg.D + weights)


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


class Bench:
    """Times and memory of GPU work on torch's current stream."""

    def __init__(self, torch, repeat, baselines=True):
        self.torch = torch
        self.repeat = repeat
        self.baselines = baselines  # False: nats alone (two builds compared in one call)
        self.flush = torch.empty(256 << 20, dtype=torch.uint8, device="cuda")

    def ms(self, run):
        """Median ms of self.repeat runs after WARMUP, each after an L2 flush."""
        torch = self.torch
        for _ in range(WARMUP):
            run()
        torch.cuda.synchronize()
        times = []
        for _ in range(self.repeat):
            self.flush.fill_(1)
            start, stop = (torch.cuda.Event(enable_timing=True) for _ in range(2))
            start.record()
            run()
            stop.record()
            stop.synchronize()
            times.append(start.elapsed_time(stop))
        return statistics.median(times)

    def kernel_ms(self, run):
        """Device time of each kernel of one run, by kernel name (summed over
        launches of one name)."""
        torch = self.torch
        torch.cuda.synchronize()
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
            run()
            torch.cuda.synchronize()
        times = {}
        for event in prof.events():
            if event.device_type == torch.autograd.DeviceType.CUDA:
                times[event.name] = times.get(event.name, 0.0) + \
                    event.time_range.elapsed_us() / 1e3
        return times

    def torch_peak_mib(self, run):
        torch = self.torch
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        run()
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - base) / 2**20

    def nats_peak_mib(self, run, outputs):
        """The device pool's high watermark over one run plus the outputs' bytes
        (a torch baseline's peak includes the outputs it allocates)."""
        self.torch.cuda.synchronize()
        cuda.reset_peak_memory_stats()
        run()
        self.torch.cuda.synchronize()
        return (cuda.max_memory_allocated() + sum(t.nbytes for t in outputs)) / 2**20

    def ceilings(self):
        """Measured copy bandwidth (GB/s, read plus written) and bf16 matrix rate
        (TFLOP/s) of this device."""
        torch = self.torch

        def copy_gbs(nbytes=2 << 30):
            a = torch.empty(nbytes, dtype=torch.uint8, device="cuda")
            b = torch.empty_like(a)
            return 2 * nbytes / self.ms(lambda: b.copy_(a)) / 1e6

        def bf16_tflops(n=8192):
            x, y = (torch.randn(n, n, device="cuda", dtype=torch.bfloat16) for _ in range(2))
            return 2 * n**3 / self.ms(lambda: x @ y) / 1e9
        return dict(copy_gbs=copy_gbs(), bf16_tflops=bf16_tflops())


def add_rates(row, flops, nbytes, ceil):
    """The row's work and bytes, and nats' TFLOP/s, GB/s and fraction of the
    measured roofline over its time."""
    row.update(gflop=flops / 1e9, mbytes=nbytes / 1e6)
    row["nats_tflops"] = flops / row["nats_ms"] / 1e9
    row["nats_gbs"] = nbytes / row["nats_ms"] / 1e6
    row["nats_roofline"] = max(flops / ceil["bf16_tflops"] / 1e9,
                               nbytes / ceil["copy_gbs"] / 1e6) / row["nats_ms"]


def rel_diff(a, b):
    """max |a - b| / max |b| of two tensors, in f32 (enough for the errors of
    bf16 outputs, ~1e-3): a check of the baselines and variants beside the
    timings; bench/gpu_check.sh is the accuracy test."""
    a, b = a.float(), b.float()
    return float((a - b).abs().max() / b.abs().max())


def random_inputs(torch, c: Case, gen):
    """bf16 operands on the device; exactly round(rho·N) kept chunks per (batch,
    router head), drawn at random."""
    def randn(*shape):
        return torch.randn(*shape, device="cuda", generator=gen).to(torch.bfloat16)
    x = dict(q=randn(c.B, c.T, c.H, c.D), k=randn(c.B, c.T, c.H, c.D),
             v=randn(c.B, c.T, c.H, c.D),
             g=torch.nn.functional.logsigmoid(randn(c.B, c.T, c.H).float() + 3).to(torch.bfloat16),
             beta=torch.sigmoid(randn(c.B, c.T, c.H).float()).to(torch.bfloat16),
             qs=randn(c.B, c.T, c.Hs, c.Ds), ks=randn(c.B, c.T, c.Hs, c.Ds),
             vs=randn(c.B, c.T, c.Hs, c.Ds))
    N = -(-c.T // CHUNK)
    order = torch.rand(c.B, N, c.R, device="cuda", generator=gen).argsort(1).argsort(1)
    x["route"] = order < round(c.rho * N)
    return x


def run_op_case(torch, bench, ceil, c: Case, gen, seed, memo):
    import baselines
    x = random_inputs(torch, c, gen)
    views = {n: cuda.from_torch(t) for n, t in x.items()}
    results = [torch.empty(s, dtype=torch.float32 if d == np.float32 else torch.bfloat16,
                           device="cuda") for s, d in operand_shapes(c)[1]]
    out = tuple(cuda.from_torch(r) for r in results)
    scale, softmax_scale = c.D ** -0.5, c.Ds ** -0.5

    def nats_run():
        nats.hybrid_attention(**views, chunk_size=CHUNK, scale=scale, target="cuda", out=out,
                              pipeline=c.pipeline)
    row = asdict(c)
    row["nats_ms"] = bench.ms(nats_run)
    row["nats_kernel_ms"] = bench.kernel_ms(nats_run)
    if not any(name.startswith("gated_delta") for name in row["nats_kernel_ms"]):
        print(f"warning: the profiler saw none of nats' kernels: {row['nats_kernel_ms']}",
              flush=True)
    row["nats_peak_mib"] = bench.nats_peak_mib(nats_run, results)
    # Run to run on the same inputs: 0 where the kernels are deterministic.
    # (A store that LLVM deleted left M2's H = 8 outputs to stale shared
    # memory, 0.11-0.19 off float64 and different in every call, runs
    # 87-97; nats-gpu-extern-dynamic-shared-memory.) The outputs hold the
    # latest run's: the peak-memory run's here, this one's after it.
    first = results[0].clone()
    nats_run()
    row["o_repeat_diff"] = rel_diff(results[0], first)
    softmax = softmax_flops(c.T, x["route"].cpu().numpy(), c.Hs, c.Ds)
    add_rates(row, gdn_flops(c.B, c.T, c.H, c.D, c.D) + softmax, op_bytes(c), ceil)
    if c.group == "M3":
        # The routed softmax alone: its kernels (the kept-chunk lists and the
        # attention), on the (query, key) pairs it visits.
        row["softmax_gflop"] = softmax / 1e9
        softmax_ms = sum(ms for name, ms in row["nats_kernel_ms"].items()
                         if name.startswith("routed_softmax"))
        if softmax_ms:
            row["nats_softmax_ms"] = softmax_ms
            row["nats_softmax_tflops"] = row["softmax_gflop"] / softmax_ms
        row["nats_linear_ms"] = sum(ms for name, ms in row["nats_kernel_ms"].items()
                                    if name.startswith("gated_delta"))
    if not bench.baselines:
        return row

    fla = lambda: baselines.fla_gated_delta(x["q"], x["k"], x["v"], x["g"], x["beta"], scale)
    row["fla_ms"] = bench.ms(fla)
    # FLA's kernels one by one: what each of ours has to beat.
    row["fla_kernel_ms"] = bench.kernel_ms(fla)
    row["fla_peak_mib"] = bench.torch_peak_mib(fla)
    if c.rho == 0:
        row["o_diff_vs_fla"] = rel_diff(results[0], fla()[0])
    if c.group == "variants":
        # The same inputs for every variant of a shape (the generator is
        # reseeded for them): each one's outputs against the first's (the
        # default pipeline) and, route 0, o against float64 (the routed
        # shape's reference would take minutes on the CPU).
        default = memo.setdefault((c.B, c.T, c.H, c.D, c.rho), {})
        if not default:
            default.update(o=results[0], os=results[1])
            if c.rho == 0:
                want = reference.hybrid_attention(
                    **{n: t.cpu().numpy() if n == "route" else t.double().cpu().numpy()
                       for n, t in x.items()}, chunk_size=CHUNK, scale=scale)
                default["f64_o"] = torch.from_numpy(want[0]).to("cuda")
                row["fla_err_vs_f64"] = rel_diff(fla()[0], default["f64_o"])
                row["fla_repeat_diff"] = rel_diff(fla()[0], fla()[0])
        else:
            row["o_diff_vs_default"] = rel_diff(results[0], default["o"])
            row["os_diff_vs_default"] = rel_diff(results[1], default["os"])
        if "f64_o" in default:
            row["o_err_vs_f64"] = rel_diff(results[0], default["f64_o"])
    if c.group != "M3":
        return row

    qs, ks, vs = (baselines.heads_first(x[n]) for n in ("qs", "ks", "vs"))
    build_mask = lambda: baselines.routed_block_mask(x["route"], c.T, CHUNK, c.Hs)
    row["flex_mask_ms"] = bench.ms(build_mask)
    mask = build_mask()
    flex = lambda: baselines.flex_routed(qs, ks, vs, mask, softmax_scale)
    row["flex_ms"] = bench.ms(flex)
    row["flex_peak_mib"] = bench.torch_peak_mib(flex)
    row["os_diff_vs_flex"] = rel_diff(results[1], flex().transpose(1, 2))
    for name, backend in baselines.SDPA_BACKENDS.items():
        try:
            row[f"{name}_ms"] = bench.ms(
                lambda: baselines.sdpa_causal(qs, ks, vs, backend, softmax_scale))
        except RuntimeError as error:  # a backend this torch or device lacks
            row[f"{name}_error"] = str(error).splitlines()[0]
            continue
        row[f"{name}_tflops"] = dense_causal_flops(c.B, c.T, c.Hs, c.Ds) / row[f"{name}_ms"] / 1e9
    # As a user runs it: the route is data, so the block mask is built each call.
    row["unfused_ms"] = bench.ms(
        lambda: (fla(), baselines.flex_routed(qs, ks, vs, build_mask(), softmax_scale)))
    return row


def run_layer_case(torch, bench, ceil, c: Case, gen, seed, memo):
    import baselines
    cfg = layer.PAPER_340M
    module = nats.compile_module(layer_graph(c.T), pipeline=c.pipeline, target="cuda")
    weights = reference.init_layer_weights(cfg, seed=seed + c.T)
    w = {n: torch.from_numpy(weights[n]).to("cuda", torch.bfloat16) for n in layer.WEIGHT_NAMES}
    x = torch.randn(1, c.T, cfg.D, device="cuda", generator=gen).to(torch.bfloat16)
    out = torch.empty_like(x)
    args = [cuda.from_torch(x)] + [cuda.from_torch(w[n]) for n in layer.WEIGHT_NAMES] + \
        [cuda.from_torch(out)]

    def nats_run():
        module.call("nats_l_layer", args)
        cuda.check()
    row = asdict(c)
    row["nats_ms"] = bench.ms(nats_run)
    row["nats_kernel_ms"] = bench.kernel_ms(nats_run)
    row["nats_peak_mib"] = bench.nats_peak_mib(nats_run, [out])
    # The route the layer's router picks for this x, for the softmax FLOPs.
    logits = baselines.chunk_means(x.float(), CHUNK) @ w["wr"].float()
    route = (logits.view(1, -1, cfg.R, 2).argmax(-1) == 0).cpu().numpy()
    row["kept_fraction"] = float(route.mean())
    add_rates(row, layer_flops(cfg, c.T, route), layer_bytes(cfg, c.T), ceil)
    if not bench.baselines:
        return row
    run_torch = lambda: baselines.torch_layer(x, w, cfg)
    row["torch_ms"] = bench.ms(run_torch)
    row["torch_peak_mib"] = bench.torch_peak_mib(run_torch)
    return row


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------

COLUMNS = {
    "M1": ["B", "T", "H", "D", "nats_ms", "fla_ms", "fla/nats", "nats_tflops", "nats_gbs",
           "nats_roofline", "nats_peak_mib", "fla_peak_mib", "o_diff_vs_fla", "o_repeat_diff",
           "kernels", "fla_kernels"],
    "M3": ["B", "T", "H", "D", "rho", "nats_ms", "nats_linear_ms", "nats_softmax_ms",
           "nats_softmax_tflops", "flex_ms", "flex_mask_ms", "sdpa_flash_ms",
           "sdpa_flash_tflops", "sdpa_cudnn_ms", "fla_ms", "unfused_ms", "unfused/nats",
           "nats_peak_mib", "os_diff_vs_flex"],
    "layer": ["T", "pipeline", "kept_fraction", "nats_ms", "torch_ms", "torch/nats", "nats_tflops",
              "nats_roofline", "nats_peak_mib", "torch_peak_mib"],
}
COLUMNS["M2"] = COLUMNS["M1"]
COLUMNS["variants"] = ["T", "H", "D", "rho", "pipeline", "nats_ms", "fla/nats", "kernels",
                       "nats_peak_mib", "o_diff_vs_default", "os_diff_vs_default",
                       "o_err_vs_f64", "fla_err_vs_f64", "o_repeat_diff", "fla_repeat_diff"]
KERNELS = {"kernels": "nats_kernel_ms", "fla_kernels": "fla_kernel_ms"}
RATIOS = {"fla/nats": ("fla_ms", "nats_ms"), "unfused/nats": ("unfused_ms", "nats_ms"),
          "torch/nats": ("torch_ms", "nats_ms")}


def cell(row, column):
    if column in KERNELS:  # a run's kernels, ms each, in launch order
        return " ".join(f"{name}={ms:.3g}" for name, ms in row.get(KERNELS[column], {}).items())
    if column in RATIOS:
        num, den = RATIOS[column]
        value = row[num] / row[den] if row.get(num) and row.get(den) else None
    else:
        value = row.get(column)
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def table(rows, group):
    cols = COLUMNS[group]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r, c) for c in cols) + " |"
              for r in rows if r["group"] == group]
    return "\n".join(lines)


def targets(rows):
    """The issue's targets, each as (target, worst value, met)."""
    out = []
    linear = [r["fla_ms"] / r["nats_ms"] for r in rows
              if r["group"] in ("M1", "M2") and r.get("fla_ms") and r.get("nats_ms")]
    if linear:
        out.append(("M1/M2: nats >= 1.0x FLA's speed on every shape (worst FLA/nats)",
                    min(linear), min(linear) >= 1.0))
    m3 = [r for r in rows if r["group"] == "M3" and "error" not in r]
    share = [r["nats_softmax_tflops"] / r["sdpa_flash_tflops"] for r in m3
             if r.get("nats_softmax_tflops") and r.get("sdpa_flash_tflops") and r["rho"] > 0]
    if share:
        out.append(("M3: routed softmax >= 50% of SDPA flash TFLOP/s on visited keys (worst)",
                    min(share), min(share) >= 0.5))
    zero = [r["nats_ms"] / r["nats_linear_ms"] for r in m3
            if r["rho"] == 0 and r.get("nats_linear_ms")]
    if zero:
        out.append(("M3: rho = 0 within 5% of the linear branch alone (worst ratio)",
                    max(zero), max(zero) <= 1.05))
    unfused = [r["unfused_ms"] / r["nats_ms"] for r in m3
               if r["T"] == 16384 and r["rho"] <= 0.25 and r.get("unfused_ms") and r.get("nats_ms")]
    if unfused:
        out.append(("M3: nats faster than unfused NAtS-L, rho <= 1/4, T = 16k (worst unfused/nats)",
                    min(unfused), min(unfused) > 1.0))
    return out


def shape_set(text):
    """--shapes: "BxTxHxD[,BxTxHxD...]" as a set of (B, T, H, D)."""
    shapes = [shape.split("x") for shape in text.split(",")]
    if not all(len(shape) == 4 and all(n.isdigit() for n in shape) for shape in shapes):
        raise argparse.ArgumentTypeError(f"expected BxTxHxD[,BxTxHxD...], got {text!r}")
    return {tuple(map(int, shape)) for shape in shapes}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prepare", action="store_true",
                        help="only compile every case into $NATS_CACHE_DIR")
    parser.add_argument("--out", default="gpu_bench.json")
    parser.add_argument("--groups", default=",".join(GROUPS),
                        help="comma-separated, run in the order given")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--pipeline", default=None,
                        help="the pipeline wherever a case has the default one")
    parser.add_argument("--shapes", default=None, type=shape_set,
                        help="comma-separated BxTxHxD: only the cases of these shapes "
                             "(e.g. 8x2048x32x256)")
    parser.add_argument("--repeat", type=int, default=REPEAT,
                        help="timed runs per measurement (the median is reported)")
    parser.add_argument("--only-nats", action="store_true",
                        help="time nats alone, no baselines: two builds' products "
                             "($NATS_CACHE_DIR) compared in one call")
    args = parser.parse_args()
    groups = args.groups.split(",")
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        parser.error(f"--groups: unknown {', '.join(unknown)} (the groups: {', '.join(GROUPS)})")
    if args.prepare:
        return prepare(groups, args.pipeline, args.shapes)
    import torch
    seed = args.seed if args.seed is not None else int(np.random.SeedSequence().entropy % 2**31)
    gen = torch.Generator(device="cuda").manual_seed(seed)
    cuda.set_stream(torch.cuda.current_stream().cuda_stream)
    bench = Bench(torch, args.repeat, baselines=not args.only_nats)
    results = dict(device=torch.cuda.get_device_name(), torch=torch.__version__, seed=seed,
                   warmup=WARMUP, repeat=args.repeat, ceilings=bench.ceilings(), rows=[])
    print(json.dumps({k: v for k, v in results.items() if k != "rows"}), flush=True)
    memo = {}  # what one case leaves for the next (the variants' default outputs)
    for c in cases(groups, args.pipeline, args.shapes):
        if c.group == "variants":
            gen.manual_seed(seed)  # every variant on the same inputs
        run = run_layer_case if c.group == "layer" else run_op_case
        try:
            row = run(torch, bench, results["ceilings"], c, gen, seed, memo)
        except Exception as error:  # noqa: BLE001 - one failed case must not lose the rest
            row = dict(asdict(c), error=f"{type(error).__name__}: {error}")
        results["rows"].append(row)
        print(json.dumps(results["rows"][-1]), flush=True)
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    ceil = results["ceilings"]
    print(f"\n{results['device']}, seed {seed}, median of {args.repeat} after {WARMUP} warm-ups, ms; "
          f"ceilings: copy {ceil['copy_gbs']:.0f} GB/s, bf16 {ceil['bf16_tflops']:.0f} TFLOP/s")
    for group in groups:
        print(f"\n{group}\n{table(results['rows'], group)}")
    print("\ntargets")
    for name, value, met in targets(results["rows"]):
        print(f"- {name}: {value:.3g} -> {'met' if met else 'not met'}")
    failed = [row for row in results["rows"] if "error" in row]
    for row in failed:
        print(f"failed: {row['group']} B={row['B']} T={row['T']} H={row['H']} D={row['D']} "
              f"rho={row['rho']} pipeline={row['pipeline']}: {row['error']}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
