"""Reductions: sum, mean, max, min, var, logsumexp. Backward spreads the gradient back over
the reduced axes (``expand_to``)."""

from __future__ import annotations

import builtins
import math
from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import ShapeError
from minigen.ops._common import (
    check_floating,
    check_numeric,
    check_tensor,
    expand_to,
    keepdims_shape,
    normalize_axes,
)
from minigen.tensor import Tensor


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


def _drop(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    return () if axes is None else tuple(n for i, n in enumerate(shape) if i not in axes)


class Var(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, axes: tuple[int, ...] | None, keepdim: bool,
                correction: int) -> Array:
        xp = backend.namespace(a)
        centered = a - xp.mean(a, axis=axes, keepdims=True)
        ctx.divisor = builtins.max(_count(a.shape, axes) - correction, 0)
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


def sum(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Sum over ``dim`` (an int, a tuple, or None for all); the sum of nothing is 0, and the
    sum of a bool tensor counts its True values (as int64, as in PyTorch)."""
    axes = _axes(a, dim, keepdim, "sum", empty_ok=True)
    if a.dtype == backend.bool_:
        a = a.to(backend.int64)
    return Sum.apply(a, axes, keepdim)


def mean(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    check_floating(a, "mean")
    return Mean.apply(a, _axes(a, dim, keepdim, "mean"), keepdim)


def max(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The largest value over ``dim`` (values only; ties share the gradient evenly)."""
    check_numeric(a, "max")
    return Max.apply(a, _axes(a, dim, keepdim, "max"), keepdim, 1)


def min(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    check_numeric(a, "min")
    return Max.apply(a, _axes(a, dim, keepdim, "min"), keepdim, -1)


def var(a: Tensor, dim: Any = None, keepdim: bool = False, correction: int = 1) -> Tensor:
    """Variance; ``correction=1`` is the unbiased (sample) variance, as in PyTorch."""
    check_floating(a, "var")
    return Var.apply(a, _axes(a, dim, keepdim, "var"), keepdim, correction)


def logsumexp(a: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(a)))`` over ``dim``, computed without overflow."""
    check_floating(a, "logsumexp")
    return LogSumExp.apply(a, _axes(a, dim, keepdim, "logsumexp"), keepdim)
