"""How likely does a VAE find the test digits? The ELBO and the importance-weighted bound.

For an image x, a VAE with prior p(z) = N(0, I), decoder p(x|z) (Bernoulli pixels with
logits decode(z)) and encoder q(z|x) gives, for any z_1..z_k drawn from q(z|x), the weights

    w_i = p(x, z_i) / q(z_i|x) = p(x|z_i) p(z_i) / q(z_i|x),       E_q[w_i] = p(x).

Jensen's inequality (log is concave) turns that into lower bounds of log p(x):

    ELBO     = E_q[log w]                              (the training objective, k = 1)
    IWAE_k   = E[log (1/k) sum_i w_i]                  (Burda et al., 2016)

with ELBO = IWAE_1 <= IWAE_k <= IWAE_{k+1} <= log p(x): more samples, a tighter bound. The
mean of the k weights is computed in log space, ``logsumexp(log w) - log k``, because
w itself (about e^-150 for a digit) underflows.

Everything is in nats per image (divide by 784 ln 2 for bits per pixel). Note that MNIST's
grey pixels are not 0/1: the Bernoulli "likelihood" of a grey value is a convenient loss, not
a probability of the data, so these numbers compare models on the same data and nothing else.

The functions take the VAE's two halves as callables, so any encoder/decoder pair works:
``encode(x) -> (mu, logvar)`` or ``(mu, logvar, L_prime)`` (the report's full-covariance
posterior, ``L = strictly_lower(L_prime) + diag(sigma)``; ``None`` for diagonal) and
``decode(z) -> logits``. With minigen's VAE: ``iwae_bound(vae.encode, vae.decode, x, k=1000)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import minigen
from minigen import backend
from minigen import functional as F
from minigen.tensor import Tensor

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _posterior(encode: Callable, x: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
    """mu (N, d), log sigma (N, d), and L (N, d, d) for a full covariance (else None)."""
    out = encode(x)
    mu, logvar = out[0], out[1]
    log_sigma = logvar * 0.5
    L_prime = out[2] if len(out) > 2 else None
    if L_prime is None:
        return mu, log_sigma, None
    d = mu.shape[1]
    xp = backend.namespace(mu.data)
    dev = backend.device_of(mu.data).native
    rows = xp.arange(d, device=dev)[:, None]
    cols = xp.arange(d, device=dev)[None, :]
    below = Tensor._make(xp.astype(rows > cols, mu.data.dtype))
    eye = Tensor._make(xp.astype(rows == cols, mu.data.dtype))
    L = L_prime * below + log_sigma.exp().unsqueeze(-1) * eye  # lower triangular, diag sigma
    return mu, log_sigma, L


def log_weights(encode: Callable, decode: Callable, x: Any, eps: Tensor) -> Tensor:
    """log w = log p(x|z) + log p(z) - log q(z|x) for z = mu + L eps, shape (k, N).

    ``x``: (N, 1, 28, 28) or (N, 784) in [0, 1]; ``eps``: (k, N, d) standard normal noise.
    No gradients are recorded.
    """
    log_px_z, log_pz, log_qz = _log_terms(encode, decode, x, eps)
    return log_px_z + log_pz - log_qz


def _log_terms(encode: Callable, decode: Callable, x: Any,
               eps: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """log p(x|z), log p(z) and log q(z|x), each (k, N), for z = mu + L eps."""
    with minigen.no_grad():
        n = x.shape[0]
        target = x.reshape(n, -1)
        mu, log_sigma, L = _posterior(encode, x)
        k, d = eps.shape[0], mu.shape[1]
        if L is None:
            z = mu.unsqueeze(0) + log_sigma.exp().unsqueeze(0) * eps  # (k, N, d)
        else:
            z = mu.unsqueeze(0) + (L.unsqueeze(0) * eps.unsqueeze(2)).sum(dim=-1)
        logits = decode(z.reshape(k * n, d)).reshape(k, n, -1)
        # log p(x|z) = sum_pixels [x log p + (1 - x) log(1 - p)] = -BCE(logits, x)
        log_px_z = -F.binary_cross_entropy_with_logits(
            logits, target.unsqueeze(0), reduction="none").sum(dim=-1)
        log_pz = -(z * z * 0.5 + HALF_LOG_2PI).sum(dim=-1)
        # z is an affine map of eps with Jacobian L (diagonal sigma): change of variables
        log_qz = -(eps * eps * 0.5 + HALF_LOG_2PI).sum(dim=-1) - log_sigma.sum(dim=-1)
        return log_px_z, log_pz, log_qz


def _noise_chunks(k: int, n: int, d: int, like: Tensor, generator: backend.Generator,
                  max_rows: int) -> Any:
    """Standard normal (k_chunk, n, d) blocks adding up to k samples, k_chunk * n <= max_rows."""
    step = max(1, max_rows // max(n, 1))
    for start in range(0, k, step):
        size = min(step, k - start)
        yield minigen.randn(size, n, d, dtype=like.dtype, device=like.device,
                            generator=generator)


def _as_tensor(images: Any) -> Tensor:
    return images if isinstance(images, Tensor) else minigen.tensor(images)


def _all_terms(encode: Callable, decode: Callable, images: Any, k: int, seed: int,
               batch_size: int, max_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """log w and log p(x|z) for every sample and image, as host float64 arrays (k, N).

    Images go ``batch_size`` at a time and their samples in chunks (so k = 1000 fits in
    memory), all drawn from one generator seeded with ``seed``: the same seed, the same noise.
    """
    x_all = _as_tensor(images)
    generator = backend.Generator(x_all.device, seed)
    logw, logpx = [], []
    for start in range(0, x_all.shape[0], batch_size):
        x = x_all[start:start + batch_size]
        with minigen.no_grad():
            mu = _posterior(encode, x)[0]
        blocks_w, blocks_px = [], []
        for eps in _noise_chunks(k, x.shape[0], mu.shape[1], mu, generator, max_rows):
            log_px_z, log_pz, log_qz = _log_terms(encode, decode, x, eps)
            blocks_w.append(backend.to_numpy((log_px_z + log_pz - log_qz).data))
            blocks_px.append(backend.to_numpy(log_px_z.data))
        logw.append(np.concatenate(blocks_w, axis=0))
        logpx.append(np.concatenate(blocks_px, axis=0))
    return (np.concatenate(logw, axis=1).astype(np.float64),
            np.concatenate(logpx, axis=1).astype(np.float64))


def iwae_bound(encode: Callable, decode: Callable, images: Any, k: int = 1000, *,
               seed: int = 0, batch_size: int = 100, max_rows: int = 20_000) -> np.ndarray:
    """The importance-weighted lower bound of log p(x) with ``k`` samples, per image (nats).

    ``log (1/k) sum_i w_i`` = ``logsumexp_i(log w_i) - log k`` for each image; k = 1 is the
    ELBO estimate with the same noise (:func:`elbo` with ``analytic_kl=False``). Returns a
    float64 array (N,). Images are processed ``batch_size`` at a time, their samples in chunks
    of at most ``max_rows`` decoder rows.

    >>> from minigen.models import VAE
    >>> vae, x = VAE(), minigen.rand(4, 1, 28, 28)
    >>> bound = iwae_bound(vae.encode, vae.decode, x, k=100)   # k=1000 in the benchmarks
    >>> bound.shape
    (4,)
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    logw, _ = _all_terms(encode, decode, images, k, seed, batch_size, max_rows)
    top = logw.max(axis=0)  # logsumexp: factor out the largest weight, exp never overflows
    return top + np.log(np.exp(logw - top).sum(axis=0)) - math.log(k)


