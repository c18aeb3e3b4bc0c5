"""The layers without weights, thin modules around ops for use in ``Sequential``: the
activations (ReLU, LeakyReLU, Sigmoid, Tanh) and the reshapes (Flatten, Unflatten, Identity).
"""

from __future__ import annotations

import math

from minigen import ops
from minigen.errors import ShapeError
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


class Identity(Module):
    """Returns its input unchanged (a placeholder layer)."""

    def forward(self, input: Tensor) -> Tensor:
        return input


class Flatten(Module):
    """Merge dimensions ``start_dim..end_dim`` into one: (N, 1, 28, 28) -> (N, 784)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return ops.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size``: (N, 784) -> (N, 1, 28, 28) with
    ``Unflatten(1, (1, 28, 28))``."""

    def __init__(self, dim: int, unflattened_size: tuple[int, ...]):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        dim = self.dim % input.ndim if -input.ndim <= self.dim < input.ndim else None
        if dim is None or input.shape[dim] != math.prod(self.unflattened_size):
            raise ShapeError(f"Unflatten(dim={self.dim}, {self.unflattened_size}) needs size "
                             f"{math.prod(self.unflattened_size)} in dimension {self.dim}, got "
                             f"input of shape {input.shape}")
        shape = input.shape[:dim] + self.unflattened_size + input.shape[dim + 1:]
        return ops.reshape(input, shape)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
