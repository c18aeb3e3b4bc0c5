"""The report's three models and their losses: shapes, parameter counts, a few steps of
learning, and the VAE's probability maths checked against NumPy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen
from minigen import functional as F
from minigen import nn, optim
from minigen.models import VAE, VAEOutput, dcgan, discriminator_loss, gan, generator_loss, vae_loss
from minigen.models.losses import full_covariance_terms

REPORT_VAE_PARAMETERS = (784 * 512 + 512 + 512 * 256 + 256 + 2 * (256 * 2 + 2)
                         + 2 * 256 + 256 + 256 * 512 + 512 + 512 * 784 + 784)


def host(t: minigen.Tensor) -> np.ndarray:
    return t.detach().numpy()


def count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def real_batch(n: int = 32, low: float = 0.0) -> minigen.Tensor:
    """n digits from the bundled sample, scaled to [low, 1]."""
    from minigen.data import MNIST

    images = MNIST(source="sample", split="test").images[:n]
    return minigen.tensor(images * (1 - low) + low)


# ------------------------------------------------------------------ shapes and sizes


def test_fc_gan_shapes_and_size() -> None:
    G, D = gan.Generator(), gan.Discriminator()
    fake = G(minigen.randn(5, 100))
    assert fake.shape == (5, 1, 28, 28)
    assert -1.0 <= fake.min().item() and fake.max().item() <= 1.0  # tanh
    assert D(fake).shape == (5, 1)
    assert D(fake.reshape(5, 784)).shape == (5, 1)
    assert count(G) == (100 * 256 + 256) + (256 * 512 + 512) + (512 * 1024 + 1024) \
        + (1024 * 784 + 784)
    assert count(D) == (784 * 512 + 512) + (512 * 256 + 256) + (256 + 1)


def test_dcgan_shapes_size_and_init() -> None:
    G, D = dcgan.Generator(), dcgan.Discriminator()
    fake = G(minigen.randn(4, 100))
    assert fake.shape == (4, 1, 28, 28)
    assert D(fake).shape == (4, 1)
    assert count(G) == (100 * 6272 + 6272) + 2 * 6272 + (128 * 64 * 16 + 64) + 2 * 64 \
        + (64 * 16 + 1)
    assert count(D) == (64 * 16 + 64) + (64 * 128 * 16 + 128) + 2 * 128 + (6272 + 1)
    w = host(G.net[0].weight)
    assert abs(w.std() - 0.02) < 0.002 and abs(w.mean()) < 0.002  # N(0, 0.02)
    assert count(dcgan.Discriminator(batch_norm=False)) == count(D) - 2 * 128
    layers = [type(m).__name__ for m in dcgan.Discriminator(dropout=0.3, batch_norm=False).net]
    assert layers.count("Dropout") == 2 and "BatchNorm2d" not in layers


def test_vae_has_exactly_the_report_layers() -> None:
    model = VAE()
    assert count(model) == REPORT_VAE_PARAMETERS == 1_068_820
    names = [n for n, _ in model.named_children()]
    assert names == ["fc1", "fc2", "fc31", "fc32", "fc4", "fc5", "fc6"]
    out = model(minigen.rand(6, 1, 28, 28))
    assert out.logits.shape == (6, 784) and out.mu.shape == out.logvar.shape == (6, 2)
    assert out.z.shape == out.eps.shape == (6, 2) and out.L is None
    assert model.generate(out.z).shape == (6, 1, 28, 28)
    assert model.reconstruct(minigen.rand(3, 784)).shape == (3, 1, 28, 28)


def test_full_covariance_vae_adds_one_head() -> None:
    model = VAE(latent_dim=3, posterior="full")
    assert count(model) == count(VAE(latent_dim=3)) + 256 * 9 + 9
    out = model(minigen.rand(4, 1, 28, 28))
    L = host(out.L)
    assert L.shape == (4, 3, 3)
    assert np.all(np.triu(L, 1) == 0)  # lower triangular
    np.testing.assert_allclose(np.diagonal(L, axis1=1, axis2=2),
                               np.exp(0.5 * host(out.logvar)), rtol=1e-6)
    with pytest.raises(ValueError, match="posterior"):
        VAE(posterior="spherical")


def test_vae_runs_on_every_device(device: str) -> None:
    model = VAE(posterior="full").to(device)
    x = minigen.rand(4, 1, 28, 28, device=device)
    loss, bce, kl = vae_loss(model(x), x)
    loss.backward()
    assert loss.device == minigen.device(device)
    assert model.fc33.weight.grad is not None and math.isfinite(loss.item())


# ------------------------------------------------------------------ a few steps learn


def _steps(loss_fn, params, n: int = 8, lr: float = 1e-3) -> tuple[float, float]:
    opt = optim.Adam(params, lr=lr)
    first = None
    for _ in range(n):
        loss = loss_fn()
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    return first, loss_fn().item()


@pytest.mark.parametrize("posterior", ["diagonal", "full"])
def test_vae_steps_lower_the_loss(posterior: str) -> None:
    model, x = VAE(posterior=posterior), real_batch(32)

    def loss_fn():
        minigen.manual_seed(1)  # the same eps each time: a fixed objective
        return vae_loss(model(x), x)[0]

    first, last = _steps(loss_fn, model.parameters())
    assert last < first - 50


@pytest.mark.parametrize("module", [gan, dcgan])
def test_gan_steps_lower_both_losses(module) -> None:
    G, D = module.Generator(), module.Discriminator(dropout=0.0)
    real, z = real_batch(16, low=-1.0), minigen.randn(16, 100)
    fake = G(z).detach()
    d_first, d_last = _steps(lambda: discriminator_loss(D(real), D(fake)), D.parameters(),
                             lr=2e-4)
    assert d_last < d_first
    D.requires_grad_(False)
    g_first, g_last = _steps(lambda: generator_loss(D(G(z))), G.parameters(), lr=2e-4)
    assert g_last < g_first


# ------------------------------------------------------------------ GAN losses


def test_gan_losses_are_the_reports_objective() -> None:
    real, fake = minigen.randn(50), minigen.randn(50)
    d_x, d_g = 1 / (1 + np.exp(-real.numpy())), 1 / (1 + np.exp(-fake.numpy()))
    v = np.mean(np.log(d_x)) + np.mean(np.log(1 - d_g))  # V(D, G), which D ascends
    assert discriminator_loss(real, fake).item() == pytest.approx(-v, rel=1e-5)
    assert generator_loss(fake).item() == pytest.approx(-np.mean(np.log(d_g)), rel=1e-5)
    assert generator_loss(fake, saturating=True).item() == pytest.approx(
        np.mean(np.log(1 - d_g)), rel=1e-5)
    smooth = discriminator_loss(real, fake, real_label=0.9).item()
    expected = -np.mean(0.9 * np.log(d_x) + 0.1 * np.log(1 - d_x)) - np.mean(np.log(1 - d_g))
    assert smooth == pytest.approx(expected, rel=1e-5)


def test_saturating_loss_vanishes_where_the_non_saturating_one_does_not() -> None:
    # Early in training D rejects samples confidently: logit -8, D(G(z)) ~ 3e-4.
    grads = {}
    for saturating in (True, False):
        logits = minigen.full((1,), -8.0, requires_grad=True)
        generator_loss(logits, saturating=saturating).backward()
        grads[saturating] = abs(logits.grad.item())
    assert grads[True] < 1e-3 < 0.99 < grads[False]


# ------------------------------------------------------------------ VAE maths


def _fixed_posterior(model: VAE, mu: np.ndarray, logvar: np.ndarray, L_prime=None) -> None:
    """Make ``model.encode`` return the given posterior parameters for every input."""
    def encode(x):
        n = x.shape[0]
        out_mu = minigen.tensor(np.broadcast_to(mu, (n, mu.size)).copy())
        out_lv = minigen.tensor(np.broadcast_to(logvar, (n, mu.size)).copy())
        if L_prime is None:
            return out_mu, out_lv, None
        return out_mu, out_lv, minigen.tensor(np.broadcast_to(L_prime, (n,) + L_prime.shape)
                                              .copy())
    model.encode = encode


def test_reparameterised_samples_have_the_posterior_moments() -> None:
    mu = np.array([1.5, -0.5], np.float32)
    logvar = np.array([np.log(0.25), np.log(4.0)], np.float32)
    model = VAE()
    _fixed_posterior(model, mu, logvar)
    z = model(minigen.zeros(40_000, 784)).z.numpy()
    se = np.sqrt(np.exp(logvar) / 40_000)
    assert np.all(np.abs(z.mean(0) - mu) < 5 * se)
    np.testing.assert_allclose(z.var(0), np.exp(logvar), rtol=0.05)


def test_full_covariance_samples_have_covariance_L_LT() -> None:
    mu = np.array([0.5, -1.0], np.float32)
    logvar = np.array([0.0, np.log(0.5)], np.float32)
    L_prime = np.array([[7.0, 9.0], [0.8, 5.0]], np.float32)  # only 0.8 survives the mask
    model = VAE(posterior="full")
    _fixed_posterior(model, mu, logvar, L_prime)
    out = model(minigen.zeros(40_000, 784))
    L = np.array([[1.0, 0.0], [0.8, np.sqrt(0.5)]])
    np.testing.assert_allclose(host(out.L)[0], L, rtol=1e-6)
    z = host(out.z).astype(np.float64)
    np.testing.assert_allclose(np.cov(z.T), L @ L.T, atol=0.03)
    np.testing.assert_allclose(z.mean(0), mu, atol=0.03)


@given(st.lists(st.floats(-4, 4), min_size=3, max_size=3),
       st.lists(st.floats(-6, 6), min_size=3, max_size=3))
def test_closed_form_kl_is_nonnegative(mu: list[float], logvar: list[float]) -> None:
    kl = F.gaussian_kl(minigen.tensor([mu], dtype=minigen.float64),
                       minigen.tensor([logvar], dtype=minigen.float64)).item()
    expected = 0.5 * sum(math.exp(lv) + m * m - lv - 1 for m, lv in zip(mu, logvar))
    assert kl >= 0.0
    assert kl == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_closed_form_kl_is_zero_at_the_prior_and_matches_monte_carlo() -> None:
    zero = minigen.zeros(1, 2)
    assert F.gaussian_kl(zero, zero).item() == 0.0
    mu, logvar = np.array([0.7, -1.2]), np.array([-0.5, 0.8])
    closed = F.gaussian_kl(minigen.tensor([mu]), minigen.tensor([logvar])).item()
    rng = np.random.default_rng(0)
    sigma = np.exp(0.5 * logvar)
    eps = rng.standard_normal((200_000, 2))
    z = mu + sigma * eps
    log_q = np.sum(-0.5 * eps**2 - 0.5 * np.log(2 * np.pi) - np.log(sigma), axis=1)
    log_p = np.sum(-0.5 * z**2 - 0.5 * np.log(2 * np.pi), axis=1)
    mc = log_q - log_p
    assert abs(mc.mean() - closed) < 4 * mc.std() / np.sqrt(len(mc))


def _gaussian_logpdf(z: np.ndarray, mu: np.ndarray, cov: np.ndarray) -> float:
    d = len(z)
    _, logdet = np.linalg.slogdet(cov)
    diff = z - mu
    return -0.5 * (d * np.log(2 * np.pi) + logdet + diff @ np.linalg.solve(cov, diff))


def test_full_covariance_log_q_is_the_gaussian_log_density() -> None:
    minigen.set_default_dtype(minigen.float64)
    try:
        model = VAE(latent_dim=4, posterior="full").double()
        out = model(minigen.rand(5, 784, dtype=minigen.float64))
        log_qz, log_pz = full_covariance_terms(out)
    finally:
        minigen.set_default_dtype(minigen.float32)
    L, mu, z = host(out.L), host(out.mu), host(out.z)
    for i in range(5):
        expected = _gaussian_logpdf(z[i], mu[i], L[i] @ L[i].T)
        assert host(log_qz)[i] == pytest.approx(expected, rel=1e-9)
        assert host(log_pz)[i] == pytest.approx(
            _gaussian_logpdf(z[i], np.zeros(4), np.eye(4)), rel=1e-9)
    # The report's printed form, with log sigma inside the 1/2, is a different number:
    eps, log_sigma = host(out.eps), 0.5 * host(out.logvar)
    slip = -np.sum(0.5 * (eps**2 + np.log(2 * np.pi) + log_sigma), axis=1)
    assert not np.allclose(slip, host(log_qz))


def test_full_covariance_reduces_to_diagonal_when_L_prime_is_zero() -> None:
    full, diag = VAE(posterior="full"), VAE()
    diag.load_state_dict({k: v for k, v in full.state_dict().items() if "fc33" not in k})
    nn.init.zeros_(full.fc33.weight)
    nn.init.zeros_(full.fc33.bias)
    x = real_batch(8)
    minigen.manual_seed(3)
    out_full = full(x)
    minigen.manual_seed(3)
    out_diag = diag(x)
    np.testing.assert_allclose(host(out_full.z), host(out_diag.z), rtol=1e-6)
    log_qz, _ = full_covariance_terms(out_full)
    mu, sigma, z = host(out_diag.mu), np.exp(0.5 * host(out_diag.logvar)), host(out_diag.z)
    diagonal = np.sum(-0.5 * ((z - mu) / sigma) ** 2 - 0.5 * np.log(2 * np.pi) - np.log(sigma),
                      axis=1)
    np.testing.assert_allclose(host(log_qz), diagonal, rtol=1e-5)


def test_one_sample_kl_estimate_averages_to_the_closed_form() -> None:
    mu = minigen.tensor(np.tile([[0.7, -1.2]], (20_000, 1)).astype(np.float32))
    logvar = minigen.tensor(np.tile([[-0.5, 0.8]], (20_000, 1)).astype(np.float32))
    eps = minigen.randn(20_000, 2)
    sigma = (logvar * 0.5).exp()
    L = sigma.unsqueeze(-1) * minigen.tensor(np.eye(2, dtype=np.float32))
    out = VAEOutput(logits=None, mu=mu, logvar=logvar, z=mu + sigma * eps, eps=eps, L=L)
    log_qz, log_pz = full_covariance_terms(out)
    estimate = host(log_qz - log_pz)
    closed = F.gaussian_kl(mu[:1], logvar[:1]).item()
    assert abs(estimate.mean() - closed) < 4 * estimate.std() / np.sqrt(20_000)


def test_untrained_vae_with_zero_last_layer_costs_784_ln2_plus_kl() -> None:
    model = VAE()
    nn.init.zeros_(model.fc6.weight)
    nn.init.zeros_(model.fc6.bias)
    x = real_batch(16)
    loss, bce, kl = vae_loss(model(x), x)
    assert bce.item() == pytest.approx(784 * math.log(2), rel=1e-6)
    assert loss.item() == pytest.approx(bce.item() + kl.item(), rel=1e-6)
