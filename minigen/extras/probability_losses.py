"""Binary cross-entropy of probabilities (``F.binary_cross_entropy``, ``nn.BCELoss``): the
model's losses take logits instead (``binary_cross_entropy_with_logits``, stabler)."""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.ops.losses import (
    loss_arguments,
    loss_shaped,
    loss_weight,
    per_element_grad,
    reduce_loss,
    weighted,
)

# PyTorch floors p (1 - p) in BCE's gradient at 1e-12 held as a C float: 1e-12 rounded to
# float32, which is this number, not 1e-12 (a gradient 4e-9 apart at p = 0 or 1 in float64).
GRAD_FLOOR = 9.999999960041972e-13


def _log_floored(log: Any, p: Any, edge: float) -> Any:
    """``max(log(p), -100)``, where ``p == edge`` (log of 0) is -100 directly: computing
    log(0) = -inf and clamping it would warn on every saturated sigmoid output."""
    xp = backend.namespace(p)
    at_edge = p == edge
    return xp.where(at_edge, -100.0, xp.clip(log(xp.where(at_edge, 0.5, p)), -100.0, None))


class BinaryCrossEntropy(Function):
    @staticmethod
    def forward(ctx: Context, p: Any, target: Any, reduction: str) -> Any:
        xp = backend.namespace(p)
        # PyTorch clamps each log at -100, so p = 0 or 1 gives a large finite loss, not inf.
        log_p = _log_floored(xp.log, p, edge=0.0)
        log_1mp = _log_floored(lambda q: xp.log1p(-q), p, edge=1.0)
        ctx.save_for_backward(p, target, log_p, log_1mp)
        loss = -(target * log_p + (1.0 - target) * log_1mp)
        return reduce_loss(ctx, loss, reduction)

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> tuple[Any, Any]:
        p, target, log_p, log_1mp = ctx.saved_arrays
        xp = backend.namespace(p)
        g = per_element_grad(ctx, grad_out)
        grad_p = grad_y = None
        if ctx.needs_input_grad[0]:
            # d/dp = (p - y) / (p (1 - p)), with PyTorch's floor on the denominator
            grad_p = g * (p - target) / xp.maximum(p * (1.0 - p), GRAD_FLOOR)
        if ctx.needs_input_grad[1]:
            grad_y = loss_shaped(ctx, g * (log_1mp - log_p))
        return grad_p, grad_y


def binary_cross_entropy(input: Any, target: Any, weight: Any = None, *,
                         reduction: str = "mean"):
    """BCE of probabilities ``input`` in [0, 1] against ``target``; each log is clamped at
    -100 as in PyTorch. ``weight`` rescales each element's loss (it broadcasts to the
    input's shape)."""
    op = "binary_cross_entropy"
    input, target = loss_arguments(input, target, reduction, op)
    xp = backend.namespace(input.data)
    if bool(xp.any((input.data < 0.0) | (input.data > 1.0))):  # log of a negative: NaN
        low, high = float(xp.min(input.data)), float(xp.max(input.data))
        raise ValueError(f"{op}: every input must be a probability in [0, 1], got values in "
                         f"[{low:.4g}, {high:.4g}]. Pass D's sigmoid output, or give the "
                         "logits to binary_cross_entropy_with_logits (stabler)")
    if weight is None:
        return BinaryCrossEntropy.apply(input, target, reduction)
    weight = loss_weight(input, weight, "weight", op)
    return weighted(BinaryCrossEntropy.apply(input, target, "none"), weight, reduction)
