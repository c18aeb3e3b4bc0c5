"""Losses and activations at extreme inputs: values AND gradients finite and correct.

The inputs are where a naive formula breaks: logits of +-1e4, +-88 (where exp overflows in
float32), +-710 (where it overflows in float64), probabilities of exactly 0 and 1, and
log-variances of +-50. Every expected value is computed by hand in float64 with Python's
``math`` (``log1p``, ``exp``, ``fsum``), from formulas written differently from minigen's, and
compared in float32 and float64. No RuntimeWarning may escape (warnings are errors here).

Tolerances: a few ulps relative (``8 * eps`` of the dtype), plus an absolute ``tiny`` of the
dtype for values that are subnormal or round to 0 in it. A gradient may also be off by
``8 * eps`` times the function's largest slope (0.25 for sigmoid, 1 for the others): in the
flat tails ``s * (1 - s)`` loses the relative accuracy of a number far below the slope's scale,
as in every framework, while staying exact to that scale.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest

import minigen
import minigen.functional as F

DTYPES = [minigen.float32, minigen.float64]
LOGITS = [-1e4, -710.0, -88.0, -20.0, -1.0, -1e-30, 0.0, 1e-30, 1.0, 20.0, 88.0, 710.0, 1e4]


# ----------------------------------------------------------------- references, by hand


def softplus_ref(x: float) -> float:
    """log(1 + e^x): for x > 0 as x + log(1 + e^-x), so that e^x is never formed."""
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


def sigmoid_ref(x: float) -> float:
    """1 / (1 + e^-x), as e^x / (1 + e^x) on the left (no overflow)."""
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def sigmoid_slope_ref(x: float) -> float:
    """s'(x) = e^-|x| / (1 + e^-|x|)^2 (symmetric, no cancellation)."""
    e = math.exp(-abs(x))
    return e / (1.0 + e) ** 2


def log_sigmoid_ref(x: float) -> float:
    return -softplus_ref(-x)


def bce_logits_ref(x: float, y: float) -> float:
    """-(y log s(x) + (1 - y) log s(-x)), from the log-sigmoids."""
    return -(y * log_sigmoid_ref(x) + (1.0 - y) * log_sigmoid_ref(-x))


def clamped_log(p: float) -> float:
    """max(log p, -100), PyTorch's clamp (log 0 is -100, not -inf)."""
    return -100.0 if p <= 0.0 else max(math.log(p), -100.0)


def clamped_log1m(p: float) -> float:
    """max(log(1 - p), -100) as log1p(-p): 1 - 1e-30 would round to 1 and lose it all."""
    return -100.0 if p >= 1.0 else max(math.log1p(-p), -100.0)


def bce_ref(p: float, y: float) -> float:
    return -(y * clamped_log(p) + (1.0 - y) * clamped_log1m(p))


def bce_grad_ref(p: float, y: float) -> float:
    """d/dp = (p - y) / (p (1 - p)), the denominator floored as in PyTorch: at 1e-12 held
    as a float32 (a C float there), which is not float64's 1e-12."""
    return (p - y) / max(p * (1.0 - p), float(np.float32(1e-12)))


# ----------------------------------------------------------------- checking


def tolerances(dtype: minigen.DType) -> tuple[float, float]:
    info = np.finfo(dtype.name)
    return 8 * float(info.eps), float(info.tiny)


def close(got: np.ndarray, want: list[float] | np.ndarray, dtype: minigen.DType,
          slope: float | None = None, what: str = "") -> None:
    """``got`` finite and within a few ulps of the float64 reference ``want``."""
    rtol, tiny = tolerances(dtype)
    want = np.asarray(want, dtype=np.float64)
    assert got.dtype == np.dtype(dtype.name), (got.dtype, dtype)
    assert np.all(np.isfinite(got)), f"{what}: not finite: {got}"
    atol = tiny if slope is None else max(tiny, rtol * slope)
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=rtol, atol=atol,
                               err_msg=what)


def run(fn: Callable, *inputs: np.ndarray, dtype: minigen.DType,
        cotangent_seed: int = 0) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """``fn`` on leaf tensors of ``inputs`` in ``dtype``: (value, gradients, cotangent)."""
    leaves = [minigen.tensor(np.asarray(a, dtype=np.float64), dtype=dtype,
                             requires_grad=True) for a in inputs]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or divide warning may escape
        out = fn(*leaves)
        v = np.random.default_rng(cotangent_seed).uniform(0.5, 1.5, out.shape)
        out.backward(minigen.tensor(v, dtype=dtype))
    return out.detach().numpy(), [t.grad.numpy() for t in leaves], v


# ----------------------------------------------------------------- activations


