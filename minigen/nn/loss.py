"""Loss modules: ``loss_fn = BCEWithLogitsLoss(); loss = loss_fn(logits, targets)``; also
the regression losses MSELoss, L1Loss and SmoothL1Loss (``nn.SmoothL1Loss(beta=0.5)``), and
KLDivLoss.

Prefer :class:`BCEWithLogitsLoss` on logits to :class:`BCELoss` after a Sigmoid: it computes
``max(x, 0) - x*y + log1p(exp(-|x|))``, which never overflows and never takes log(0).
"""

from __future__ import annotations

from minigen import ops
from minigen.nn.module import Module
from minigen.ops.losses import REDUCTIONS
from minigen.ops.similarity import KL_REDUCTIONS
from minigen.tensor import Tensor


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities ``input`` in [0, 1] against ``target``;
    ``weight`` (a buffer, as in PyTorch) rescales each element's loss."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return ops.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


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


class KLDivLoss(_Loss):
    """The KL divergence of ``target`` from log-probabilities ``input`` (see
    :func:`minigen.functional.kl_div`); ``reduction='batchmean'`` is the true KL per sample."""

    def __init__(self, reduction: str = "mean", log_target: bool = False):
        Module.__init__(self)
        if reduction not in KL_REDUCTIONS:
            raise ValueError(f"{reduction} is not a valid value for reduction")
        self.reduction = reduction
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return ops.kl_div(input, target, self.reduction, self.log_target)


class NLLLoss(_Loss):
    """Negative log-likelihood of integer labels, from log-probabilities (classes on dim 1);
    ``weight`` (C,), a buffer, rescales each class; labels equal to ``ignore_index`` count
    for nothing. After ``log_softmax``: together, :class:`CrossEntropyLoss`."""

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return ops.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class CrossEntropyLoss(NLLLoss):
    """Cross-entropy of logits (classes on dim 1) against integer labels or class
    probabilities: ``log_softmax`` and NLL in one. ``label_smoothing`` mixes the target with
    the uniform distribution over the classes.

    >>> loss_fn = nn.CrossEntropyLoss()
    >>> round(loss_fn(minigen.tensor([[2.0, 0.0]]), minigen.tensor([0])).item(), 4)
    0.1269
    """

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, ignore_index, reduction)
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return ops.cross_entropy(input, target, self.weight, self.ignore_index,
                                 self.reduction, self.label_smoothing)


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
