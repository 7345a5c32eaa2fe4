"""nats.hybrid_attention (spec §7): argument checking (spec §6: every bad
argument is refused before anything is compiled or run, with its name in the
message), the MLIR it builds, its caching, and, once the nats-cpu pipeline
lowers nats.hybrid_attention, its results against the float64 reference."""

import functools
import subprocess

import numpy as np
import pytest

import nats
from nats import api, compiler, reference, runtime


def good_inputs(**overrides):
    inputs = reference.make_inputs(2, 20, 4, 8, 6, 4, 4, 5, 2, 8, seed=0)
    inputs.pop("initial_state", None)
    inputs.update(overrides)
    return inputs


def call(chunk_size=8, **overrides):
    return nats.hybrid_attention(**good_inputs(**overrides), chunk_size=chunk_size)


@pytest.fixture
def no_compiling(monkeypatch):
    """Fails the test if anything is compiled."""
    def refuse(*args, **kwargs):
        raise AssertionError("compiled before the arguments were checked")
    monkeypatch.setattr(compiler, "compile_module", refuse)
    api._forget_compiled()
    yield
    api._forget_compiled()


@pytest.mark.parametrize("overrides, error, match", [
    (dict(q=np.zeros((2, 20, 4), np.float32)), ValueError, r"q: expected rank 4"),
    (dict(q=np.zeros((2, 20, 4, 8), np.float64)), TypeError,
     r"q: expected float32, float16 or bfloat16, got float64"),
    (dict(k=np.zeros((2, 20, 4, 9), np.float32)), ValueError, r"k: K = 9, but q has K = 8"),
    (dict(v=np.zeros((3, 20, 4, 6), np.float32)), ValueError, r"v: B = 3, but q has B = 2"),
    (dict(g=np.zeros((2, 21, 4), np.float32)), ValueError, r"g: T = 21, but q has T = 20"),
    (dict(g=np.zeros((2, 20, 4, 1), np.float32)), ValueError, r"g: expected rank 3"),
    (dict(beta=np.zeros((2, 20, 4), np.float64)), TypeError, r"beta: expected float32 like q"),
    (dict(beta=np.zeros((2, 20, 3), np.float32)), ValueError, r"beta: H = 3, but q has H = 4"),
    (dict(qs=np.zeros((2, 20, 4, 4), np.int32)), TypeError, r"qs: expected float32 like q"),
    (dict(qs=np.zeros((2, 20, 4, 4), np.float16)), TypeError, r"qs: expected float32 like q"),
    (dict(ks=np.zeros((2, 20, 4, 3), np.float32)), ValueError, r"ks: Ks = 3, but qs has Ks = 4"),
    (dict(ks=np.zeros((2, 20, 2, 4), np.float32)), ValueError, r"ks: Hs = 2, but qs has Hs = 4"),
    (dict(vs=np.zeros((2, 20, 4, 5), np.float32)[:, ::-1]), ValueError, r"vs: .*C-contiguous"),
    (dict(vs=np.zeros((2, 20, 4), np.float32)), ValueError, r"vs: expected rank 4"),
    (dict(route=np.zeros((2, 3, 2), np.int8)), TypeError, r"route: expected bool"),
    (dict(route=np.zeros((3, 3, 2), bool)), ValueError, r"route: B = 3, but q has B = 2"),
    (dict(route=np.zeros((2, 3), bool)), ValueError, r"route: expected rank 3"),
    (dict(route=np.zeros((2, 3, 3), bool)), ValueError,
     r"route: R = 3 router heads must divide H = 4"),
    (dict(qs=np.zeros((2, 20, 3, 4), np.float32), ks=np.zeros((2, 20, 3, 4), np.float32),
          vs=np.zeros((2, 20, 3, 5), np.float32)), ValueError,
     r"route: R = 2 router heads must divide Hs = 3"),
    (dict(route=[[[True]]]), TypeError, r"route: expected a NumPy array or a nats.cuda.DeviceArray, got list"),
    (dict(q="not an array"), TypeError, r"q: expected a NumPy array"),
    (dict(initial_state=np.zeros((2, 4, 8, 6), np.float16)), TypeError,
     r"initial_state: expected float32"),
    (dict(initial_state=np.zeros((2, 4, 8, 7), np.float32)), ValueError,
     r"initial_state: V = 7, but v has V = 6"),
    (dict(initial_state=np.zeros((2, 4, 9, 6), np.float32)), ValueError,
     r"initial_state: K = 9, but q has K = 8"),
    (dict(initial_state=np.zeros((2, 4, 8), np.float32)), ValueError,
     r"initial_state: expected rank 4"),
    (dict(initial_state=np.zeros((2, 4, 6, 8), np.float32).transpose(0, 1, 3, 2)), ValueError,
     r"initial_state: .*C-contiguous"),
])
def test_bad_arguments_name_the_argument(no_compiling, overrides, error, match):
    with pytest.raises(error, match=match):
        call(**overrides)


