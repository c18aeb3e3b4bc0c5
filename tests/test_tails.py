"""The tails, as property tests: the ops whose formulas break at extreme inputs, drawn from
:data:`minigen.testing.strategies.wide` (|x| up to 1e3, every magnitude equally likely) and,
for exp, from :func:`~minigen.testing.strategies.exp_safe` (|x| up to 704 in float64, 84 in
float32), in float32 and float64, on every array kind. Values AND gradients (with a random
cotangent drawn per example) against NumPy references computed stably here, in float64, at the
inputs rounded to the dtype. No RuntimeWarning may escape (warnings are errors here).

Tolerances: ``ULPS`` units of the dtype's eps times the size of what the result is made of,
plus the dtype's ``tiny`` (results that are subnormal or round to 0):

* elementwise functions (sigmoid, tanh, softplus, log_sigmoid, exp) are computed from the
  exact input by a few correctly rounded steps, so their values are held to a few ulps
  RELATIVE, and their gradients to a few ulps of the sum of the terms the backward adds or
  subtracts (tanh' = 1 - y^2: of 1 + y^2; sigmoid' = s - s^2: of s + s^2), which is relative
  accuracy wherever nothing cancels (the left tail of sigmoid, all of softplus');
* the reductions (logsumexp, softmax, log_softmax) and BCE with logits subtract numbers that
  grow with |x| (x - max, max(x, 0) - x y): rounding their inputs' differences is unavoidable,
  so they are held to their condition, the sum over inputs of |d result / d x_j| |x_j|, in
  the same units (what perturbing every input by one rounding moves the result by).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen
import minigen.functional as F
from minigen import backend
from minigen.testing import strategies as mst
from tests.opcheck import host

DTYPES = ["float32", "float64"]
ULPS = 8  # roundings allowed per unit of size: a few operations, each within one ulp


# ----------------------------------------------------------------- stable references


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-|x|), or e^-|x| / (1 + e^-|x|) for x < 0: relative accuracy in both tails
    (e^-|x| of the exact input; never 1 - tiny, never e^1000)."""
    e = np.exp(-np.abs(x))
    return np.where(x < 0, e, 1.0) / (1 + e)


def sech2(x: np.ndarray) -> np.ndarray:
    """tanh'(x) = 1 - tanh^2 = 4 e^-2|x| / (1 + e^-2|x|)^2, without the cancellation."""
    e = np.exp(-2 * np.abs(x))
    return 4 * e / (1 + e) ** 2


ELEMENTWISE = {  # name: (function, value, derivative, terms of the backward's formula)
    "sigmoid": (minigen.sigmoid, sigmoid, lambda x: sigmoid(x) * sigmoid(-x),
                lambda x: sigmoid(x) * (1 + sigmoid(x))),
    "tanh": (minigen.tanh, np.tanh, sech2, lambda x: 1 + np.tanh(x) ** 2),
    # softplus is x itself past PyTorch's threshold, 20, with slope exactly 1
    "softplus": (minigen.softplus, lambda x: np.where(x > 20, x, np.logaddexp(0.0, x)),
                 lambda x: np.where(x > 20, 1.0, sigmoid(x)), sigmoid),
    "log_sigmoid": (minigen.log_sigmoid, lambda x: -np.logaddexp(0.0, -x),
                    lambda x: sigmoid(-x), lambda x: sigmoid(-x)),
    "exp": (minigen.exp, np.exp, np.exp, np.exp),
}


# ----------------------------------------------------------------- drawing and checking


def draw_input(data: Any, device: str, dtype: str, domain: mst.Domain,
               shape: Any = None, label: str = "x") -> tuple[minigen.Tensor, np.ndarray]:
    """A leaf of ``dtype`` and its values as float64 (the rounded values the op sees)."""
    x = data.draw(mst.tensors(shape, dtype=dtype, device=device, elements=domain), label=label)
    return x, host(x).astype(np.float64)


