"""The checks every op test runs (shared by the ``tests/test_ops*.py`` modules).

``check_op(fn, inputs, reference, op)`` runs, for one drawn example:

1. the forward in float64 on the device under test, against a NumPy float64 reference
   computed on the host (values AND shape);
2. ``minigen.gradcheck`` on every input that requires grad (random cotangent, full mode), at a
   relative tolerance of 1e-6 (:data:`GRADCHECK`);
3. the same forward and a backward in float32: no float64 sneaks in (output and every
   gradient stay float32), the values still match the reference, and so do the GRADIENTS,
   against the float64 gradients of the same float32-rounded inputs and cotangent, to within
   a bound derived from float32's rounding unit and the op's Jacobian (:func:`check_float32`).

Both cotangents are random, drawn from a seed that changes with each example
(:func:`example_seed`), never from the output's shape alone.

It also asserts that the output was made by the Function class ``op`` (``out.grad_fn``), so a
test that claims to cover an op in its module's ``COVERED_OPS`` really exercises it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import minigen
from minigen import backend

# float64 forward: same maths, possibly a different but equally stable formula (sigmoid via
# tanh, logsumexp shifted by the max), so agreement to ~1e-15 relative is expected; 1e-9
# leaves room for sums of a few dozen terms.
RTOL64, ATOL64 = 1e-9, 1e-12
# float32 forward against the float64 reference evaluated at the float32-rounded inputs: the
# op's own rounding, about 1e-7 relative per operation, times a few dozen operations at most.
RTOL32, ATOL32 = 1e-4, 1e-5

# gradcheck's settings for every op test: PyTorch's step (1e-6), but a relative tolerance of
# 1e-6 instead of 1e-3, so that a backward 0.1 % off fails. The central difference's
# rounding error (a few units of 2**-53 of sum_j |v_j f_j|, divided by h) is added per element
# by fd_rounding (see minigen.gradcheck). Its truncation, h**2 / 6 |f3|, is below 1e-9 relative
# on the named domains; atol covers it where the gradient itself is (nearly) zero: |f3| reaches
# 2 / p**3 = 2e6 at the edge p = 0.01 of unit_interval_open (log p), so 1e-12 / 6 * 2e6 = 3e-7
# next to a gradient of 100, but BCE's gradient (p - y) / (p (1 - p)) is 0 at y = p, where its
# third derivative is still 2 y / p**3 ~ 2e4: 3e-9, under atol = 1e-8.
GRADCHECK = {"eps": 1e-6, "rtol": 1e-6, "atol": 1e-8, "fd_rounding": 16.0}

# float32 gradients: each element of a backward is g_i = sum_j J_ji v_j. Computed in float32,
# every J_ji is off by a few roundings of the forward values it is made of (FORWARD_ROUNDINGS
# of them at most, each of relative size u = 2**-24), and the sum of its n_i nonzero products
# by at most n_i more (Higham, Accuracy and Stability of Numerical Algorithms, 3.1), so
#     |g32_i - g64_i| <= (FORWARD_ROUNDINGS + n_i) * u * sum_j |J_ji| |v_j|   (+ tiny)
# with g64 and |J|^T |v| computed in float64 at the same float32-rounded inputs and cotangent.
# A backward that rounds a cancelling formula (tanh's 1 - y*y, softmax's v - sum s v) loses
# more than this where the gradient is far below its terms; such ops pass ``grad_terms``, the
# size of those terms, which joins |J|^T |v| in the bound.
U32 = float(np.finfo(np.float32).eps) / 2
TINY32 = float(np.finfo(np.float32).tiny)
FORWARD_ROUNDINGS = 8


def host(x: Any) -> Any:
    """A tensor's values as a NumPy array (a copy from non-CPU devices); others unchanged."""
    if isinstance(x, minigen.Tensor):
        return backend.to_numpy(x.data)
    return x


