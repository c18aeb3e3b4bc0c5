"""embedding and nn.Embedding: rows picked by index (any shape, repeated indices), gradcheck
in float64 and the float32 check, the scatter-add of repeated indices, padding_idx, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen
from minigen.errors import DeviceError, DTypeError, ShapeError
from minigen.extras.embedding import embedding
from minigen.nn import Embedding
from tests.opcheck import check_op, host

COVERED_OPS = {"Embedding"}
COVERED_FUNCTIONS = {"embedding"}


@given(rows=st.integers(1, 6), dim=st.integers(1, 4),
       shape=st.sampled_from([(), (1,), (5,), (2, 3), (2, 1, 3)]), seed=st.integers(0, 2**16),
       int32=st.booleans())
def test_embedding_matches_numpy(device, rows, dim, shape, seed, int32):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((rows, dim))
    idx = rng.integers(0, rows, size=shape)  # repeats: their gradients add up
    index = minigen.tensor(idx, dtype=minigen.int32 if int32 else minigen.int64, device=device)
    weight = minigen.tensor(w, dtype=minigen.float64, device=device, requires_grad=True)
    check_op(lambda t: embedding(index, t), [weight], lambda h: h[idx], "Embedding", seed=seed)


def test_repeated_indices_add_up_and_padding_gets_none(device):
    w = minigen.tensor(np.arange(12.0).reshape(4, 3), device=device, requires_grad=True)
    index = minigen.tensor([[1, 1], [2, 0], [1, 3]], device=device)
    out = embedding(index, w, padding_idx=-3)  # row 1: read, no gradient
    np.testing.assert_array_equal(host(out)[0, 0], [3.0, 4.0, 5.0])
    out.backward(minigen.ones_like(out))
    np.testing.assert_array_equal(host(w.grad)[:, 0], [1.0, 0.0, 1.0, 1.0])
    empty = embedding(minigen.zeros(0, 2, dtype=minigen.int64, device=device), w)
    assert empty.shape == (0, 2, 3)


def test_layer():
    layer = Embedding(10, 3, padding_idx=-1)
    assert repr(layer) == "Embedding(10, 3, padding_idx=9)" and repr(Embedding(4, 2)) == \
        "Embedding(4, 2)"
    np.testing.assert_array_equal(layer.weight.detach().numpy()[9], 0.0)
    assert layer.weight.dtype == minigen.float32 and list(layer.state_dict()) == ["weight"]
    out = layer(minigen.tensor([[9, 2]]))
    assert out.shape == (1, 2, 3)
    out.sum().backward()
    np.testing.assert_array_equal(layer.weight.grad.numpy()[[9, 2]], [[0, 0, 0], [1, 1, 1]])
    minigen.manual_seed(1)
    w = Embedding(2000, 50).weight.detach().numpy()  # N(0, 1), as PyTorch's
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01
    assert Embedding(3, 2, dtype=minigen.float64).weight.dtype == minigen.float64


@pytest.mark.parametrize("call, error, match", [
    (lambda w: embedding(minigen.tensor([4]), w), IndexError, r"index 4 .* \[0, 4\)"),
    (lambda w: embedding(minigen.tensor([[0, -1]]), w), IndexError, "index -1"),
    (lambda w: embedding(minigen.tensor([1.0]), w), DTypeError, "int64.*float32.*long"),
    (lambda w: embedding([1, 2], w), DTypeError, "indices"),
    (lambda w: embedding(minigen.tensor([1]), w[0]), ShapeError, "2-D.*\\(3,\\)"),
    (lambda w: embedding(minigen.tensor([1]), w, padding_idx=4), ValueError, "padding_idx"),
    (lambda w: embedding(minigen.tensor([1]), w, padding_idx=-5), ValueError, "padding_idx"),
    (lambda w: embedding(minigen.tensor([1], device="strict"), w), DeviceError, "strict"),
    (lambda w: Embedding(4, 2, padding_idx=4), ValueError, "padding_idx"),
    (lambda w: Embedding(-1, 2), ValueError, "num_embeddings"),
    (lambda w: Embedding(4, 2.0), ValueError, "embedding_dim"),
])
def test_errors_name_the_problem(call, error, match):
    with pytest.raises(error, match=match):
        call(minigen.zeros(4, 3))