def test_zero_sized_dims_are_refused(no_compiling):
    empty = good_inputs(q=np.zeros((2, 20, 4, 0), np.float32))
    with pytest.raises(ValueError, match=r"q: every dimension must be at least 1"):
        nats.hybrid_attention(**empty, chunk_size=8)


def test_route_length_must_match_chunks(no_compiling):
    with pytest.raises(ValueError, match=r"route: has N = 2 chunks, .* need N = ceil\(T / C\) = 3"):
        call(route=np.zeros((2, 2, 2), bool))
    with pytest.raises(ValueError, match=r"route: has N = 3 chunks, .* need N = ceil\(T / C\) = 20"):
        call(chunk_size=1)


@pytest.mark.parametrize("attributes, error, match", [
    (dict(chunk_size=0), ValueError, "chunk_size: expected an integer >= 1"),
    (dict(chunk_size=8.0), ValueError, "chunk_size: expected an integer >= 1"),
    (dict(chunk_size=True), ValueError, "chunk_size: expected an integer >= 1"),
    (dict(window=-1), ValueError, "window: expected an integer >= 0"),
    (dict(window=None), ValueError, "window: expected an integer >= 0"),
    (dict(scale="0.5"), TypeError, "scale: expected a number or None"),
    (dict(scale=float("nan")), ValueError, "scale: expected a finite f32 number"),
    (dict(softmax_scale=1e39), ValueError, "softmax_scale: expected a finite f32 number"),
    (dict(qk_l2norm=1), TypeError, "qk_l2norm: expected a bool"),
    (dict(target="tpu"), ValueError, "target: expected 'cpu' or 'cuda'"),
])
def test_bad_attributes(no_compiling, attributes, error, match):
    attributes.setdefault("chunk_size", 8)
    with pytest.raises(error, match=match):
        nats.hybrid_attention(**good_inputs(), **attributes)


@pytest.fixture
def cuda_without_gpu():
    """nats.cuda where its runtime is built but no GPU is found (else skip)."""
    from nats import cuda
    if not cuda.runtime_library().exists():
        pytest.skip("built without a CUDA toolkit: no cubin, no runtime")
    try:
        cuda.device_name()
    except cuda.CudaError:
        return cuda
    pytest.skip("a GPU is here: tests/gpu runs the target")


@pytest.mark.parametrize("pipeline, error, match", [
    (3, TypeError, "pipeline: expected a str or None"),
    ("nats-gpu", ValueError, "pipeline: target='cpu' compiles through nats-cpu"),
    ("nats-cpux{tile-size=8}", ValueError, "compiles through nats-cpu"),
])
def test_bad_pipelines(no_compiling, pipeline, error, match):
    with pytest.raises(error, match=match):
        nats.hybrid_attention(**good_inputs(), chunk_size=8, pipeline=pipeline)


def test_a_cpu_pipeline_for_the_gpu_is_refused(no_compiling):
    """CPU code would read device pointers: refused before anything compiles."""
    with pytest.raises(ValueError, match="target='cuda' compiles through nats-gpu"):
        nats.api.precompile(**good_inputs(), chunk_size=8, target="cuda", pipeline="nats-cpu")


