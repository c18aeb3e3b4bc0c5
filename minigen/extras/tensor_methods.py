"""The Tensor methods of the extras: ``x.topk(2)``, ``x.var()``, ``x.clamp_(0, 1)``...

:class:`ExtraMethods` is never mixed into :class:`~minigen.tensor.Tensor`: when a tensor is
asked for a method it lacks, ``Tensor.__getattr__`` calls :func:`method`, which binds the one
found here to that tensor. Each forwards to a function of :mod:`minigen.extras` (or of the
core's ops).
"""

from __future__ import annotations

from typing import Any

import minigen
from minigen import ops
from minigen.errors import ShapeError
from minigen.extras import (
    assignment,
    comparison,
    logic,
    numeric,
    ordering,
    reductions,
    selection,
    similarity,
)
from minigen.extras import elementwise as el


def _fill(x: Any, value: Any) -> Any:
    """``value`` (a number, or a 0-d tensor whose gradient then flows, as in PyTorch's) at
    every element, by assignment's rules: no silent cast, no fraction into an int tensor."""
    value = assignment.as_value(x, value)
    if value.ndim != 0:
        raise ShapeError(f"fill_ takes a number or a 0-d tensor, got a tensor of shape "
                         f"{value.shape}")
    return el.clone(ops.expand(value, x.shape))  # (its own, writable array)


def _copy(x: Any, src: Any) -> Any:
    """``src`` made ``x``'s device, dtype and shape: copy_ is where PyTorch code casts and
    moves explicitly, so it does here too."""
    if not isinstance(src, minigen.Tensor):
        raise TypeError(f"copy_ takes a tensor, got {type(src).__name__}: wrap it with "
                        "minigen.tensor(...)")
    return el.clone(ops.expand(src.to(x.device, x.dtype), x.shape))  # (no broadcast up)


def _scaled(other: Any, alpha: Any) -> Any:
    return other if alpha == 1 else ops.mul(other, alpha)


# The methods that are a function of the extras with the tensor first: x.var(1) is var(x, 1).
FUNCTIONS = {
    "var": reductions.var, "std": reductions.std, "amax": reductions.amax,
    "amin": reductions.amin, "logsumexp": reductions.logsumexp, "argmax": reductions.argmax,
    "argmin": reductions.argmin, "all": logic.all, "any": logic.any, "isnan": logic.isnan,
    "isfinite": logic.isfinite, "cumsum": numeric.cumsum, "prod": numeric.prod,
    "norm": numeric.norm, "sign": numeric.sign, "round": numeric.round, "floor": numeric.floor,
    "ceil": numeric.ceil, "reciprocal": numeric.reciprocal, "rsqrt": numeric.rsqrt,
    "log1p": el.log1p, "clamp": el.clamp, "clip": el.clamp, "clone": el.clone,
    "neg": ops.neg, "matmul": ops.matmul, "bmm": similarity.bmm, "split": selection.split,
    "chunk": selection.chunk, "unbind": selection.unbind, "gather": selection.gather,
    "masked_fill": selection.masked_fill, "roll": ordering.roll,
    "index_select": ordering.index_select, "sort": ordering.sort,
    "argsort": ordering.argsort, "topk": ordering.topk, "eq": comparison.eq,
    "ne": comparison.ne, "lt": comparison.lt, "le": comparison.le, "gt": comparison.gt,
    "ge": comparison.ge, "greater": comparison.gt, "greater_equal": comparison.ge,
    "less": comparison.lt, "less_equal": comparison.le, "not_equal": comparison.ne,
    "equal": comparison.equal,
}