def run(fn: Any, inputs: list[minigen.Tensor], data: Any) -> tuple[np.ndarray, np.ndarray]:
    """``fn(*inputs)`` and its backward with a cotangent drawn for this example, uniform in
    +-[0.5, 1.5] and rounded to the dtype; (value, cotangent) as float64."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or invalid-value warning may escape
        out = fn(*inputs)
        seed = data.draw(st.integers(0, 2**32 - 1), label="cotangent seed")
        rng = np.random.default_rng(seed)
        v = rng.uniform(0.5, 1.5, out.shape) * rng.choice([-1.0, 1.0], out.shape)
        v = v.astype(out.dtype.name)
        out.backward(backend.asarray(v, out.dtype, out.device))
    return host(out).astype(np.float64), v.astype(np.float64)


def close(got: np.ndarray, want: np.ndarray, size: np.ndarray, dtype: str, what: str) -> None:
    """``got`` finite and within ULPS eps of ``size`` (+ tiny) of the reference ``want``."""
    info = np.finfo(dtype)
    got = np.asarray(got, dtype=np.float64)
    assert np.all(np.isfinite(got)), f"{what}: not finite: {got}"
    bound = ULPS * float(info.eps) * np.abs(size) + float(info.tiny)
    error = np.abs(got - want)
    if np.any(error > bound):
        k = np.unravel_index(int(np.argmax(error / bound)), error.shape)
        raise AssertionError(
            f"{what} ({dtype}) at {tuple(int(i) for i in k)}: {got[k]!r}, expected "
            f"{want[k]!r}: off by {error[k] / (float(info.eps) * abs(size[k]) + 1e-300):.3g} "
            f"eps of {size[k]:.3g} (allowed {ULPS})")


# ----------------------------------------------------------------- elementwise


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@given(data=st.data())
def test_elementwise_tails(device, name, dtype, data):
    fn, value, slope, terms = ELEMENTWISE[name]
    domain = mst.exp_safe(dtype) if name == "exp" else mst.wide
    x, h = draw_input(data, device, dtype, domain)
    got, v = run(fn, [x], data)
    close(got, value(h), value(h), dtype, f"{name} values")
    assert x.grad.dtype == x.dtype
    close(host(x.grad), v * slope(h), v * terms(h), dtype, f"{name} gradients")


# ----------------------------------------------------------------- BCE with logits


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_bce_with_logits_tails(device, dtype, data):
    """-(y log s(x) + (1 - y) log s(-x)) = y softplus(-x) + (1 - y) softplus(x); d/dx =
    s(x) - y, d/dy = -x. Its condition: |loss| + |s(x) - y| |x| + |x| |y|."""
    x, hx = draw_input(data, device, dtype, mst.wide, label="logits")
    y, hy = draw_input(data, device, dtype, mst.interval(0.0, 1.0), x.shape, label="target")
    got, v = run(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"),
                 [x, y], data)
    want = hy * np.logaddexp(0.0, -hx) + (1 - hy) * np.logaddexp(0.0, hx)
    slope = sigmoid(hx) - hy
    close(got, want, np.abs(want) + np.abs(slope * hx) + np.abs(hx * hy), dtype, "BCE values")
    # d/dx: s(x) - y subtracts; s(x) is off by its condition |x| s(-x) relative
    close(host(x.grad), v * slope, v * (sigmoid(hx) * (1 + np.abs(hx) * sigmoid(-hx)) + hy),
          dtype, "BCE d/dlogits")
    close(host(y.grad), -v * hx, v * hx, dtype, "BCE d/dtarget")


# ----------------------------------------------------------------- logsumexp, softmax


def _row_case(data, device, dtype):
    x, h = draw_input(data, device, dtype, mst.wide, mst.shapes(min_dims=1))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1), label="dim")
    top = np.max(h, axis=dim, keepdims=True)
    shifted = h - top  # exact in float64 for the float32 values; to 1 ulp for float64 ones
    # log(sum) = log1p(the rest): the sum of every exp but one maximum's, which is 1 (the
    # plain log(sum) would round at 1, an ulp of 1 off for float64 inputs)
    first_max = np.arange(h.shape[dim]).reshape((-1,) + (1,) * (h.ndim - 1 - dim % h.ndim)) \
        == np.argmax(h, axis=dim, keepdims=True)
    rest = np.sum(np.where(first_max, 0.0, np.exp(shifted)), axis=dim, keepdims=True)
    log_sum = np.log1p(rest)
    s = np.exp(shifted - log_sum)
    n = h.shape[dim]
    # the condition of softmax_i: sum_j |d log s_i / d x_j| |x_j| = |x_i| (1 - s_i) + ...
    spread = np.sum(s * np.abs(h), axis=dim, keepdims=True)
    condition = np.abs(h) * (1 - s) + spread - s * np.abs(h) + n
    return x, h, dim, top, log_sum, s, condition


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_logsumexp_tails(device, dtype, data):
    x, h, dim, top, log_sum, s, condition = _row_case(data, device, dtype)
    got, v = run(lambda t: minigen.logsumexp(t, dim, keepdim=True), [x], data)
    want = top + log_sum
    # its condition, |sum_j s_j x_j|-ish (the forward is max + log1p(the rest): no ulp of 1
    # lost, see test_logsumexp_value_near_zero)
    size = np.abs(top) + np.abs(log_sum) + np.sum(s * np.abs(h), axis=dim, keepdims=True)
    close(got, want, size, dtype, "values")
    # d/dx = v softmax(x), within its condition (the backward takes exp(x - max) / sum)
    close(host(x.grad), v * s, v * s * condition, dtype, "gradients")


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_gradient_to_its_condition(device, dtype):
    h = np.array([1000.0, 990.0])
    x = minigen.tensor(h, dtype=dtype, device=device, requires_grad=True)
    minigen.logsumexp(x, 0).backward()
    s = np.exp(h - h.max()) / np.sum(np.exp(h - h.max()))
    condition = np.abs(h) * (1 - s) + np.sum(s * np.abs(h)) - s * np.abs(h) + 2
    close(host(x.grad), s, s * condition, dtype, "logsumexp gradients")


@pytest.mark.parametrize("dtype", ["float32"])
def test_logsumexp_value_near_zero(device, dtype):
    h = np.array([0.0, -10.0])
    got = host(minigen.logsumexp(minigen.tensor(h, dtype=dtype, device=device), 0))
    want = np.logaddexp(0.0, -10.0)
    close(np.asarray(got, dtype=np.float64), np.asarray(want), np.asarray(want), dtype,
          "logsumexp([0, -10])")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax_tails(device, name, dtype, data):
    x, h, dim, top, log_sum, s, condition = _row_case(data, device, dtype)
    got, v = run(lambda t: getattr(minigen, name)(t, dim), [x], data)
    total = np.sum(v, axis=dim, keepdims=True)
    if name == "softmax":  # s_i to its condition; d/dx = s (v - sum s v): s errs as above
        close(got, s, s * condition, dtype, "softmax values")
        err_s = s * condition
        size = err_s * (np.abs(v) + np.sum(s * np.abs(v), axis=dim, keepdims=True)) + s * (
            np.abs(v) + np.sum(err_s * np.abs(v), axis=dim, keepdims=True))
        close(host(x.grad), s * (v - np.sum(s * v, axis=dim, keepdims=True)), size, dtype,
              "softmax gradients")
        return
    want = (h - top) - log_sum  # log_softmax: (x - max) - log sum, each term rounded
    shift_error = np.abs(h - top) + np.abs(log_sum) + np.sum(s * np.abs(h - top), axis=dim,
                                                             keepdims=True) + h.shape[dim]
    close(got, want, shift_error, dtype, "log_softmax values")
    # d/dx = v - exp(out) sum v: exp(out) errs by |out|'s rounding, relative
    size = np.abs(v) + s * np.sum(np.abs(v), axis=dim, keepdims=True) * (1 + shift_error)
    close(host(x.grad), v - s * total, size, dtype, "log_softmax gradients")