def test_pipeline_options_compile_the_same_function():
    """Another tile size is another tiling of the same computation."""
    want = call()
    got = nats.hybrid_attention(**good_inputs(), chunk_size=8, pipeline="nats-cpu{tile-size=16}")
    for w, g in zip(want, got):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_cuda_without_a_gpu_says_why(cuda_without_gpu):
    """Compiles for the GPU, then fails with a CUDA error, not a crash."""
    with pytest.raises(cuda_without_gpu.CudaError, match="CUDA|cuInit|runtime"):
        nats.hybrid_attention(**good_inputs(), chunk_size=8, target="cuda")


@pytest.mark.parametrize("call", ["max_memory_allocated", "reset_peak_memory_stats"])
def test_peak_memory_without_a_gpu_says_why(cuda_without_gpu, call):
    with pytest.raises(cuda_without_gpu.CudaError, match="CUDA|cuInit"):
        getattr(cuda_without_gpu, call)()


def device_views(inputs):
    """DeviceArray views of the inputs' shapes and dtypes (at no real
    address: the calls below must refuse before they touch one)."""
    from nats import cuda
    return {n: cuda.DeviceArray.wrap(0x1000, a.shape, a.dtype, owner=a)
            for n, a in inputs.items()}


@pytest.mark.parametrize("target, mix, out, error, match", [
    ("cpu", False, None, TypeError, "device arrays need target='cuda'"),
    ("cuda", True, None, TypeError, "every array on the device"),
    ("cuda", False, "numpy", TypeError, "out: expected three nats.cuda.DeviceArray"),
    ("cuda", False, "shape", ValueError, "out: o must have shape"),
    ("cuda", "misaligned", None, ValueError, "q: compiled GPU functions take device arrays "
     "whose data is 16-byte aligned; this one starts at 0x1002"),
    ("cuda", False, "misaligned", ValueError, "out: os: compiled GPU functions take"),
])
def test_device_arrays_are_checked(monkeypatch, target, mix, out, error, match):
    """Device arrays: all of them, on the cuda target, 16-byte aligned (the
    GPU path's functions promise their kernels so), and `out` matching the
    results; refused before anything runs."""
    from nats import cuda
    inputs = good_inputs()
    views = device_views(inputs)
    if mix == "misaligned":
        views["q"] = cuda.DeviceArray.wrap(0x1002, inputs["q"].shape, inputs["q"].dtype)
    elif mix:
        views["q"] = inputs["q"]
    if out == "numpy":
        out = (inputs["v"], inputs["vs"], np.zeros((2, 4, 8, 6), np.float32))
    elif out == "shape":
        out = tuple(cuda.DeviceArray.wrap(0x1000, s, d) for s, d in
                    [((1, 1), np.float32), ((2, 20, 4, 5), np.float32),
                     ((2, 4, 8, 6), np.float32)])
    elif out == "misaligned":
        out = tuple(cuda.DeviceArray.wrap(address, s, np.float32) for address, s in
                    [(0x1000, inputs["v"].shape), (0x1008, inputs["vs"].shape),
                     (0x2000, (2, 4, 8, 6))])
    class Refuse:
        """A compiled module whose functions must not run."""
        def call(self, *args, **kwargs):
            pytest.fail("ran")
    monkeypatch.setattr(api, "_compiled", lambda *args: Refuse())
    with pytest.raises(error, match=match):
        nats.hybrid_attention(**views, chunk_size=8, target=target, out=out)


def test_bf16_inputs_are_accepted_with_ml_dtypes(no_compiling):
    if runtime.BF16 is None:
        pytest.skip("bf16 needs ml_dtypes")
    inputs = {n: (a.astype(runtime.BF16) if a.dtype == np.float32 else a)
              for n, a in good_inputs().items()}
    with pytest.raises(AssertionError, match="compiled before"):  # valid: it got to compiling
        nats.hybrid_attention(**inputs, chunk_size=8)


class FakeModule:
    """Stands for a compiled function: records what it was called with."""

    def __init__(self, source):
        self.source = source
        self.calls = []

    def call(self, name, arrays, check=True):
        self.calls.append((name, [a.copy() for a in arrays]))
        for out in arrays[-3:]:
            out[...] = 1


