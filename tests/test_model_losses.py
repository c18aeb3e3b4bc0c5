"""The models' losses checked on their VALUES (issue 21, point 4), never only as `bce + kl`.

Every reference is plain NumPy written here: the closed-form Gaussian KL, BCE through
`np.logaddexp`, the multivariate normal log-density from the covariance L L^T (slogdet and
solve, not the code's eps-and-log-sigma route). All comparisons run in float64, with bounds
derived from the rounding of each formula (EPS is float64's machine epsilon, 2.2e-16; a bound
counts the roundings of both sides, the code's and the reference's).

Mutants that these tests were seen to catch (issue 21): the full-covariance KL with its sign
flipped, L's mask on the upper triangle, and log sigma inside the 1/2 of log q(z|x).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigen
from minigen import functional as F
from minigen import nn
from minigen.models import VAE, VAEOutput, discriminator_loss, generator_loss, vae_loss
from minigen.models.losses import full_covariance_terms

EPS = float(np.finfo(np.float64).eps)
LOG_2PI = math.log(2 * math.pi)
f64 = minigen.float64


def t64(a, requires_grad: bool = False) -> minigen.Tensor:
    return minigen.tensor(np.asarray(a, dtype=np.float64), dtype=f64,
                          requires_grad=requires_grad)


def host(t: minigen.Tensor) -> np.ndarray:
    return t.detach().numpy()


def assert_within(actual, expected, bound, what: str) -> None:
    """|actual - expected| <= bound elementwise; the message names the worst element."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    err = np.broadcast_to(np.abs(actual - expected), np.broadcast(actual, expected).shape)
    excess = err - bound
    i = np.unravel_index(np.argmax(excess), err.shape) if err.ndim else ()
    assert np.all(excess <= 0), (f"{what}: got {np.broadcast_to(actual, err.shape)[i]!r}, "
                                 f"expected {np.broadcast_to(expected, err.shape)[i]!r} "
                                 f"(|diff| {err[i]:.3g} > bound "
                                 f"{np.broadcast_to(bound, err.shape)[i]:.3g}) at {i}")


def sum_bound(magnitudes, ops: int) -> float:
    """Rounding bound of a sum of terms, each made by `ops` roundings relative to its largest
    intermediate (`magnitudes`), summed in any order (n - 1 more roundings, worst case); twice,
    for the code and the reference."""
    magnitudes = np.asarray(magnitudes, np.float64)
    return 2 * (ops + max(magnitudes.size - 1, 1)) * EPS * float(np.sum(magnitudes))


# ------------------------------------------------------------------ NumPy references


def np_log_sigmoid(x):
    return -np.logaddexp(0.0, -x)  # log s(x) = -log(1 + e^-x), stable for |x| up to 1e308


def np_sigmoid(x):
    return np.exp(np_log_sigmoid(x))


def np_bce(x, y):
    """-[y log s(x) + (1 - y) log(1 - s(x))], with log(1 - s(x)) = log s(-x)."""
    return -(y * np_log_sigmoid(x) + (1 - y) * np_log_sigmoid(-x))


def np_gaussian_kl_rows(mu, logvar):
    """0.5 * sum(mu^2 + sigma^2 - log sigma^2 - 1) over the last axis; expm1 keeps
    sigma^2 - 1 - log sigma^2 exact near the prior, where the plain form cancels."""
    return 0.5 * np.sum(mu**2 + (np.expm1(logvar) - logvar), axis=-1)


def mvn_logpdf(z, mu, cov):
    """log N(z; mu, cov) from the covariance itself, and a bound on its rounding error.

    LAPACK's solve and slogdet are backward stable: they are exact for cov + dcov with
    |dcov| <~ d eps |cov|, which moves the quadratic form and log det by <~ d^2 kappa eps
    times their size (kappa = cond(cov)); 8 covers the constants, twice for both sides.
    The scale also counts |z|^2 + |mu|^2: z - mu cancels where z is near mu.
    """
    d = z.shape[-1]
    sign, logdet = np.linalg.slogdet(cov)
    assert np.all(sign > 0)
    diff = z - mu
    quad = np.sum(diff * np.linalg.solve(cov, diff[..., None])[..., 0], axis=-1)
    logpdf = -0.5 * (d * LOG_2PI + logdet + quad)
    scale = quad + np.abs(logdet) + d * LOG_2PI + np.sum(z * z + mu * mu, axis=-1)
    return logpdf, 16 * d * d * np.linalg.cond(cov) * EPS * scale


