"""Property tests of clone and of the ops that pick parts of a tensor (split, chunk, unbind,
gather, masked_fill: compositions of indexing and where, gradient-checked here as wholes),
and of the boolean tests (isnan, isfinite, all, any), against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigen
from minigen.errors import DTypeError, ShapeError
from minigen.testing import strategies as mst
from tests.opcheck import check_op, host

COVERED_OPS = {"Clone"}
COVERED_FUNCTIONS = {"clone", "split", "chunk", "unbind", "gather", "masked_fill", "isnan",
                     "isfinite", "all", "any"}


@given(data=st.data())
def test_clone(device, data):
    x = data.draw(mst.tensors(device=device), label="x")
    check_op(minigen.clone, [x], lambda h: h.copy(), "Clone")
    y = x.clone()
    y[...] = 0.0  # the copy's own array: x does not change
    assert host(x).tolist() != host(y).tolist() or not host(x).any()


def _pieces(data, device, name):
    x = data.draw(mst.tensors(shape=mst.shapes(min_dims=1), device=device), label="x")
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1), label="dim")
    n = x.shape[dim]
    if name == "split":
        if data.draw(st.booleans(), label="sizes as a list"):
            cuts = sorted(data.draw(st.lists(st.integers(0, n), max_size=3), label="cuts"))
            arg = [b - a for a, b in zip([0, *cuts], [*cuts, n])]
        else:
            arg = data.draw(st.integers(1, n + 1), label="size")
        return x, dim, arg, np.cumsum(arg)[:-1] if isinstance(arg, list) else range(arg, n, arg)
    if name == "chunk":
        chunks = data.draw(st.integers(1, n + 1), label="chunks")
        size = -(-n // chunks)
        return x, dim, chunks, range(size, n, size)
    return x, dim, None, range(1, n)  # unbind


@pytest.mark.parametrize("name", ["split", "chunk", "unbind"])
@given(data=st.data())
def test_pieces(device, name, data):
    """Each piece against np.split at the same cuts (unbind: each slice, dim removed); the
    gradient of a weighted sum of all the pieces together."""
    x, dim, arg, cuts = _pieces(data, device, name)
    pieces = getattr(minigen, name)(x, *([] if arg is None else [arg]), dim=dim)
    expected = np.split(host(x), list(cuts), axis=dim)
    if name == "unbind":
        expected = [np.squeeze(e, axis=dim) for e in expected]
    assert len(pieces) == len(expected)
    for got, want in zip(pieces, expected):
        np.testing.assert_array_equal(host(got), want)

    def joined(t):  # all pieces back as one tensor, so one check covers them all
        parts = getattr(t, name)(*([] if arg is None else [arg]), dim=dim)
        return minigen.cat([p.reshape(-1) for p in parts])

    out = joined(x)
    check_op(joined, [x], lambda h: np.concatenate(
        [np.asarray(e).reshape(-1) for e in (np.split(h, list(cuts), axis=dim))]), out.grad_fn)


@given(data=st.data())
def test_gather(device, data):
    x = data.draw(mst.tensors(shape=mst.shapes(min_dims=1), device=device), label="x")
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1), label="dim")
    shape = tuple(data.draw(st.integers(1, 4)) if d == dim % x.ndim else
                  data.draw(st.integers(1, x.shape[d])) for d in range(x.ndim))
    index = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, x.shape[dim] - 1)),
                      label="index")
    idx = minigen.tensor(index, device=device)
    out = x.gather(dim, idx)
    check_op(lambda t: t.gather(dim, idx), [x],
             lambda h: np.take_along_axis(h[tuple(slice(0, s) if d != dim % h.ndim else
                                                  slice(None) for d, s in enumerate(shape))],
                                          index, axis=dim), out.grad_fn)


@given(data=st.data())
def test_masked_fill(device, data):
    x = data.draw(mst.tensors(device=device), label="x")
    kept = data.draw(st.integers(0, x.ndim), label="mask dims")  # a shape that broadcasts TO x
    mask_shape = tuple(1 if data.draw(st.booleans()) else n for n in x.shape[x.ndim - kept:])
    mask = data.draw(hnp.arrays(np.bool_, mask_shape), label="mask values")
    m = minigen.tensor(mask, device=device)
    check_op(lambda t: t.masked_fill(m, -2.5), [x], lambda h: np.where(mask, -2.5, h), "Where")


@given(a=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0),
                    elements=st.sampled_from([0, 1, -2.5, np.nan, np.inf, -np.inf])),
       dtype=st.sampled_from(["float32", "float64", "int64", "bool"]), data=st.data())
def test_boolean_tests(a, dtype, data):
    if dtype in ("int64", "bool"):
        a = np.nan_to_num(a, posinf=3, neginf=-3)
    a = a.astype(dtype)
    x = minigen.tensor(a)
    np.testing.assert_array_equal(host(x.isnan()), np.isnan(a))
    np.testing.assert_array_equal(host(minigen.isfinite(x)), np.isfinite(a))
    dim = data.draw(st.none() | st.integers(-max(a.ndim, 1), max(a.ndim, 1) - 1), label="dim")
    axis = None if dim is None or a.ndim == 0 else dim
    keep = data.draw(st.booleans(), label="keepdim")
    for name in ("all", "any"):
        got = getattr(x, name)(dim, keep)
        assert got.dtype == minigen.bool_
        np.testing.assert_array_equal(host(got), getattr(np, name)(a, axis=axis,
                                                                     keepdims=keep))


def test_bad_input_is_named():
    x = minigen.zeros(3, 4)
    with pytest.raises(ValueError, match=r"adding up to dimension 0's 3"):
        x.split([1, 1])
    with pytest.raises(ValueError, match="chunks must be a positive int"):
        x.chunk(0)
    with pytest.raises(DTypeError, match="index must be an integer tensor"):
        x.gather(0, minigen.zeros(3, 4))
    with pytest.raises(ShapeError, match="it needs 2 dimensions"):
        x.gather(0, minigen.tensor([0]))
    with pytest.raises(IndexError, match="out of range"):
        x.gather(1, minigen.tensor([[4]]))
    with pytest.raises(ShapeError, match="do not broadcast"):
        x.masked_fill(minigen.ones(2, 4, dtype="bool"), 0.0)
    with pytest.raises(ShapeError, match="does not broadcast to the tensor's shape"):
        x.masked_fill(minigen.ones(2, 3, 4, dtype="bool"), 0.0)  # (it would widen x)
    with pytest.raises(ShapeError, match="t\\(\\) transposes at most 2 dimensions"):
        minigen.zeros(2, 2, 2).t()
