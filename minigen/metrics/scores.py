"""Scores of generated images, computed from the classifier's outputs.

Everything here works on host NumPy arrays in float64 (features and probabilities from
:func:`minigen.metrics.classifier.predict`): the statistics are small (a 128 x 128 covariance),
and a symmetric eigen-decomposition in float64 is both exact enough and available everywhere.
That is why this module imports NumPy by name, as ``io.py`` does: it is host-side analysis,
not device array code.

* :func:`frechet_distance`, the Fréchet distance between two Gaussians fitted to two feature
  sets (FID's formula, with our classifier's 128 features in place of Inception's 2048), and
  :func:`frechet_floor`, the distance between two sets of REAL images, below which no
  generator can go at that sample size (the estimate is biased upwards at small sizes).
* :func:`classifier_score`, the Inception Score's analogue: exp(E_x KL(p(y|x) || p(y))).
* :func:`class_histogram`: how often each class is predicted, and the histogram's entropy,
  the plainest mode-collapse signal.
* :func:`discriminator_summary`: D(x) and D(G(z)) over training, from a GAN's history.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def _as_rows(features: Any, name: str) -> np.ndarray:
    array = np.asarray(features, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] < 2:
        raise ValueError(f"{name} must be (N, D) features with N >= 2, got shape {array.shape}")
    return array


def feature_statistics(features: Any) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and sample covariance (D, D) (divided by N - 1) of features (N, D)."""
    x = _as_rows(features, "features")
    mu = x.mean(axis=0)
    centred = x - mu
    return mu, centred.T @ centred / (x.shape[0] - 1)


