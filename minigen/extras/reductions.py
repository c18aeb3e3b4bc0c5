"""Reductions beyond the core's: amax, amin, argmax, argmin, var, std and logsumexp."""

from __future__ import annotations

import builtins
import math
from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.extras._common import (
    check_floating,
    check_numeric,
    keepdims_shape,
    numpy_names,
    single_axis,
)
from minigen.ops.reductions import Max, reduced_axes
from minigen.tensor import Tensor


def _count(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> int:
    return math.prod(n for i, n in enumerate(shape) if axes is None or i in axes)


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
    """log(sum(exp(a))) = m + log(sum(exp(a - m))), m the largest value (so exp cannot
    overflow). The sum is 1 (for m itself) plus the rest, so it is taken as
    m + log1p(rest): log of a rounded 1 + rest would lose a small rest. The gradient is
    softmax(a) = exp(a - m) / sum(exp(a - m)), from the same shifted values."""

    @staticmethod
    def forward(ctx: Context, a: Array, axes: tuple[int, ...], keepdim: bool) -> Array:
        xp = backend.namespace(a)
        top = xp.max(a, axis=axes, keepdims=True)
        top = xp.where(xp.isfinite(top), top, xp.zeros_like(top))  # all -inf rows stay -inf
        e = xp.exp(a - top)
        is_top = xp.astype(a == top, e.dtype)
        # the rest: the exp of every value but one of the maxima (each of which gives 1)
        rest = xp.sum(e - is_top, axis=axes, keepdims=True) + (
            xp.sum(is_top, axis=axes, keepdims=True) - 1.0)
        out = xp.log1p(rest) + top
        ctx.save_for_backward(e, rest)
        ctx.reduced = out.shape
        return out if keepdim else xp.reshape(out, _drop(a.shape, axes))

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        e, rest = ctx.saved_arrays
        xp = backend.namespace(e)
        return xp.reshape(grad_out, ctx.reduced) * (e / (1.0 + rest))  # softmax(a)


@numpy_names
def amax(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The largest values over ``dim`` (an int, a tuple, or None for all); tied maxima share
    the gradient evenly."""
    check_numeric(a, "amax")
    return Max.apply(a, reduced_axes(a, dim, keepdim, "amax"), keepdim, 1)


@numpy_names
def amin(a: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """The smallest values over ``dim``; tied minima share the gradient evenly."""
    check_numeric(a, "amin")
    return Max.apply(a, reduced_axes(a, dim, keepdim, "amin"), keepdim, -1)


def _arg(a: Tensor, dim: Any, keepdim: bool, sign: int) -> Tensor:
    op = "argmax" if sign > 0 else "argmin"
    check_numeric(a, op)
    reduced_axes(a, dim, keepdim, op)
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
    return Var.apply(a, reduced_axes(a, dim, keepdim, "var"), keepdim, correction)


@numpy_names
def std(a: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    """Standard deviation, ``sqrt(var)``, with var's arguments (unbiased by default)."""
    check_floating(a, "std")
    correction = _correction(unbiased, correction, "std")
    return Std.apply(a, reduced_axes(a, dim, keepdim, "std"), keepdim, correction)


@numpy_names
def logsumexp(a: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(a)))`` over ``dim``, computed without overflow."""
    check_floating(a, "logsumexp")
    return LogSumExp.apply(a, reduced_axes(a, dim, keepdim, "logsumexp"), keepdim)
