"""The arithmetic operators: + - * / ** and unary minus, with broadcasting.

Each op is a Function: ``forward`` computes on raw arrays and saves what the derivative needs;
``backward`` applies the chain rule, ``dL/dinput = dL/doutput * doutput/dinput``. A gradient
may keep the broadcast output's shape: the engine sums it back down to each input's shape
(``autograd._unbroadcast``). Below the classes, the functions users call check their
arguments, then ``apply`` the op.
"""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.errors import DTypeError
from minigen.ops._common import check_numeric, operands
from minigen.tensor import Tensor


class Add(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        return a + b

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> tuple[Any, Any]:
        return grad_out, grad_out  # d(a + b)/da = d(a + b)/db = 1


class Sub(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        return a - b

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> tuple[Any, Any]:
        return grad_out, -grad_out  # d(a - b)/db = -1


class Mul(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> tuple[Any, Any]:
        # exercise 2: Mul.backward, the product rule
        a, b = ctx.saved_arrays
        grad_a = grad_out * b if ctx.needs_input_grad[0] else None  # d(ab)/da = b
        grad_b = grad_out * a if ctx.needs_input_grad[1] else None  # d(ab)/db = a
        return grad_a, grad_b
        # end exercise 2


class Div(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> tuple[Any, Any]:
        # exercise 2: Div.backward, the quotient rule
        a, b = ctx.saved_arrays
        grad_a = grad_out / b if ctx.needs_input_grad[0] else None  # d(a/b)/da = 1/b
        grad_b = -grad_out * a / (b * b) if ctx.needs_input_grad[1] else None  # -a/b^2
        return grad_a, grad_b
        # end exercise 2


class Neg(Function):
    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        return -a

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        return -grad_out


class Pow(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> tuple[Any, Any]:
        a, b, out = ctx.saved_arrays
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = grad_out * b * a ** (b - 1)  # d(a^b)/da = b a^(b-1)
        if ctx.needs_input_grad[1]:  # d(a^b)/db = a^b log(a), taken as 0 where a^b is 0
            xp = backend.namespace(out)
            a = a if hasattr(a, "shape") else xp.full_like(out, a)  # (a may be a number)
            grad_b = grad_out * out * xp.log(xp.where(out == 0, 1.0, a))  # (not 0 * -inf)
        return grad_a, grad_b


# ------------------------------------------------------------------ the functions
def add(a: Any, b: Any) -> Tensor:
    """``a + b`` with broadcasting; either may be a number."""
    return Add.apply(*operands(a, b, "add"))


def sub(a: Any, b: Any) -> Tensor:
    return Sub.apply(*operands(a, b, "sub"))


def mul(a: Any, b: Any) -> Tensor:
    return Mul.apply(*operands(a, b, "mul"))


def div(a: Any, b: Any) -> Tensor:
    """``a / b``: true division, so at least one operand must be floating."""
    a, b = operands(a, b, "div")
    if not any(isinstance(t, float) or (isinstance(t, Tensor) and t.dtype.is_floating_point)
               for t in (a, b)):
        raise DTypeError("div of integers would silently give float64: convert a tensor "
                         "with .float() first")
    return Div.apply(a, b)


def pow(a: Any, b: Any) -> Tensor:
    """``a ** b``; either may be a number."""
    a, b = operands(a, b, "pow")
    if not any(isinstance(t, float) or (isinstance(t, Tensor) and t.dtype.is_floating_point)
               for t in (a, b)):  # integers only: a negative power would be a fraction
        xp = backend.namespace(b.data) if isinstance(b, Tensor) else None
        if (b < 0) if xp is None else bool(xp.any(b.data < 0)):
            raise ValueError("pow: integers to negative integer powers are not integers: "
                             "convert the base with .float() first")
    return Pow.apply(a, b)


def neg(a: Tensor) -> Tensor:
    check_numeric(a, "neg")
    return Neg.apply(a)
