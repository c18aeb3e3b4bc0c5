"""The L1 and smooth L1 (Huber-like) losses, fused as :mod:`minigen.ops.losses`'s are: one op
for the elementwise loss and its reduction, one backward. The target may broadcast to the
input's shape, never widen it (the same rule and error as ``mse_loss``)."""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.ops.losses import loss_arguments, per_element_grad, reduce_loss


class L1Loss(Function):
    """|a - b|; the gradient is sign(a - b), 0 where a == b (as PyTorch)."""

    @staticmethod
    def forward(ctx: Context, a: Array, b: Array, reduction: str) -> Array:
        diff = a - b
        ctx.save_for_backward(diff)
        return reduce_loss(ctx, backend.namespace(diff).abs(diff), reduction)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Array, Array, None]:
        (diff,) = ctx.saved_arrays
        grad = per_element_grad(ctx, grad_out) * backend.namespace(diff).sign(diff)
        return grad, -grad, None


class SmoothL1Loss(Function):
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere (d = a - b, beta > 0): the
    two pieces meet with equal values and slopes at |d| = beta. The gradient is
    clip(d / beta, -1, 1)."""

    @staticmethod
    def forward(ctx: Context, a: Array, b: Array, reduction: str, beta: float) -> Array:
        xp = backend.namespace(a)
        diff = a - b
        ctx.save_for_backward(diff)
        ctx.beta = beta
        size = xp.abs(diff)
        quadratic = xp.minimum(size, beta)  # |d| on the quadratic piece, beta past it
        # 0.5 q^2 / beta + (|d| - q): the quadratic piece, plus the linear part past beta
        loss = quadratic * quadratic * (0.5 / beta) + (size - quadratic)
        return reduce_loss(ctx, loss, reduction)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Array, Array, None, None]:
        (diff,) = ctx.saved_arrays
        xp = backend.namespace(diff)
        grad = per_element_grad(ctx, grad_out) * xp.clip(diff * (1.0 / ctx.beta), -1.0, 1.0)
        return grad, -grad, None, None


# ------------------------------------------------------------------------- functions


def l1_loss(input: Any, target: Any, reduction: str = "mean"):
    """Mean (or summed, or elementwise) absolute error ``|input - target|``."""
    input, target = loss_arguments(input, target, reduction, "l1_loss")
    return L1Loss.apply(input, target, reduction)


def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean", beta: float = 1.0):
    """PyTorch's smooth L1 loss: ``0.5 * d**2 / beta`` where ``|d| < beta``, else
    ``|d| - 0.5 * beta`` (d = input - target): quadratic near 0, linear (robust to outliers)
    past ``beta``. ``beta=0`` is the L1 loss; a negative beta is refused, as PyTorch does."""
    op = "smooth_l1_loss"
    if not isinstance(beta, (int, float)) or isinstance(beta, bool):
        raise TypeError(f"{op}: beta must be a number, got {beta!r}")
    if not beta >= 0:  # NaN too
        raise ValueError(f"{op}: beta must be >= 0, got {beta}")
    input, target = loss_arguments(input, target, reduction, op)
    if beta == 0:
        return L1Loss.apply(input, target, reduction)
    return SmoothL1Loss.apply(input, target, reduction, float(beta))
