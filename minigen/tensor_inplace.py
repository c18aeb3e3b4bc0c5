"""The Tensor's in-place methods: ``x += y``, ``x.add_(y)``, ``x.clamp_(0, 1)``, ``x.zero_()``...

As in PyTorch, they change the tensor OBJECT, so every name for it sees the change: the
hand-written SGD step ``with no_grad(): w -= lr * w.grad`` updates the module's parameter
``w``, not a new tensor bound to the name ``w``. (Without ``__isub__``, Python would fall back
to ``w = w - lr * w.grad``, leave the module's parameter as it was, and say nothing.)

Inside, each is :func:`minigen.ops.assignment.inplace`: the op's result is a new array and the
tensor points at it, so a graph that saved the old array stays valid. The rules of assignment
hold: a leaf that requires grad cannot be changed outside ``no_grad``, the result cannot change
the tensor's shape or dtype, and a slice or view cannot be changed by a named method
(``x[0].add_(1)``: in PyTorch the change would reach ``x``, here it could not). ``x[0] += 1``
works, as ``x[0] = x[0] + 1`` (see :func:`_augmented`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import minigen

if TYPE_CHECKING:
    from minigen.tensor import Tensor


def _inplace(x: Any, op: Any, *args: Any, **kwargs: Any) -> Tensor:
    return minigen.ops.inplace(x, op, *args, **kwargs)


def _augmented(x: Any, op: Any, other: Any) -> Tensor:
    """``x op= other``. On a slice or view it gives a NEW tensor, which Python then stores:
    ``x[0] += 1`` is ``x[0] = x[0] + 1`` (setitem), as in PyTorch. The price: for
    ``row = x[0]; row += 1`` the name ``row`` gets the new tensor and ``x`` is unchanged (in
    PyTorch ``x`` changes), which cannot be told apart from the first case here. The named
    methods (``row.add_(1)``) refuse a view instead."""
    if getattr(x, "_is_view", False):
        return op(x, other)
    return _inplace(x, op, other)


def _scaled(other: Any, alpha: Any) -> Any:
    return other if alpha == 1 else minigen.ops.mul(other, alpha)


def _fill(x: Tensor, value: Any) -> Tensor:
    """``value`` (a number, or a 0-d tensor whose gradient then flows, as in PyTorch's) at
    every element, by assignment's rules: no silent cast, no fraction into an int tensor."""
    value = minigen.ops.assignment.as_value(x, value)
    if value.ndim != 0:
        raise minigen.ShapeError(f"fill_ takes a number or a 0-d tensor, got a tensor of shape "
                                 f"{value.shape}")
    return minigen.ops.clone(minigen.ops.expand(value, x.shape))  # (its own, writable array)


def _copy(x: Tensor, src: Any) -> Tensor:
    """``src`` made ``x``'s device, dtype and shape: copy_ is where PyTorch code casts and
    moves explicitly, so it does here too."""
    if not isinstance(src, minigen.Tensor):
        raise TypeError(f"copy_ takes a tensor, got {type(src).__name__}: wrap it with "
                        "minigen.tensor(...)")
    src = minigen.ops.expand(src.to(x.device, x.dtype), x.shape)  # (ShapeError: no broadcast)
    return minigen.ops.clone(src)  # (its own array: x must not share src's)


class TensorInPlace:
    """The in-place methods (a mixin of :class:`~minigen.tensor.Tensor`)."""

    __slots__ = ()

    def __iadd__(self, other: Any) -> Tensor:
        return _augmented(self, minigen.ops.add, other)

    def __isub__(self, other: Any) -> Tensor:
        return _augmented(self, minigen.ops.sub, other)

    def __imul__(self, other: Any) -> Tensor:
        return _augmented(self, minigen.ops.mul, other)

    def __itruediv__(self, other: Any) -> Tensor:
        return _augmented(self, minigen.ops.div, other)

    def __ipow__(self, other: Any) -> Tensor:
        return _augmented(self, minigen.ops.pow, other)

    def __imod__(self, other: Any) -> Tensor:
        return _augmented(self, minigen.ops.remainder, other)

    def __ifloordiv__(self, other: Any) -> Tensor:
        return _augmented(self, minigen.ops.floor_divide, other)

    def __iand__(self, other: Any) -> Tensor:
        return _augmented(self, type(self).__and__, other)

    def __ior__(self, other: Any) -> Tensor:
        return _augmented(self, type(self).__or__, other)

    def __ixor__(self, other: Any) -> Tensor:
        return _augmented(self, type(self).__xor__, other)

    def add_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """``self += alpha * other``."""
        return _inplace(self, minigen.ops.add, _scaled(other, alpha))

    def sub_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """``self -= alpha * other``."""
        return _inplace(self, minigen.ops.sub, _scaled(other, alpha))

    def mul_(self, other: Any) -> Tensor:
        return _inplace(self, minigen.ops.mul, other)

    def div_(self, other: Any) -> Tensor:
        return _inplace(self, minigen.ops.div, other)

    def pow_(self, exponent: Any) -> Tensor:
        return _inplace(self, minigen.ops.pow, exponent)

    def neg_(self) -> Tensor:
        return _inplace(self, minigen.ops.neg)

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:
        return _inplace(self, minigen.ops.clamp, min, max)

    clip_ = clamp_  # PyTorch's alias

    def fill_(self, value: Any) -> Tensor:
        """Every element set to ``value`` (a number, or a 0-d tensor)."""
        return _inplace(self, _fill, value)

    def zero_(self) -> Tensor:
        return _inplace(self, _fill, 0)

    def copy_(self, src: Any) -> Tensor:
        """``src``'s values, broadcast to this tensor's shape and cast to its dtype and
        device (the one place minigen casts without being asked: it is what copy_ is for)."""
        return _inplace(self, _copy, src)
