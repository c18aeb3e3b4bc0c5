"""Adam (Kingma & Ba, 2015), with PyTorch's bias correction."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from minigen import backend
from minigen.optim.optimizer import Optimizer
from minigen.tensor import Tensor


class Adam(Optimizer):
    """Adam: each weight moves by its gradient's running mean over the square root of the
    running mean of its square, so every weight takes steps of about ``lr``.

    ``weight_decay`` adds ``weight_decay * p`` to the gradient (an L2 penalty); ``amsgrad``
    divides by the largest second moment so far (Reddi et al., 2018).
    """

    decoupled = False  # (AdamW, an extra, subclasses Adam with True)

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False):
        if lr < 0.0 or eps < 0.0 or weight_decay < 0.0:
            raise ValueError(f"{type(self).__name__} needs lr, eps and weight_decay >= 0, got "
                             f"lr={lr}, eps={eps}, weight_decay={weight_decay}")
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=bool(amsgrad)))

    def _update(self, p: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        xp = backend.namespace(p.data)
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        if not state:  # the first step: both moments start at zero
            state.update(step=0, exp_avg=xp.zeros_like(p.data), exp_avg_sq=xp.zeros_like(p.data))
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(p.data)
        state["step"] += 1
        t, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        if group["weight_decay"] and self.decoupled:
            p.data *= 1.0 - lr * group["weight_decay"]  # AdamW: the weights shrink directly
        elif group["weight_decay"]:
            grad = grad + group["weight_decay"] * p.data  # Adam: an L2 penalty in the gradient
        # exercise 9: the moments m and v, updated in place
        m *= beta1
        m += (1.0 - beta1) * grad  # m = beta1 m + (1 - beta1) g         (in place)
        v *= beta2
        v += (1.0 - beta2) * grad * grad  # v = beta2 v + (1 - beta2) g^2
        # end exercise 9
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"] = xp.maximum(state["max_exp_avg_sq"], v)
        # exercise 9: the step, with the moments' bias corrected
        # Both moments start at 0, biased towards it: m_hat = m / (1 - beta1^t), likewise v.
        # The step, p = p - lr * m_hat / (sqrt(v_hat) + eps), on arrays made once:
        denom = xp.sqrt(v)
        denom /= math.sqrt(1.0 - beta2**t)  # sqrt(v_hat)
        denom += eps
        step = m * (lr / (1.0 - beta1**t))  # lr * m_hat
        step /= denom
        p.data -= step
        # end exercise 9

