"""The layers with weights: Linear, Conv2d and ConvTranspose2d.

Each holds its weight and bias as Parameters, initialised as PyTorch's (U(-1/sqrt(fan_in),
1/sqrt(fan_in)), :func:`minigen.nn.init.default_reset_`), and checks its input's shape before
calling its op, so that a mistake is named in the layer's terms ("flatten it first").
"""

from __future__ import annotations

import math
from typing import Any

from minigen import ops
from minigen.creation import zeros
from minigen.errors import ShapeError
from minigen.nn import init
from minigen.nn.module import Module, Parameter
from minigen.ops import conv_geometry as geometry
from minigen.ops.conv_geometry import pair
from minigen.tensor import Tensor


def _check_sizes(layer: Module, **sizes: Any) -> None:
    """A ValueError naming the argument, unless every size is a positive int."""
    for name, n in sizes.items():
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"{type(layer).__name__}: {name} must be a positive int, got {n!r}")


def _weights(*shape: int, device: Any, dtype: Any) -> Parameter:
    """A Parameter of ``shape``, to be filled by ``reset_parameters``."""
    return Parameter(zeros(*shape, dtype=dtype, device=device))


class Linear(Module):
    """``y = x @ weight.T + bias``: x (..., in_features) -> y (..., out_features), with
    weight (out_features, in_features) and bias (out_features,).

    >>> Linear(784, 512)(minigen.randn(128, 784)).shape
    (128, 512)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None):
        super().__init__()
        _check_sizes(self, in_features=in_features, out_features=out_features)
        self.in_features, self.out_features = in_features, out_features
        self.weight = _weights(out_features, in_features, device=device, dtype=dtype)
        self.bias = _weights(out_features, device=device, dtype=dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_reset_(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            flat = x.ndim > 2 and math.prod(x.shape[1:]) == self.in_features
            raise ShapeError(f"Linear(in_features={self.in_features}) expected input "
                             f"(..., {self.in_features}), got {x.shape}: " + (
                                 "flatten it first (x.flatten(1), or nn.Flatten())" if flat
                                 else "the last dimension must be the features"))
        return ops.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Conv2d(Module):
    """2-D convolution: x (N, in_channels, H, W) -> (N, out_channels, H_out, W_out), with
    weight (out_channels, in_channels, kH, kW). ``padding`` may also be "same" or "valid".

    >>> Conv2d(1, 64, 4, stride=2, padding=1)(minigen.randn(8, 1, 28, 28)).shape
    (8, 64, 14, 14)
    """

    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None):
        super().__init__()
        if groups != 1 or padding_mode != "zeros":
            raise NotImplementedError("only groups=1 and padding_mode='zeros' are supported")
        _check_sizes(self, in_channels=in_channels, out_channels=out_channels)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "kernel_size", 1)
        self.stride, self.dilation = pair(stride, "stride", 1), pair(dilation, "dilation", 1)
        self.padding = padding if padding in ("same", "valid") and not self.transposed else \
            pair(padding, "padding", 0)
        if self.padding == "same" and self.stride != (1, 1):
            raise ValueError("Conv2d: padding='same' needs stride 1 (the output keeps the "
                             f"input's size), got stride {self.stride}")
        self.groups = groups
        # Conv2d's weight is (out, in, kH, kW); ConvTranspose2d's is (in, out, kH, kW).
        channels = (in_channels, out_channels) if self.transposed else (out_channels,
                                                                         in_channels)
        self.weight = _weights(*channels, *self.kernel_size, device=device, dtype=dtype)
        self.bias = _weights(out_channels, device=device, dtype=dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_reset_(self.weight, self.bias)  # (fan_in from weight.shape[1:], as torch)

    def forward(self, x: Tensor) -> Tensor:
        geometry.check_layer_input(self, x)  # (a ShapeError in the layer's terms)
        return ops.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def output_shape(self, height: int, width: int) -> tuple[int, int]:
        """(H_out, W_out) for an input of (height, width)."""
        return geometry.layer_output_size(self, (height, width))

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        for name, plain in (("padding", (0, 0)), ("dilation", (1, 1)),
                            ("output_padding", (0, 0))):
            if getattr(self, name, plain) not in (plain, "valid"):
                s += f", {name}={getattr(self, name)}"
        return s + (", bias=False" if self.bias is None else "")


class ConvTranspose2d(Conv2d):
    """Transposed convolution, the adjoint (backward) of :class:`Conv2d`: each input pixel
    spreads over a kernel-sized patch of the output, so a stride > 1 upsamples. Weight
    (in_channels, out_channels, kH, kW). ``forward(x, output_size=(H, W))`` picks the
    ``output_padding`` that gives that size (a stride-2 layer can make 13 or 14 from 7).

    >>> ConvTranspose2d(64, 1, 4, stride=2, padding=1)(minigen.randn(8, 64, 14, 14)).shape
    (8, 1, 28, 28)
    """

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)
        self.output_padding = pair(output_padding, "output_padding", 0)
        if any(not p < max(s, d) for p, s, d in zip(self.output_padding, self.stride,
                                                    self.dilation)):
            raise ValueError(f"ConvTranspose2d: output_padding {self.output_padding} must be "
                             f"smaller than the stride {self.stride} or the dilation "
                             f"{self.dilation}")

    def forward(self, x: Tensor, output_size: Any = None) -> Tensor:
        geometry.check_layer_input(self, x)
        output_padding = self.output_padding if output_size is None else \
            self.output_padding_for(x.shape[2:], output_size)
        return ops.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding,
                                    output_padding, dilation=self.dilation)

    def output_padding_for(self, input_size: Any, output_size: Any) -> tuple[int, int]:
        """The output_padding that maps ``input_size`` (H, W) to ``output_size``."""
        try:
            return ops.conv_transpose2d_output_padding(input_size, output_size,
                                                       self.kernel_size, self.stride,
                                                       self.padding, self.dilation)
        except ShapeError as e:
            raise ShapeError(f"{self!r}: {e}") from None
