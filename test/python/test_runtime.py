"""nats.compiler and nats.runtime: MLIR compiled through nats-cpu to a shared
object, called on NumPy arrays, checked against NumPy."""

import numpy as np
import pytest

import nats
from nats import runtime

MATMUL = """
func.func @matmul(%a: tensor<5x7xf32>, %b: tensor<7x3xf32>) -> tensor<5x3xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<5x3xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<5x3xf32>) -> tensor<5x3xf32>
  %c = linalg.matmul ins(%a, %b : tensor<5x7xf32>, tensor<7x3xf32>)
                     outs(%acc : tensor<5x3xf32>) -> tensor<5x3xf32>
  return %c : tensor<5x3xf32>
}
"""

ROUTE = """
func.func @route(%x: tensor<2x10x8xf16>, %w: tensor<8x6xf16>) -> tensor<2x3x3xi1> {
  %r = nats.chunk_route %x, %w {chunk_size = 4 : i64}
      : tensor<2x10x8xf16>, tensor<8x6xf16> -> tensor<2x3x3xi1>
  return %r : tensor<2x3x3xi1>
}
"""


def test_matmul_matches_numpy():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 7), dtype=np.float32)
    b = rng.standard_normal((7, 3), dtype=np.float32)
    c = np.full((5, 3), np.nan, np.float32)
    nats.compile_module(MATMUL).call("matmul", [a, b, c])
    np.testing.assert_allclose(c, a @ b, rtol=1e-5, atol=1e-5)


def test_chunk_route_matches_reference_router():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 10, 8)).astype(np.float16)
    w = rng.standard_normal((8, 6)).astype(np.float16)
    route = np.zeros((2, 3, 3), bool)
    nats.compile_module(ROUTE).call("route", [x, w, route])
    # The reference router: chunk mean (partial last chunk: its own tokens).
    xf = x.astype(np.float64)
    means = np.stack([xf[:, n * 4:(n + 1) * 4].mean(axis=1) for n in range(3)], axis=1)
    logits = (means @ w.astype(np.float64)).reshape(2, 3, 3, 2)
    np.testing.assert_array_equal(route, np.argmax(logits, axis=-1) == 0)


def test_products_are_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("NATS_CACHE_DIR", str(tmp_path))
    first = nats.compile_module(MATMUL)
    second = nats.compile_module(MATMUL)
    assert first.path == second.path
    assert len(list(tmp_path.glob("*.so"))) == 1


def test_compile_error_carries_diagnostics():
    with pytest.raises(nats.CompileError, match="custom op 'nats.bogus' is unknown"):
        nats.compile_module("func.func @f() { nats.bogus return }")


def test_missing_function_is_a_clear_error():
    with pytest.raises(runtime.RuntimeError_, match="no function @nope"):
        nats.compile_module(MATMUL).call("nope", [])


def test_non_contiguous_arrays_are_refused():
    a = np.zeros((7, 5), np.float32).T
    with pytest.raises(ValueError, match="C-contiguous"):
        nats.compile_module(MATMUL).call("matmul", [a, np.zeros((7, 3), np.float32),
                                                    np.zeros((5, 3), np.float32)])