def lower_factor(logvar, L_prime):
    """The report's L = mask (.) L' + diag(sigma), mask strictly below the diagonal."""
    return np.tril(L_prime, -1) + np.exp(0.5 * logvar)[..., None] * np.eye(logvar.shape[-1])


def closed_form_kl(mu, L):
    """KL(N(mu, L L^T) || N(0, I)) = (tr(L L^T) + mu^T mu - d - log det(L L^T)) / 2."""
    cov = L @ L.T
    return 0.5 * (np.trace(cov) + mu @ mu - len(mu) - np.linalg.slogdet(cov)[1])


@pytest.fixture
def float64():
    """New tensors and modules in float64 for one test, then the default back."""
    before = minigen.get_default_dtype()
    minigen.set_default_dtype(f64)
    yield
    minigen.set_default_dtype(before)


def digits(n: int) -> minigen.Tensor:
    from minigen.data import MNIST

    return t64(MNIST(source="sample", split="test").images[:n])


# ------------------------------------------------------------------ diagonal VAE


@pytest.mark.parametrize("latent_dim", [2, 8])
def test_diagonal_vae_loss_is_the_closed_form_kl_and_the_summed_bce(float64, latent_dim):
    model = VAE(latent_dim=latent_dim).double()
    # Spread the posterior away from the prior so that every term of the KL weighs.
    nn.init.uniform_(model.fc31.bias, -3.0, 3.0)
    nn.init.uniform_(model.fc32.bias, -4.0, 4.0)
    x = digits(16)
    out = model(x)
    loss, bce, kl = vae_loss(out, x)
    mu, logvar, logits = host(out.mu), host(out.logvar), host(out.logits)
    target = host(x).reshape(16, 784)
    assert np.ptp(logvar) > 1.0  # the draw above is not near the prior
    kl_ref = np.mean(np_gaussian_kl_rows(mu, logvar))
    kl_tol = sum_bound(mu**2 + np.exp(logvar) + np.abs(logvar) + 1, ops=5) / 16
    assert_within(kl.item(), kl_ref, kl_tol, "vae_loss kl")
    bce_ref = np.sum(np_bce(logits, target)) / 16
    # each pixel: max(x, 0) - x y + log1p(e^-|x|), roundings at the scale 2|x| + 1
    bce_tol = sum_bound(2 * np.abs(logits) + 1, ops=5) / 16
    assert_within(bce.item(), bce_ref, bce_tol, "vae_loss bce")
    assert_within(loss.item(), bce_ref + kl_ref, bce_tol + kl_tol + EPS * loss.item(), "loss")


@given(n=st.integers(1, 4), d=st.integers(1, 4), seed=st.integers(0, 2**32 - 1),
       scale=st.sampled_from([1.0, 30.0, 1e3]))
def test_vae_loss_values_on_extreme_outputs(n, d, seed, scale):
    rng = np.random.default_rng(seed)
    logits = rng.uniform(-scale, scale, (n, 784))
    x = rng.uniform(0.0, 1.0, (n, 784))
    mu = rng.uniform(-scale, scale, (n, d))
    logvar = rng.uniform(-min(scale, 30.0), min(scale, 30.0), (n, d))
    out = VAEOutput(t64(logits), t64(mu), t64(logvar), t64(mu), t64(np.zeros((n, d))))
    loss, bce, kl = vae_loss(out, t64(x))
    assert_within(bce.item(), np.sum(np_bce(logits, x)) / n,
                  sum_bound(2 * np.abs(logits) + 1, ops=5) / n, "bce")
    assert_within(kl.item(), np.mean(np_gaussian_kl_rows(mu, logvar)),
                  sum_bound(mu**2 + np.exp(logvar) + np.abs(logvar) + 1, ops=5) / n, "kl")


kl_inputs = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5).flatmap(
    lambda shape: st.tuples(hnp.arrays(np.float64, shape, elements=st.floats(-1e3, 1e3)),
                            hnp.arrays(np.float64, shape, elements=st.floats(-30.0, 30.0))))


