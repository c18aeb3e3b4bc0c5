"""The checks every op test runs (shared by the ``tests/test_ops*.py`` modules).

``check_op(fn, inputs, reference, op)`` runs, for one drawn example:

1. the forward in float64 on the device under test, against a NumPy float64 reference
   computed on the host (values AND shape);
2. ``minigen.gradcheck`` on every input that requires grad (random cotangent, full mode);
3. the same forward and a backward in float32, checking that no float64 sneaks in (output and
   every gradient stay float32) and that the values still match the reference.

It also asserts that the output was made by the Function class ``op`` (``out.grad_fn``), so a
test that claims to cover an op in its module's ``COVERED_OPS`` really exercises it.
"""

from __future__ import annotations

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


def check_op(fn: Callable[..., minigen.Tensor], inputs: Sequence[Any],
             reference: Callable[..., Any], op: str, float32: bool = True,
             out_device: Any = None, **gradcheck_kwargs: Any) -> None:
    """Forward vs NumPy, gradcheck, and the float32 dtype check, for ``fn(*inputs)``.

    The output must be on ``out_device`` (default: the device of the first tensor input).
    """
    if out_device is None:
        out_device = next(t.device for t in inputs if isinstance(t, minigen.Tensor))
    out = fn(*inputs)
    assert out.grad_fn == op, f"expected the output of {op}, got {out.grad_fn}"
    assert out.dtype == minigen.float64
    assert out.device == minigen.device(out_device)
    check_forward(out, reference(*[host(t) for t in inputs]), RTOL64, ATOL64)
    assert minigen.gradcheck(fn, *inputs, **gradcheck_kwargs)
    if float32:
        check_float32(fn, inputs, reference)


def check_float32(fn: Callable[..., minigen.Tensor], inputs: Sequence[Any],
                  reference: Callable[..., Any]) -> None:
    """float32 in, float32 out, float32 gradients, values as the reference's."""
    inputs32 = [as_float32(t) for t in inputs]
    out = fn(*inputs32)
    assert out.dtype == minigen.float32, f"float32 inputs gave a {out.dtype} output"
    rounded = [h.astype(np.float64) if getattr(h, "dtype", None) == np.float32 else h
               for h in (host(t) for t in inputs32)]
    check_forward(out, reference(*rounded), RTOL32, ATOL32)
    xp = backend.namespace(out.data)
    out.backward(xp.ones_like(out.data))
    for i, t in enumerate(inputs32):
        if isinstance(t, minigen.Tensor) and t.requires_grad:
            assert t.grad is not None, f"input {i} got no gradient"
            assert t.grad.dtype == minigen.float32, f"input {i}: a {t.grad.dtype} gradient"
            assert t.grad.device == t.device
            assert t.grad.shape == t.shape
