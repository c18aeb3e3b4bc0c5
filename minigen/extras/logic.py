"""Tests that answer with booleans, as PyTorch's: ``isnan``, ``isfinite`` (per element) and
``all``, ``any`` (over dims). Their results have no gradient (a boolean is piecewise
constant), so they are plain array calls, not Functions."""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.extras._common import check_tensor, normalize_axes, numpy_names
from minigen.tensor import Tensor


def _per_element(a: Tensor, op: str, otherwise: bool) -> Tensor:
    """``op`` of a floating tensor; of an integer or bool one, ``otherwise`` everywhere (the
    array API refuses bools here, and integers are never NaN or infinite)."""
    check_tensor(a, op)
    xp = backend.namespace(a.data)
    if a.dtype.is_floating_point:
        return Tensor._make(getattr(xp, op)(a.data))
    return Tensor._make(xp.full(a.data.shape, otherwise, dtype=xp.bool,
                                device=backend.device_of(a.data).native))


def isnan(a: Tensor) -> Tensor:
    """True where ``a`` is NaN (never, for an integer or bool tensor)."""
    return _per_element(a, "isnan", False)


def isfinite(a: Tensor) -> Tensor:
    """True where ``a`` is neither NaN nor infinite (always, for an integer or bool tensor)."""
    return _per_element(a, "isfinite", True)


def _reduce(a: Tensor, dim: Any, keepdim: bool, op: str) -> Tensor:
    check_tensor(a, op)
    axes = normalize_axes(dim, a.ndim, op)
    xp = backend.namespace(a.data)
    data = a.data if a.dtype == backend.bool_ else a.data != 0  # (nonzero counts as True)
    return Tensor._make(xp.asarray(getattr(xp, op)(data, axis=axes, keepdims=keepdim)))


@numpy_names
def all(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Whether every element (over ``dim``, or all of them) is True (nonzero)."""
    return _reduce(a, dim, keepdim, "all")


@numpy_names
def any(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Whether some element (over ``dim``, or all of them) is True (nonzero)."""
    return _reduce(a, dim, keepdim, "any")
