"""The example NAtS-L layer graph (examples/nats_l_layer.mlir) compiled for
the CPU against the float64 layer reference (spec §4)."""

import pathlib

import numpy as np

import nats
from nats import reference

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIG = reference.LayerConfig(D=512, H=4, K=64, V=128, Hs=8, Ks=32, Vs=64, R=4, chunk_size=64)
WEIGHTS = ["wq", "wk", "wv", "conv_q", "conv_k", "conv_v", "wb", "wa", "a_log", "dt_bias",
           "qs_norm", "ks_norm", "wr", "wm", "wg", "o_norm", "os_norm", "wo"]


def test_layer_matches_reference(measured):
    module = nats.compile_module((ROOT / "examples" / "nats_l_layer.mlir").read_text())
    weights = reference.init_layer_weights(CONFIG, seed=3)
    x = np.random.default_rng(4).standard_normal((1, 1024, CONFIG.D), dtype=np.float32)
    out = np.full((1, 1024, CONFIG.D), np.nan, np.float32)
    module.call("nats_l_layer", [x] + [weights[n] for n in WEIGHTS] + [out])
    ref = reference.layer_intermediates(x, weights, CONFIG)
    assert 0 < ref["route"].mean() < 1, "the weights should route to both memories"
    measured("out", float(np.abs(out - ref["out"]).max() / np.abs(ref["out"]).max()), 1e-4)