@given(inputs=kl_inputs)
# the corners: the prior (almost), tiny and huge variances, a far-off mean
@example(inputs=(np.array([0.0, 1e3, -1e-3]), np.array([1e-9, -30.0, 30.0])))
@example(inputs=(np.array([[1e3, 0.0], [-1e3, 1e-5]]), np.array([[30.0, -30.0], [0.0, -1e-7]])))
def test_gaussian_kl_matches_numpy_for_every_reduction(inputs):
    mu, logvar = inputs
    rows = np_gaussian_kl_rows(mu, logvar)
    # per element mu^2 + e^lv - lv - 1: 5 roundings at the scale of its largest term; the code
    # cancels where the reference does not (expm1), which the bound covers
    scale = mu**2 + np.exp(logvar) + np.abs(logvar) + 1
    row_tol = 2 * (5 + scale.shape[-1]) * EPS * np.sum(scale, axis=-1)
    n_rows = max(rows.size, 1)
    cotangent = np.linspace(-1.0, 2.0, rows.size).reshape(rows.shape)
    for reduction, ref, tol, g in [
        ("none", rows, row_tol, cotangent),
        ("sum", np.sum(rows), sum_bound(scale, ops=5), 1.0),
        ("mean", np.mean(rows), sum_bound(scale, ops=5) / n_rows, 1.0 / n_rows),
    ]:
        m, lv = t64(mu, requires_grad=True), t64(logvar, requires_grad=True)
        kl = F.gaussian_kl(m, lv, reduction=reduction)
        assert kl.shape == np.shape(ref)
        assert_within(host(kl), ref, tol, f"gaussian_kl {reduction}")
        kl.backward(t64(cotangent) if reduction == "none" else None)
        g = np.asarray(g)[..., None] if reduction == "none" else g
        # d/dmu = mu, d/dlogvar = (e^lv - 1) / 2, times each row's weight g
        assert_within(host(m.grad), g * mu, 4 * EPS * np.abs(g * mu), f"d mu, {reduction}")
        assert_within(host(lv.grad), g * np.expm1(logvar) / 2,
                      8 * EPS * np.abs(g) * (np.exp(logvar) + 1), f"d logvar, {reduction}")


@pytest.mark.parametrize("dtype, logvar", [("float64", 1e-8), ("float32", 3e-8)])
def test_gaussian_kl_is_never_negative_near_the_prior(dtype, logvar):
    # the docstring's promise "It is >= 0": here KL = (e^lv - 1 - lv) / 2 ~ lv^2 / 4 > 0
    kl = F.gaussian_kl(minigen.zeros(1, 1, dtype=dtype),
                       minigen.full((1, 1), logvar, dtype=dtype)).item()
    assert kl >= 0.0, f"gaussian_kl(mu=0, logvar={logvar}) = {kl!r} in {dtype}"


# ------------------------------------------------------------------ full-covariance VAE