@pytest.fixture
def fake_compiler(monkeypatch):
    modules = []

    def compile_module(source, pipeline=None, target="cpu", load=True):
        modules.append(FakeModule(source))
        return modules[-1]
    monkeypatch.setattr(compiler, "compile_module", compile_module)
    api._forget_compiled()
    yield modules
    api._forget_compiled()


def test_source_calls_and_in_process_cache(fake_compiler):
    inputs = good_inputs(initial_state=np.zeros((2, 4, 8, 6), np.float32))
    o, os_, state = nats.hybrid_attention(**inputs, chunk_size=8, window=3, scale=0.1,
                                          softmax_scale=0.25, qk_l2norm=False)
    assert (o.shape, o.dtype) == ((2, 20, 4, 6), np.float32)
    assert (os_.shape, os_.dtype) == ((2, 20, 4, 5), np.float32)
    assert (state.shape, state.dtype) == ((2, 4, 8, 6), np.float32)
    assert len(fake_compiler) == 1
    module = fake_compiler[0]
    name, arrays = module.calls[0]
    assert name == "hybrid_attention" and len(arrays) == 13
    # Outputs are poisoned with NaN before the call.
    assert all(np.isnan(a).all() for a in arrays[-3:])
    assert "nats.hybrid_attention linear(" in module.source
    assert "initial_state(%initial_state)" in module.source
    assert "scale = 0x3DCCCCCD : f32" in module.source  # float32(0.1), exactly
    assert "qk_l2norm = false" in module.source
    # Same shapes and attributes: compiled once. Other attributes or no
    # initial state: compiled again.
    nats.hybrid_attention(**inputs, chunk_size=8, window=3, scale=0.1, softmax_scale=0.25,
                          qk_l2norm=False)
    assert len(fake_compiler) == 1
    nats.hybrid_attention(**inputs, chunk_size=8, window=4, scale=0.1, softmax_scale=0.25,
                          qk_l2norm=False)
    nats.hybrid_attention(**good_inputs(), chunk_size=8)
    assert len(fake_compiler) == 3
    assert "initial_state" not in fake_compiler[2].source


def test_a_call_like_an_accepted_one_is_still_checked(fake_compiler):
    # The second call of a signature skips the checks (api._PREPARED), so
    # anything the checks read must be part of that signature.
    inputs = good_inputs()
    nats.hybrid_attention(**inputs, chunk_size=8, scale=0.1)
    nats.hybrid_attention(**inputs, chunk_size=8, scale=0.1)
    assert len(fake_compiler) == 1 and len(fake_compiler[0].calls) == 2
    strided = np.zeros((2, 20, 4, 16), np.float32)[..., ::2]
    with pytest.raises(ValueError, match="q: the array must be C-contiguous"):
        nats.hybrid_attention(**dict(inputs, q=strided), chunk_size=8, scale=0.1)
    with pytest.raises(ValueError, match="scale: expected a finite f32 number"):
        nats.hybrid_attention(**inputs, chunk_size=8, scale=float("nan"))
    with pytest.raises(ValueError, match="chunk_size: expected an integer >= 1"):
        nats.hybrid_attention(**inputs, chunk_size=8.0, scale=0.1)
    with pytest.raises(TypeError, match="scale: expected a number or None"):
        nats.hybrid_attention(**inputs, chunk_size=8, scale=[0.1])
    assert len(fake_compiler[0].calls) == 2


def test_route_bytes_are_normalized(fake_compiler):
    route = np.array([0, 1, 7, 0, 255, 1, 0, 0, 2, 2, 0, 1], np.uint8).view(bool)
    nats.hybrid_attention(**good_inputs(route=route.reshape(2, 3, 2)), chunk_size=8)
    passed = fake_compiler[0].calls[0][1][8]
    assert passed.view(np.uint8).ravel().tolist() == [0, 1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1]


