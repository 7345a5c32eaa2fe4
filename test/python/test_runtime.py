"""nats.compiler and nats.runtime: MLIR compiled through nats-cpu to a shared
object, called on NumPy arrays, checked against NumPy."""

import os

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


# A value that encodes every index: out[i, j, k, l] = x + 1000i + 100j + 10k + l,
# so that wrong sizes or strides in the descriptors show up.
INDEXED = """
#map = affine_map<(i, j, k, l) -> (i, j, k, l)>
func.func @indexed(%x: tensor<2x3x1x5xf32>) -> (tensor<2x3x1x5xf32>, tensor<5x1x3x2xf32>) {
  %init = tensor.empty() : tensor<2x3x1x5xf32>
  %y = linalg.generic {indexing_maps = [#map, #map],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<2x3x1x5xf32>) outs(%init : tensor<2x3x1x5xf32>) {
  ^bb0(%in: f32, %out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %k = linalg.index 2 : index
    %l = linalg.index 3 : index
    %c10 = arith.constant 10 : index
    %c100 = arith.constant 100 : index
    %c1000 = arith.constant 1000 : index
    %a = arith.muli %i, %c1000 : index
    %b = arith.muli %j, %c100 : index
    %c = arith.muli %k, %c10 : index
    %s0 = arith.addi %a, %b : index
    %s1 = arith.addi %s0, %c : index
    %s2 = arith.addi %s1, %l : index
    %n = arith.index_cast %s2 : index to i64
    %f = arith.sitofp %n : i64 to f32
    %r = arith.addf %in, %f : f32
    linalg.yield %r : f32
  } -> tensor<2x3x1x5xf32>
  %tinit = tensor.empty() : tensor<5x1x3x2xf32>
  %t = linalg.transpose ins(%y : tensor<2x3x1x5xf32>) outs(%tinit : tensor<5x1x3x2xf32>)
      permutation = [3, 2, 1, 0]
  return %y, %t : tensor<2x3x1x5xf32>, tensor<5x1x3x2xf32>
}
"""


def test_descriptors_of_non_trivial_shapes():
    # A C-contiguous array whose size-1 dim has an odd NumPy stride (0).
    x = np.full((2, 3, 5), 0.5, np.float32)[:, :, np.newaxis, :]
    assert x.flags.c_contiguous and x.strides[2] == 0
    y = np.full((2, 3, 1, 5), np.nan, np.float32)
    t = np.full((5, 1, 3, 2), np.nan, np.float32)
    nats.compile_module(INDEXED).call("indexed", [x, y, t])
    i, j, k, l = np.indices((2, 3, 1, 5))
    expected = 0.5 + 1000 * i + 100 * j + 10 * k + l
    np.testing.assert_array_equal(y, expected)
    np.testing.assert_array_equal(t, expected.transpose(3, 2, 1, 0))


SELECT = """
func.func @select(%m: tensor<3x4xi1>, %a: tensor<3x4x{t}>, %b: tensor<3x4x{t}>) -> tensor<3x4x{t}> {{
  %init = tensor.empty() : tensor<3x4x{t}>
  %r = linalg.map {{ arith.select }} ins(%m, %a, %b : tensor<3x4xi1>, tensor<3x4x{t}>, tensor<3x4x{t}>)
      outs(%init : tensor<3x4x{t}>)
  return %r : tensor<3x4x{t}>
}}
"""


@pytest.mark.parametrize("element_type", ["f32", "f16", "bf16", "f64", "i32", "i64", "i8"])
def test_element_types_and_i1_inputs(element_type):
    """i1 is one byte per element in a memref, as NumPy's bool; every
    element type maps to its NumPy dtype."""
    if element_type == "bf16" and runtime.BF16 is None:
        pytest.skip("bf16 needs ml_dtypes")
    dtype = runtime.dtype_of(element_type)
    rng = np.random.default_rng(3)
    m = rng.random((3, 4)) < 0.5
    a = (rng.standard_normal((3, 4)) * 10).astype(dtype)
    b = (rng.standard_normal((3, 4)) * 10).astype(dtype)
    out = np.zeros((3, 4), dtype)
    nats.compile_module(SELECT.format(t=element_type)).call("select", [m, a, b, out])
    np.testing.assert_array_equal(out, np.where(m, a, b))


def test_bf16_without_ml_dtypes_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(runtime, "BF16", None)
    with pytest.raises(TypeError, match="bf16 arrays need the ml_dtypes package"):
        runtime.dtype_of("bf16")


