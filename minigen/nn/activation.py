"""Activation layers: thin modules around the activation ops, for use in ``Sequential``."""

from __future__ import annotations

from minigen import ops
from minigen.nn.module import Module
from minigen.tensor import Tensor


class ReLU(Module):
    """max(x, 0). ``inplace`` is accepted for PyTorch code (``nn.ReLU(True)``) and changes
    nothing: minigen never overwrites an input, and the result is the same."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return ops.relu(input)


class LeakyReLU(Module):
    """x for x > 0, ``negative_slope * x`` otherwise (the DCGAN discriminator uses 0.2).
    ``inplace``: as ReLU's, accepted and without effect."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return ops.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + exp(-x)), stable for any x."""

    def forward(self, input: Tensor) -> Tensor:
        return ops.sigmoid(input)


class Tanh(Module):
    """tanh(x), in (-1, 1): the DCGAN generator's output for images scaled to [-1, 1]."""

    def forward(self, input: Tensor) -> Tensor:
        return ops.tanh(input)
