"""Loss modules: ``loss_fn = BCEWithLogitsLoss(); loss = loss_fn(logits, targets)``, and
MSELoss. (BCELoss, CrossEntropyLoss, L1Loss... are extras.)

Prefer :class:`BCEWithLogitsLoss` on logits to ``BCELoss`` after a Sigmoid: it computes
``max(x, 0) - x*y + log1p(exp(-|x|))``, which never overflows and never takes log(0).
"""

from __future__ import annotations

from minigen import ops
from minigen.nn.module import Module
from minigen.ops.losses import REDUCTIONS
from minigen.tensor import Tensor


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of ``sigmoid(input)`` against ``target``, from the logits;
    ``weight`` rescales each element's loss, ``pos_weight`` (one per class) the positive term.
    Both are buffers, as in PyTorch."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean",
                 pos_weight: Tensor | None = None):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return ops.binary_cross_entropy_with_logits(input, target, self.weight,
                                                    reduction=self.reduction,
                                                    pos_weight=self.pos_weight)


class MSELoss(_Loss):
    """Mean (or summed) squared error."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return ops.mse_loss(input, target, self.reduction)