def test_call_checks_arrays_against_the_signature():
    module = nats.compile_module(MATMUL)
    a, b = np.zeros((5, 7), np.float32), np.zeros((7, 3), np.float32)
    c = np.zeros((5, 3), np.float32)
    with pytest.raises(ValueError, match=r"@matmul takes 2 inputs and 1 outputs, got 2 arrays"):
        module.call("matmul", [a, b])
    with pytest.raises(ValueError, match=r"@matmul input 1: expected tensor<7x3xf32>, "
                                         r"got float32 array of shape \(3, 7\)"):
        module.call("matmul", [a, b.T.copy(), c])
    with pytest.raises(TypeError, match=r"@matmul output 0: expected tensor<5x3xf32>, "
                                        r"got float64 array"):
        module.call("matmul", [a, b, c.astype(np.float64)])
    with pytest.raises(TypeError, match=r"@matmul input 0: expected a NumPy array"):
        module.call("matmul", [[0.0], b, c])
    c.flags.writeable = False
    with pytest.raises(ValueError, match=r"@matmul output 0: the output array is read-only"):
        module.call("matmul", [a, b, c])


def test_signatures_travel_with_the_shared_object(tmp_path, monkeypatch):
    monkeypatch.setenv("NATS_CACHE_DIR", str(tmp_path))
    path = nats.compile_module(MATMUL).path
    loaded = runtime.Module(path)  # as on a machine without MLIR
    assert str(loaded.signatures["matmul"].arguments[1]) == "tensor<7x3xf32>"
    with pytest.raises(ValueError, match="@matmul input 0"):
        loaded.call("matmul", [np.zeros((5, 6), np.float32), np.zeros((7, 3), np.float32),
                               np.zeros((5, 3), np.float32)])


def test_parse_signatures():
    signatures = runtime.parse_signatures("""
    // func.func @commented(%x: f32)
    func.func @a(%x: tensor<2x?xf32> {bufferization.writable = false}, %y: memref<3xi1>,
                 %s: f32) -> (tensor<f32> {some.attr}, tensor<1x2xbf16>)
        attributes {llvm.emit_c_interface} {
      return
    }
    func.func private @b(tensor<4xf16>) -> tensor<4x5xi32>
    func.func @c() -> tensor<3xf32> { }
    func.func @d(%i: tensor<4xindex>, %u: tensor<*xf32>, %v: tensor<2xvector<4xf32>>)
    """)
    assert sorted(signatures) == ["a", "b", "c", "d"]
    d = signatures["d"].arguments
    assert (d[0].shape, d[0].element_type) == ((4,), "index")
    assert d[1] == "tensor<*xf32>"  # unranked: kept as text, refused by call
    assert (d[2].shape, d[2].element_type) == ((2,), "vector<4xf32>")
    a = signatures["a"]
    assert [str(t) for t in a.arguments] == ["tensor<2x?xf32>", "memref<3xi1>", "f32"]
    assert [str(t) for t in a.results] == ["tensor<f32>", "tensor<1x2xbf16>"]
    assert a.arguments[0].shape == (2, None) and not a.arguments[0].static
    assert [str(t) for t in signatures["b"].parameters] == ["tensor<4xf16>", "tensor<4x5xi32>"]
    assert [str(t) for t in signatures["c"].results] == ["tensor<3xf32>"]


NEGATE = """
func.func @neg(%x: tensor<4xf32> {bufferization.writable = false}) -> tensor<4xf32> {
  %r = linalg.map { arith.negf } ins(%x : tensor<4xf32>) outs(%x : tensor<4xf32>)
  return %r : tensor<4xf32>
}
"""


def test_read_only_arguments_are_not_written():
    x = np.arange(4, dtype=np.float32)
    out = np.full(4, np.nan, np.float32)
    nats.compile_module(NEGATE).call("neg", [x, out])
    np.testing.assert_array_equal(x, np.arange(4))
    np.testing.assert_array_equal(out, -np.arange(4))