@pytest.mark.parametrize("dtype", [np.float32, np.float16, "bf16"])
@pytest.mark.parametrize("with_state", [False, True])
def test_source_passes_the_verifier(fake_compiler, dtype, with_state):
    """The MLIR that the API builds parses and verifies in nats-opt."""
    if dtype == "bf16":
        if runtime.BF16 is None:
            pytest.skip("bf16 needs ml_dtypes")
        dtype = runtime.BF16
    inputs = reference.make_inputs(1, 10, 4, 8, 6, 2, 4, 5, 2, 4, seed=1, dtype=dtype,
                                   initial_state=with_state)
    nats.hybrid_attention(**inputs, chunk_size=4, window=2, scale=0.3)
    source = fake_compiler[0].source
    result = subprocess.run([compiler.tool("nats-opt")], input=source, text=True,
                            capture_output=True)
    assert result.returncode == 0, result.stderr
    assert "scale = 3.000000e-01 : f32" in result.stdout
    assert "{bufferization.writable = false}" in result.stdout


# --- Results, once nats-cpu lowers nats.hybrid_attention ---------------------


@functools.lru_cache(maxsize=None)
def lowering_available() -> bool:
    """Whether the nats-cpu pipeline lowers nats.hybrid_attention: compiles a
    tiny case once."""
    inputs = reference.make_inputs(1, 4, 1, 2, 2, 1, 2, 2, 1, 2, seed=0)
    try:
        nats.hybrid_attention(**inputs, chunk_size=2)
    except nats.CompileError:
        return False
    return True


needs_lowering = pytest.mark.skipif(
    "not lowering_available()",
    reason="the nats-cpu pipeline does not lower nats.hybrid_attention yet")


def max_relative_error(actual, expected):
    expected = np.asarray(expected, np.float64)
    return np.max(np.abs(np.asarray(actual, np.float64) - expected)) / \
        max(np.max(np.abs(expected)), 1e-30)


CASES = {
    # B, T, H, K, V, Hs, Ks, Vs, R, chunk_size, window
    "chunked": (2, 20, 4, 8, 6, 4, 4, 5, 2, 8, 0),
    "partial-chunk-window": (1, 37, 2, 16, 8, 4, 8, 8, 2, 16, 5),
    "token-level": (1, 12, 2, 4, 4, 2, 4, 4, 1, 1, 3),
}


@needs_lowering
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("with_state", [False, True])
def test_matches_reference_f32(case, with_state):
    *dims, window = CASES[case]
    inputs = reference.make_inputs(*dims, seed=7, initial_state=with_state)
    inputs = {n: a for n, a in inputs.items() if a is not None}
    before = {n: a.copy() for n, a in inputs.items()}
    chunk_size = dims[-1]
    got = nats.hybrid_attention(**inputs, chunk_size=chunk_size, window=window)
    want = reference.hybrid_attention(**inputs, chunk_size=chunk_size, window=window)
    for name, g, w in zip(("o", "os", "final_state"), got, want):
        assert g.shape == w.shape, name
        assert not np.isnan(g).any(), f"{name}: parts were not written"
        assert max_relative_error(g, w) <= 1e-5, name
    for name, a in inputs.items():  # the inputs are not written
        np.testing.assert_array_equal(a, before[name], err_msg=name)


@needs_lowering
def test_attributes_reach_the_compiled_code():
    inputs = reference.make_inputs(1, 10, 2, 4, 4, 2, 4, 4, 2, 4, seed=3)
    inputs.pop("initial_state")
    attributes = dict(chunk_size=4, window=2, scale=0.3, softmax_scale=0.7, qk_l2norm=False)
    got = nats.hybrid_attention(**inputs, **attributes)
    want = reference.hybrid_attention(**inputs, **attributes)
    for name, g, w in zip(("o", "os", "final_state"), got, want):
        assert max_relative_error(g, w) <= 1e-5, name


@needs_lowering
def test_matches_reference_f16():
    inputs = reference.make_inputs(1, 20, 2, 8, 8, 2, 8, 8, 2, 8, seed=5, dtype=np.float16)
    inputs.pop("initial_state")
    got = nats.hybrid_attention(**inputs, chunk_size=8)
    want = reference.hybrid_attention(**inputs, chunk_size=8)
    assert got[0].dtype == got[1].dtype == np.float16 and got[2].dtype == np.float32
    for name, g, w in zip(("o", "os", "final_state"), got, want):
        assert max_relative_error(g, w) <= 1e-2, name
