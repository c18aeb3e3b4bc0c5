"""Activation functions, each a primitive with a closed-form derivative (cheaper than a chain
of elementwise ops, and stable at extreme inputs)."""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import ShapeError
from minigen.ops._common import check_floating, single_axis
from minigen.tensor import Tensor
from minigen.tensor_methods import numpy_names


def _sigmoid(x: Array) -> Array:
    """1 / (1 + e^-x), from e = e^-|x| <= 1: no overflow for any x, and full relative accuracy
    in both tails: 1 / (1 + e) for x >= 0 and e / (1 + e) = 1 / (e^-x + 1) for x < 0."""
    xp = backend.namespace(x)
    return _sigmoid_from(x, xp.exp(-xp.abs(x)))


def _sigmoid_from(x: Array, e: Array) -> Array:
    """sigmoid(x) given e = e^-|x|. The numerator is 1 for x >= 0 and e for x < 0, picked
    as max(e, [x >= 0]) (e <= 1): arithmetic, not ``where``, whose branch per element costs
    NumPy ten times more on the random signs of real activations."""
    xp = backend.namespace(x)
    return xp.maximum(e, xp.astype(x >= 0, x.dtype)) / (1.0 + e)


def _log1p_unit(e: Array) -> Array:
    """log(1 + e) for e in [0, 1], accurate to the last digit even for tiny e.

    u = 1 + e rounds; c = (u - 1) - e is exactly what the rounding lost, and
    log(1 + e) = log(u) - c / u to first order in c. For e below the rounding unit u = 1,
    c = -e, and the result is e, as it should be. This costs one ``log`` and a few cheap
    passes: NumPy's float32 ``log1p`` is not vectorised and takes four times as long.
    """
    u = 1.0 + e
    return backend.namespace(e).log(u) - ((u - 1.0) - e) / u


def _softplus(x: Array) -> Array:
    """log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): no overflow for any x."""
    xp = backend.namespace(x)
    return xp.maximum(x, 0.0) + _log1p_unit(xp.exp(-xp.abs(x)))


class ReLU(Function):
    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        out = backend.namespace(x).maximum(x, 0.0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        (out,) = ctx.saved_arrays
        xp = backend.namespace(out)
        return grad_out * xp.astype(out > 0, grad_out.dtype)  # 1 where x > 0, 0 at x = 0


class LeakyReLU(Function):
    """x where x > 0, negative_slope * x elsewhere.

    Computed with ``maximum`` and multiplications, never ``where``: NumPy's ``where`` costs a
    mispredicted branch per element on the random signs of real activations, ten times a
    multiply, and this op runs on the DCGAN's largest arrays.
    """

    @staticmethod
    def forward(ctx: Context, x: Array, negative_slope: float) -> Array:
        xp = backend.namespace(x)
        ctx.slope = negative_slope
        if 0.0 <= negative_slope <= 1.0:  # the usual case: max(x, slope x), two passes
            out = xp.maximum(x, x * negative_slope)
            ctx.save_for_backward(out)  # out > 0 exactly where x > 0
            return out
        # any other slope: max(x, 0) + slope * min(x, 0), exact on both sides
        ctx.save_for_backward(x)
        return xp.maximum(x, 0.0) + xp.minimum(x, 0.0) * negative_slope

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        (saved,) = ctx.saved_arrays
        xp, slope = backend.namespace(grad_out), ctx.slope
        positive = xp.astype(saved > 0, grad_out.dtype)
        if 0.0 <= slope <= 1.0:  # the derivative, 1 or the slope, is max([x > 0], slope)
            return grad_out * xp.maximum(positive, slope)
        kept = grad_out * positive  # the derivative is 1 where x > 0 ...
        return kept + (grad_out - kept) * slope  # ... and the slope elsewhere


class Sigmoid(Function):
    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        out = _sigmoid(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        (out,) = ctx.saved_arrays
        return grad_out * out * (1.0 - out)  # s' = s (1 - s)


class Tanh(Function):
    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        out = backend.namespace(x).tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        (out,) = ctx.saved_arrays
        return grad_out * (1.0 - out * out)  # tanh' = 1 - tanh^2


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


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx: Context, x: Array, axis: int) -> Array:
        xp = backend.namespace(x)
        shifted = x - xp.max(x, axis=axis, keepdims=True)
        out = shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        (out,) = ctx.saved_arrays
        xp = backend.namespace(out)
        # d log_softmax_i / dx_j = delta_ij - softmax_j
        return grad_out - xp.exp(out) * xp.sum(grad_out, axis=ctx.axis, keepdims=True)


class Softmax(Function):
    @staticmethod
    def forward(ctx: Context, x: Array, axis: int) -> Array:
        xp = backend.namespace(x)
        e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
        out = e / xp.sum(e, axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        (out,) = ctx.saved_arrays
        xp = backend.namespace(out)
        # d softmax_i / dx_j = s_i (delta_ij - s_j)
        return out * (grad_out - xp.sum(grad_out * out, axis=ctx.axis, keepdims=True))


# ------------------------------------------------------------------------- functions


def relu(x: Tensor) -> Tensor:
    """max(x, 0)."""
    check_floating(x, "relu")
    return ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, ``negative_slope * x`` otherwise."""
    check_floating(x, "leaky_relu")
    if not isinstance(negative_slope, (int, float)) or isinstance(negative_slope, bool):
        raise TypeError(f"leaky_relu: negative_slope must be a number, got {negative_slope!r}")
    return LeakyReLU.apply(x, negative_slope)


def sigmoid(x: Tensor) -> Tensor:
    """1 / (1 + exp(-x)), stable for any x."""
    check_floating(x, "sigmoid")
    return Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    check_floating(x, "tanh")
    return Tanh.apply(x)


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


@numpy_names
def softmax(x: Tensor, dim: int) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``."""
    check_floating(x, "softmax")
    return Softmax.apply(x, _softmax_axis(x, dim, "softmax"))


@numpy_names
def log_softmax(x: Tensor, dim: int) -> Tensor:
    """x - logsumexp(x) along ``dim``."""
    check_floating(x, "log_softmax")
    return LogSoftmax.apply(x, _softmax_axis(x, dim, "log_softmax"))


def _softmax_axis(x: Tensor, dim: Any, op: str) -> int:
    axis = single_axis(dim, x.ndim, op)
    if x.shape[axis] == 0:
        raise ShapeError(f"{op} over dim {dim} of size 0 (shape {x.shape}): no elements to "
                         "normalise")
    return axis
