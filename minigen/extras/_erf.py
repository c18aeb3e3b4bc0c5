"""The standard normal CDF, Phi(x) = erfc(-x / sqrt(2)) / 2, from array-API calls only.

The array API (and so array-api-strict) has no ``erf``. This module builds one from two
Chebyshev series, for a = |z|:

* a <= 2:  erf(a) = a * G(a^2),  G(u) = erf(sqrt(u)) / sqrt(u), smooth (entire) on [0, 4];
* a >= 2:  erfc(a) = exp(-a^2) * F(w) / a,  w = (2 / a)^2 in (0, 1],  F = a e^(a^2) erfc(a),
  which tends to 1 / sqrt(pi) as a -> infinity (the asymptotic series of erfc), so one series
  covers [2, infinity) and keeps erfc's relative accuracy far into the tail.

The coefficients are not typed in: they are computed once, on first use, by interpolating at
Chebyshev nodes (c_k = 2/n sum_j f(cos theta_j) cos(k theta_j)), G from Python's ``math.erf``
(glibc's, within 1 ulp) and F from the Laplace continued fraction
``sqrt(pi) e^(a^2) erfc(a) = 1 / (a + (1/2) / (a + 1 / (a + (3/2) / (a + ...))))``, evaluated
bottom-up (300 levels: converged for a >= 2). Each series has the degree past which its
coefficients fall below the dtype's epsilon: 18 and 23 terms in float64 (erf within 4e-16,
erfc past 2 within a few ulp relative), 10 and 8 in float32 (within 2e-7). Evaluation is
Clenshaw's recurrence: three array passes per term, so the exact GELU costs some 130 passes
in float64 (70 in float32) where ReLU costs one: use approximate="tanh" where speed matters.
"""

from __future__ import annotations

import functools
import math
from decimal import Decimal, localcontext

from minigen import backend
from minigen.backend import Array

SPLIT = 2.0  # the two series meet at |z| = 2
_NODES = 48
_PI = Decimal("3.141592653589793238462643383279502884197169399375105820974944")


@functools.cache
def _cos_pi(m: int, d: int) -> float:
    """cos(pi m / d) correctly rounded, from its Taylor series in 40-digit decimals. With
    ``math.cos(math.pi * m / d)`` the rounded pi and product would shift every angle the same
    way, a bias that adds up over the terms of a series (10 to 20 ulp at its ends)."""
    m %= 2 * d
    if m > d:  # cos(2 pi - y) = cos(y)
        m = 2 * d - m
    if 2 * m > d:  # cos(pi - y) = -cos(y): the series runs for angles up to pi / 2 only
        return -_cos_pi(d - m, d)
    with localcontext() as ctx:
        ctx.prec = 40
        x2 = (_PI * m / d) ** 2
        term = total = Decimal(1)
        k = 0
        while abs(term) > Decimal(10) ** -42:
            term *= -x2 / ((2 * k + 1) * (2 * k + 2))
            total += term
            k += 1
        return float(total)


def _chebyshev(f, n: int = _NODES) -> list[float]:
    """The Chebyshev coefficients of ``f`` on [-1, 1], interpolated at the n nodes
    cos(theta_j), theta_j = (2j + 1) pi / (2n): c_k = 2/n sum_j f(cos theta_j) cos(k theta_j)
    (halved for k = 0); k theta_j is reduced to (k (2j + 1) mod 4n) pi / (2n) as integers."""
    cos = [_cos_pi(m, 2 * n) for m in range(4 * n)]
    values = [f(cos[2 * j + 1]) for j in range(n)]
    coeffs = [2.0 / n * math.fsum(values[j] * cos[(k * (2 * j + 1)) % (4 * n)]
                                  for j in range(n)) for k in range(n)]
    coeffs[0] /= 2
    return coeffs


def _scaled_erfc(a: float) -> float:
    """a e^(a^2) erfc(a) for a >= 2, by the continued fraction (bottom-up)."""
    t = a
    for k in range(300, 0, -1):
        t = a + (k / 2) / t
    return a / (t * math.sqrt(math.pi))


