"""Exercise 13: the full-covariance posterior of the report's Figure 11: L and z in VAE.forward
(minigen/models/vae.py), log q(z|x) and log p(z) in full_covariance_terms
(minigen/models/losses.py). Values against NumPy (the Gaussian log-density by slogdet);
gradients through the engine against finite differences of the model, so exercises 1 to 5
run too.
"""

import contextlib
import math

import numpy as np
from exercise_grading import GradeError, check_close, graded, worst
from hypothesis import given
from hypothesis import strategies as st

import minigen
from minigen.models import VAE
from minigen.models.losses import full_covariance_terms


@contextlib.contextmanager
def float64():
    minigen.set_default_dtype(minigen.float64)
    try:
        yield
    finally:
        minigen.set_default_dtype(minigen.float32)


def model_and_input(seed, d, n):
    with float64():
        minigen.manual_seed(seed)
        model = VAE(latent_dim=d, posterior="full")
        x = minigen.rand(n, 784)
    return model, x


@graded(12)
@given(seed=st.integers(0, 10_000), d=st.integers(2, 3), n=st.integers(1, 3))
def test_L_and_z(seed, d, n):
    """L = L_mask * L' + diag(sigma): lower triangular, L' strictly below the diagonal,
    sigma = exp(logvar / 2) on it; z = L eps + mu."""
    model, x = model_and_input(seed, d, n)
    with minigen.no_grad():
        mu, logvar, L_prime = (t.numpy() for t in model.encode(x))
        minigen.manual_seed(seed)
        out = model(x)
    if out.L is None or out.L.shape != (n, d, d):
        raise GradeError(f"out.L should be the (N, d, d) = {(n, d, d)} factor, got "
                         f"{None if out.L is None else out.L.shape}")
    L, eps = out.L.numpy(), out.eps.numpy()
    want = np.tril(L_prime, -1) + np.einsum("ni,ij->nij", np.exp(0.5 * logvar), np.eye(d))
    check_close("L (strictly below the diagonal: L'; on it: exp(logvar / 2); above: 0)", L,
                want)
    check_close("z = L eps + mu", out.z.numpy(), np.einsum("nij,nj->ni", want, eps) + mu)


@graded(12)
@given(seed=st.integers(0, 10_000), d=st.integers(2, 3), n=st.integers(1, 3))
def test_log_densities(seed, d, n):
    """log q(z|x) = log N(z; mu, L L^T) (NumPy: slogdet and solve) and log p(z) =
    log N(z; 0, I), one per image (the report's Figure 11 halves log sigma: a slip)."""
    model, x = model_and_input(seed, d, n)
    with minigen.no_grad():
        minigen.manual_seed(seed)
        out = model(x)
        log_qz, log_pz = full_covariance_terms(out)
    L, mu, z = out.L.numpy(), out.mu.numpy(), out.z.numpy()
    want_q, want_p = np.zeros(n), np.zeros(n)
    for i in range(n):
        cov = L[i] @ L[i].T
        diff = z[i] - mu[i]
        want_q[i] = -0.5 * (d * math.log(2 * math.pi) + np.linalg.slogdet(cov)[1]
                            + diff @ np.linalg.solve(cov, diff))
        want_p[i] = -0.5 * (d * math.log(2 * math.pi) + z[i] @ z[i])
    check_close("log q(z|x), per image", log_qz.data, want_q, rtol=1e-9, atol=1e-9)
    check_close("log p(z), per image", log_pz.data, want_p, rtol=1e-9, atol=1e-9)


def elbo_part(model, x, seed, v):
    """sum(v0 log q(z|x) + v1 log p(z)) + <v2, z>: what the loss takes from this exercise."""
    minigen.manual_seed(seed)
    out = model(x)
    log_qz, log_pz = full_covariance_terms(out)
    return ((log_qz * v[0]).sum() + (log_pz * v[1]).sum() + (out.z * v[2]).sum())


@graded(6)
@given(seed=st.integers(0, 10_000), d=st.integers(2, 3))
def test_gradients(seed, d):
    """The gradients that reach the encoder's heads (fc31: mu, fc32: log sigma^2, fc33: L')
    against finite differences of the model: L' only below the diagonal counts."""
    n = 2
    model, x = model_and_input(seed, d, n)
    rng = np.random.default_rng(seed)
    v = [minigen.tensor(rng.standard_normal(shape), dtype=minigen.float64)
         for shape in ((n,), (n,), (n, d))]
    model.zero_grad()
    loss = elbo_part(model, x, seed, v)
    if not loss.requires_grad:
        raise GradeError("log q(z|x) and log p(z) do not depend on the encoder's weights: build "
                         "them with tensor operations (never .numpy() or .data)")
    loss.backward()
    for name in ("fc31", "fc32", "fc33"):
        bias = getattr(model, name).bias
        analytic = np.zeros(bias.shape) if bias.grad is None else bias.grad.numpy()
        numeric = np.zeros(bias.shape)
        for k in range(bias.shape[0]):
            for sign in (1.0, -1.0):
                bias.data[k] += sign * 1e-6
                with minigen.no_grad():
                    numeric[k] += sign * elbo_part(model, x, seed, v).item() / 2e-6
                bias.data[k] -= sign * 1e-6
        if not np.allclose(analytic, numeric, rtol=1e-5, atol=1e-7):
            k = worst(np.abs(analytic - numeric))
            raise GradeError(f"the gradient of {name}.bias, worst element {k}: analytic "
                             f"{analytic[k]:.8g}, numerical {numeric[k]:.8g}"
                             + (" (fc33 gives L': only its entries strictly below the diagonal "
                                "may matter)" if name == "fc33" else ""))