def sqrtm_psd(matrix: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix.

    S = V diag(w) V^T (eigh: real w, orthonormal V) gives S^1/2 = V diag(sqrt(w)) V^T.
    Rounding can make eigenvalues that should be 0 come out as -1e-17: clip them at 0.
    """
    w, v = np.linalg.eigh((matrix + matrix.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def trace_sqrt_product(cov_a: np.ndarray, cov_b: np.ndarray) -> float:
    """tr((S_a S_b)^1/2), computed as tr((S_a^1/2 S_b S_a^1/2)^1/2).

    S_a S_b is not symmetric, so its square root would need a complex, unstable general
    ``sqrtm``. But S_a^1/2 S_b S_a^1/2 is symmetric PSD and has the same eigenvalues as S_a S_b
    (similar matrices), so the trace of its square root is the sum of the square roots of its
    eigenvalues, all real and >= 0 (up to rounding, clipped).
    """
    root_a = sqrtm_psd(cov_a)
    middle = root_a @ cov_b @ root_a
    w = np.linalg.eigvalsh((middle + middle.T) / 2)
    return float(np.sqrt(np.clip(w, 0.0, None)).sum())


def frechet_distance_from_statistics(mu_a: Any, cov_a: Any, mu_b: Any, cov_b: Any) -> float:
    """||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2), in float64.

    This is the squared 2-Wasserstein distance between N(mu_a, S_a) and N(mu_b, S_b). It is
    >= 0; rounding can leave -1e-12 for identical inputs, which is returned as 0.
    """
    mu_a, mu_b = np.asarray(mu_a, np.float64), np.asarray(mu_b, np.float64)
    cov_a, cov_b = np.asarray(cov_a, np.float64), np.asarray(cov_b, np.float64)
    if mu_a.shape != mu_b.shape or cov_a.shape != cov_b.shape or cov_a.shape != 2 * mu_a.shape:
        raise ValueError(f"mismatched statistics: means {mu_a.shape} and {mu_b.shape}, "
                         f"covariances {cov_a.shape} and {cov_b.shape}")
    diff = mu_a - mu_b
    value = diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt_product(cov_a,
                                                                                     cov_b)
    return max(float(value), 0.0)


def frechet_distance(features_a: Any, features_b: Any) -> float:
    """The Fréchet distance between Gaussians fitted to two feature sets (N_a, D), (N_b, D).

    >>> features = np.random.default_rng(0).normal(size=(500, 8))
    >>> round(frechet_distance(features, features), 9)   # 0 for identical sets (to rounding)
    0.0
    >>> round(frechet_distance(features, features + 1.0), 9)   # a shift of 1 in 8 features
    8.0
    """
    a, b = _as_rows(features_a, "features_a"), _as_rows(features_b, "features_b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"features of different widths: {a.shape} and {b.shape}")
    return frechet_distance_from_statistics(*feature_statistics(a), *feature_statistics(b))


def frechet_floor(reference: Any, other_real: Any, n: int | None = None,
                  seed: int = 0) -> float:
    """The distance between ``n`` reference features and ``n`` features of OTHER real images.

    Two finite samples of the same distribution are not at distance 0: the covariance
    estimates carry noise of order D / n, and the formula turns it into a positive bias. A
    generator scored with n images cannot be told apart from the data below this floor, so
    report the two numbers side by side. ``reference`` (N_r, D) and ``other_real`` (N_o, D)
    must be disjoint sets (e.g. the test split and a part of the training split); ``n``
    defaults to the smaller size, and the rows used are a seeded random choice.
    """
    a, b = _as_rows(reference, "reference"), _as_rows(other_real, "other_real")
    n = min(a.shape[0], b.shape[0]) if n is None else n
    if n > min(a.shape[0], b.shape[0]):
        raise ValueError(f"a floor at n={n} needs {n} images in each set, got {a.shape[0]} "
                         f"and {b.shape[0]}")
    rng = np.random.default_rng(seed)
    pick_a = rng.permutation(a.shape[0])[:n]
    pick_b = rng.permutation(b.shape[0])[:n]
    return frechet_distance(a[pick_a], b[pick_b])


def _kl_to_marginal(probs: np.ndarray) -> float:
    """E_x KL(p(y|x) || p(y)) with p(y) the mean of the rows; 0 log 0 = 0."""
    marginal = probs.mean(axis=0, keepdims=True)
    ratio = np.where(probs > 0, probs / np.where(marginal > 0, marginal, 1.0), 1.0)
    return float((probs * np.log(ratio)).sum(axis=1).mean())


def classifier_score(probs: Any, splits: int = 10) -> tuple[float, float]:
    """The Inception Score's analogue for digits: mean and std over ``splits`` parts of
    exp(E_x KL(p(y|x) || p(y))).

    It is high when each image is classified confidently (p(y|x) peaked) AND the classes are
    spread evenly (p(y) flat): at most the number of classes (10), at least 1 (every image
    gets the same prediction). It never looks at real data, so it cannot see that images are
    copies of the training set or that they are not diverse within a class.

    ``probs``: (N, C) rows of class probabilities; N is split into ``splits`` equal parts in
    order (N // splits rows each, the rest dropped), as the Inception Score does.
    """
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < splits:
        raise ValueError(f"probs must be (N, C) with N >= splits={splits}, got {p.shape}")
    size = p.shape[0] // splits
    values = [math.exp(_kl_to_marginal(p[i * size:(i + 1) * size])) for i in range(splits)]
    return float(np.mean(values)), float(np.std(values))


def class_histogram(probs_or_labels: Any, num_classes: int = 10) -> dict[str, Any]:
    """How often each class is predicted, and the histogram's entropy.

    ``probs_or_labels``: (N, C) probabilities (the argmax is the prediction) or (N,) integer
    labels. Returns ``counts`` (C,) ints, ``fractions`` (C,), ``entropy`` in nats (log C =
    2.303 for an even spread, 0 for a single class) and ``normalized_entropy`` (entropy /
    log C, in [0, 1]), ``missing`` (the classes never predicted) and the smallest and largest
    fraction. A collapsing GAN shows a few tall bars and missing classes.
    """
    array = np.asarray(probs_or_labels)
    labels = array.argmax(axis=1) if array.ndim == 2 else array.astype(np.int64)
    counts = np.bincount(labels, minlength=num_classes)[:num_classes]
    fractions = counts / max(int(counts.sum()), 1)
    nonzero = fractions[fractions > 0]
    entropy = max(0.0, float(-(nonzero * np.log(nonzero)).sum()))  # never -0.0
    return {"counts": counts.tolist(), "fractions": fractions.tolist(), "entropy": entropy,
            "normalized_entropy": entropy / math.log(num_classes),
            "missing": [c for c in range(num_classes) if counts[c] == 0],
            "min_fraction": float(fractions.min()), "max_fraction": float(fractions.max())}


def discriminator_summary(d_x: Sequence[float], d_g_z: Sequence[float],
                          last: int = 5) -> dict[str, Any]:
    """D(x) and D(G(z)) over training (one value per epoch, from a GAN's history).

    At the game's equilibrium D outputs 1/2 for everything. Signals, over the ``last`` epochs:
    ``gap`` = mean D(x) - mean D(G(z)); near 1 means D wins outright (G's gradients vanish:
    samples stop improving); D(G(z)) jumping up while the class histogram narrows is the
    typical picture of mode collapse (G found a few images that fool D).
    """
    d_x, d_g_z = np.asarray(d_x, np.float64), np.asarray(d_g_z, np.float64)
    if d_x.shape != d_g_z.shape or d_x.ndim != 1 or d_x.size == 0:
        raise ValueError(f"d_x and d_g_z must be equal, non-empty sequences, got {d_x.shape} "
                         f"and {d_g_z.shape}")
    tail = slice(max(0, d_x.size - last), None)
    gap = float(d_x[tail].mean() - d_g_z[tail].mean())
    verdict = ("D wins: the generator gets little signal" if gap > 0.7 else
               "G fools D too easily: check the samples" if gap < -0.2 else "balanced")
    return {"d_x": d_x.tolist(), "d_g_z": d_g_z.tolist(), "d_x_last": float(d_x[tail].mean()),
            "d_g_z_last": float(d_g_z[tail].mean()), "gap": gap, "verdict": verdict}
