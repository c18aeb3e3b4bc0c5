"""LayerNorm: normalise each sample over its last dimensions (the transformer's
normalisation), then scale and shift elementwise (``weight``, ``bias``). No running
statistics: train and eval compute the same thing."""

from __future__ import annotations

from typing import Any

from minigen import ops
from minigen.creation import ones, zeros
from minigen.nn import init
from minigen.nn.module import Module
from minigen.nn.parameter import Parameter
from minigen.ops.layer_norm import normalized_shape_tuple
from minigen.tensor import Tensor


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` (an int for the last
    dimension alone): ``(x - mean) / sqrt(var + eps) * weight + bias``, with the biased
    variance, as PyTorch's.

    ``elementwise_affine=False`` gives no parameters; ``bias=False`` a weight only. The
    weight starts at ones and the bias at zeros (the identity after normalising).

    >>> LayerNorm(8)(minigen.randn(2, 5, 8)).shape
    (2, 5, 8)
    """

    def __init__(self, normalized_shape: Any, eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None):
        super().__init__()
        if isinstance(normalized_shape, int) and not isinstance(normalized_shape, bool):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = normalized_shape_tuple(normalized_shape, "LayerNorm")
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.weight = self.bias = None
        if elementwise_affine:
            self.weight = Parameter(ones(*self.normalized_shape, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(zeros(*self.normalized_shape, dtype=dtype,
                                            device=device))

    def reset_parameters(self) -> None:
        """Weight to ones, bias to zeros."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return ops.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")
