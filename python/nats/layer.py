"""The NAtS-L layer graph (spec §4) as MLIR text, for any sizes, in f32 or bf16.

``graph(cfg, batch, tokens, dtype)`` writes ``func.func @nats_l_layer(%x, <WEIGHT_NAMES>) -> out``:
upstream linalg / tensor / arith / math around the two nats ops, the graph that
``nats.reference.layer`` computes in float64. The build writes the example graph (``EXAMPLE``
at ``EXAMPLE_BATCH`` × ``EXAMPLE_TOKENS``, f32) to build/examples/nats_l_layer.mlir;
``python3 -m nats.layer --help`` says how to print any other.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

from . import reference, runtime

__all__ = ["ELEMENT_TYPES", "EXAMPLE", "EXAMPLE_BATCH", "EXAMPLE_TOKENS", "PAPER_340M", "SIZES",
           "WEIGHT_NAMES", "arguments", "graph"]

EXAMPLE = reference.LayerConfig(D=512, H=4, K=64, V=128, Hs=8, Ks=32, Vs=64, R=4, chunk_size=64)
EXAMPLE_BATCH, EXAMPLE_TOKENS = 1, 1024
# The paper's 340M model (one of its layers).
PAPER_340M = reference.LayerConfig(D=1024, H=6, K=128, V=256, Hs=12, Ks=64, Vs=128, R=6)
SIZES = {"example": EXAMPLE, "340m": PAPER_340M}

# The weights after x, one line of the signature per group.
_SIGNATURE_LINES = (
    ("wq", "wk", "wv"), ("conv_q", "conv_k", "conv_v"), ("wb", "wa"), ("a_log", "dt_bias"),
    ("qs_norm", "ks_norm"), ("wr",), ("wm",), ("wg",), ("o_norm", "os_norm"), ("wo",),
)
WEIGHT_NAMES = tuple(name for line in _SIGNATURE_LINES for name in line)
# The weights that only elementwise ops and the convolutions read: a bf16 graph extends them to
# f32 once. The others are matmul operands (and the router's), which take bf16 as they are.
_SMALL_WEIGHTS = ("conv_q", "conv_k", "conv_v", "a_log", "dt_bias", "qs_norm", "ks_norm",
                  "o_norm", "os_norm")

# The MLIR element type of x, the weights and the result, by dtype name.
ELEMENT_TYPES = {"float32": "f32", "bfloat16": "bf16"}

_HEADER = """\
//===- nats_l_layer.mlir - one NAtS-L layer (spec §4) ----------------------===//
//
// Written by python/nats/layer.py (`python3 -m nats.layer --help`): edit that,
// not this.
//
// One NAtS-L layer, the model graph around the core op (spec §4): upstream
// linalg / tensor / arith / math for the projections, short convolutions,
// gates, norms and the output combine, and the two nats ops for the router
// (`nats.chunk_route`) and the attention itself (`nats.hybrid_attention`).
//
// Sizes (all static): B = {B}, T = {T}, D = {D}; linear branch H = {H}, K = {K},
// V = {V}; softmax branch Hs = {Hs}, Ks = {Ks}, Vs = {Vs} (a re-split of the same
// H·K = {HK} / H·V = {HV} projected channels); router R = {R}; chunk_size C = {C},
// so N = ceil(T / C) = {N} chunks.
//
{precision}
//
// Weights, in argument order: wq, wk D×(H·K); wv D×(H·V); conv_q, conv_k
// 4×(H·K); conv_v 4×(H·V); wb, wa D×H; a_log, dt_bias H; qs_norm, ks_norm Ks;
// wr D×(2R); wm (H·K)×(2·Hs); wg D×(H·V); o_norm, os_norm Vs; wo (H·V)×D.
//
// Conventions:
//   1. q, k, v = SiLU(ShortConv4(x·W)). ShortConv4 is the causal depthwise
//      conv of linalg.depthwise_conv_1d_nwc_wc over x padded with 3 zero
//      tokens on the left: y[b,t,c] = Σ_{{w=0..3}} xpad[b,t+w,c]·conv[w,c]
//      (tap w = 3 is the current token). SiLU(z) = z·sigmoid(z),
//      sigmoid(z) = 1 / (1 + exp(-z)).
//   2. beta = sigmoid(x·wb); g = -exp(a_log)·softplus(x·wa + dt_bias) with the
//      stable softplus(z) = max(z, 0) + log1p(exp(-|z|)).
//   3. qs, ks = RMSNorm over Ks of q, k viewed B×T×Hs×Ks, times qs_norm /
//      ks_norm; vs = v viewed B×T×Hs×Vs. RMSNorm(z) = z / sqrt(mean(z²) + 1e-6).
//   4. route = nats.chunk_route(x, wr): chunk means of x times wr, viewed R×2
//      (column r·2 + j, j = 0 softmax, 1 linear); 1 = kept in softmax memory.
//      A partial last chunk is the mean of its own tokens.
//   5. nats.hybrid_attention with chunk_size {C} and the default window (0),
//      scales (K^-0.5, Ks^-0.5) and qk_l2norm (true).
//   6. Combine per token and softmax head s: w = softmax over j of (q·wm)
//      viewed B×T×Hs×2 (column s·2 + j; q is the linear-branch q after conv
//      and SiLU, before l2norm); gate = SiLU(x·wg) viewed B×T×Hs×Vs;
//      y = gate ⊙ (w_0·RMSNorm(o)·o_norm + w_1·RMSNorm(os)·os_norm) with o
//      viewed B×T×Hs×Vs, eps 1e-6; out = (y viewed (B·T)×(H·V))·wo.
//
// Float64 reference: `nats.reference.layer` in python/nats/reference.py
// (weights from `nats.reference.init_layer_weights`, same names and shapes).
//
//===----------------------------------------------------------------------===//

