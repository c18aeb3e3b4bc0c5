"""Exercise 12: F.reparameterize (minigen/functional.py) and GaussianKL's forward and backward
(minigen/ops/losses.py). The KL is checked on the op alone; reparameterize's gradients come
from the engine, so they use exercises 1, 2 and 4."""

import math

import numpy as np
from exercise_grading import (
    GradeError,
    arrays,
    check_backward,
    check_close,
    check_float32,
    check_strict,
    graded,
    run_backward,
)
from hypothesis import given
from hypothesis import strategies as st

import minigen
import minigen.functional as F
from minigen.ops.losses import GaussianKL

REDUCTIONS = ["none", "mean", "sum"]


@st.composite
def posteriors(draw):
    """mu and logvar of one shape, or one of them shared by every row (d,)."""
    shape = draw(st.sampled_from([(1,), (3,), (1, 2), (4, 2), (2, 3), (2, 2, 3)]))
    shared = draw(st.sampled_from(["no", "mu", "logvar"]))
    mu = draw(arrays(shape[-1:] if shared == "mu" else shape))
    logvar = draw(arrays(shape[-1:] if shared == "logvar" else shape, -4.0, 4.0))
    return mu, logvar


def kl(mu, logvar, reduction):
    rows = 0.5 * np.sum(mu**2 + np.exp(logvar) - 1.0 - logvar, axis=-1)
    return {"none": rows, "mean": np.mean(rows), "sum": np.sum(rows)}[reduction]


@graded(30)
@given(post=posteriors(), reduction=st.sampled_from(REDUCTIONS))
def test_kl_values(post, reduction):
    """KL(N(mu, e^logvar) || N(0, I)) = 1/2 sum_j (mu_j^2 + e^logvar_j - 1 - logvar_j) per row
    (the last axis), then reduced: against NumPy."""
    mu, logvar = post
    out, _, _ = run_backward(GaussianKL, (mu, logvar, reduction), needs=(True, True, False))
    check_close(f"the KL with reduction={reduction!r}", out, np.asarray(kl(mu, logvar,
                                                                           reduction)))


@graded(30)
@given(post=posteriors(), reduction=st.sampled_from(REDUCTIONS), seed=st.integers(0, 2**32))
def test_kl_gradients(post, reduction, seed):
    """GaussianKL.backward against finite differences, for each reduction."""
    check_backward(GaussianKL, (*post, reduction), seed=seed)


def test_kl_float32_and_strict():
    """float32 stays float32, and the op runs on array-api-strict too."""
    mu, logvar = np.linspace(-1, 1, 6).reshape(3, 2), np.linspace(-2, 2, 6).reshape(3, 2)
    for reduction in REDUCTIONS:
        check_float32(GaussianKL, (mu, logvar, reduction))
        check_strict(GaussianKL, (mu, logvar, reduction))


@graded(15)
@given(post=st.sampled_from([(2,), (3, 2), (1, 4)]).flatmap(
    lambda s: st.tuples(arrays(s), arrays(s, -4.0, 4.0))), seed=st.integers(0, 2**31))
def test_reparameterize(post, seed):
    """z = mu + exp(logvar / 2) * eps with eps = minigen.randn(*mu.shape) drawn after the
    same seed, and its gradients: dz/dmu = 1, dz/dlogvar = exp(logvar / 2) * eps / 2."""
    mu_, logvar_ = post
    mu = minigen.tensor(mu_, dtype=minigen.float64, requires_grad=True)
    logvar = minigen.tensor(logvar_, dtype=minigen.float64, requires_grad=True)
    minigen.manual_seed(seed)
    z = F.reparameterize(mu, logvar)
    minigen.manual_seed(seed)
    eps = minigen.randn(*mu.shape, dtype=minigen.float64).numpy()
    sigma = np.exp(0.5 * logvar_)
    check_close("z (drawn with eps = minigen.randn(*mu.shape, dtype=mu.dtype, "
                "device=mu.device))", z.data, mu_ + sigma * eps)
    if not z.requires_grad:
        raise GradeError("z does not require grad: build it from mu and logvar with tensor "
                         "operations, so that the gradient flows back to the encoder")
    v = np.random.default_rng(seed).standard_normal(mu_.shape)
    z.backward(minigen.tensor(v, dtype=minigen.float64))
    check_close("mu's gradient (dz/dmu = 1)", mu.grad.data, v)
    if logvar.grad is None:
        raise GradeError("logvar got no gradient: z must depend on logvar through tensor ops")
    check_close("logvar's gradient (dz/dlogvar = exp(logvar / 2) eps / 2)", logvar.grad.data,
                v * 0.5 * sigma * eps)


def test_reparameterized_moments():
    """20,000 samples of N((1.5, -0.5), diag(0.25, 4)): their mean and variance."""
    n = 20_000
    mu = minigen.tensor([[1.5, -0.5]], dtype=minigen.float64).expand(n, 2)
    logvar = minigen.tensor([[math.log(0.25), math.log(4.0)]], dtype=minigen.float64)
    minigen.manual_seed(0)
    z = F.reparameterize(mu, logvar.expand(n, 2)).numpy()
    std_err = np.sqrt(np.array([0.25, 4.0]) / n)
    if np.any(np.abs(z.mean(axis=0) - [1.5, -0.5]) > 5 * std_err):
        raise GradeError(f"the samples' mean is {z.mean(axis=0)}, expected (1.5, -0.5)")
    if np.any(np.abs(z.var(axis=0) / [0.25, 4.0] - 1) > 0.05):
        raise GradeError(f"the samples' variance is {z.var(axis=0)}, expected (0.25, 4): sigma "
                         "is exp(logvar / 2), the square root of the variance")