def elbo(encode: Callable, decode: Callable, images: Any, *, samples: int = 1,
         analytic_kl: bool = True, seed: int = 0, batch_size: int = 100,
         max_rows: int = 20_000) -> np.ndarray:
    """The evidence lower bound per image (nats), estimated with ``samples`` draws of z.

    ``analytic_kl=True`` (the training loss, negated, for a diagonal posterior):
    mean_i log p(x|z_i) - KL(q(z|x) || p(z)) with the closed-form KL. ``analytic_kl=False``:
    mean_i log w_i, which with ``samples=1`` and the same seed equals ``iwae_bound(k=1)``
    exactly. Both estimate the same number; the closed-form KL has less noise. Returns a
    float64 array (N,).
    """
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    logw, log_px_z = _all_terms(encode, decode, images, samples, seed, batch_size, max_rows)
    if not analytic_kl:
        return logw.mean(axis=0)
    x_all, kls = _as_tensor(images), []
    for start in range(0, x_all.shape[0], batch_size):
        with minigen.no_grad():
            mu, log_sigma, L = _posterior(encode, x_all[start:start + batch_size])
            if L is not None:
                raise ValueError("the closed-form KL is for a diagonal posterior: use "
                                 "analytic_kl=False with a full-covariance encoder")
            kls.append(backend.to_numpy(F.gaussian_kl(mu, log_sigma * 2, "none").data))
    return log_px_z.mean(axis=0) - np.concatenate(kls).astype(np.float64)