def index_like_pytorch(a: np.ndarray, key: Any) -> np.ndarray:
    """``a[key]`` by PyTorch's rules, with NumPy: NumPy's indexing, except that ints among
    index arrays pick first (as in basic indexing) and the arrays then index what is left,
    so ``a[0, :, idx]`` of a (2, 3, 4) array is (3, len(idx)), not NumPy's (len(idx), 3).
    Raises where NumPy refuses the key."""
    want = a[key]
    parts = key if isinstance(key, tuple) else (key,)
    def is_array(k: Any) -> bool:
        return isinstance(k, (list, np.ndarray))
    def is_int(k: Any) -> bool:
        return isinstance(k, (int, np.integer)) and not isinstance(k, bool)
    if not (any(map(is_array, parts)) and any(map(is_int, parts))):
        return want
    first, rest = [], []
    for k in parts:
        if is_array(k):
            array = np.asarray(k)
            first += [slice(None)] * (array.ndim if array.dtype == bool else 1)
            rest.append(k)
        elif is_int(k):
            first.append(k)
        else:  # a slice, None or ...: applied first, then ':' (or ... again)
            first.append(k)
            rest.append(k if k is Ellipsis else slice(None))
    return a[tuple(first)][tuple(rest)]


def as_float32(t: Any) -> Any:
    """A float64 tensor as a new float32 leaf (same requires_grad); anything else unchanged."""
    if not isinstance(t, minigen.Tensor) or t.dtype != minigen.float64:
        return t
    xp = backend.namespace(t.data)
    out = minigen.Tensor._make(xp.astype(t.data, t.device.dtype(minigen.float32)))
    return out.requires_grad_(True) if t.requires_grad else out


def check_forward(out: minigen.Tensor, expected: Any, rtol: float, atol: float) -> None:
    expected = np.asarray(expected)
    assert out.shape == expected.shape, f"shape {out.shape}, expected {expected.shape}"
    np.testing.assert_allclose(host(out), expected, rtol=rtol, atol=atol)


def as_float64(t: Any) -> Any:
    """A float32 tensor as a new float64 leaf with the same (float32-rounded) values."""
    if not isinstance(t, minigen.Tensor) or t.dtype != minigen.float32:
        return t
    xp = backend.namespace(t.data)
    out = minigen.Tensor._make(xp.astype(t.data, t.device.dtype(minigen.float64)))
    return out.requires_grad_(True) if t.requires_grad else out


def example_seed(inputs: Sequence[Any]) -> int:
    """A seed that changes with the drawn example: a hash of every input's shape and values
    (a test may pass its own, drawn with ``st.integers``). The cotangents come from it, so each
    example gets its own, and a failing example replays with the same ones."""
    digest = hashlib.blake2b(digest_size=8)
    for t in inputs:
        if isinstance(t, minigen.Tensor):
            a = np.ascontiguousarray(host(t))
            digest.update(f"{a.shape}{a.dtype}".encode())
            digest.update(a.tobytes())
        else:
            digest.update(repr(t).encode())
    return int.from_bytes(digest.digest(), "little")


