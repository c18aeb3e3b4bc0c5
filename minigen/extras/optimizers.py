"""Optimizers with per-coordinate step sizes: RMSprop, Adagrad and Adadelta, PyTorch's rules.

Same conventions as :mod:`.optimizer`: each ``step()`` updates the parameters' data and the
optimizer's own buffers in place, never the gradient, and ``state_dict()`` saves the step
count and buffers so a reloaded optimizer continues bit for bit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minigen import backend
from minigen.backend import Array
from minigen.optim.adam import Adam
from minigen.optim.optimizer import Optimizer
from minigen.tensor import Tensor


def _non_negative(name: str, **values: float) -> None:
    bad = {k: v for k, v in values.items() if not v >= 0.0}  # catches NaN too
    if bad:
        listed = ", ".join(f"{k}={v}" for k, v in values.items())
        raise ValueError(f"{name} needs {', '.join(values)} >= 0, got {listed}")


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture notes), PyTorch's variant. With g the gradient:

    - weight decay:  g = g + weight_decay * p
    - mean square:   v = alpha v + (1 - alpha) g^2
    - centered:      a = alpha a + (1 - alpha) g (mean gradient); d = sqrt(v - a^2) + eps,
      otherwise d = sqrt(v) + eps (eps outside the square root, as in PyTorch)
    - momentum:      b = momentum b + g / d;  p = p - lr b
    - otherwise:     p = p - lr g / d
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False):
        _non_negative("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                      momentum=momentum)
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=bool(centered), weight_decay=weight_decay))

    def _update(self, p: Tensor, grad: Array, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        xp = backend.namespace(p.data)
        lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
        momentum = group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p.data)
            if momentum > 0.0:
                state["momentum_buffer"] = xp.zeros_like(p.data)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(p.data)
        state["step"] += 1
        if wd != 0.0:
            grad = grad + wd * p.data  # a new array: the gradient itself is never changed
        v = state["square_avg"]
        v *= alpha
        v += (1.0 - alpha) * (grad * grad)
        if group["centered"]:
            a = state["grad_avg"]
            a += (1.0 - alpha) * (grad - a)  # a = alpha a + (1 - alpha) g, as torch's lerp
            denom = xp.sqrt(v - a * a)
        else:
            denom = xp.sqrt(v)
        denom += eps
        if momentum > 0.0:
            buf = state["momentum_buffer"]
            buf *= momentum
            buf += grad / denom
            p.data -= lr * buf
        else:
            p.data -= lr * (grad / denom)


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), PyTorch's rule. At step t, with g the gradient:

    - weight decay:  g = g + weight_decay * p
    - sum of squares: s = s + g^2 (s starts at ``initial_accumulator_value``)
    - update:        p = p - lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)

    As in PyTorch, the state (step 0, the sum) exists from construction, for every parameter.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10):
        _non_negative("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                      initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value))

    def add_param_group(self, group: dict[str, Any]) -> None:
        super().add_param_group(group)
        added = self.param_groups[-1]
        for p in added["params"]:
            self._init_state(p, self.state.setdefault(id(p), {}), added)

    @staticmethod
    def _init_state(p: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = backend.namespace(p.data)
        state["step"] = 0
        state["sum"] = xp.full_like(p.data, group["initial_accumulator_value"])

    def _update(self, p: Tensor, grad: Array, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        xp = backend.namespace(p.data)
        if not state:  # e.g. after loading a state_dict without this parameter's entry
            self._init_state(p, state, group)
        state["step"] += 1
        t, s = state["step"], state["sum"]
        if group["weight_decay"] != 0.0:
            grad = grad + group["weight_decay"] * p.data
        clr = group["lr"] / (1.0 + (t - 1) * group["lr_decay"])
        s += grad * grad
        std = xp.sqrt(s)
        std += group["eps"]
        p.data -= clr * (grad / std)


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012), PyTorch's rule (pytorch/examples' ``mnist/main.py`` trains
    with it at ``lr=1.0``). With g the gradient:

    - weight decay:  g = g + weight_decay * p
    - mean square:   v = rho v + (1 - rho) g^2
    - step:          d = sqrt(u + eps) / sqrt(v + eps) * g  (u: the mean square of past steps)
    - step average:  u = rho u + (1 - rho) d^2
    - update:        p = p - lr d
    """

    def __init__(self, params: Iterable[Any], lr: float = 1.0, rho: float = 0.9,
                 eps: float = 1e-6, weight_decay: float = 0.0):
        _non_negative("Adadelta", lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        if not rho <= 1.0:
            raise ValueError(f"Adadelta needs 0 <= rho <= 1, got rho={rho}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def _update(self, p: Tensor, grad: Array, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        xp = backend.namespace(p.data)
        lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p.data)
            state["acc_delta"] = xp.zeros_like(p.data)
        state["step"] += 1
        if wd != 0.0:
            grad = grad + wd * p.data  # a new array: the gradient itself is never changed
        v, u = state["square_avg"], state["acc_delta"]
        v *= rho
        v += (1.0 - rho) * (grad * grad)
        delta = xp.sqrt(u + eps) / xp.sqrt(v + eps) * grad
        u *= rho
        u += (1.0 - rho) * (delta * delta)
        p.data -= lr * delta


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): before the Adam step,
    ``p = p * (1 - lr * weight_decay)``, instead of adding the decay to the gradient."""

    decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
