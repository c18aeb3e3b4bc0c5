"""``nn.utils``: gradient clipping, as ``torch.nn.utils`` (call after ``backward()``, before
``optimizer.step()``; a common guard in GAN training against one huge step)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import minigen
from minigen import backend
from minigen.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _grads(parameters: Iterable[Tensor] | Tensor) -> list[Tensor]:
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in params if p.grad is not None]


def clip_grad_norm_(parameters: Iterable[Tensor] | Tensor, max_norm: float,
                    norm_type: float = 2.0) -> Tensor:
    """Scale every gradient by ``max_norm / (total_norm + 1e-6)`` when that is below 1, where
    ``total_norm`` is the ``norm_type``-norm of all the gradients together (as if one vector;
    ``inf``: the largest absolute value). Returns ``total_norm``, before clipping.

    >>> model = nn.Linear(3, 1)
    >>> model(minigen.ones(4, 3) * 100).sum().backward()
    >>> before = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    >>> after = nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    >>> before.item() > 1, round(after.item(), 3)
    (True, 1.0)
    """
    if not max_norm > 0 or not (norm_type > 0):
        raise ValueError(f"clip_grad_norm_: max_norm and norm_type must be positive, got "
                         f"{max_norm!r} and {norm_type!r}")
    grads = _grads(parameters)
    if not grads:
        return minigen.tensor(0.0)
    xp = backend.namespace(grads[0].grad.data)
    if math.isinf(norm_type):
        total = max(float(xp.max(xp.abs(g.grad.data))) for g in grads)
    else:
        total = sum(float(xp.sum(xp.abs(g.grad.data) ** norm_type)) for g in grads) ** (
            1.0 / norm_type)
    scale = max_norm / (total + 1e-6)
    if scale < 1.0:
        for p in grads:
            p.grad = Tensor._make(p.grad.data * scale)
    return minigen.tensor(total, dtype=grads[0].grad.dtype)


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: Any) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]``."""
    if not clip_value > 0:
        raise ValueError(f"clip_grad_value_: clip_value must be positive, got {clip_value!r}")
    for p in _grads(parameters):
        p.grad = Tensor._make(backend.namespace(p.grad.data).clip(p.grad.data, -clip_value,
                                                                  clip_value))