// Elementwise over B×T×channels, and a per-channel vector broadcast over B×T.
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#chan3 = affine_map<(d0, d1, d2) -> (d2)>
// Over B×T×heads×dim: elementwise; one value per (b, t, head) (the reduced
// last dim: sums of squares, branch weights); a per-dim norm weight.
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#row4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
#last4 = affine_map<(d0, d1, d2, d3) -> (d3)>
// The two logits of a head's branch mix, from B×T×Hs×2.
#pick0 = affine_map<(d0, d1, d2) -> (d0, d1, d2, 0)>
#pick1 = affine_map<(d0, d1, d2) -> (d0, d1, d2, 1)>"""

_PRECISION = {
    "f32": "// Element type: f32 throughout.",
    "bf16": """\
// Element type: x, the weights and the result are bf16; the layer computes in
// f32. Matmuls take their operands as they are (bf16 or f32) into an f32
// accumulator; the small weights (conv taps, decay parameters, norm weights)
// are extended to f32 once; the float operands of nats.hybrid_attention are
// truncated to bf16, its element type, so its outputs o, os are bf16 and are
// extended again for the combine; the result is truncated to bf16 last.""",
}

# The body of a sigmoid over %z, and of SiLU(z) = z·sigmoid(z).
_SIGMOID = ("%neg = arith.negf %z : f32", "%e = math.exp %neg : f32",
            "%den = arith.addf %one, %e : f32", "%sig = arith.divf %one, %den : f32")
_SILU = _SIGMOID + ("%silu = arith.mulf %z, %sig : f32",)


def _tensor(dims, element_type="f32"):
    return "tensor<" + "".join(f"{d}x" for d in dims) + element_type + ">"


def _operands(values):
    """`%a, %b : type_a, type_b` of (name, type) pairs."""
    return (", ".join("%" + name for name, _ in values) + " : "
            + ", ".join(type_ for _, type_ in values))


