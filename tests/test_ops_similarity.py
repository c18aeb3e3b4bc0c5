"""Property tests of normalize, cosine_similarity, kl_div and bmm (compositions of checked ops,
gradient-checked here as wholes) against NumPy, and their refusals."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen
import minigen.nn.functional as F
from minigen import nn
from minigen.errors import ShapeError
from minigen.testing import strategies as mst
from tests.opcheck import check_op, elementwise_terms, sum_to

COVERED_OPS = {"Div", "Sum", "MatMul"}  # the last ops of the compositions checked here
COVERED_FUNCTIONS = {"normalize", "cosine_similarity", "kl_div", "bmm"}
# away from 0: |x| has a kink there, and a zero vector's norm has no gradient
NONZERO = mst.away_from(0.0, margin=0.1)


def _np_norm(h, p, axis):
    a = np.abs(h)
    return (a ** p).sum(axis=axis, keepdims=True) ** (1 / p)


@given(data=st.data())
def test_normalize(device, data):
    x = data.draw(mst.tensors(shape=mst.shapes(min_dims=1), device=device, elements=NONZERO),
                  label="x")
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1), label="dim")
    p = data.draw(st.sampled_from([2.0, 1.0, 3.0]), label="p")

    def fn(t):
        return F.normalize(t, p=p, dim=dim)

    def ref(h):
        return h / np.maximum(_np_norm(h, p, dim), 1e-12)

    def terms(h, v):  # v / n - (sum v x) |x|^(p-1) sign(x) / n^(p+1): 0 for one element
        n = _np_norm(h, p, dim)
        return [np.abs(v) / n + np.sum(np.abs(v * h), axis=dim, keepdims=True)
                * np.abs(h) ** (p - 1) / n ** (p + 1)]

    check_op(fn, [x], ref, fn(x).grad_fn, grad_terms=terms)


@given(data=st.data())
def test_cosine_similarity(device, data):
    shape = data.draw(mst.shapes(min_dims=1), label="shape")
    x1 = data.draw(mst.tensors(shape=shape, device=device, elements=NONZERO), label="x1")
    # x2 broadcasts: some of its leading dims dropped or set to 1
    drop = data.draw(st.integers(0, len(shape) - 1), label="drop")
    shape2 = tuple(1 if data.draw(st.booleans()) else n for n in shape[drop:])
    x2 = data.draw(mst.tensors(shape=shape2, device=device, elements=NONZERO), label="x2")
    dim = data.draw(st.integers(-len(shape), len(shape) - 1), label="dim")

    def fn(a, b):
        return F.cosine_similarity(a, b, dim=dim)

    def ref(a, b):
        a, b = np.broadcast_arrays(a, b)
        na = np.maximum(np.sqrt((a * a).sum(dim, keepdims=True)), 1e-8)
        nb = np.maximum(np.sqrt((b * b).sum(dim, keepdims=True)), 1e-8)
        return ((a / na) * (b / nb)).sum(dim)

    def terms(a, b, v):  # d/dx1 = v (x2_hat / n1 - cos x1 / n1^2): cancels by design
        a_full, b_full = np.broadcast_arrays(a, b)
        na, nb = (np.sqrt((t * t).sum(dim, keepdims=True)) for t in (a_full, b_full))
        size = np.expand_dims(np.abs(v), dim)
        both = np.sum(np.abs(a_full * b_full), axis=dim, keepdims=True) / (na * nb)
        return [sum_to(size * (np.abs(b_full) / (na * nb) + both * np.abs(a_full) / na**2),
                       a.shape),
                sum_to(size * (np.abs(a_full) / (na * nb) + both * np.abs(b_full) / nb**2),
                       b.shape)]

    check_op(fn, [x1, x2], ref, fn(x1, x2).grad_fn, grad_terms=terms)
    assert nn.CosineSimilarity(dim=dim)(x1, x2).shape == fn(x1, x2).shape


def test_cosine_similarity_eps_clamps_each_norm():
    """PyTorch 2.13: each norm clamped to eps on its own (two 1e-9 vectors give 0.01)."""
    a = minigen.tensor([[1e-9, 0.0]], dtype=minigen.float64)
    assert F.cosine_similarity(a, a).item() == pytest.approx(0.01)


@pytest.mark.parametrize("reduction", ["none", "sum", "batchmean", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
@given(data=st.data())
def test_kl_div(device, reduction, log_target, data):
    shape = data.draw(mst.shapes(min_dims=1), label="shape")
    x = data.draw(mst.tensors(shape=shape, device=device), label="input")
    elements = mst.real if log_target else mst.interval(0.05, 2.0)
    t = data.draw(mst.tensors(shape=shape, device=device, elements=elements), label="target")

    def fn(a, b):
        return F.kl_div(a, b, reduction=reduction, log_target=log_target)

    def ref(a, b):
        if log_target:
            loss = np.exp(b) * (b - a)
        else:
            loss = np.where(b > 0, b * np.log(np.where(b > 0, b, 1.0)), 0.0) - b * a
        return {"none": loss, "sum": loss.sum(), "mean": loss.mean(),
                "batchmean": loss.sum() / a.shape[0]}[reduction]

    # d/dtarget: log t + 1 - x, or e^t (t - x) + e^t with log_target: both cancel by design
    size = (lambda a, b: np.exp(b) * (np.abs(b) + np.abs(a) + 1)) if log_target else (
        lambda a, b: np.abs(np.log(b)) + 1 + np.abs(a))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # 'mean' warns, as in PyTorch
        check_op(fn, [x, t], ref, fn(x, t).grad_fn,
                 grad_terms=elementwise_terms(None, size, reduction=reduction))


def test_kl_div_mean_warns_and_refusals():
    x, t = minigen.zeros(2, 3), minigen.ones(2, 3)
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(x, t)
    with pytest.warns(UserWarning):
        nn.KLDivLoss()(x, t)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.kl_div(x, t, reduction="avg")
    with pytest.raises(ValueError):
        nn.KLDivLoss(reduction="avg")
    assert nn.KLDivLoss("batchmean", log_target=True)(x, t).item() == pytest.approx(
        np.e * 3)


@given(data=st.data())
def test_bmm(device, data):
    b, n, m, p = (data.draw(st.integers(1, 3), label=k) for k in "bnmp")
    x = data.draw(mst.tensors(shape=(b, n, m), device=device), label="x")
    y = data.draw(mst.tensors(shape=(b, m, p), device=device), label="y")
    check_op(minigen.bmm, [x, y], np.matmul, minigen.bmm(x, y).grad_fn)
    assert x.bmm(y).shape == (b, n, p)


@pytest.mark.parametrize("sa, sb", [((2, 3, 4), (3, 4, 5)), ((3, 4), (4, 5)),
                                    ((2, 3, 4), (2, 5, 5)), ((1, 3, 4), (2, 4, 5)),
                                    ((2, 3, 4), (2, 4))])
def test_bmm_refuses_what_torch_refuses(sa, sb):
    with pytest.raises(ShapeError):
        minigen.bmm(minigen.zeros(*sa), minigen.zeros(*sb))
