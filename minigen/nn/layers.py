"""Linear, Dropout, Flatten, Unflatten and Identity: the fully connected building blocks;
also CosineSimilarity.

Each layer checks its input's shape before calling its op, so a mistake is reported in the
layer's terms ("flatten it first"), not as a matrix-product mismatch deep inside.
"""

from __future__ import annotations

from typing import Any

from minigen import ops
from minigen.creation import zeros
from minigen.errors import ShapeError
from minigen.nn import init
from minigen.nn.module import Module
from minigen.nn.parameter import Parameter
from minigen.tensor import Tensor


def _check_sizes(layer: str, **sizes: Any) -> None:
    """A ValueError naming the argument, unless every size is a positive int."""
    for name, n in sizes.items():
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"{layer}: {name} must be a positive int, got {n!r}")


def _empty(*shape: int, device: Any = None, dtype: Any = None) -> Parameter:
    """A parameter of ``shape`` to be filled by an init function."""
    return Parameter(zeros(*shape, dtype=dtype, device=device))


class Linear(Module):
    """``y = x @ weight.T + bias``: ``in_features`` -> ``out_features`` on the last axis.

    Shapes: input (..., in_features), output (..., out_features); weight
    (out_features, in_features), bias (out_features,). Initialised as PyTorch's: weight and
    bias from U(-1/sqrt(in_features), 1/sqrt(in_features)).

    >>> Linear(784, 512)(minigen.randn(128, 784)).shape
    (128, 512)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None):
        super().__init__()
        _check_sizes("Linear", in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = _empty(out_features, in_features, device=device, dtype=dtype)
        self.bias = _empty(out_features, device=device, dtype=dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_reset_(self.weight, self.bias)

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim == 0 or input.shape[-1] != self.in_features:
            hint = "the last dimension must be the features"
            if input.ndim > 2 and _prod(input.shape[1:]) == self.in_features:
                hint = "flatten it first (x.flatten(1), or nn.Flatten())"
            raise ShapeError(f"Linear(in_features={self.in_features}) expected input "
                             f"(..., {self.in_features}), got {input.shape}: {hint}")
        return ops.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


def _prod(shape: tuple[int, ...]) -> int:
    n = 1
    for s in shape:
        n *= s
    return n


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
        if dim is None or input.shape[dim] != _prod(self.unflattened_size):
            raise ShapeError(f"Unflatten(dim={self.dim}, {self.unflattened_size}) needs size "
                             f"{_prod(self.unflattened_size)} in dimension {self.dim}, got "
                             f"input of shape {input.shape}")
        shape = input.shape[:dim] + self.unflattened_size + input.shape[dim + 1:]
        return ops.reshape(input, shape)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the rest by
    1 / (1 - p) (so the expected value is unchanged); in eval mode, the identity. The mask
    comes from the device's seeded generator. ``inplace`` is accepted for PyTorch code and
    changes nothing (minigen never overwrites an input; the result is the same)."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return ops.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