class _Graph:
    """The text of one layer graph: each method writes one part of it, in order."""

    def __init__(self, cfg, batch, tokens, element_type):
        self.cfg, self.B, self.T, self.io = cfg, batch, tokens, element_type
        self.N = -(-tokens // cfg.chunk_size)
        self.lines = []
        # The f32 value of each small weight (itself in an f32 graph).
        self.small = {name: name for name in _SMALL_WEIGHTS}

    def emit(self, *lines):
        self.lines.extend(lines)

    def section(self, *title):
        rule = "  //===" + "-" * 68 + "===//"
        self.emit("", rule, *(f"  // {line}" for line in title), rule)

    def comment(self, text):
        self.emit("", f"  // {text}")

    # -- ops ------------------------------------------------------------------------------------

    def zeros(self, name, type_):
        """`%name`, a tensor of `type_` filled with 0 (an accumulator)."""
        self.emit(f"  %{name}0 = tensor.empty() : {type_}",
                  f"  %{name} = linalg.fill ins(%zero : f32) outs(%{name}0 : {type_}) -> {type_}")
        return name

    def generic(self, results, maps, iterators, ins, outs, args, body):
        """A linalg.generic: `ins` and `outs` are (name, type) pairs, `args` the block arguments
        (`%a: f32`), `body` its ops, the last a linalg.yield."""
        head = f"  {', '.join('%' + r for r in results)} = linalg.generic {{"
        iterator_types = ", ".join(f'"{i}"' for i in iterators)
        result_types = ", ".join(type_ for _, type_ in outs)
        self.emit(head + f"indexing_maps = [{', '.join(maps)}],",
                  " " * len(head) + f"iterator_types = [{iterator_types}]}}",
                  f"      ins({_operands(ins)})",
                  f"      outs({_operands(outs)}) {{",
                  f"  ^bb0({', '.join(args)}):",
                  *(f"    {op}" for op in body),
                  f"  }} -> {result_types if len(outs) == 1 else '(' + result_types + ')'}")

    def elementwise(self, result, src, dims, body, yields, src_type="f32", result_type="f32"):
        """`%result = body(%z)` for each element %z of `src` (B×T×... of `dims`)."""
        rank = len(dims)
        out = _tensor(dims, result_type)
        self.emit(f"  %{result}_init = tensor.empty() : {out}")
        self.generic([result], [f"#id{rank}"] * 2, ["parallel"] * rank,
                     [(src, _tensor(dims, src_type))], [(f"{result}_init", out)],
                     [f"%z: {src_type}", f"%unused: {result_type}"],
                     list(body) + [f"linalg.yield {yields} : {result_type}"])
        return result

    def convert(self, src, dims, src_type, result_type, result):
        """The name of `src` as `result_type`: `src` itself where the types agree, else
        `%result`, extended or truncated elementwise."""
        if src_type == result_type:
            return src
        op = "arith.extf" if result_type == "f32" else "arith.truncf"
        return self.elementwise(result, src, dims, [f"%c = {op} %z : {src_type} to {result_type}"],
                                "%c", src_type, result_type)

    def reshape(self, op, result, src, groups, src_dims, dims, element_type="f32"):
        """tensor.expand_shape or collapse_shape (`op`) of `src` with the reassociation `groups`."""
        shape = f" output_shape [{', '.join(map(str, dims))}]" if op == "expand_shape" else ""
        self.emit(f"  %{result} = tensor.{op} %{src} {groups}{shape}",
                  f"      : {_tensor(src_dims, element_type)} into {_tensor(dims, element_type)}")
        return result

    def project(self, name, result, lhs, lhs_type, weight, k, view):
        """`%result` = lhs·weight, (B·T)×k times k×n accumulated in f32, viewed as `view`
        (B×T×n or B×T×a×b with a·b = n)."""
        n = int(np.prod(view[2:]))
        acc = self.zeros(f"{name}_acc", _tensor((self.B * self.T, n)))
        self.emit(f"  %{result}_flat = linalg.matmul ins(%{lhs}, %{weight} : "
                  f"{_tensor((self.B * self.T, k), lhs_type)}, {_tensor((k, n), self.io)})",
                  f"      outs(%{acc} : {_tensor((self.B * self.T, n))}) -> "
                  f"{_tensor((self.B * self.T, n))}")
        groups = "[[0, 1], [2]]" if len(view) == 3 else "[[0, 1], [2, 3]]"
        return self.reshape("expand_shape", result, f"{result}_flat", groups,
                            (self.B * self.T, n), view)

    def conv_silu(self, name, weight, conv, channels):
        """`%name` = SiLU(ShortConv4(x·weight)) over `channels` channels."""
        B, T = self.B, self.T
        proj = self.project(name, f"{name}_proj", "x_flat", self.io, weight, self.cfg.D,
                            (B, T, channels))
        tokens, padded = _tensor((B, T, channels)), _tensor((B, T + 3, channels))
        self.emit(f"  %{name}_pad = tensor.pad %{proj} low[0, 3, 0] high[0, 0, 0] {{",
                  "  ^bb0(%i0: index, %i1: index, %i2: index):",
                  "    tensor.yield %zero : f32",
                  f"  }} : {tokens} to {padded}")
        acc = self.zeros(f"{name}_conv_acc", tokens)
        self.emit(f"  %{name}_conv = linalg.depthwise_conv_1d_nwc_wc",
                  "      {dilations = dense<1> : tensor<1xi64>, "
                  "strides = dense<1> : tensor<1xi64>}",
                  f"      ins(%{name}_pad, %{self.small[conv]} : {padded}, "
                  f"{_tensor((4, channels))})",
                  f"      outs(%{acc} : {tokens}) -> {tokens}")
        return self.elementwise(name, f"{name}_conv", (B, T, channels), _SILU, "%silu")

    def rmsnorm(self, name, result, src, dim, weight, dim_const):
        """`%result` = RMSNorm of `src` (B×T×Hs×dim) over its last dim, times `weight`."""
        rows, full = (self.B, self.T, self.cfg.Hs), (self.B, self.T, self.cfg.Hs, dim)
        sumsq = self.zeros(f"{name}_ss_acc", _tensor(rows))
        self.generic([f"{name}_sumsq"], ["#id4", "#row4"], ["parallel"] * 3 + ["reduction"],
                     [(src, _tensor(full))], [(sumsq, _tensor(rows))],
                     ["%z: f32", "%acc: f32"],
                     ["%sq = arith.mulf %z, %z : f32", "%sum = arith.addf %acc, %sq : f32",
                      "linalg.yield %sum : f32"])
        self.emit(f"  %{result}_init = tensor.empty() : {_tensor(full)}")
        self.generic([result], ["#id4", "#row4", "#last4", "#id4"], ["parallel"] * 4,
                     [(src, _tensor(full)), (f"{name}_sumsq", _tensor(rows)),
                      (self.small[weight], _tensor((dim,)))],
                     [(f"{result}_init", _tensor(full))],
                     ["%z: f32", "%ss: f32", "%w: f32", "%unused: f32"],
                     [f"%mean = arith.divf %ss, %{dim_const} : f32",
                      "%var = arith.addf %mean, %eps : f32", "%inv = math.rsqrt %var : f32",
                      "%n = arith.mulf %z, %inv : f32", "%r = arith.mulf %n, %w : f32",
                      "linalg.yield %r : f32"])
        return result

    # -- the layer, part by part ----------------------------------------------------------------

    def header(self):
        c = self.cfg
        self.emit(_HEADER.format(B=self.B, T=self.T, D=c.D, H=c.H, K=c.K, V=c.V, Hs=c.Hs, Ks=c.Ks,
                                 Vs=c.Vs, HK=c.H * c.K, HV=c.H * c.V, R=c.R, C=c.chunk_size,
                                 N=self.N, precision=_PRECISION[self.io]))
        if self.io != "f32":
            self.emit("// Elementwise over a vector and a matrix: the small weights to f32.",
                      "#id1 = affine_map<(d0) -> (d0)>",
                      "#id2 = affine_map<(d0, d1) -> (d0, d1)>")

    def signature(self):
        shapes = reference.layer_weight_shapes(self.cfg)
        x = _tensor((self.B, self.T, self.cfg.D), self.io)
        lines = [f"    %x: {x},"] + [
            "    " + ", ".join(f"%{n}: {_tensor(shapes[n], self.io)}" for n in names) + ","
            for names in _SIGNATURE_LINES]
        lines[-1] = lines[-1][:-1] + f") -> {x} {{"
        self.emit("", "func.func @nats_l_layer(", *lines)
        c = self.cfg
        self.emit("  %zero = arith.constant 0.0 : f32", "  %one = arith.constant 1.0 : f32",
                  "  %eps = arith.constant 1.0e-06 : f32",
                  f"  %ks_dim = arith.constant {float(c.Ks)} : f32",
                  f"  %vs_dim = arith.constant {float(c.Vs)} : f32")

    def small_weights(self):
        if self.io == "f32":
            return
        self.comment(f"The small weights in f32, once ({self.io} arguments).")
        shapes = reference.layer_weight_shapes(self.cfg)
        for name in _SMALL_WEIGHTS:
            self.small[name] = self.convert(name, shapes[name], self.io, "f32", f"{name}_f32")

    def qkv(self):
        c = self.cfg
        self.comment("x as (B·T)×D, the left operand of every projection.")
        self.reshape("collapse_shape", "x_flat", "x", "[[0, 1], [2]]", (self.B, self.T, c.D),
                     (self.B * self.T, c.D), self.io)
        self.section("§4.1  q, k, v = SiLU(ShortConv4(x·W))")
        self.comment("q: projection, causal depthwise conv (3 zero tokens on the left), SiLU.")
        self.conv_silu("q", "wq", "conv_q", c.H * c.K)
        self.comment("k: the same with wk, conv_k.")
        self.conv_silu("k", "wk", "conv_k", c.H * c.K)
        self.comment(f"v: the same with wv, conv_v (H·V = {c.H * c.V} channels).")
        self.conv_silu("v", "wv", "conv_v", c.H * c.V)

    def linear_branch(self):
        c, B, T = self.cfg, self.B, self.T
        self.section("§4.2  Linear branch: beta = sigmoid(x·wb),",
                     "      g = -exp(a_log)·softplus(x·wa + dt_bias); heads H×K, H×K, H×V")
        self.emit("")
        self.project("b", "b_proj", "x_flat", self.io, "wb", c.D, (B, T, c.H))
        self.elementwise("beta", "b_proj", (B, T, c.H), _SIGMOID, "%sig")
        self.emit("")
        self.project("a", "a_proj", "x_flat", self.io, "wa", c.D, (B, T, c.H))
        self.emit(f"  %g_init = tensor.empty() : {_tensor((B, T, c.H))}")
        self.generic(["g"], ["#id3", "#chan3", "#chan3", "#id3"], ["parallel"] * 3,
                     [("a_proj", _tensor((B, T, c.H))), (self.small["a_log"], _tensor((c.H,))),
                      (self.small["dt_bias"], _tensor((c.H,)))],
                     [("g_init", _tensor((B, T, c.H)))],
                     ["%a: f32", "%alog: f32", "%dt: f32", "%unused: f32"],
                     ["// softplus(z) = max(z, 0) + log1p(exp(-|z|))",
                      "%z = arith.addf %a, %dt : f32", "%zpos = arith.maximumf %z, %zero : f32",
                      "%zabs = math.absf %z : f32", "%nabs = arith.negf %zabs : f32",
                      "%e = math.exp %nabs : f32", "%l = math.log1p %e : f32",
                      "%softplus = arith.addf %zpos, %l : f32", "%rate = math.exp %alog : f32",
                      "%decay = arith.mulf %rate, %softplus : f32", "%gv = arith.negf %decay : f32",
                      "linalg.yield %gv : f32"])
        self.comment("Linear-branch heads: q, k as B×T×H×K, v as B×T×H×V.")
        self.heads(c.H, c.K, c.V, "heads")

    def heads(self, heads, k, v, suffix):
        """q, k, v viewed B×T×heads×k, B×T×heads×k, B×T×heads×v."""
        B, T = self.B, self.T
        for name, dim in (("q", k), ("k", k), ("v", v)):
            self.reshape("expand_shape", f"{name}_{suffix}", name, "[[0], [1], [2, 3]]",
                         (B, T, heads * dim), (B, T, heads, dim))

    def softmax_branch(self):
        c = self.cfg
        self.section("§4.3  Softmax branch: the same channels as Hs×Ks, Hs×Ks, Hs×Vs;",
                     "      qs = RMSNorm(q)·qs_norm, ks = RMSNorm(k)·ks_norm, eps 1e-6")
        self.emit("")
        self.heads(c.Hs, c.Ks, c.Vs, "sheads")
        self.comment("qs: sum of squares over Ks, then z / sqrt(mean + eps) · qs_norm.")
        self.rmsnorm("qs", "qs", "q_sheads", c.Ks, "qs_norm", "ks_dim")
        self.comment("ks: the same with ks_norm.")
        self.rmsnorm("ks", "ks", "k_sheads", c.Ks, "ks_norm", "ks_dim")

    def core(self):
        c, B, T, io = self.cfg, self.B, self.T, self.io
        self.section("§4.4  Router: per chunk, mean of x times wr, argmax over R×2 == 0")
        route = _tensor((B, self.N, c.R), "i1")
        self.emit("", f"  %route = nats.chunk_route %x, %wr {{chunk_size = {c.chunk_size} : i64}}",
                  f"      : {_tensor((B, T, c.D), io)}, {_tensor((c.D, 2 * c.R), io)} -> {route}")
        self.section("§4.5  Core op (spec §3)")
        operands = [("q_heads", (B, T, c.H, c.K)), ("k_heads", (B, T, c.H, c.K)),
                    ("v_heads", (B, T, c.H, c.V)), ("g", (B, T, c.H)), ("beta", (B, T, c.H)),
                    ("qs", (B, T, c.Hs, c.Ks)), ("ks", (B, T, c.Hs, c.Ks)),
                    ("v_sheads", (B, T, c.Hs, c.Vs))]
        if io != "f32":
            self.comment(f"Its float operands in {io}, its element type.")
        names = [self.convert(name, dims, "f32", io, f"{name}_{io}") for name, dims in operands]
        types = [_tensor(dims, io) for _, dims in operands]
        results = [_tensor((B, T, c.H, c.V), io), _tensor((B, T, c.Hs, c.Vs), io),
                   _tensor((B, c.H, c.K, c.V))]
        self.emit("", "  %o, %os, %final_state = nats.hybrid_attention",
                  f"      linear(%{', %'.join(names[:5])})",
                  f"      softmax(%{', %'.join(names[5:])}) route(%route)",
                  f"      {{chunk_size = {c.chunk_size} : i64}}",
                  f"      : ({', '.join(types[:3])},", f"         {', '.join(types[3:5])},",
                  f"         {', '.join(types[5:])},", f"         {route})",
                  f"      -> ({', '.join(results)})")

    def combine(self):
        c, B, T = self.cfg, self.B, self.T
        self.section("§4.5  Combine: w = softmax(q·wm) over 2 per softmax head,",
                     "      y = SiLU(x·wg) ⊙ (w_0·RMSNorm(o)·o_norm + w_1·RMSNorm(os)·os_norm),",
                     "      out = y·wo")
        self.comment("Branch-mix logits q·wm, viewed B×T×Hs×2 (column s·2 + j).")
        self.reshape("collapse_shape", "q_flat", "q", "[[0, 1], [2]]", (B, T, c.H * c.K),
                     (B * T, c.H * c.K))
        self.project("mix", "mix_logits", "q_flat", "f32", "wm", c.H * c.K, (B, T, c.Hs, 2))
        self.mix()
        self.comment("Output gate SiLU(x·wg), viewed B×T×Hs×Vs.")
        self.project("gate", "gate_proj", "x_flat", self.io, "wg", c.D, (B, T, c.Hs, c.Vs))
        self.elementwise("gate", "gate_proj", (B, T, c.Hs, c.Vs), _SILU, "%silu")
        o = self.convert("o", (B, T, c.H, c.V), self.io, "f32", "o_f32")
        os_ = self.convert("os", (B, T, c.Hs, c.Vs), self.io, "f32", "os_f32")
        self.comment("The linear output re-split into Hs heads of Vs channels.")
        self.reshape("collapse_shape", "o_flat", o, "[[0], [1], [2, 3]]", (B, T, c.H, c.V),
                     (B, T, c.H * c.V))
        self.reshape("expand_shape", "o_split", "o_flat", "[[0], [1], [2, 3]]",
                     (B, T, c.H * c.V), (B, T, c.Hs, c.Vs))
        self.comment("RMSNorm(o)·o_norm over Vs.")
        self.rmsnorm("o", "o_normed", "o_split", c.Vs, "o_norm", "vs_dim")
        self.comment("RMSNorm(os)·os_norm over Vs.")
        self.rmsnorm("os", "os_normed", os_, c.Vs, "os_norm", "vs_dim")
        self.mixed_output()

    def mix(self):
        """%mix0, %mix1: the branch weights w_0, w_1 of each softmax head."""
        B, T, Hs = self.B, self.T, self.cfg.Hs
        self.comment("w_0, w_1: a max-shifted softmax over the two logits of each head.")
        logits, weights = _tensor((B, T, Hs, 2)), _tensor((B, T, Hs))
        self.emit(f"  %mix0_init = tensor.empty() : {weights}",
                  f"  %mix1_init = tensor.empty() : {weights}")
        self.generic(["mix0", "mix1"], ["#pick0", "#pick1", "#id3", "#id3"], ["parallel"] * 3,
                     [("mix_logits", logits)] * 2, [("mix0_init", weights), ("mix1_init", weights)],
                     ["%l0: f32", "%l1: f32", "%unused0: f32", "%unused1: f32"],
                     ["%m = arith.maximumf %l0, %l1 : f32", "%s0 = arith.subf %l0, %m : f32",
                      "%s1 = arith.subf %l1, %m : f32", "%e0 = math.exp %s0 : f32",
                      "%e1 = math.exp %s1 : f32", "%den = arith.addf %e0, %e1 : f32",
                      "%w0 = arith.divf %e0, %den : f32", "%w1 = arith.divf %e1, %den : f32",
                      "linalg.yield %w0, %w1 : f32, f32"])

    def mixed_output(self):
        """y = gate ⊙ (w_0·o_normed + w_1·os_normed), then out = y·wo: the result."""
        c, B, T = self.cfg, self.B, self.T
        full, rows = _tensor((B, T, c.Hs, c.Vs)), _tensor((B, T, c.Hs))
        self.comment("y = gate ⊙ (w_0·RMSNorm(o)·o_norm + w_1·RMSNorm(os)·os_norm).")
        self.emit(f"  %y_init = tensor.empty() : {full}")
        self.generic(["y"], ["#id4", "#row4", "#id4", "#row4", "#id4", "#id4"], ["parallel"] * 4,
                     [("gate", full), ("mix0", rows), ("o_normed", full), ("mix1", rows),
                      ("os_normed", full)], [("y_init", full)],
                     ["%gt: f32", "%w0: f32", "%on: f32", "%w1: f32", "%osn: f32", "%unused: f32"],
                     ["%lin = arith.mulf %w0, %on : f32", "%sm = arith.mulf %w1, %osn : f32",
                      "%mixed = arith.addf %lin, %sm : f32", "%r = arith.mulf %gt, %mixed : f32",
                      "linalg.yield %r : f32"])
        self.comment("out = (y viewed (B·T)×(H·V))·wo, back to B×T×D.")
        self.reshape("collapse_shape", "y_flat", "y", "[[0, 1], [2, 3]]", (B, T, c.Hs, c.Vs),
                     (B * T, c.H * c.V))
        self.project("out", "out", "y_flat", "f32", "wo", c.H * c.V, (B, T, c.D))
        out = self.convert("out", (B, T, c.D), "f32", self.io, f"out_{self.io}")
        self.emit(f"  return %{out} : {_tensor((B, T, c.D), self.io)}", "}")

    def text(self):
        for part in (self.header, self.signature, self.small_weights, self.qkv,
                     self.linear_branch, self.softmax_branch, self.core, self.combine):
            part()
        return "\n".join(self.lines) + "\n"


def _check_size(name, value):
    if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name}: expected an integer >= 1, got {value}")


