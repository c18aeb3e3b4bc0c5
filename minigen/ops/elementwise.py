"""Elementwise functions: exp, log, log1p, sqrt, abs, maximum, minimum, where, clamp, and the
moves between devices and dtypes (the arithmetic operators are in
:mod:`minigen.ops.arithmetic`). Each backward returns gradients of the broadcast output's
shape; the engine sums them back down to each input's shape (see ``backprop._unbroadcast``)."""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import DeviceError, DTypeError
from minigen.ops._common import (
    binary_operands,
    broadcast_shapes,
    check_floating,
    check_numeric,
    check_tensor,
    namespace_of,
)
from minigen.tensor import Tensor


class Exp(Function):
    @staticmethod
    def forward(ctx: Context, a: Array) -> Array:
        out = backend.namespace(a).exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        (out,) = ctx.saved_arrays
        return grad_out * out  # d/dx e^x = e^x


class Log(Function):
    @staticmethod
    def forward(ctx: Context, a: Array) -> Array:
        ctx.save_for_backward(a)
        return backend.namespace(a).log(a)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        (a,) = ctx.saved_arrays
        return grad_out / a  # d/dx log(x) = 1/x


class Log1p(Function):
    @staticmethod
    def forward(ctx: Context, a: Array) -> Array:
        ctx.save_for_backward(a)
        return backend.namespace(a).log1p(a)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        (a,) = ctx.saved_arrays
        return grad_out / (1 + a)  # d/dx log(1+x) = 1/(1+x)


class Sqrt(Function):
    @staticmethod
    def forward(ctx: Context, a: Array) -> Array:
        out = backend.namespace(a).sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        (out,) = ctx.saved_arrays
        return grad_out / (2 * out)  # d/dx sqrt(x) = 1 / (2 sqrt(x))


class Abs(Function):
    @staticmethod
    def forward(ctx: Context, a: Array) -> Array:
        ctx.save_for_backward(a)
        return backend.namespace(a).abs(a)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        (a,) = ctx.saved_arrays
        return grad_out * backend.namespace(a).sign(a)  # d|x|/dx = sign(x), 0 at 0 (PyTorch)


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


class ToDevice(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, device: backend.Device) -> Array:
        ctx.source = backend.device_of(a)
        return backend.to_device(a, device)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        return backend.to_device(grad_out, ctx.source)


class AsType(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, dtype: backend.DType) -> Array:
        ctx.source = backend.dtype_of(a)
        return backend.namespace(a).astype(a, backend.device_of(a).dtype(dtype))

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        xp = backend.namespace(grad_out)
        return xp.astype(grad_out, backend.device_of(grad_out).dtype(ctx.source))


# ------------------------------------------------------------------------- functions


def exp(a: Tensor) -> Tensor:
    check_floating(a, "exp")
    return Exp.apply(a)


def log(a: Tensor) -> Tensor:
    check_floating(a, "log")
    return Log.apply(a)


def log1p(a: Tensor) -> Tensor:
    """``log(1 + a)``, accurate for small ``a``."""
    check_floating(a, "log1p")
    return Log1p.apply(a)


def sqrt(a: Tensor) -> Tensor:
    check_floating(a, "sqrt")
    return Sqrt.apply(a)


def abs(a: Tensor) -> Tensor:
    check_tensor(a, "abs")
    check_numeric(a, "abs")
    return Abs.apply(a)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; where ``a == b`` each gets half the gradient."""
    return Maximum.apply(*binary_operands(a, b, "maximum"))


def minimum(a: Any, b: Any) -> Tensor:
    return Minimum.apply(*binary_operands(a, b, "minimum"))


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` is true, else ``b`` (broadcasting all three)."""
    condition = condition.data if isinstance(condition, Tensor) else condition
    if not hasattr(condition, "shape") or backend.dtype_of(condition) != backend.bool_:
        what = backend.dtype_of(condition) if hasattr(condition, "dtype") else type(condition)
        raise DTypeError(f"where needs a boolean tensor as its condition (such as x > 0), got "
                         f"{getattr(what, '__name__', what)}")
    a, b = binary_operands(a, b, "where")
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


def to_device(a: Tensor, device: Any) -> Tensor:
    """Move ``a`` to ``device``; gradients flow back to where it came from."""
    check_tensor(a, "to_device")
    return ToDevice.apply(a, backend.device(device))


def astype(a: Tensor, dtype: Any) -> Tensor:
    check_tensor(a, "astype")
    return AsType.apply(a, backend.as_dtype(dtype))