def _small(t: float) -> float:  # G(u) = erf(sqrt(u)) / sqrt(u), u = 2 (t + 1) in [0, 4]
    root = math.sqrt(SPLIT * SPLIT * (t + 1) / 2)
    return math.erf(root) / root


def _large(t: float) -> float:  # F(w), w = (t + 1) / 2 in (0, 1], a = 2 / sqrt(w)
    return _scaled_erfc(SPLIT / math.sqrt((t + 1) / 2))


@functools.cache
def _series(eps: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Both series, of the degree d past which the coefficients fall below ``eps``, from
    interpolation at d + 2 nodes: the function's rounding errors (an ulp at each node) then
    stay an ulp or two everywhere, where a 48-node series cut to d + 1 terms would add up
    the noise of the terms it drops (10 ulp at the ends of the interval)."""
    out = []
    for f in (_small, _large):
        last = max(k for k, ck in enumerate(_chebyshev(f)) if abs(ck) > eps)
        out.append(tuple(_chebyshev(f, last + 2)))
    return out[0], out[1]


def _clenshaw(coeffs: tuple[float, ...], t: Array) -> Array:
    """sum_k c_k T_k(t), for t in [-1, 1]."""
    two_t = t * 2.0
    b1 = b2 = None
    for c in coeffs[:0:-1]:
        if b1 is None:
            b1, b2 = backend.namespace(t).full_like(t, c), 0.0
        else:
            b1, b2 = two_t * b1 - b2 + c, b1
    return t * b1 - b2 + coeffs[0]


def _exp_minus_square(a: Array) -> Array:
    """exp(-a^2) to the last bits. a * a rounds (a relative error of 1e-16 in a^2 is one of
    a^2 1e-16 in the result: 7e-14 at a = 26); split a = hi + lo with hi's square exact
    (Veltkamp: hi keeps half the significand), and exp(-a^2) = exp(-hi^2) exp(-lo (a + hi))."""
    xp = backend.namespace(a)
    bits = xp.finfo(a.dtype).bits  # 64 or 32: split at 2^27 + 1 or 2^12 + 1
    big = xp.minimum(a, 40.0 if bits == 64 else 12.0)  # past it exp(-a^2) is 0: no overflow
    scaled = big * float(2 ** (27 if bits == 64 else 12) + 1)
    hi = scaled - (scaled - big)
    lo = a - hi
    return xp.exp(-(hi * hi)) * xp.exp(-(lo * (a + hi)))


def half_erfc_of_abs(z: Array) -> Array:
    """erfc(|z|) / 2, element by element: relative accuracy where |z| >= 2 (the tail, down to
    underflow), absolute (a few ulp of 1) below. NaN stays NaN, +-inf gives 0."""
    xp = backend.namespace(z)
    small, large = _series(float(xp.finfo(z.dtype).eps))
    a = xp.abs(z)
    near = xp.minimum(a, SPLIT)  # each series on its own interval (NaN passes through)
    far = xp.maximum(a, SPLIT)
    erf_near = near * _clenshaw(small, near * near * (2.0 / (SPLIT * SPLIT)) - 1.0)
    w = (SPLIT / far) ** 2
    erfc_far = _exp_minus_square(far) * _clenshaw(large, w * 2.0 - 1.0) / far
    return xp.where(a <= SPLIT, 1.0 - erf_near, erfc_far) * 0.5


def normal_cdf(x: Array) -> Array:
    """Phi(x) = P(N(0, 1) <= x) = erfc(-x / sqrt(2)) / 2: the tail Phi(-|x|) from
    :func:`half_erfc_of_abs`, and 1 minus it for x >= 0."""
    xp = backend.namespace(x)
    tail = half_erfc_of_abs(x * math.sqrt(0.5))  # Phi(-|x|)
    return xp.where(x >= 0, 1.0 - tail, tail)


def normal_pdf(x: Array) -> Array:
    """phi(x) = exp(-x^2 / 2) / sqrt(2 pi)."""
    return backend.namespace(x).exp(x * x * -0.5) * (1.0 / math.sqrt(2.0 * math.pi))