def _check_dtype(dtype):
    if not isinstance(dtype, str):
        raise TypeError(f"dtype: expected a name, one of {', '.join(ELEMENT_TYPES)}; "
                        f"got {type(dtype).__name__}")
    if dtype not in ELEMENT_TYPES:
        raise ValueError(f"dtype: expected one of {', '.join(ELEMENT_TYPES)}, got {dtype!r}")


def graph(cfg: reference.LayerConfig, batch: int, tokens: int, dtype="float32") -> str:
    """The MLIR text of ``func.func @nats_l_layer(%x: B×T×D, <WEIGHT_NAMES>) -> B×T×D`` for the
    sizes of `cfg`, ``B = batch``, ``T = tokens`` (a partial last chunk is fine) and the element
    type `dtype` ("float32" or "bfloat16") of x, the weights and the result."""
    if not isinstance(cfg, reference.LayerConfig):
        raise TypeError(f"cfg: expected a nats.reference.LayerConfig, got {type(cfg).__name__}")
    for field in dataclasses.fields(cfg):
        _check_size(f"cfg.{field.name}", getattr(cfg, field.name))
    cfg.check()
    _check_size("batch", batch)
    _check_size("tokens", tokens)
    _check_dtype(dtype)
    return _Graph(cfg, int(batch), int(tokens), ELEMENT_TYPES[dtype]).text()


