"""Activations beyond the core's: softplus and log_sigmoid, stable for any input."""

from __future__ import annotations

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.extras._common import check_floating
from minigen.ops.activations import stable_sigmoid
from minigen.tensor import Tensor


def _sigmoid(x: Array) -> Array:
    xp = backend.namespace(x)
    return stable_sigmoid(x, xp.exp(-xp.abs(x)))


def _softplus(x: Array) -> Array:
    """log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): no overflow for any x."""
    xp = backend.namespace(x)
    return xp.maximum(x, 0.0) + backend.log1p_unit(xp.exp(-xp.abs(x)))


class Softplus(Function):
    """log(1 + e^(beta x)) / beta, and x itself where beta x > threshold (PyTorch's rule: past
    the threshold the two differ by less than e^-threshold / beta)."""

    @staticmethod
    def forward(ctx: Context, x: Array, beta: float, threshold: float) -> Array:
        xp = backend.namespace(x)
        bx = x * beta if beta != 1 else x
        ctx.save_for_backward(bx)
        ctx.threshold = threshold
        out = _softplus(bx) / beta if beta != 1 else _softplus(bx)
        linear = bx > threshold
        return xp.where(linear, x, out) if bool(xp.any(linear)) else out

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        (bx,) = ctx.saved_arrays
        xp = backend.namespace(bx)
        # d/dx log(1 + e^(beta x)) / beta = sigmoid(beta x); 1 on the linear part
        slope = xp.where(bx > ctx.threshold, 1.0, _sigmoid(bx))
        return grad_out * xp.astype(slope, grad_out.dtype)


class LogSigmoid(Function):
    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        return -_softplus(-x)  # log s(x) = -log(1 + e^-x)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        (x,) = ctx.saved_arrays
        return grad_out * _sigmoid(-x)  # d/dx log s(x) = 1 - s(x) = s(-x)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta * x)) / beta``, stable for any x; ``x`` itself where
    ``beta * x > threshold``, as in PyTorch."""
    check_floating(x, "softplus")
    for name, value in (("beta", beta), ("threshold", threshold)):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise TypeError(f"softplus: {name} must be a number, got {value!r}")
    if beta == 0:
        raise ValueError("softplus: beta must not be 0 (it divides by beta)")
    return Softplus.apply(x, beta, threshold)


def log_sigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), finite for any x."""
    check_floating(x, "log_sigmoid")
    return LogSigmoid.apply(x)
