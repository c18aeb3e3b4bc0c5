"""One-dimensional toys for the GAN theory of the report's Section 1.2, on a grid.

In one dimension every density can be tabulated on a grid of points, so the quantities the
theory talks about become arrays that can be computed and drawn: the data density
``p_data``, a kernel estimate of the generator's density ``p_g`` from its samples, the optimal
discriminator ``D* = p_data / (p_data + p_g)`` and the Jensen-Shannon divergence between
the two densities.

This is host-side analysis of samples already produced (by a minigen model, copied to the host
with ``.numpy()``), so it uses NumPy directly. Training never goes through this module.

>>> data = GaussianMixture(means=[-2.0, 2.0], stds=[0.3, 0.3])
>>> x = np.linspace(-4, 4, 801)
>>> round(jsd(data.pdf(x), data.pdf(x), x), 12)
0.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


class GaussianMixture:
    """A mixture of 1-D Gaussians: p(x) = sum_k w_k N(x; mean_k, std_k^2).

    Parameters
    ----------
    means, stds : sequences of K floats
        Each component's mean and standard deviation (> 0).
    weights : sequence of K floats, optional
        Mixing weights (>= 0, normalised to sum to 1); equal weights by default.
    """

    def __init__(self, means: Sequence[float], stds: Sequence[float],
                 weights: Sequence[float] | None = None):
        self.means = np.asarray(means, dtype=np.float64)
        self.stds = np.asarray(stds, dtype=np.float64)
        w = np.ones(len(self.means)) if weights is None else np.asarray(weights, np.float64)
        if not (self.means.ndim == 1 and self.means.shape == self.stds.shape == w.shape):
            raise ValueError(f"means, stds and weights must be K numbers each, got shapes "
                             f"{self.means.shape}, {self.stds.shape}, {w.shape}")
        if np.any(self.stds <= 0) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError("stds must be > 0 and weights >= 0 with a positive sum")
        self.weights = w / w.sum()

    def pdf(self, x: np.ndarray) -> np.ndarray:
        """The density at each point of ``x`` (any shape), in float64."""
        x = np.asarray(x, dtype=np.float64)[..., None]
        z = (x - self.means) / self.stds
        per_component = np.exp(-0.5 * z * z) / (self.stds * math.sqrt(2 * math.pi))
        return per_component @ self.weights

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` samples, shape (n, 1), float32 (ready for ``minigen.tensor``): pick a
        component with probability w_k, then draw from it."""
        k = rng.choice(len(self.weights), size=n, p=self.weights)
        x = self.means[k] + self.stds[k] * rng.standard_normal(n)
        return x.astype(np.float32)[:, None]

    def smoothed(self, bandwidth: float) -> GaussianMixture:
        """The density convolved with a N(0, bandwidth^2) kernel: what a Gaussian kernel
        estimate of this density converges to (variances add: std^2 + bandwidth^2)."""
        return GaussianMixture(self.means, np.sqrt(self.stds**2 + bandwidth**2), self.weights)

    def __repr__(self) -> str:
        return (f"GaussianMixture(means={self.means.tolist()}, stds={self.stds.tolist()}, "
                f"weights={self.weights.round(3).tolist()})")