def test_cache_is_keyed_by_source_and_pipeline(tmp_path, monkeypatch):
    monkeypatch.setenv("NATS_CACHE_DIR", str(tmp_path))
    first = nats.compile_module(MATMUL)
    assert set(first.compile_times) == {"nats-opt", "mlir-translate", "opt", "llc", "cc"}
    os.utime(first.path, (0, 0))
    again = nats.compile_module(MATMUL)
    assert again.path == first.path and again.compile_times == {}
    # A product used again is marked so (bench/gpu_prepare.sh prunes the rest).
    assert os.stat(first.path).st_mtime > 0
    other = nats.compile_module(MATMUL, "nats-cpu{tile-size=32}")
    assert other.path != first.path
    changed = nats.compile_module(MATMUL.replace("%zero", "%z"))
    assert changed.path not in (first.path, other.path)
    # Only finished products: no temporary files or folders are left.
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".json"] * 3 + [".so"] * 3


def test_tool_overrides_and_missing_tools(monkeypatch, tmp_path):
    monkeypatch.setenv("NATS_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("NATS_LLC", "/usr/lib/llvm-22/bin/llc")
    assert nats.compiler.tool("llc") == "/usr/lib/llvm-22/bin/llc"
    monkeypatch.setenv("NATS_LLVM_OPT", "/usr/lib/llvm-22/bin/opt")
    assert nats.compiler.tool("opt") == "/usr/lib/llvm-22/bin/opt"
    monkeypatch.setenv("NATS_OPT", "/nonexistent/nats-opt")
    with pytest.raises(nats.CompileError, match=r"\$NATS_OPT = /nonexistent/nats-opt is not"):
        nats.compile_module(MATMUL)
    monkeypatch.delenv("NATS_OPT")
    monkeypatch.setenv("CC", "/nonexistent/cc")
    with pytest.raises(nats.CompileError, match="cannot run /nonexistent/cc"):
        nats.compile_module(MATMUL)
    assert list(tmp_path.iterdir()) == []


def test_cached_products_run_where_the_tools_are_not(tmp_path, monkeypatch):
    """A machine without MLIR (the GPU machine) uses products compiled
    elsewhere; one it does not have is a clear error, not a crash."""
    monkeypatch.setenv("NATS_CACHE_DIR", str(tmp_path))
    assert nats.compile_module(MATMUL, load=False) is None
    assert len(list(tmp_path.glob("*.so"))) == 1

    def missing(name):
        raise nats.compiler.ToolNotFound(f"cannot find the tool '{name}'")
    monkeypatch.setattr(nats.compiler, "tool", missing)
    monkeypatch.setenv("CC", "/another/cc")  # how it was linked is not part of the key
    module = nats.compile_module(MATMUL)
    a, b = np.ones((5, 7), np.float32), np.ones((7, 3), np.float32)
    c = np.full((5, 3), np.nan, np.float32)
    module.call("matmul", [a, b, c])
    assert (c == 7).all()
    with pytest.raises(nats.CompileError, match="not in the cache .* tools to compile it"):
        nats.compile_module(MATMUL.replace("matmul", "other"))


def test_gpu_products_call_the_cuda_runtime(tmp_path, monkeypatch):
    """target="cuda" compiles through nats-gpu (no GPU needed) into a shared
    object whose launches go to the mgpu* runtime."""
    import subprocess
    from nats import cuda
    if not cuda.runtime_library().exists():
        pytest.skip("built without a CUDA toolkit: no cubin, no runtime")
    monkeypatch.setenv("NATS_CACHE_DIR", str(tmp_path))
    nats.compile_module(MATMUL, target="cuda", load=False)
    (product,) = tmp_path.glob("*.so")
    undefined = subprocess.run(["nm", "-D", "--undefined-only", str(product)],
                               capture_output=True, text=True, check=True).stdout
    assert "mgpuLaunchKernel" in undefined and "mgpuModuleLoad" in undefined
    assert "mlir_c_runner_utils" not in subprocess.run(
        ["readelf", "-d", str(product)], capture_output=True, text=True).stdout
    with pytest.raises(ValueError, match="target: expected one of"):
        nats.compile_module(MATMUL, target="tpu")


def test_misaligned_device_arrays_are_refused():
    """A GPU function's arguments promise 16-byte aligned data
    (nats-gpu-aligned-arguments): a view at another address is refused
    before any call (no device is needed to see it)."""
    from nats import cuda
    aligned = cuda.DeviceArray.wrap(0x10000, (4, 8), np.float32)
    assert runtime.descriptor(aligned).aligned == 0x10000
    view = cuda.DeviceArray.wrap(0x10000 + 2, (4, 8), runtime.BF16 or np.float16)
    with pytest.raises(ValueError, match="16-byte aligned"):
        runtime.descriptor(view)