def jacobian_products(fn: Callable[..., minigen.Tensor], inputs: Sequence[Any],
                      v: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For each input i that requires grad, from the full Jacobian J_i of ``fn`` (one backward
    per output element, in the inputs' dtype, float64 here): ``J_i^T v``, ``|J_i|^T |v|`` and
    the number of nonzero terms in each element's sum."""
    out = fn(*inputs)
    checked = [i for i, t in enumerate(inputs)
               if isinstance(t, minigen.Tensor) and t.requires_grad]
    n_out = int(np.prod(out.shape, dtype=int))
    rows = {i: np.zeros((n_out, *inputs[i].shape)) for i in checked}
    for k in range(n_out):
        for i in checked:
            inputs[i].grad = None
        onehot = np.zeros(n_out)
        onehot[k] = 1.0
        out.backward(backend.asarray(onehot.reshape(out.shape), out.dtype, out.device),
                     retain_graph=True)
        for i in checked:
            if inputs[i].grad is not None:
                rows[i][k] = host(inputs[i].grad)
    flat_v = v.reshape(-1)
    return {i: (np.tensordot(flat_v, j, axes=1), np.tensordot(np.abs(flat_v), np.abs(j), axes=1),
                np.count_nonzero(j, axis=0)) for i, j in rows.items()}


def sum_to(a: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` summed over the axes that broadcasting added to ``shape`` (the engine's rule for
    gradients, applied to the sizes of their terms)."""
    a = np.asarray(a, dtype=np.float64)
    a = np.broadcast_to(a, np.broadcast_shapes(a.shape, tuple(shape)))
    lead = a.ndim - len(shape)
    a = a.sum(axis=tuple(range(lead))) if lead else a
    ones = tuple(k for k, n in enumerate(shape) if n == 1 and a.shape[k] != 1)
    return a.sum(axis=ones, keepdims=True) if ones else a


def reduced_terms(per_element: Any, shape: tuple[int, ...], reduced: bool) -> np.ndarray:
    """Terms over the broadcast shape (times |v| already) summed to an input's ``shape``. After
    a reduction (a loss's mean or sum), times the number of copies summed: the engine adds
    them in float32 (up to n - 1 roundings of their sum of sizes), and the Jacobian of the
    reduced output, one row, does not show them as terms."""
    per_element = np.asarray(per_element, dtype=np.float64)
    copies = max(per_element.size // max(math.prod(shape), 1), 1) if reduced else 1
    return copies * sum_to(per_element, shape)


def elementwise_terms(*sizes: Callable[..., Any] | None,
                      reduction: str = "none") -> Callable[..., list[Any]]:
    """``grad_terms`` for an op computed element by element over its broadcast inputs (then
    maybe reduced): ``sizes[i](*hosts)`` is, per element and per unit of cotangent, the sum of
    the absolute terms of input i's derivative (None: nothing cancels there). The cotangent's
    size is spread as the reduction spreads it (``mean``: divided by the element count,
    ``batchmean``: by the first dimension), then summed to each input's shape
    (:func:`reduced_terms`). Inputs that broadcast into a reduced output need a size even
    where nothing cancels: what their copies add up to."""
    def terms(*args: Any) -> list[Any]:
        *hosts, v = args
        shapes = [np.shape(h) for h in hosts]
        full = np.broadcast_shapes(*shapes)
        count = {"mean": math.prod(full), "batchmean": full[0] if full else 1}.get(reduction, 1)
        scale = np.abs(v) / count
        return [None if size is None else reduced_terms(
            np.broadcast_to(scale * np.abs(size(*hosts)), full), shapes[i],
            reduction != "none") for i, size in enumerate(sizes)]
    return terms


def linear_gradient(f: Callable[[np.ndarray], Any], shape: tuple[int, ...],
                    v: np.ndarray) -> np.ndarray:
    """The gradient of ``<v, f(a)>`` for an ``f`` linear in ``a`` (a loss of log-probabilities,
    say), one unit vector at a time: what a composed loss hands the op below it."""
    base = float(np.sum(v * f(np.zeros(shape))))
    grad = np.zeros(shape)
    for k in np.ndindex(*shape):
        unit = np.zeros(shape)
        unit[k] = 1.0
        grad[k] = float(np.sum(v * f(unit))) - base
    return grad


def normalization_terms(x: np.ndarray, v: np.ndarray, w: Any, axes: tuple[int, ...],
                        eps: float) -> tuple[np.ndarray, np.ndarray]:
    """The terms of layer norm's and batch norm's float32 backward, per element, for input
    x, cotangent v and weight w (broadcast to x; 1 without one), the statistics taken over
    ``axes``: (for d/dx, for d/dweight before its sum over the other axes).

    d/dx = (g - mean(g) - x_hat mean(g x_hat)) / s, s = sqrt(var + eps): three terms that
    cancel, each made of float32 values with errors of their own, in units of u:
    ``A = |x| + sum |x|`` for the centred c = x - mean (the mean's sum rounds), then
    ``R = sum |c| A / (n s**2) + n`` for s, and ``E = A / s + |x_hat| R`` for x_hat.
    """
    def mean(a: np.ndarray) -> np.ndarray:
        return np.mean(a, axis=axes, keepdims=True)

    g = v * w
    n = math.prod(x.shape[k] for k in axes)
    c = x - mean(x)
    s = np.sqrt(mean(c * c) + eps)
    x_hat, ag = c / s, np.abs(g)
    a = np.abs(x) + n * mean(np.abs(x))
    r = mean(np.abs(c) * a) / s**2 + n
    e = a / s + np.abs(x_hat) * r
    grad = (g - mean(g) - x_hat * mean(g * x_hat)) / s
    for_x = (ag + mean(ag) + np.abs(x_hat) * mean(np.abs(g * x_hat))
             + e * np.abs(mean(g * x_hat)) + np.abs(x_hat) * mean(ag * e)) / s
    return for_x + np.abs(grad) * r, np.abs(v) * (np.abs(x_hat) + e)


def check_op(fn: Callable[..., minigen.Tensor], inputs: Sequence[Any],
             reference: Callable[..., Any], op: str, float32: bool = True,
             out_device: Any = None, seed: int | None = None,
             grad_terms: Callable[..., Sequence[Any]] | None = None,
             **gradcheck_kwargs: Any) -> None:
    """Forward vs NumPy, gradcheck, and the float32 checks, for ``fn(*inputs)``.

    The output must be on ``out_device`` (default: the device of the first tensor input).
    ``seed`` seeds both cotangents (default: :func:`example_seed`). ``grad_terms(*hosts, v)``,
    for ops whose backward cancels by design, returns per input (None for the others) the
    size of the terms the float32 backward subtracts (see :func:`check_float32`).
    """
    if out_device is None:
        out_device = next(t.device for t in inputs if isinstance(t, minigen.Tensor))
    seed = example_seed(inputs) if seed is None else seed
    out = fn(*inputs)
    assert out.grad_fn == op, f"expected the output of {op}, got {out.grad_fn}"
    assert out.dtype == minigen.float64
    assert out.device == minigen.device(out_device)
    check_forward(out, reference(*[host(t) for t in inputs]), RTOL64, ATOL64)
    assert minigen.gradcheck(fn, *inputs, **{**GRADCHECK, "seed": seed, **gradcheck_kwargs})
    if float32:
        check_float32(fn, inputs, reference, seed=seed, grad_terms=grad_terms)


def check_float32(fn: Callable[..., minigen.Tensor], inputs: Sequence[Any],
                  reference: Callable[..., Any], seed: int = 0,
                  grad_terms: Callable[..., Sequence[Any]] | None = None) -> None:
    """float32 in, float32 out, float32 gradients; values and gradients as float64's.

    The cotangent is random (from ``seed``) and rounded to float32; the float64 gradients are
    those of the same rounded inputs and cotangent, so only the op's float32 arithmetic can
    make them differ, by at most the bound explained at :data:`FORWARD_ROUNDINGS`.
    """
    inputs32 = [as_float32(t) for t in inputs]
    out = fn(*inputs32)
    assert out.dtype == minigen.float32, f"float32 inputs gave a {out.dtype} output"
    hosts = [h.astype(np.float64) if getattr(h, "dtype", None) == np.float32 else h
             for h in (host(t) for t in inputs32)]
    check_forward(out, reference(*hosts), RTOL32, ATOL32)
    v = np.random.default_rng((seed, 32)).standard_normal(out.shape).astype(np.float32)
    out.backward(backend.asarray(v, minigen.float32, out.device))
    for i, t in enumerate(inputs32):
        if isinstance(t, minigen.Tensor) and t.requires_grad:
            assert t.grad is not None, f"input {i} got no gradient"
            assert t.grad.dtype == minigen.float32, f"input {i}: a {t.grad.dtype} gradient"
            assert t.grad.device == t.device
            assert t.grad.shape == t.shape
    v64 = v.astype(np.float64)
    exact = jacobian_products(fn, [as_float64(t) for t in inputs32], v64)
    extra = list(grad_terms(*hosts, v64)) if grad_terms is not None else []
    for i, (want, scale, count) in exact.items():
        got = host(inputs32[i].grad).astype(np.float64)
        terms = extra[i] if i < len(extra) and extra[i] is not None else 0.0
        size = scale + np.abs(terms)
        bound = (FORWARD_ROUNDINGS + count) * U32 * size + TINY32
        error = np.abs(got - want)
        if np.any(error > bound):
            worst = np.unravel_index(int(np.argmax(error / bound)), error.shape)
            raise AssertionError(
                f"float32 gradient of input {i} off at {tuple(int(k) for k in worst)}: "
                f"{got[worst]:.9g}, float64 gives {want[worst]:.9g} (error {error[worst]:.3g}, "
                f"{error[worst] / (U32 * size[worst] + TINY32):.3g} u of |J|^T|v| + terms "
                f"= {size[worst]:.3g}; bound {bound[worst]:.3g} = {FORWARD_ROUNDINGS} + "
                f"{count[worst]} such u); {int((error > bound).sum())} of {error.size} "
                "elements out of bound")

