"""SGD: stochastic gradient descent, with momentum (Nesterov's too) and weight decay."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minigen import backend
from minigen.optim.optimizer import Optimizer
from minigen.tensor import Tensor


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's rule. With g the gradient:

    - weight decay:  g = g + weight_decay * p
    - momentum:      b = g at the first step, then b = momentum * b + (1 - dampening) * g
    - nesterov:      g = g + momentum * b, otherwise g = b
    - update:        p = p - lr * g
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False):
        if lr < 0.0 or momentum < 0.0 or weight_decay < 0.0:
            raise ValueError(f"SGD needs lr, momentum and weight_decay >= 0, got lr={lr}, "
                             f"momentum={momentum}, weight_decay={weight_decay}")
        if nesterov and (momentum <= 0.0 or dampening != 0.0):
            raise ValueError("Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov))

    def _update(self, p: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
        if wd != 0.0:
            grad = grad + wd * p.data  # a new array: the gradient itself is never changed
        if momentum != 0.0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = backend.namespace(grad).asarray(grad, copy=True)
            else:
                buf *= momentum
                buf += (1.0 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        p.data -= lr * grad