ACTIVATIONS = {  # name: (function, value reference, derivative reference, largest slope)
    "sigmoid": (F.sigmoid, sigmoid_ref, sigmoid_slope_ref, 0.25),
    "softplus": (F.softplus, softplus_ref, sigmoid_ref, 1.0),
    "log_sigmoid": (F.log_sigmoid, log_sigmoid_ref, lambda x: sigmoid_ref(-x), 1.0),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_at_extreme_logits(name: str, dtype: minigen.DType) -> None:
    fn, value, slope, largest = ACTIVATIONS[name]
    got, (grad,), v = run(fn, np.array(LOGITS), dtype=dtype)
    close(got, [value(x) for x in LOGITS], dtype, what=f"{name} values")
    close(grad, [g * slope(x) for g, x in zip(v, LOGITS)], dtype, slope=largest,
          what=f"{name} gradients")


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_sigmoid_tails_keep_relative_accuracy(dtype: minigen.DType) -> None:
    """In the left tail sigmoid(x) ~ e^x is tiny but exact to the last digit, never 0 early."""
    xs = [-20.0, -80.0] if dtype == minigen.float32 else [-20.0, -80.0, -700.0]
    got, _, _ = run(F.sigmoid, np.array(xs), dtype=dtype)
    rtol, _ = tolerances(dtype)
    np.testing.assert_allclose(got, [sigmoid_ref(x) for x in xs], rtol=rtol, atol=0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log1p_by_one_correction_step_is_exact(dtype: str) -> None:
    """The activations' log(1 + e), e in [0, 1], from a log and one correction step, matches
    the library log1p to a unit or two in the last place, down to e far below the rounding
    unit (where log(1 + e) alone would give 0)."""
    from minigen.backend import log1p_unit

    e = np.concatenate([np.logspace(-40 if dtype == "float32" else -300, 0, 2000),
                        np.random.default_rng(0).uniform(0, 1, 2000)]).astype(dtype)
    got = log1p_unit(e)
    assert got.dtype == e.dtype
    np.testing.assert_allclose(got, np.log1p(e.astype(np.float64)),
                               rtol=4 * np.finfo(dtype).eps, atol=0)


# ----------------------------------------------------------------- losses on logits


TARGETS = [0.0, 0.3, 1.0]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_bce_with_logits_at_extreme_logits(dtype: minigen.DType) -> None:
    xs = np.repeat(LOGITS, len(TARGETS))
    ys = np.tile(TARGETS, len(LOGITS))
    got, (grad_x, grad_y), v = run(
        lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none"), xs, ys,
        dtype=dtype)
    close(got, [bce_logits_ref(x, y) for x, y in zip(xs, ys)], dtype, what="loss")
    # d/dx = s(x) - y;  d/dy = -x (log s(x) - log s(-x) = x)
    close(grad_x, [g * (sigmoid_ref(x) - y) for g, x, y in zip(v, xs, ys)], dtype, slope=1.0,
          what="d/dlogits")
    close(grad_y, [-g * x for g, x in zip(v, xs)], dtype, what="d/dtarget")


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_bce_with_logits_mean_of_saturated_batch(dtype: minigen.DType) -> None:
    """A discriminator that is certain and wrong: loss 1e4 per image, gradient 1/N each."""
    xs, ys = np.array([1e4, -1e4, 1e4, -1e4]), np.array([0.0, 1.0, 0.0, 1.0])
    got, (grad, _), v = run(F.binary_cross_entropy_with_logits, xs, ys, dtype=dtype)
    close(got, 1e4, dtype)
    close(grad, [float(v) * (sigmoid_ref(x) - y) / 4 for x, y in zip(xs, ys)], dtype,
          slope=1.0)


# ----------------------------------------------------------------- BCE on probabilities


PROBABILITIES = [0.0, 1e-30, 1e-12, 1e-7, 0.5, 1 - 1e-7, 1.0]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_bce_at_probabilities_0_and_1(dtype: minigen.DType) -> None:
    ps = np.repeat(PROBABILITIES, len(TARGETS))
    ys = np.tile(TARGETS, len(PROBABILITIES))
    # What the op sees: p rounded to the dtype (1 - 1e-7 is not 1 - 1e-7 in float32).
    seen = np.asarray(ps, dtype=dtype.name).astype(np.float64)
    got, (grad_p, grad_y), v = run(
        lambda p, y: F.binary_cross_entropy(p, y, reduction="none"), ps, ys, dtype=dtype)
    close(got, [bce_ref(p, y) for p, y in zip(seen, ys)], dtype, what="loss")
    assert np.max(got) <= 100.0 + 1e-4  # each log clamped at -100: never inf
    # The gradient's size reaches 1e12 (the floor): relative accuracy only.
    rtol, _ = tolerances(dtype)
    np.testing.assert_allclose(grad_p, [g * bce_grad_ref(p, y) for g, p, y in
                                        zip(v, seen, ys)], rtol=rtol, atol=0)
    close(grad_y, [g * (clamped_log1m(p) - clamped_log(p)) for g, p in zip(v, seen)],
          dtype, what="d/dtarget")


# ----------------------------------------------------------------- log_softmax


ROWS = [[1e4, 0.0, -1e4], [88.0, -88.0, 0.0], [710.0, -710.0, 0.0], [-1e4, -1e4, -1e4],
        [1e4, 1e4, 0.0], [0.0, 0.0, 0.0], [1e-30, -1e-30, 0.0]]


def log_softmax_ref(row: list[float]) -> list[float]:
    """(x - max) - log sum e^(x - max): shifted first, so -1e4 - (-1e4 + log 3) never
    cancels."""
    top = max(row)
    log_sum = math.log(math.fsum(math.exp(x - top) for x in row))
    return [(x - top) - log_sum for x in row]


def softmax_ref(row: list[float]) -> list[float]:
    top = max(row)
    total = math.fsum(math.exp(x - top) for x in row)
    return [math.exp(x - top) / total for x in row]


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("dim", [1, 0])
def test_log_softmax_at_extreme_logits(dtype: minigen.DType, dim: int) -> None:
    rows = np.array(ROWS) if dim == 1 else np.array(ROWS).T
    got, (grad,), v = run(lambda x: F.log_softmax(x, dim=dim), rows, dtype=dtype)
    ref_rows = [log_softmax_ref(list(r)) for r in (rows if dim == 1 else rows.T)]
    want = np.array(ref_rows) if dim == 1 else np.array(ref_rows).T
    # x - max is exact; what is left is an ulp of each row's scale (1e4 or 1).
    rtol, _ = tolerances(dtype)
    scale = np.maximum(np.max(np.abs(rows), axis=dim, keepdims=True), 1.0)
    assert np.all(np.abs(got - want) <= rtol * (np.abs(want) + scale)), got - want
    # d/dx_j sum_i v_i log_softmax_i = v_j - softmax_j * sum_i v_i
    softmax = np.array([softmax_ref(list(r)) for r in (rows if dim == 1 else rows.T)])
    softmax = softmax if dim == 1 else softmax.T
    grad_want = v - softmax * v.sum(axis=dim, keepdims=True)
    close(grad, grad_want, dtype, slope=float(np.max(np.abs(v))) * 2)


# ----------------------------------------------------------------- the Gaussian KL


LOGVARS = [-50.0, -20.0, 0.0, 20.0, 50.0]
MUS = [-1e4, -1.0, 0.0, 1.0, 1e4]


def kl_ref(mu: float, logvar: float) -> float:
    """KL(N(mu, e^logvar) || N(0, 1)) = (mu^2 + e^logvar - logvar - 1) / 2, summed exactly."""
    return 0.5 * math.fsum([mu * mu, math.exp(logvar), -logvar, -1.0])


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_gaussian_kl_at_extreme_log_variances(dtype: minigen.DType) -> None:
    mu = np.repeat(MUS, len(LOGVARS))[:, None]
    logvar = np.tile(LOGVARS, len(MUS))[:, None]
    got, (grad_mu, grad_lv), v = run(
        lambda m, lv: F.gaussian_kl(m, lv, reduction="none"), mu, logvar, dtype=dtype)
    want = [kl_ref(m, lv) for m, lv in zip(mu[:, 0], logvar[:, 0])]
    close(got, want, dtype, what="KL")
    assert np.all(got >= 0)
    close(grad_mu, v[:, None] * mu, dtype, what="d/dmu")  # d/dmu = mu
    # d/dlogvar = (e^logvar - 1) / 2: from -1/2 to 2.6e21, never inf at +-50
    close(grad_lv, [[g * 0.5 * math.expm1(lv)] for g, lv in zip(v, logvar[:, 0])], dtype,
          slope=0.5, what="d/dlogvar")


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_gaussian_kl_is_zero_at_the_prior_and_sums_rows(dtype: minigen.DType) -> None:
    mu, logvar = np.zeros((3, 2)), np.zeros((3, 2))
    got, _, _ = run(F.gaussian_kl, mu, logvar, dtype=dtype)
    assert got == 0.0
    mu, logvar = np.array([[1e4, 0.0], [0.0, 0.0]]), np.array([[-50.0, 50.0], [0.0, 0.0]])
    got, _, _ = run(lambda m, lv: F.gaussian_kl(m, lv, reduction="mean"), mu, logvar,
                    dtype=dtype)
    close(got, (kl_ref(1e4, -50.0) + kl_ref(0.0, 50.0)) / 2, dtype)
