"""The arithmetic operators: + - * / ** and unary minus, with broadcasting; % and //
(values only, no gradient).

Each backward returns gradients of the broadcast output's shape; the engine sums them back
down to each input's shape (see ``backprop._unbroadcast``)."""

from __future__ import annotations

from typing import Any

from minigen import grad_mode
from minigen.autograd import Context, Function
from minigen.backend import Array, HostScalar, as_host_array, quiet_floating_point
from minigen.errors import DTypeError, GraphError
from minigen.ops._common import binary_operands, check_numeric, check_tensor, namespace_of
from minigen.tensor import Tensor


class Add(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, b: Array) -> Array:
        return a + b

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Array, Array]:
        return grad_out, grad_out  # d(a+b)/da = d(a+b)/db = 1


class Sub(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, b: Array) -> Array:
        return a - b

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Array, Array]:
        return grad_out, -grad_out


class Mul(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, b: Array) -> Array:
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Any, Any]:
        a, b = ctx.saved_arrays
        grad_a = grad_out * b if ctx.needs_input_grad[0] else None  # d(ab)/da = b
        grad_b = grad_out * a if ctx.needs_input_grad[1] else None
        return grad_a, grad_b


class Div(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, b: Array) -> Array:
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Any, Any]:
        a, b = ctx.saved_arrays
        grad_a = grad_out / b if ctx.needs_input_grad[0] else None
        grad_b = -grad_out * a / (b * b) if ctx.needs_input_grad[1] else None  # d(a/b)/db
        return grad_a, grad_b


class Neg(Function):
    @staticmethod
    def forward(ctx: Context, a: Array) -> Array:
        return -a

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        return -grad_out


class Pow(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, b: Array) -> Array:
        out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Any, Any]:
        a, b, out = ctx.saved_arrays
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = grad_out * b * a ** (b - 1)  # d(a^b)/da = b a^(b-1)
        if ctx.needs_input_grad[1]:
            xp = namespace_of(a, b)
            a = a if hasattr(a, "shape") else xp.full_like(out, a)  # a number: log(0) is -inf
            # d(a^b)/db = a^b log(a), taken as 0 where a^b is 0 (a = 0: not 0 * -inf = NaN)
            grad_b = grad_out * xp.where(out == 0, xp.zeros_like(out), out * xp.log(a))
        return grad_a, grad_b


def add(a: Any, b: Any) -> Tensor:
    """``a + b`` with broadcasting."""
    return Add.apply(*binary_operands(a, b, "add"))


def sub(a: Any, b: Any) -> Tensor:
    return Sub.apply(*binary_operands(a, b, "sub"))


def mul(a: Any, b: Any) -> Tensor:
    return Mul.apply(*binary_operands(a, b, "mul"))


def div(a: Any, b: Any) -> Tensor:
    """``a / b`` with broadcasting (true division: at least one operand must be floating)."""
    a, b = binary_operands(a, b, "div")
    if not any(isinstance(t, float) or (isinstance(t, Tensor) and t.dtype.is_floating_point)
               for t in (a, b)):
        raise DTypeError("div of integers would silently give float64: convert a tensor "
                         "with .float() first")
    return Div.apply(a, b)


def neg(a: Tensor) -> Tensor:
    check_tensor(a, "neg")
    check_numeric(a, "neg")
    return Neg.apply(a)


def pow(a: Any, b: Any) -> Tensor:
    """``a ** b``; either may be a number."""
    a, b = binary_operands(a, b, "pow")
    if not any(isinstance(t, float) or (isinstance(t, Tensor) and t.dtype.is_floating_point)
               for t in (a, b)):  # integers only: a negative power is a fraction
        negative = b < 0 if isinstance(b, int) else bool(namespace_of(b.data).any(b.data < 0))
        if negative:
            raise ValueError("pow: integers to negative integer powers are not integers: "
                             "convert the base with .float() first")
    return Pow.apply(a, b)


def _floored(a: Any, b: Any, op: str, symbol: str) -> Tensor:
    """``a % b`` or ``a // b``: values only. They step at every multiple of ``b``, so
    minigen gives them no gradient (PyTorch's // has none either) and refuses a tensor that
    asks for one rather than silently detaching it."""
    a, b = binary_operands(a, b, op)
    if grad_mode.grad_enabled and any(isinstance(t, Tensor) and t.requires_grad
                                      for t in (a, b)):
        raise GraphError(f"{symbol} has no gradient in minigen: apply it to .detach()ed values")
    integers = not any(isinstance(t, float) or (isinstance(t, Tensor)
                                                and t.dtype.is_floating_point) for t in (a, b))
    if integers and (b == 0 if isinstance(b, int) else
                     bool(namespace_of(b.data).any(b.data == 0))):
        raise ValueError(f"integer {symbol} by zero")
    x, y = (t.data if isinstance(t, Tensor) else t for t in (a, b))
    with quiet_floating_point():  # (a float divided by 0: inf or NaN, as in PyTorch)
        out = x % y if symbol == "%" else x // y
    return Tensor._make(as_host_array(out) if isinstance(out, HostScalar) else out)


def remainder(a: Any, b: Any) -> Tensor:
    """``a % b``, with the sign of ``b`` (Python's and PyTorch's rule). No gradient."""
    return _floored(a, b, "remainder", "%")


def floor_divide(a: Any, b: Any) -> Tensor:
    """``a // b``, rounded towards minus infinity. No gradient."""
    return _floored(a, b, "floor_divide", "//")