@given(n=st.integers(1, 3), d=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_full_covariance_log_q_and_log_p_are_the_gaussian_log_densities(n, d, seed):
    rng = np.random.default_rng(seed)
    mu, logvar = rng.uniform(-5, 5, (n, d)), rng.uniform(-2, 2, (n, d))
    L = lower_factor(logvar, rng.uniform(-2, 2, (n, d, d)))
    eps = rng.standard_normal((n, d))
    z = np.einsum("nij,nj->ni", L, eps) + mu
    out = VAEOutput(None, t64(mu), t64(logvar), t64(z), t64(eps), t64(L))
    log_qz, log_pz = full_covariance_terms(out)
    q_ref, q_tol = mvn_logpdf(z, mu, L @ np.swapaxes(L, -1, -2))
    assert_within(host(log_qz), q_ref, q_tol, "log q(z|x)")
    p_ref, p_tol = mvn_logpdf(z, np.zeros(d), np.eye(d))
    assert_within(host(log_pz), p_ref, p_tol, "log p(z)")


def test_full_covariance_vae_forward_and_loss_values(float64):
    """Through the real encoder: L is built from L''s strictly lower triangle, z = L eps + mu,
    and vae_loss's kl is the mean of log q(z|x) - log p(z) at the model's own samples."""
    model = VAE(latent_dim=4, posterior="full").double()
    for head in (model.fc31, model.fc32, model.fc33):  # mu, logvar and all of L' of order 1
        nn.init.uniform_(head.bias, -2.0, 2.0)
    x = digits(8)
    mu, logvar, L_prime = (host(t) for t in model.encode(x))
    out = model(x)
    L = lower_factor(logvar, L_prime)
    assert_within(host(out.L), L, 2 * EPS * np.abs(L), "L (mask (.) L' + diag sigma)")
    eps = host(out.eps)
    z = np.einsum("nij,nj->ni", L, eps) + mu
    z_tol = 2 * 5 * EPS * (np.einsum("nij,nj->ni", np.abs(L), np.abs(eps)) + np.abs(mu))
    assert_within(host(out.z), z, z_tol, "z = L eps + mu")
    q_ref, q_tol = mvn_logpdf(z, mu, L @ np.swapaxes(L, -1, -2))
    p_ref, p_tol = mvn_logpdf(z, np.zeros(4), np.eye(4))
    log_qz, log_pz = full_covariance_terms(out)
    assert_within(host(log_qz), q_ref, q_tol, "log q(z|x)")
    assert_within(host(log_pz), p_ref, p_tol, "log p(z)")
    loss, bce, kl = vae_loss(out, x)
    assert_within(kl.item(), np.mean(q_ref - p_ref), np.mean(q_tol + p_tol), "kl")
    logits = host(out.logits)
    bce_ref = np.sum(np_bce(logits, host(x).reshape(8, 784))) / 8
    assert_within(bce.item(), bce_ref, sum_bound(2 * np.abs(logits) + 1, ops=5) / 8, "bce")


# Posteriors for the Monte Carlo tests: sum(logvar) is far from 0, so that a halved Jacobian
# term (a shift of sum(logvar) / 4 per sample) is many standard errors; L' is large above the
# diagonal, so that a mask on the wrong side changes tr(L L^T) by 48 (d=2) and 180 (d=3).
POSTERIORS = {
    "d=2": ([0.5, -1.0], [1.0, 1.6], [[9.0, 7.0], [0.7, 5.0]]),
    "d=3": ([0.5, -1.0, 0.3], [1.0, 1.6, 0.8], [[7.0, 9.0, 6.0], [0.7, 5.0, 8.0],
                                                [-0.4, 0.9, 4.0]]),
}


def monte_carlo_check(estimate, mu, L, eps, what):
    """|estimate - KL| within 4 standard errors of the one-sample estimator, the standard
    error taken from the reference's own per-sample values at the same eps."""
    z = eps @ L.T + mu
    cov = L @ L.T
    per_sample = (mvn_logpdf(z, mu, cov)[0]
                  - mvn_logpdf(z, np.zeros(len(mu)), np.eye(len(mu)))[0])
    se = per_sample.std(ddof=1) / math.sqrt(len(eps))
    kl = closed_form_kl(mu, L)
    # Power: a bias of 8 standard errors fails the check below whatever the noise within 4.
    # The smallest bias of the mutants is the halved Jacobian's, sum(log sigma) / 2; a flipped
    # sign moves the estimate by 2 KL.
    jacobian_bias = abs(np.sum(np.log(np.diag(L)))) / 2
    assert 8 * se < jacobian_bias and 8 * se < 2 * kl
    assert abs(estimate - kl) < 4 * se, (
        f"{what}: Monte Carlo mean {estimate:.4f}, closed-form KL {kl:.4f}, "
        f"|diff| {abs(estimate - kl):.4f} > 4 standard errors ({4 * se:.4f}, "
        f"{len(eps)} samples)")


@pytest.mark.parametrize("name", sorted(POSTERIORS))
def test_full_covariance_terms_average_to_the_closed_form_kl(name):
    mu, logvar, L_prime = (np.array(a) for a in POSTERIORS[name])
    L = lower_factor(logvar, L_prime)
    m, d = 20_000, len(mu)
    eps = np.random.default_rng(0).standard_normal((m, d))
    out = VAEOutput(None, t64(np.tile(mu, (m, 1))), t64(np.tile(logvar, (m, 1))),
                    t64(eps @ L.T + mu), t64(eps), t64(np.broadcast_to(L, (m, d, d))))
    log_qz, log_pz = full_covariance_terms(out)
    monte_carlo_check(float(np.mean(host(log_qz - log_pz))), mu, L, eps,
                      "full_covariance_terms")


@pytest.mark.parametrize("name", sorted(POSTERIORS))
def test_full_covariance_vae_kl_averages_to_the_closed_form(float64, name):
    """The model's forward (a fixed posterior for every row, the seeded eps) and vae_loss."""
    mu, logvar, L_prime = (np.array(a) for a in POSTERIORS[name])
    m, d = 4_000, len(mu)
    model = VAE(latent_dim=d, posterior="full").double()
    model.encode = lambda x: (t64(np.tile(mu, (m, 1))), t64(np.tile(logvar, (m, 1))),
                              t64(np.broadcast_to(L_prime, (m, d, d))))
    x = minigen.zeros(m, 784)
    out = model(x)
    _, _, kl = vae_loss(out, x)
    monte_carlo_check(kl.item(), mu, lower_factor(logvar, L_prime), host(out.eps),
                      "vae_loss kl")


# ------------------------------------------------------------------ GAN losses


logit_arrays = st.integers(1, 16).flatmap(lambda n: hnp.arrays(
    np.float64, (n, 1), elements=st.floats(-1e3, 1e3)))
EXTREMES = np.array([[-1e3], [-40.0], [-1e-8], [0.0], [1e-8], [40.0], [1e3]])


def bce_mean_bound(x):
    """A mean of BCE terms max(x, 0) - x y + log1p(e^-|x|): 5 roundings per term at the scale
    2|x| + 1, then the mean."""
    return sum_bound(2 * np.abs(x) + 1, ops=5) / x.size


def sigmoid_grad_bound(x, label):
    """(s(x) - y) / n: s(x) = max(e, [x >= 0]) / (1 + e) takes 3 roundings, the difference one
    at the scale 1 + |y|, the 1/n one; twice for both sides."""
    return 2 * 5 * EPS * (1 + abs(label)) / x.size


@given(real=logit_arrays, fake=logit_arrays, label=st.floats(0.0, 1.0))
@example(real=EXTREMES, fake=-EXTREMES, label=1.0)
@example(real=-EXTREMES, fake=EXTREMES, label=0.9)
def test_discriminator_loss_is_the_smoothed_bce_and_its_gradient(real, fake, label):
    r, f = t64(real, requires_grad=True), t64(fake, requires_grad=True)
    loss = discriminator_loss(r, f, real_label=label)
    expected = (-np.mean(label * np_log_sigmoid(real) + (1 - label) * np_log_sigmoid(-real))
                - np.mean(np_log_sigmoid(-fake)))
    assert_within(loss.item(), expected, bce_mean_bound(real) + bce_mean_bound(fake), "D loss")
    loss.backward()
    # d/dx BCE(x, y) = s(x) - y, averaged over each batch
    assert_within(host(r.grad), (np_sigmoid(real) - label) / real.size,
                  sigmoid_grad_bound(real, label), "d D loss / d real logits")
    assert_within(host(f.grad), np_sigmoid(fake) / fake.size, sigmoid_grad_bound(fake, 0.0),
                  "d D loss / d fake logits")


@given(fake=logit_arrays, saturating=st.booleans())
@example(fake=EXTREMES, saturating=False)
@example(fake=EXTREMES, saturating=True)
def test_generator_losses_and_gradients(fake, saturating):
    f = t64(fake, requires_grad=True)
    loss = generator_loss(f, saturating=saturating)
    if saturating:  # mean log(1 - D(G(z))), descended by G; d/dx log(1 - s(x)) = -s(x)
        expected, grad = np.mean(np_log_sigmoid(-fake)), -np_sigmoid(fake) / fake.size
    else:  # -mean log D(G(z)); d/dx -log s(x) = s(x) - 1
        expected, grad = -np.mean(np_log_sigmoid(fake)), (np_sigmoid(fake) - 1) / fake.size
    assert_within(loss.item(), expected, bce_mean_bound(fake), "G loss")
    loss.backward()
    assert_within(host(f.grad), grad, sigmoid_grad_bound(fake, 1.0), "d G loss / d logits")


@given(x=st.integers(1, 16).flatmap(lambda n: hnp.arrays(np.float64, (n, 1),
                                                         elements=st.floats(0.0, 700.0))))
@example(x=np.array([[40.0], [700.0]]))
def test_generator_losses_keep_their_relative_accuracy_where_they_are_tiny(x):
    """Where D is fooled the loss is log1p(e^-x), down to 1e-304 at x = 700: the stable form
    computes it to a few ulps (max(x, 0) - x y is exactly 0 there), where log(1 + e^-x) gives
    0 beyond x = 37. The terms are positive, so the mean is relatively accurate too."""
    ref = np.mean(np.log1p(np.exp(-x)))  # e^-x >= 1e-304 stays a normal float for x <= 700
    bound = 2 * (5 + x.size) * EPS * ref
    assert_within(generator_loss(t64(x)).item(), ref, bound, "-mean log D(G(z)), D fooled")
    assert_within(generator_loss(t64(-x), saturating=True).item(), -ref, bound,
                  "mean log(1 - D(G(z))), D certain")
