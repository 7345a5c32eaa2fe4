"""nats.hybrid_attention's argument checking (spec §6): every bad argument is
refused before anything is compiled or run, with its name in the message."""

import numpy as np
import pytest

import nats
from nats import reference


def good_inputs(**overrides):
    inputs = reference.make_inputs(2, 20, 4, 8, 6, 4, 4, 5, 2, 8, seed=0)
    inputs.pop("initial_state", None)
    inputs.update(overrides)
    return inputs


def call(chunk_size=8, **overrides):
    return nats.hybrid_attention(**good_inputs(**overrides), chunk_size=chunk_size)


@pytest.mark.parametrize("overrides, error, match", [
    (dict(q=np.zeros((2, 20, 4), np.float32)), ValueError, r"q: expected rank 4"),
    (dict(k=np.zeros((2, 20, 4, 9), np.float32)), ValueError, r"k: K = 9, but q has K = 8"),
    (dict(v=np.zeros((3, 20, 4, 6), np.float32)), ValueError, r"v: B = 3, but q has B = 2"),
    (dict(g=np.zeros((2, 21, 4), np.float32)), ValueError, r"g: T = 21, but q has T = 20"),
    (dict(beta=np.zeros((2, 20, 4), np.float64)), TypeError, r"beta: expected float32 like q"),
    (dict(qs=np.zeros((2, 20, 4, 4), np.int32)), TypeError, r"qs: expected float32 like q"),
    (dict(vs=np.zeros((2, 20, 4, 5), np.float32)[:, ::-1]), ValueError, r"vs: .*C-contiguous"),
    (dict(route=np.zeros((2, 3, 2), np.int8)), TypeError, r"route: expected bool"),
    (dict(route=np.zeros((2, 3, 3), bool)), ValueError, r"route: R = 3 router heads must divide H = 4"),
    (dict(q="not an array"), TypeError, r"q: expected a NumPy array"),
    (dict(initial_state=np.zeros((2, 4, 8, 6), np.float16)), TypeError,
     r"initial_state: expected float32"),
    (dict(initial_state=np.zeros((2, 4, 8, 7), np.float32)), ValueError,
     r"initial_state: V = 7, but v has V = 6"),
])
def test_bad_arguments_name_the_argument(overrides, error, match):
    with pytest.raises(error, match=match):
        call(**overrides)


def test_route_length_must_match_chunks():
    with pytest.raises(ValueError, match=r"route: has N = 2 chunks, .* need N = ceil\(T / C\) = 3"):
        call(route=np.zeros((2, 2, 2), bool))


def test_bad_attributes():
    with pytest.raises(ValueError, match="chunk_size: expected an integer >= 1"):
        call(chunk_size=0)
    with pytest.raises(ValueError, match="window: expected an integer >= 0"):
        nats.hybrid_attention(**good_inputs(), chunk_size=8, window=-1)
    with pytest.raises(ValueError, match="target: expected 'cpu' or 'cuda'"):
        nats.hybrid_attention(**good_inputs(), chunk_size=8, target="tpu")
