"""Parameter: a tensor that is a trainable weight of a module (as ``torch.nn.Parameter``)."""

from __future__ import annotations

from typing import Any

from minigen.creation import tensor, zeros
from minigen.tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a trainable weight of a module: a leaf with ``requires_grad=True``.

    ``Parameter(minigen.zeros(3))`` shares the tensor's data. Ops on a parameter give plain
    tensors (``W * 2`` is a Tensor, not a new Parameter), so only weights are parameters.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True):
        if data is None:
            data = zeros(0)
        array = data.data if isinstance(data, Tensor) else tensor(data).data
        self.data, self.grad, self._ctx = array, None, None
        self.requires_grad = False
        self.requires_grad_(requires_grad)

    @classmethod
    def _make(cls, data: Any, requires_grad: bool = False) -> Tensor:
        # Results of ops (and gradients) built from a Parameter are plain tensors.
        return Tensor._make(data, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self.detach())
