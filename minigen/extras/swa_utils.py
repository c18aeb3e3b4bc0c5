"""Averaged weights, as PyTorch's ``torch.optim.swa_utils``: :class:`AveragedModel` keeps a
copy of a model whose weights are an average of the model's over training steps.

With :func:`get_ema_multi_avg_fn` it is an exponential moving average (EMA),
``w_ema = decay * w_ema + (1 - decay) * w`` after every step: the trick GANs use to sample
from a generator whose weights have stopped jittering around the equilibrium the two
networks chase. Without an averaging function it is the plain running mean of stochastic
weight averaging (SWA). The first update copies the weights; later ones average.

    G_ema = AveragedModel(G, multi_avg_fn=get_ema_multi_avg_fn(0.999), use_buffers=True)
    ...  # after each optimizer step of G:
    G_ema.update_parameters(G)
    samples = G_ema(z)
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import minigen
from minigen.backend import int64
from minigen.nn.module import Module
from minigen.tensor import Tensor

__all__ = ["AveragedModel", "get_ema_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]

AvgFn = Callable[[Tensor, Tensor, Any], Tensor]
MultiAvgFn = Callable[[Sequence[Tensor], Sequence[Tensor], Any], None]


def _check_decay(decay: float) -> None:
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"the EMA decay must be in [0, 1], got {decay}")


def get_ema_multi_avg_fn(decay: float = 0.999) -> MultiAvgFn:
    """``w_ema = decay * w_ema + (1 - decay) * w`` for every pair, in place."""
    _check_decay(decay)

    def ema_update(averaged: Sequence[Tensor], current: Sequence[Tensor], n: Any) -> None:
        for a, c in zip(averaged, current):
            a.mul_(decay).add_(c, alpha=1.0 - decay)
    return ema_update


def get_ema_avg_fn(decay: float = 0.999) -> AvgFn:
    """``decay * w_ema + (1 - decay) * w`` for one pair, as a new tensor."""
    _check_decay(decay)
    return lambda averaged, current, n: averaged * decay + current * (1.0 - decay)


def get_swa_avg_fn() -> AvgFn:
    """The running mean: ``w_avg + (w - w_avg) / (n + 1)`` after ``n`` averaged."""
    return lambda averaged, current, n: averaged + (current - averaged) / (int(n) + 1)


class AveragedModel(Module):
    """A copy of ``model`` (``.module``) whose weights :meth:`update_parameters` averages.

    Parameters
    ----------
    model : the module to average; it is deep-copied (``device``: and moved there).
    avg_fn : ``f(averaged, current, n_averaged) -> new averaged`` for one tensor, or
    multi_avg_fn : ``f(averaged_list, current_list, n_averaged)`` updating in place; neither:
        the running mean (SWA).
    use_buffers : average the buffers too (BatchNorm's running statistics); otherwise they
        are copied from ``model`` at each update. With an EMA of a generator that has
        BatchNorm, ``True`` keeps its statistics in step with its averaged weights.

    ``n_averaged`` (a buffer: saved in ``state_dict``) counts the updates.
    """

    def __init__(self, model: Module, device: Any = None, avg_fn: AvgFn | None = None,
                 multi_avg_fn: MultiAvgFn | None = None, use_buffers: bool = False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("give AveragedModel avg_fn or multi_avg_fn, not both")
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel averages a Module, got {type(model).__name__}")
        self.module = copy.deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        target = self.module.parameters() + self.module.buffers()
        where = target[0].device if target else minigen.device("cpu")
        self.register_buffer("n_averaged", minigen.zeros((), dtype=int64, device=where))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self.module(*args, **kwargs)

    def _pairs(self, model: Module, buffers: bool) -> tuple[list[Tensor], list[Tensor]]:
        mine, theirs = self.module.parameters(), model.parameters()
        if buffers:
            mine, theirs = mine + self.module.buffers(), theirs + model.buffers()
        if len(mine) != len(theirs) or any(a.shape != b.shape for a, b in zip(mine, theirs)):
            raise minigen.ShapeError("update_parameters takes the model this AveragedModel "
                                     "was made from (its parameters' shapes differ)")
        return mine, [b.detach().to(a.device) for a, b in zip(mine, theirs)]

    def update_parameters(self, model: Module) -> None:
        """Average ``model``'s current weights in: copied at the first call, then averaged
        by ``avg_fn`` / ``multi_avg_fn`` (the running mean if neither)."""
        averaged, current = self._pairs(model, self.use_buffers)
        n = int(self.n_averaged.item())
        with minigen.no_grad():
            counts = [(a, c) for a, c in zip(averaged, current) if not a.dtype.is_floating_point]
            for a, c in counts:  # (an integer buffer, BatchNorm's step count: copied, since
                a.copy_(c)       # averaging a count means nothing; PyTorch truncates a float)
            floats = [(a, c) for a, c in zip(averaged, current) if a.dtype.is_floating_point]
            averaged, current = [a for a, _ in floats], [c for _, c in floats]
            if n == 0:
                for a, c in zip(averaged, current):
                    a.copy_(c)
            elif self.multi_avg_fn is not None:
                self.multi_avg_fn(averaged, current, n)
            else:
                fn = self.avg_fn or get_swa_avg_fn()
                for a, c in zip(averaged, current):
                    a.copy_(fn(a, c, n))
            if not self.use_buffers:  # kept in step with the model's
                for a, b in zip(self.module.buffers(), model.buffers()):
                    a.copy_(b.detach())
            self.n_averaged += 1