def arguments(x, weights, dtype="float32") -> list[np.ndarray]:
    """x and then the weights in WEIGHT_NAMES order, C-contiguous in `dtype` (bf16 rounds to
    nearest): the arguments of the graph's function before its result."""
    _check_dtype(dtype)
    numpy_dtype = runtime.dtype_of(ELEMENT_TYPES[dtype])
    return [np.ascontiguousarray(a, dtype=numpy_dtype)
            for a in [x] + [weights[name] for name in WEIGHT_NAMES]]


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python3 -m nats.layer",
        description="Print the NAtS-L layer graph (spec §4) as MLIR: func.func @nats_l_layer.")
    parser.add_argument("--sizes", choices=SIZES, default="example",
                        help="the sizes the options below override (default: example)")
    for field in dataclasses.fields(reference.LayerConfig):
        parser.add_argument("--" + field.name.replace("_", "-"), dest=field.name, type=int)
    parser.add_argument("--batch", type=int, default=EXAMPLE_BATCH)
    parser.add_argument("--tokens", type=int, default=EXAMPLE_TOKENS)
    parser.add_argument("--dtype", choices=ELEMENT_TYPES, default="float32")
    parser.add_argument("-o", "--output", type=Path, help="write here (default: stdout)")
    args = parser.parse_args(argv)
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(reference.LayerConfig)
                 if getattr(args, f.name) is not None}
    try:
        text = graph(dataclasses.replace(SIZES[args.sizes], **overrides), args.batch,
                     args.tokens, args.dtype)
    except ValueError as e:
        parser.error(str(e))
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