def optimal_discriminator(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), the best discriminator for a fixed generator
    (Bayes' rule with equal numbers of real and fake examples). NaN where both densities are 0:
    there D* is undefined, and no sample ever reaches it."""
    total = p_data + p_g
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, p_data / np.where(total > 0, total, 1.0), np.nan)


def _normalised(p: np.ndarray, x: np.ndarray) -> np.ndarray:
    mass = np.trapezoid(p, x)
    if not mass > 0:
        raise ValueError("a density has no mass on the grid: widen the grid")
    return p / mass


def kl(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    """KL(p || q) = integral of p log(p / q), by the trapezoid rule on the grid ``x`` (natural
    log; each density renormalised to integrate to 1 on the grid; 0 log 0 = 0). Infinite
    where p > 0 and q = 0."""
    p, q = _normalised(p, x), _normalised(q, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        integrand = np.where(p > 0, p * (np.log(p) - np.log(q)), 0.0)
    return float(np.trapezoid(integrand, x))


def jsd(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    """The Jensen-Shannon divergence on the grid ``x``:

        JSD(p, q) = 1/2 KL(p || m) + 1/2 KL(q || m),   m = (p + q) / 2.

    Symmetric, 0 if and only if p = q, and log 2 (natural log) when the densities do not
    overlap. The report writes the sum without the halves, which is 2 JSD: exactly the term
    in the value of the game at the optimal discriminator, V(D*, G) = -log 4 + 2 JSD.

    Parameters
    ----------
    p, q : arrays of shape (n,)
        Two densities tabulated on the uniform or non-uniform increasing grid ``x`` (n,).
    """
    p, q = _normalised(p, x), _normalised(q, x)
    total = p + q  # = 2 m; m itself can round to 0 where p or q is subnormal, p + q cannot
    with np.errstate(divide="ignore", invalid="ignore"):
        # p log(p / m) = p (log 2p - log(p + q)), 0 where p = 0 (and likewise for q)
        to_p = np.where(p > 0, p * (np.log(2 * p) - np.log(total)), 0.0)
        to_q = np.where(q > 0, q * (np.log(2 * q) - np.log(total)), 0.0)
    return 0.5 * float(np.trapezoid(to_p, x)) + 0.5 * float(np.trapezoid(to_q, x))


def game_value(p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray) -> float:
    """V(D*, G) = E_data[log D*] + E_g[log(1 - D*)] = -log 4 + 2 JSD(p_data, p_g)."""
    return -math.log(4.0) + 2.0 * jsd(p_data, p_g, x)


def silverman_bandwidth(samples: np.ndarray) -> float:
    """Silverman's rule of thumb, 0.9 min(std, IQR / 1.34) n^(-1/5): good for one bump,
    too wide for well-separated modes (the std then measures the gap, not the bumps)."""
    s = np.asarray(samples, dtype=np.float64).ravel()
    q75, q25 = np.percentile(s, [75, 25])
    spread = min(s.std(), (q75 - q25) / 1.34) or s.std() or 1.0
    return float(0.9 * spread * len(s) ** -0.2)


def kde(samples: np.ndarray, x: np.ndarray, bandwidth: float | None = None) -> np.ndarray:
    """A Gaussian kernel density estimate of ``samples`` on the uniform grid ``x``.

    Binned, so it costs O(len(x)) whatever the number of samples: count the samples in a bin
    around each grid point (a histogram), then convolve the counts with the Gaussian kernel
    tabulated on the grid spacing. Samples outside the grid are dropped (their mass is lost).

    Parameters
    ----------
    samples : array of any shape (flattened), e.g. a generator's output (N, 1)
    x : array (n,), uniform and increasing
    bandwidth : float, optional
        The kernel's standard deviation; Silverman's rule by default.

    Returns
    -------
    array (n,), float64: the estimated density at each grid point.
    """
    s = np.asarray(samples, dtype=np.float64).ravel()
    h = silverman_bandwidth(s) if bandwidth is None else float(bandwidth)
    dx = float(x[1] - x[0])
    if h <= 0 or not np.allclose(np.diff(x), dx, rtol=1e-6, atol=0):
        raise ValueError("kde needs a uniform increasing grid and a positive bandwidth")
    edges = np.concatenate([x - dx / 2, x[-1:] + dx / 2])
    counts, _ = np.histogram(s, bins=edges)
    half = min(int(math.ceil(4 * h / dx)), (len(x) - 1) // 2)  # +-4 bandwidths
    offsets = np.arange(-half, half + 1) * dx
    kernel = np.exp(-0.5 * (offsets / h) ** 2)
    kernel /= kernel.sum()  # a discrete kernel of total weight 1: no mass created or lost
    return np.convolve(counts / (len(s) * dx), kernel, mode="same")


def mode_masses(samples: np.ndarray, means: Sequence[float], radius: float) -> np.ndarray:
    """The fraction of ``samples`` within ``radius`` of each mean, shape (K,): a mode is
    *covered* when its fraction is near its mixing weight, *dropped* when it is near 0."""
    s = np.asarray(samples, dtype=np.float64).ravel()[:, None]
    return (np.abs(s - np.asarray(means, dtype=np.float64)) <= radius).mean(axis=0)