class ExtraMethods:
    """The other methods, as plain functions of ``self`` (a Tensor)."""

    def square(self) -> Any:
        return ops.mul(self, self)

    # the operators by name, as PyTorch has them: x.div(255) is x / 255
    def add(self, other: Any, *, alpha: Any = 1) -> Any:
        """``self + alpha * other``."""
        return ops.add(self, _scaled(other, alpha))

    def sub(self, other: Any, *, alpha: Any = 1) -> Any:
        """``self - alpha * other``."""
        return ops.sub(self, _scaled(other, alpha))

    def mul(self, other: Any) -> Any:
        return ops.mul(self, other)

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Any:
        """``self / other``; ``rounding_mode="floor"``: ``self // other``."""
        if rounding_mode is None:
            return ops.div(self, other)
        if rounding_mode == "floor":
            return ops.floor_divide(self, other)
        raise ValueError(f"div: rounding_mode must be None or 'floor' in minigen, got "
                         f"{rounding_mode!r} (PyTorch's 'trunc', towards zero, is not here)")

    def view_as(self, other: Any) -> Any:
        """This tensor reshaped to ``other``'s shape (``target.view_as(pred)``)."""
        return ops.reshape(self, other.shape)

    # ------------------------------------------------------------ shapes and selection
    def contiguous(self) -> Any:
        """Itself: minigen has no strided views to make contiguous (``view`` is ``reshape``)."""
        return self

    def expand_as(self, other: Any) -> Any:
        return ops.expand(self, other.shape)

    def t(self) -> Any:
        """The transpose of a matrix (a tensor of at most 2 dimensions, as PyTorch's)."""
        if self.ndim > 2:
            raise ShapeError(f"t() transposes at most 2 dimensions, this tensor has shape "
                             f"{self.shape}: use transpose(dim0, dim1) or mT")
        return self if self.ndim < 2 else ops.transpose(self, 0, 1)

    def flip(self, *dims: Any) -> Any:
        return ordering.flip(self, minigen.creation.shape_args(dims, "flip"))

    def repeat(self, *sizes: Any) -> Any:
        return ordering.repeat(self, minigen.creation.shape_args(sizes, "repeat"))

    # ------------------------------------------------------------ in place, by name
    # They change the tensor object, as ``x += y`` does (Tensor._update); unlike ``x += y``
    # they refuse a slice or view, whose change PyTorch would write through to its base.
    def add_(self, other: Any, *, alpha: Any = 1) -> Any:
        """``self += alpha * other``."""
        return assignment.inplace(self, ops.add, _scaled(other, alpha))

    def sub_(self, other: Any, *, alpha: Any = 1) -> Any:
        """``self -= alpha * other``."""
        return assignment.inplace(self, ops.sub, _scaled(other, alpha))

    def mul_(self, other: Any) -> Any:
        return assignment.inplace(self, ops.mul, other)

    def div_(self, other: Any) -> Any:
        return assignment.inplace(self, ops.div, other)

    def pow_(self, exponent: Any) -> Any:
        return assignment.inplace(self, ops.pow, exponent)

    def neg_(self) -> Any:
        return assignment.inplace(self, ops.neg)

    def clamp_(self, min: Any = None, max: Any = None) -> Any:
        return assignment.inplace(self, el.clamp, min, max)

    clip_ = clamp_  # PyTorch's alias

    def fill_(self, value: Any) -> Any:
        """Every element set to ``value`` (a number, or a 0-d tensor)."""
        return assignment.inplace(self, _fill, value)

    def zero_(self) -> Any:
        return assignment.inplace(self, _fill, 0)

    def copy_(self, src: Any) -> Any:
        """``src``'s values, broadcast to this tensor's shape and cast to its dtype and
        device (the one place minigen casts without being asked: it is what copy_ is for)."""
        return assignment.inplace(self, _copy, src)


def method(tensor: Any, name: str) -> Any:
    """``tensor.<name>``, bound, or the AttributeError Python would have raised."""
    function = FUNCTIONS.get(name) or getattr(ExtraMethods, name, None)
    if function is None or name.startswith("_"):
        raise AttributeError(f"'{type(tensor).__name__}' object has no attribute {name!r}")
    return function.__get__(tensor)
