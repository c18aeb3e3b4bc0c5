"""L1Loss and SmoothL1Loss: ``loss_fn = nn.SmoothL1Loss(beta=0.5); loss = loss_fn(x, y)``."""

from __future__ import annotations

from minigen import ops
from minigen.nn.loss import _Loss
from minigen.tensor import Tensor


class L1Loss(_Loss):
    """Mean (or summed, or elementwise) absolute error ``|input - target|``."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return ops.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """``0.5 * d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 * beta``, d = input -
    target: quadratic near 0, linear past ``beta`` (PyTorch's default 1.0)."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return ops.smooth_l1_loss(input, target, self.reduction, self.beta)
