"""The NAtS-L layer graph of nats.layer (python/nats/layer.py, spec §4) compiled for the CPU
against the float64 layer reference: the example (the graph the build writes to
build/examples/nats_l_layer.mlir), a small size with a partial last chunk, and bf16."""

import dataclasses

import numpy as np
import pytest

import nats
from nats import layer, reference, runtime

# Small enough to compile and run quickly; T = 200 leaves a partial last chunk (200 = 3·64 + 8).
SMALL = reference.LayerConfig(D=128, H=2, K=32, V=64, Hs=4, Ks=16, Vs=32, R=2)
SMALL_TOKENS = 200


def run_layer(cfg, tokens, dtype="float32"):
    """The max relative error of the compiled graph against the reference on the same
    (rounded) inputs, and the reference's route density."""
    module = nats.compile_module(layer.graph(cfg, 1, tokens, dtype))
    weights = reference.init_layer_weights(cfg, seed=3)
    x = np.random.default_rng(4).standard_normal((1, tokens, cfg.D), dtype=np.float32)
    inputs = layer.arguments(x, weights, dtype)
    out = np.full((1, tokens, cfg.D), np.nan, inputs[0].dtype)
    module.call("nats_l_layer", inputs + [out])
    ref = reference.layer_intermediates(inputs[0], dict(zip(layer.WEIGHT_NAMES, inputs[1:])), cfg)
    error = np.abs(out.astype(np.float64) - ref["out"]).max() / np.abs(ref["out"]).max()
    return float(error), ref["route"].mean()


def test_layer_matches_reference(measured):
    error, density = run_layer(layer.EXAMPLE, layer.EXAMPLE_TOKENS)
    assert 0 < density < 1, "the weights should route to both memories"
    measured("out", error, 1e-4)


def test_small_layer_with_partial_chunk_matches_reference(measured):
    error, density = run_layer(SMALL, SMALL_TOKENS)
    assert 0 < density < 1, "the weights should route to both memories"
    measured("out", error, 1e-4)


def test_bf16_layer_matches_reference_on_rounded_inputs(measured):
    if runtime.BF16 is None:
        pytest.skip("bf16 needs ml_dtypes")
    error, _ = run_layer(SMALL, SMALL_TOKENS, "bfloat16")
    measured("out", error, 2e-2)


def test_weight_names_are_the_reference_weights_in_argument_order():
    assert layer.WEIGHT_NAMES == (
        "wq", "wk", "wv", "conv_q", "conv_k", "conv_v", "wb", "wa", "a_log", "dt_bias",
        "qs_norm", "ks_norm", "wr", "wm", "wg", "o_norm", "os_norm", "wo")
    assert set(layer.WEIGHT_NAMES) == set(reference.layer_weight_shapes(layer.EXAMPLE))


def test_bf16_graph_has_bf16_arguments_and_f32_compute():
    text = layer.graph(SMALL, 1, SMALL_TOKENS, "bfloat16")
    assert "%x: tensor<1x200x128xbf16>" in text
    assert ") -> tensor<1x200x128xbf16> {" in text
    assert "tensor<200x128xbf16>, tensor<128x64xbf16>)\n      outs(%q_acc : tensor<200x64xf32>)" \
        in text


@pytest.mark.parametrize("change, error", [
    (dict(dtype="float16"), ValueError),
    (dict(dtype=np.float32), TypeError),
    (dict(batch=0), ValueError),
    (dict(tokens=-1), ValueError),
    (dict(tokens=2.5), TypeError),
    (dict(cfg=dataclasses.replace(SMALL, Hs=3)), ValueError),  # H·K != Hs·Ks
    (dict(cfg=dataclasses.replace(SMALL, R=3)), ValueError),   # H not a multiple of R
    (dict(cfg=dataclasses.replace(SMALL, K=0)), ValueError),
    (dict(cfg=dataclasses.replace(SMALL, D=128.0)), TypeError),
    (dict(cfg=(128, 2, 32, 64, 4, 16, 32, 2)), TypeError),
])
def test_bad_arguments_raise(change, error):
    args = dict(cfg=SMALL, batch=1, tokens=SMALL_TOKENS, dtype="float32") | change
    with pytest.raises(error):
        layer.graph(**args)


def test_command_line_writes_the_graph(tmp_path, capsys):
    assert layer.main(["--sizes", "340m", "--tokens", "4096", "--dtype", "bfloat16"]) == 0
    assert "%x: tensor<1x4096x1024xbf16>" in capsys.readouterr().out
    path = tmp_path / "layer.mlir"
    assert layer.main(["--D", "128", "--H", "2", "--K", "32", "--V", "64", "--Hs", "4",
                       "--Ks", "16", "--Vs", "32", "--R", "2", "--tokens", "200",
                       "-o", str(path)]) == 0
    assert path.read_text() == layer.graph(SMALL, 1, SMALL_TOKENS)
    with pytest.raises(SystemExit):
        layer.main(["--Hs", "3"])
