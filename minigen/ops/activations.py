"""Activation functions, each one op with its closed-form derivative (cheaper than a chain
of elementwise ops, and stable at extreme inputs): relu, leaky_relu, sigmoid, tanh, softmax
and log_softmax."""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.errors import ShapeError
from minigen.ops._common import check_floating, numpy_names, single_axis
from minigen.tensor import Tensor


def stable_sigmoid(x: Any, e: Any) -> Any:
    """1 / (1 + e^-x) given e = e^-|x| (<= 1, so nothing overflows): 1 / (1 + e) for x >= 0
    and e / (1 + e) for x < 0, the numerator picked as max(e, [x >= 0])."""
    xp = backend.namespace(x)
    return xp.maximum(e, xp.astype(x >= 0, x.dtype)) / (1.0 + e)


class ReLU(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        out = backend.namespace(x).maximum(x, 0.0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        (out,) = ctx.saved_arrays
        return grad_out * backend.namespace(out).astype(out > 0, grad_out.dtype)  # 1 if x > 0


class LeakyReLU(Function):
    """x where x > 0, slope * x elsewhere: max(x, slope x) for a slope in [0, 1]."""

    @staticmethod
    def forward(ctx: Context, x: Any, slope: float) -> Any:
        xp = backend.namespace(x)
        ctx.slope = slope
        if 0.0 <= slope <= 1.0:
            out = xp.maximum(x, x * slope)
            ctx.save_for_backward(out)  # (out > 0 exactly where x > 0)
            return out
        ctx.save_for_backward(x)  # any other slope: max(x, 0) + slope min(x, 0)
        return xp.maximum(x, 0.0) + xp.minimum(x, 0.0) * slope

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        (saved,) = ctx.saved_arrays
        positive = backend.namespace(saved).astype(saved > 0, grad_out.dtype)
        if 0.0 <= ctx.slope <= 1.0:  # the derivative, 1 or the slope, is max([x > 0], slope)
            return grad_out * backend.namespace(saved).maximum(positive, ctx.slope)
        return grad_out * (positive + (1.0 - positive) * ctx.slope)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        xp = backend.namespace(x)
        out = stable_sigmoid(x, xp.exp(-xp.abs(x)))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        # exercise 4: Sigmoid.backward, from the saved output
        (out,) = ctx.saved_arrays
        return grad_out * out * (1.0 - out)  # s' = s (1 - s)
        # end exercise 4


class Tanh(Function):
    @staticmethod
    def forward(ctx: Context, x: Any) -> Any:
        out = backend.namespace(x).tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        # exercise 4: Tanh.backward, from the saved output
        (out,) = ctx.saved_arrays
        return grad_out * (1.0 - out * out)  # tanh' = 1 - tanh^2
        # end exercise 4


class Softmax(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, axis: int) -> Any:
        xp = backend.namespace(x)
        e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))  # shifted: exp cannot overflow
        out = e / xp.sum(e, axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        (s,) = ctx.saved_arrays
        # d s_i / dx_j = s_i (delta_ij - s_j)
        return s * (grad_out - backend.namespace(s).sum(grad_out * s, axis=ctx.axis,
                                                         keepdims=True))


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, axis: int) -> Any:
        xp = backend.namespace(x)
        shifted = x - xp.max(x, axis=axis, keepdims=True)
        out = shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        (out,) = ctx.saved_arrays
        xp = backend.namespace(out)
        # d log_softmax_i / dx_j = delta_ij - softmax_j
        return grad_out - xp.exp(out) * xp.sum(grad_out, axis=ctx.axis, keepdims=True)


# ------------------------------------------------------------------ the functions
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


def softmax(x: Tensor, dim: int = None, **names: Any) -> Tensor:
    """exp(x) / sum(exp(x)) along ``dim``."""
    return Softmax.apply(x, _axis(x, dim, names, "softmax"))


def log_softmax(x: Tensor, dim: int = None, **names: Any) -> Tensor:
    """x - log(sum(exp(x))) along ``dim``, without overflow."""
    return LogSoftmax.apply(x, _axis(x, dim, names, "log_softmax"))


def _axis(x: Tensor, dim: Any, names: dict[str, Any], op: str) -> int:
    check_floating(x, op)
    dim, _ = numpy_names(dim, None, names, op)
    axis = single_axis(dim, x.ndim, op)
    if x.shape[axis] == 0:
        raise ShapeError(f"{op} over dim {dim} of size 0 (shape {x.shape}): no elements to "
                         "normalise")
    return axis
