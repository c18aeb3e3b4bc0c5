"""Reductions: sum, mean, max, min, amax, amin, argmax, argmin, var, std, logsumexp. Backward
spreads the gradient back over the reduced axes (``expand_to``).

PyTorch's names and return types: ``max(x)`` is the largest value, ``max(x, dim)`` a pair
``(values, indices)`` whose gradient goes to the one element picked (the first of a tie), and
``amax(x, dims)`` the values over any dims, a tie sharing the gradient evenly. ``var`` and
``std`` are unbiased unless told (``unbiased=False`` or ``correction=0``).
"""

from __future__ import annotations

import builtins
import math
from typing import Any, NamedTuple

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import ShapeError
from minigen.ops._common import (
    check_floating,
    check_numeric,
    check_tensor,
    expand_to,
    is_int,
    keepdims_shape,
    normalize_axes,
    single_axis,
)
from minigen.tensor import Tensor
from minigen.tensor_methods import numpy_names


def _count(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> int:
    n = 1
    for i, size in enumerate(shape):
        if axes is None or i in axes:
            n *= size
    return n


class Sum(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, axes: tuple[int, ...] | None, keepdim: bool) -> Array:
        ctx.shape, ctx.reduced = a.shape, keepdims_shape(a.shape, axes)
        xp = backend.namespace(a)
        return xp.asarray(xp.sum(a, axis=axes, keepdims=keepdim))  # NumPy gives a scalar

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        return expand_to(grad_out, ctx.reduced, ctx.shape)  # each input counted once


class Mean(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, axes: tuple[int, ...] | None, keepdim: bool) -> Array:
        ctx.shape, ctx.reduced = a.shape, keepdims_shape(a.shape, axes)
        ctx.n = _count(a.shape, axes)
        xp = backend.namespace(a)
        return xp.asarray(xp.mean(a, axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        return expand_to(grad_out / ctx.n, ctx.reduced, ctx.shape)  # d mean / dx_i = 1/n


class Max(Function):
    """Max (or min, with ``sign=-1``) over axes; tied maxima share the gradient evenly."""

    @staticmethod
    def forward(ctx: Context, a: Array, axes: tuple[int, ...] | None, keepdim: bool,
                sign: int = 1) -> Array:
        xp = backend.namespace(a)
        out = (xp.max if sign > 0 else xp.min)(a, axis=axes, keepdims=True)
        ctx.save_for_backward(a, out)
        ctx.axes, ctx.reduced = axes, keepdims_shape(a.shape, axes)
        return out if keepdim else xp.reshape(out, _drop(a.shape, axes))

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        a, out = ctx.saved_arrays
        xp = backend.namespace(a)
        winners = xp.astype(a == out, grad_out.dtype)
        count = xp.sum(winners, axis=ctx.axes, keepdims=True)
        return winners * (xp.reshape(grad_out, ctx.reduced) / count)


class MaxAlongDim(Function):
    """Max (or min, with ``sign=-1``) over ONE axis, given the winners' ``index`` (keepdims
    shape): the whole gradient goes to the element each index names, as in PyTorch."""

    @staticmethod
    def forward(ctx: Context, a: Array, index: Array, axis: int, keepdim: bool,
                sign: int) -> Array:
        xp = backend.namespace(a)
        ctx.save_for_backward(index)
        ctx.shape, ctx.axis = a.shape, axis
        out = (xp.max if sign > 0 else xp.min)(a, axis=axis, keepdims=keepdim)
        return xp.asarray(out)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        (index,) = ctx.saved_arrays
        xp = backend.namespace(grad_out)
        n = ctx.shape[ctx.axis]
        along = tuple(n if i == ctx.axis else 1 for i in range(len(ctx.shape)))
        positions = xp.reshape(xp.arange(n, dtype=index.dtype, device=index.device), along)
        picked = xp.astype(positions == index, grad_out.dtype)  # one 1 along the axis
        return picked * xp.reshape(grad_out, index.shape)


def _drop(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    return () if axes is None else tuple(n for i, n in enumerate(shape) if i not in axes)


def _deviations(a: Array, axes: tuple[int, ...] | None,
                correction: int) -> tuple[Array, int]:
    """var's and std's common start: x - mean, and the divisor n - correction (0 at least)."""
    centered = a - backend.namespace(a).mean(a, axis=axes, keepdims=True)
    return centered, builtins.max(_count(a.shape, axes) - correction, 0)


class Var(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, axes: tuple[int, ...] | None, keepdim: bool,
                correction: int) -> Array:
        xp = backend.namespace(a)
        centered, ctx.divisor = _deviations(a, axes, correction)
        ctx.save_for_backward(centered)
        ctx.reduced = keepdims_shape(a.shape, axes)
        return xp.asarray(xp.sum(centered * centered, axis=axes, keepdims=keepdim) / ctx.divisor)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        (centered,) = ctx.saved_arrays
        xp = backend.namespace(centered)
        # d/dx_i sum_j (x_j - mean)^2 / d = 2 (x_i - mean) / d  (the mean's own terms sum to 0)
        scale = 2.0 / ctx.divisor if ctx.divisor else math.inf  # n <= correction: NaN, not 1/0
        return xp.reshape(grad_out, ctx.reduced) * centered * scale


class Std(Function):
    """sqrt(var), with PyTorch's gradient 0 where the deviation is 0 (not 0 * inf = NaN)."""

    @staticmethod
    def forward(ctx: Context, a: Array, axes: tuple[int, ...] | None, keepdim: bool,
                correction: int) -> Array:
        xp = backend.namespace(a)
        centered, ctx.divisor = _deviations(a, axes, correction)
        std = xp.sqrt(xp.sum(centered * centered, axis=axes, keepdims=True) / ctx.divisor)
        ctx.save_for_backward(centered, std)
        return xp.asarray(std if keepdim else xp.reshape(std, _drop(a.shape, axes)))

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        centered, std = ctx.saved_arrays
        xp = backend.namespace(centered)
        if ctx.divisor == 0:  # n <= correction: no deviation to speak of, NaN (as var)
            scale = xp.full_like(std, math.nan)
        else:  # d std / dx_i = (x_i - mean) / (d * std), and 0 where std is 0
            flat = std == 0
            scale = xp.where(flat, 0.0, 1.0 / (xp.where(flat, 1.0, std) * ctx.divisor))
        return xp.reshape(grad_out, std.shape) * centered * scale


class LogSumExp(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, axes: tuple[int, ...], keepdim: bool) -> Array:
        xp = backend.namespace(a)
        top = xp.max(a, axis=axes, keepdims=True)
        top = xp.where(xp.isfinite(top), top, xp.zeros_like(top))  # all -inf rows stay -inf
        out = xp.log(xp.sum(xp.exp(a - top), axis=axes, keepdims=True)) + top
        ctx.save_for_backward(a, out)
        ctx.reduced = out.shape
        return out if keepdim else xp.reshape(out, _drop(a.shape, axes))

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        a, out = ctx.saved_arrays
        xp = backend.namespace(a)
        return xp.reshape(grad_out, ctx.reduced) * xp.exp(a - out)  # softmax(a)


# ------------------------------------------------------------------------- functions


def _axes(a: Tensor, dim: Any, keepdim: Any, op: str,
          empty_ok: bool = False) -> tuple[int, ...] | None:
    """The axes to reduce, after checking ``a`` is a tensor and (unless ``empty_ok``) that
    they hold at least one element: a max or a mean of nothing has no value."""
    check_tensor(a, op)
    if not isinstance(keepdim, bool):
        raise TypeError(f"{op}: keepdim must be True or False, got {keepdim!r}")
    axes = normalize_axes(dim, a.ndim, op)
    if not empty_ok and _count(a.shape, axes) == 0:
        raise ShapeError(f"{op} over dim {dim} of a tensor of shape {a.shape}: there are no "
                         "elements to reduce")
    return axes


@numpy_names
def sum(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Sum over ``dim`` (an int, a tuple, or None for all); the sum of nothing is 0, and the
    sum of a bool tensor counts its True values (as int64, as in PyTorch)."""
    axes = _axes(a, dim, keepdim, "sum", empty_ok=True)
    if a.dtype == backend.bool_:
        a = a.to(backend.int64)
    return Sum.apply(a, axes, keepdim)


@numpy_names
def mean(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    check_floating(a, "mean")
    return Mean.apply(a, _axes(a, dim, keepdim, "mean"), keepdim)


class ValuesIndices(NamedTuple):
    """What ``max(x, dim)`` and ``min(x, dim)`` return, as PyTorch's ``torch.return_types``:
    ``values, indices = x.max(dim=1)``, or ``x.max(1).values``, or ``x.max(1)[0]``."""

    values: Tensor
    indices: Tensor


@numpy_names
def amax(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The largest values over ``dim`` (an int, a tuple, or None for all); tied maxima share
    the gradient evenly."""
    check_numeric(a, "amax")
    return Max.apply(a, _axes(a, dim, keepdim, "amax"), keepdim, 1)


@numpy_names
def amin(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The smallest values over ``dim``; tied minima share the gradient evenly."""
    check_numeric(a, "amin")
    return Max.apply(a, _axes(a, dim, keepdim, "amin"), keepdim, -1)


def _extreme(a: Tensor, dim: Any, keepdim: bool, sign: int) -> Any:
    op = "max" if sign > 0 else "min"
    check_numeric(a, op)
    if dim is None or not is_int(dim):  # over all (a tensor), or several dims: amax's values
        return Max.apply(a, _axes(a, dim, keepdim, op), keepdim, sign)
    _axes(a, dim, keepdim, op)  # the checks: a tensor, a bool keepdim, elements to compare
    axis = single_axis(dim, a.ndim, op) if a.ndim else 0
    xp = backend.namespace(a.data)
    data = a.data if a.ndim else xp.reshape(a.data, (1,))
    index = (xp.argmax if sign > 0 else xp.argmin)(data, axis=axis, keepdims=True)
    if a.ndim == 0:  # a 0-d tensor: its one value, at index 0
        index = xp.reshape(index, ())
        return ValuesIndices(a * 1, Tensor._make(index))
    values = MaxAlongDim.apply(a, index, axis, keepdim, sign)
    indices = index if keepdim else xp.reshape(index, values.shape)
    return ValuesIndices(values, Tensor._make(indices))


@numpy_names
def max(a: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The largest value (``dim=None``), or over one ``dim`` the pair ``(values, indices)``,
    as in PyTorch; the gradient goes to the element returned (the first of a tie). Over a
    tuple of dims, the values only (PyTorch's ``amax``; see :func:`amax`)."""
    _not_elementwise(dim, "max", "maximum")
    return _extreme(a, dim, keepdim, 1)


@numpy_names
def min(a: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The smallest value, or over one ``dim`` the pair ``(values, indices)``: see max."""
    _not_elementwise(dim, "min", "minimum")
    return _extreme(a, dim, keepdim, -1)


def _not_elementwise(dim: Any, op: str, elementwise: str) -> None:
    """``max(a, b)`` of two tensors is PyTorch's elementwise form; minigen names it apart."""
    if isinstance(dim, Tensor):
        raise TypeError(f"{op}(a, b) of two tensors: use minigen.{elementwise}(a, b) for the "
                        f"elementwise {op}; {op}(a, dim) reduces over dim")


def _arg(a: Tensor, dim: Any, keepdim: bool, sign: int) -> Tensor:
    op = "argmax" if sign > 0 else "argmin"
    check_numeric(a, op)
    _axes(a, dim, keepdim, op)
    xp = backend.namespace(a.data)
    find = xp.argmax if sign > 0 else xp.argmin
    if dim is None:  # the index in the flattened tensor
        index = find(xp.reshape(a.data, (-1,)), axis=0)
        return Tensor._make(xp.reshape(index, (1,) * a.ndim if keepdim else ()))
    if a.ndim == 0:
        int64 = backend.device_of(a.data).dtype(backend.int64)
        return Tensor._make(xp.zeros((), dtype=int64, device=a.data.device))
    return Tensor._make(find(a.data, axis=single_axis(dim, a.ndim, op), keepdims=keepdim))


@numpy_names
def argmax(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The index of the largest value (in the flattened tensor when ``dim`` is None), the
    first of a tie; an int64 tensor outside the graph."""
    return _arg(a, dim, keepdim, 1)


@numpy_names
def argmin(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The index of the smallest value: see argmax."""
    return _arg(a, dim, keepdim, -1)


def _correction(unbiased: Any, correction: Any, op: str) -> int:
    """PyTorch's two spellings: ``unbiased`` (True: divide by n - 1) or ``correction``."""
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}: give unbiased or correction, not both")
    if unbiased is not None and not isinstance(unbiased, bool):
        raise TypeError(f"{op}: unbiased must be True or False, got {unbiased!r} (the "
                        "signature is (dim, unbiased, keepdim), as PyTorch's)")
    if correction is None:
        return 0 if unbiased is False else 1
    return correction


@numpy_names
def var(a: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    """Variance; unbiased (divided by n - 1) unless ``unbiased=False`` or ``correction=0``,
    as in PyTorch (whose third positional argument is also ``unbiased``)."""
    check_floating(a, "var")
    correction = _correction(unbiased, correction, "var")
    return Var.apply(a, _axes(a, dim, keepdim, "var"), keepdim, correction)


@numpy_names
def std(a: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    """Standard deviation, ``sqrt(var)``, with var's arguments (unbiased by default)."""
    check_floating(a, "std")
    correction = _correction(unbiased, correction, "std")
    return Std.apply(a, _axes(a, dim, keepdim, "std"), keepdim, correction)


@numpy_names
def logsumexp(a: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(a)))`` over ``dim``, computed without overflow."""
    check_floating(a, "logsumexp")
    return LogSumExp.apply(a, _axes(a, dim, keepdim, "logsumexp"), keepdim)
