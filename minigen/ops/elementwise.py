"""Elementwise functions: exp, log, sqrt and abs, each a Function whose backward multiplies
the incoming gradient by the derivative (as ``arithmetic.py`` explains). ``xp`` is the array
namespace of the input (NumPy, CuPy...)."""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.ops._common import check_floating, check_numeric
from minigen.tensor import Tensor


class Exp(Function):
    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        out = backend.namespace(a).exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        # exercise 4: Exp.backward
        (out,) = ctx.saved_arrays
        return grad_out * out  # d/dx e^x = e^x
        # end exercise 4


class Log(Function):
    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        ctx.save_for_backward(a)
        return backend.namespace(a).log(a)

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        # exercise 4: Log.backward
        (a,) = ctx.saved_arrays
        return grad_out / a  # d/dx log(x) = 1/x
        # end exercise 4


class Sqrt(Function):
    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        out = backend.namespace(a).sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        (out,) = ctx.saved_arrays
        return grad_out / (2 * out)  # d/dx sqrt(x) = 1 / (2 sqrt(x))


class Abs(Function):
    @staticmethod
    def forward(ctx: Context, a: Any) -> Any:
        ctx.save_for_backward(a)
        return backend.namespace(a).abs(a)

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        (a,) = ctx.saved_arrays
        return grad_out * backend.namespace(a).sign(a)  # d|x|/dx = sign(x), 0 at 0


# ------------------------------------------------------------------ the functions
def exp(a: Tensor) -> Tensor:
    check_floating(a, "exp")
    return Exp.apply(a)


def log(a: Tensor) -> Tensor:
    check_floating(a, "log")
    return Log.apply(a)


def sqrt(a: Tensor) -> Tensor:
    check_floating(a, "sqrt")
    return Sqrt.apply(a)


def abs(a: Tensor) -> Tensor:
    check_numeric(a, "abs")
    return Abs.apply(a)
