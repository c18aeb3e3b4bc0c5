"""Elementwise ops beyond the core's: log1p, maximum, minimum, where, clamp, and clone."""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import DeviceError, DTypeError
from minigen.extras._common import broadcast_shapes, check_floating, check_tensor, operands
from minigen.tensor import Tensor


class Log1p(Function):
    @staticmethod
    def forward(ctx: Context, a: Array) -> Array:
        ctx.save_for_backward(a)
        return backend.namespace(a).log1p(a)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        (a,) = ctx.saved_arrays
        return grad_out / (1 + a)  # d/dx log(1+x) = 1/(1+x)


class Maximum(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, b: Array) -> Array:
        ctx.save_for_backward(a, b)
        return namespace_of(a, b).maximum(a, b)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Array, Array]:
        return _split_by_winner(ctx, grad_out, "greater")


class Minimum(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, b: Array) -> Array:
        ctx.save_for_backward(a, b)
        return namespace_of(a, b).minimum(a, b)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Array, Array]:
        return _split_by_winner(ctx, grad_out, "less")


def _split_by_winner(ctx: Context, grad_out: Array, wins: str) -> tuple[Array, Array]:
    """The gradient goes to the winning input; ties split it evenly (as PyTorch does)."""
    a, b = ctx.saved_arrays
    xp = namespace_of(a, b)
    dtype = grad_out.dtype
    share_a = xp.astype(getattr(xp, wins)(a, b), dtype) + 0.5 * xp.astype(xp.equal(a, b), dtype)
    return grad_out * share_a, grad_out * (1 - share_a)


class Where(Function):
    @staticmethod
    def forward(ctx: Context, condition: Array, a: Array, b: Array) -> Array:
        ctx.save_for_backward(condition)
        return namespace_of(condition).where(condition, a, b)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[None, Array, Array]:
        (condition,) = ctx.saved_arrays
        xp = backend.namespace(grad_out)
        zero = xp.zeros_like(grad_out)
        return None, xp.where(condition, grad_out, zero), xp.where(condition, zero, grad_out)


class Clamp(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, min: float | None, max: float | None) -> Array:
        ctx.save_for_backward(a)
        ctx.min, ctx.max = min, max
        return backend.namespace(a).clip(a, min, max)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        (a,) = ctx.saved_arrays
        xp = backend.namespace(a)
        inside = xp.ones_like(a, dtype=xp.bool)
        if ctx.min is not None:
            inside = inside & (a >= ctx.min)
        if ctx.max is not None:
            inside = inside & (a <= ctx.max)
        return grad_out * xp.astype(inside, grad_out.dtype)  # 1 inside [min, max], else 0


class Clone(Function):
    """A copy with its own memory; the gradient passes through unchanged."""

    @staticmethod
    def forward(ctx: Context, a: Array) -> Array:
        return backend.namespace(a).asarray(a, copy=True)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        return grad_out


def namespace_of(*operands: Any) -> Any:
    """The array namespace of the first operand that is an array (the others may be numbers)."""
    return backend.namespace(next(a for a in operands if hasattr(a, "shape")))


def log1p(a: Tensor) -> Tensor:
    """``log(1 + a)``, accurate for small ``a``."""
    check_floating(a, "log1p")
    return Log1p.apply(a)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; where ``a == b`` each gets half the gradient."""
    return Maximum.apply(*operands(a, b, "maximum"))


def minimum(a: Any, b: Any) -> Tensor:
    return Minimum.apply(*operands(a, b, "minimum"))


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` is true, else ``b`` (broadcasting all three)."""
    condition = condition.data if isinstance(condition, Tensor) else condition
    if not hasattr(condition, "shape") or backend.dtype_of(condition) != backend.bool_:
        what = backend.dtype_of(condition) if hasattr(condition, "dtype") else type(condition)
        raise DTypeError(f"where needs a boolean tensor as its condition (such as x > 0), got "
                         f"{getattr(what, '__name__', what)}")
    a, b = operands(a, b, "where")
    tensor = a if isinstance(a, Tensor) else b
    if backend.device_of(condition) != tensor.device:
        raise DeviceError(f"where: the condition is on {backend.device_of(condition)}, the "
                          f"values on {tensor.device}: move one with .to()")
    broadcast_shapes(tuple(condition.shape), getattr(a, "shape", ()), getattr(b, "shape", ()),
                     op="where")
    return Where.apply(condition, a, b)


def clamp(a: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """Limit ``a`` to ``[min, max]``; the gradient is 1 inside (ends included), 0 outside."""
    if min is None and max is None:
        raise ValueError("clamp needs at least one of min and max")
    for bound in (min, max):
        if bound is not None and (not isinstance(bound, (int, float)) or isinstance(bound, bool)):
            raise TypeError(f"clamp: min and max must be numbers or None, got {bound!r}")
    check_floating(a, "clamp")
    return Clamp.apply(a, min, max)


def clone(a: Tensor) -> Tensor:
    """A copy of ``a`` that is part of the graph (``detach()`` leaves it): what an op or an
    assignment does to the copy never reaches ``a``'s array."""
    check_tensor(a, "clone")
    return Clone.apply(a)
