"""Reductions: sum, mean, max and min over some axes (``dim``); backward spreads the gradient
back over the axes that were reduced. (var, std, argmax, logsumexp... are extras.)"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from minigen import backend
from minigen.autograd import Context, Function
from minigen.errors import ShapeError
from minigen.ops._common import check_floating, check_numeric, is_int, normalize_axes
from minigen.ops._common import numpy_names as _numpy_names
from minigen.tensor import Tensor


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape after reducing ``axes`` with keepdim=True: those axes become 1."""
    return tuple(1 if axes is None or i in axes else n for i, n in enumerate(shape))


class Sum(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
        ctx.shape, ctx.kept = a.shape, _kept_shape(a.shape, axes)
        return backend.namespace(a).sum(a, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        # d sum / dx_i = 1: every input element gets the gradient of the sum it went into
        xp = backend.namespace(grad_out)
        return xp.broadcast_to(xp.reshape(grad_out, ctx.kept), ctx.shape)


class Mean(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, axes: tuple[int, ...] | None, keepdim: bool) -> Any:
        ctx.shape, ctx.kept = a.shape, _kept_shape(a.shape, axes)
        ctx.n = math.prod(n for i, n in enumerate(a.shape) if axes is None or i in axes)
        return backend.namespace(a).mean(a, axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        xp = backend.namespace(grad_out)  # d mean / dx_i = 1 / n
        return xp.broadcast_to(xp.reshape(grad_out / ctx.n, ctx.kept), ctx.shape)


class Max(Function):
    """The largest values over ``axes`` (the smallest, with ``sign=-1``). The gradient goes
    to the largest element; tied ones share it evenly (a subgradient, as PyTorch's amax)."""

    @staticmethod
    def forward(ctx: Context, a: Any, axes: tuple[int, ...] | None, keepdim: bool,
                sign: int) -> Any:
        xp = backend.namespace(a)
        out = (xp.max if sign > 0 else xp.min)(a, axis=axes, keepdims=True)
        ctx.save_for_backward(a, out)
        ctx.axes = axes
        kept = tuple(n for i, n in enumerate(a.shape) if axes is not None and i not in axes)
        return out if keepdim else xp.reshape(out, kept)

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        a, out = ctx.saved_arrays
        xp = backend.namespace(a)
        winners = xp.astype(a == out, grad_out.dtype)
        share = xp.reshape(grad_out, out.shape) / xp.sum(winners, axis=ctx.axes, keepdims=True)
        return winners * share


class MaxAlongDim(Function):
    """The largest values along ONE axis, given the ``index`` of the winners (keepdim shape):
    the whole gradient goes to the element each index names (the first of a tie)."""

    @staticmethod
    def forward(ctx: Context, a: Any, index: Any, axis: int, keepdim: bool,
                sign: int) -> Any:
        xp = backend.namespace(a)
        ctx.save_for_backward(index)
        ctx.shape, ctx.axis = a.shape, axis
        return (xp.max if sign > 0 else xp.min)(a, axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        (index,) = ctx.saved_arrays
        xp = backend.namespace(grad_out)
        n = ctx.shape[ctx.axis]
        along = tuple(n if i == ctx.axis else 1 for i in range(len(ctx.shape)))
        positions = xp.reshape(xp.arange(n, dtype=index.dtype, device=index.device), along)
        picked = xp.astype(positions == index, grad_out.dtype)  # one 1 along the axis
        return picked * xp.reshape(grad_out, index.shape)


class ValuesIndices(NamedTuple):
    """What ``max(x, dim)`` and ``min(x, dim)`` return, as PyTorch's ``return_types``:
    ``values, indices = x.max(dim=1)``, or ``x.max(1).values``."""

    values: Tensor
    indices: Tensor


# ------------------------------------------------------------------ the functions
def reduced_axes(a: Tensor, dim: Any, keepdim: Any, op: str, empty_ok: bool = False) -> Any:
    if not isinstance(keepdim, bool):
        raise TypeError(f"{op}: keepdim must be True or False, got {keepdim!r}")
    axes = normalize_axes(dim, a.ndim, op)
    if not empty_ok and 0 in _removed(a.shape, axes):
        raise ShapeError(f"{op} over dim {dim} of a tensor of shape {a.shape}: there are no "
                         "elements to reduce")
    return axes


def _removed(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    return tuple(n for i, n in enumerate(shape) if axes is None or i in axes)


def sum(a: Tensor, dim: Any = None, keepdim: bool = False, **names: Any) -> Tensor:
    """Sum over ``dim`` (an int, a tuple, or None for all); the sum of nothing is 0, and the
    sum of a bool tensor counts its True values (int64, as in PyTorch)."""
    dim, keepdim = _numpy_names(dim, keepdim, names, "sum")
    if isinstance(a, Tensor) and a.dtype == backend.bool_:
        a = a.to(backend.int64)
    check_numeric(a, "sum")
    return Sum.apply(a, reduced_axes(a, dim, keepdim, "sum", empty_ok=True), keepdim)


def mean(a: Tensor, dim: Any = None, keepdim: bool = False, **names: Any) -> Tensor:
    dim, keepdim = _numpy_names(dim, keepdim, names, "mean")
    check_floating(a, "mean")
    return Mean.apply(a, reduced_axes(a, dim, keepdim, "mean"), keepdim)


def max(a: Tensor, dim: Any = None, keepdim: bool = False, **names: Any) -> Any:
    """The largest value, or over one ``dim`` the pair ``(values, indices)``, as in PyTorch
    (the gradient goes to the element returned); over a tuple of dims, the values only."""
    return _extreme(a, dim, keepdim, names, 1)


def min(a: Tensor, dim: Any = None, keepdim: bool = False, **names: Any) -> Any:
    """The smallest value, or over one ``dim`` the pair ``(values, indices)``: see max."""
    return _extreme(a, dim, keepdim, names, -1)


def _extreme(a: Tensor, dim: Any, keepdim: bool, names: dict[str, Any], sign: int) -> Any:
    op = "max" if sign > 0 else "min"
    if isinstance(dim, Tensor):  # PyTorch's max(a, b) of two tensors: named apart here
        raise TypeError(f"{op}(a, b) of two tensors: use minigen.{op}imum(a, b) for the "
                        f"elementwise {op}; {op}(a, dim) reduces over dim")
    dim, keepdim = _numpy_names(dim, keepdim, names, op)
    check_numeric(a, op)
    axes = reduced_axes(a, dim, keepdim, op)
    if not is_int(dim):  # over all axes, or several: the values
        return Max.apply(a, axes, keepdim, sign)
    xp = backend.namespace(a.data)
    if a.ndim == 0:  # a 0-d tensor: its one value, at index 0
        return ValuesIndices(a * 1, Tensor._make(xp.reshape(xp.argmax(
            xp.reshape(a.data, (1,)), axis=0), ())))
    index = (xp.argmax if sign > 0 else xp.argmin)(a.data, axis=axes[0], keepdims=True)
    values = MaxAlongDim.apply(a, index, axes[0], keepdim, sign)
    return ValuesIndices(values, Tensor._make(index if keepdim else xp.reshape(
        index, values.shape)))
