"""Conv2d and ConvTranspose2d layers, and the output-size arithmetic they follow.

A convolution with kernel k, stride s, padding p and dilation d maps a size n to

    out = floor((n + 2p - d(k - 1) - 1) / s) + 1                       (Conv2d)

and its transpose maps n back to

    out = (n - 1)s - 2p + d(k - 1) + output_padding + 1               (ConvTranspose2d)

With k=4, s=2, p=1 (the DCGAN's layers) that is 28 -> 14 -> 7 and 7 -> 14 -> 28. Because the
floor loses information (both 13 and 14 map to 7), a transposed convolution may need
``output_padding`` to hit the size you want: :meth:`ConvTranspose2d.output_padding_for` finds
it, and ``forward(x, output_size=...)`` uses it. The arithmetic itself lives with the ops:
``minigen.conv2d_output_size``, ``minigen.conv_transpose2d_output_size`` and
``minigen.conv_transpose2d_output_padding``.
"""

from __future__ import annotations

from typing import Any

from minigen import ops
from minigen.errors import ShapeError
from minigen.nn import init
from minigen.nn.layers import _check_sizes, _empty
from minigen.nn.module import Module
from minigen.ops.conv_geometry import pair
from minigen.tensor import Tensor


class _ConvNd(Module):
    transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any, groups: int, bias: bool, padding_mode: str,
                 device: Any, dtype: Any):
        super().__init__()
        if groups != 1:
            raise NotImplementedError("grouped convolutions (groups != 1) are not supported")
        if padding_mode != "zeros":
            raise NotImplementedError("only padding_mode='zeros' is supported")
        _check_sizes(type(self).__name__, in_channels=in_channels, out_channels=out_channels)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = pair(kernel_size, "kernel_size", 1)
        self.stride = pair(stride, "stride", 1)
        self.dilation = pair(dilation, "dilation", 1)
        if isinstance(padding, str) and not self.transposed:  # PyTorch's "valid" and "same"
            if padding not in ("valid", "same"):
                raise ValueError(f"Conv2d: padding must be an int, a pair, 'valid' or 'same', "
                                 f"got {padding!r}")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError("Conv2d: padding='same' needs stride 1 (the output keeps the "
                                 f"input's size), got stride {self.stride}")
            self.padding = padding
        else:
            self.padding = pair(padding, "padding", 0)
        pads = (0, 0) if isinstance(self.padding, str) else self.padding
        if min(self.kernel_size + self.stride + self.dilation) < 1 or min(pads) < 0:
            raise ValueError(f"{type(self).__name__}: kernel_size, stride and dilation must be "
                             f">= 1 and padding >= 0")
        self.groups = groups
        # Conv2d's weight is (out, in, kH, kW); ConvTranspose2d's is (in, out, kH, kW).
        first, second = (in_channels, out_channels) if self.transposed else (out_channels,
                                                                              in_channels)
        self.weight = _empty(first, second, *self.kernel_size, device=device, dtype=dtype)
        self.bias = _empty(out_channels, device=device, dtype=dtype) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # fan_in from weight.shape[1] * kH * kW, for both layers, exactly as PyTorch does.
        init.default_reset_(self.weight, self.bias)

    def _check_input(self, input: Tensor) -> None:
        name = type(self).__name__
        if input.ndim != 4 or input.shape[1] != self.in_channels:
            hint = ""
            if input.ndim == 3 and input.shape[0] == self.in_channels:
                hint = ": one image without a batch dimension? use x.unsqueeze(0)"
            elif input.ndim == 2:
                side = round((input.shape[1] / self.in_channels) ** 0.5)
                if self.in_channels * side * side == input.shape[1]:
                    hint = (f": reshape the flat rows first, x.reshape(-1, {self.in_channels}, "
                            f"{side}, {side})")
            raise ShapeError(f"{name} expected input of shape (N, {self.in_channels}, H, W), "
                             f"got {input.shape}{hint}")

    def extra_repr(self) -> str:
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding not in ((0, 0), "valid"):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if getattr(self, "output_padding", (0, 0)) != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    """2-D convolution (cross-correlation, as in every deep-learning library).

    Shapes: input (N, in_channels, H, W), output (N, out_channels, H_out, W_out) with
    ``(H_out, W_out) = self.output_shape(H, W)``; weight
    (out_channels, in_channels, kH, kW), bias (out_channels,). ``padding`` is an int, a pair,
    or PyTorch's "valid" (none) or "same" (stride 1: the output keeps the input's size).
    Initialised as PyTorch's:
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels * kH * kW.

    >>> Conv2d(1, 64, 4, stride=2, padding=1)(minigen.randn(8, 1, 28, 28)).shape
    (8, 64, 14, 14)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)

    def output_shape(self, height: int, width: int) -> tuple[int, int]:
        """(H_out, W_out) for an input of (height, width)."""
        if self.padding == "same":
            return (height, width)
        padding = 0 if self.padding == "valid" else self.padding
        return ops.conv2d_output_size((height, width), self.kernel_size, self.stride, padding,
                                      self.dilation)

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        out_hw = self.output_shape(*input.shape[2:])
        if min(out_hw) < 1:
            raise ShapeError(f"Conv2d: an input of {input.shape[2]}x{input.shape[3]} is smaller "
                             f"than the kernel {self.kernel_size} (dilation {self.dilation}) "
                             f"even with padding {self.padding}")
        return ops.conv2d(input, self.weight, self.bias, self.stride, self.padding,
                          self.dilation)


class ConvTranspose2d(_ConvNd):
    """Transposed convolution: the adjoint (the backward) of :class:`Conv2d`, which spreads
    each input pixel over a kernel-sized patch of the output. It upsamples with stride > 1.

    Shapes: input (N, in_channels, H, W), output (N, out_channels, H_out, W_out) with
    ``(H_out, W_out) = self.output_shape(H, W)``;
    weight (in_channels, out_channels, kH, kW) (note the order), bias (out_channels,).
    Initialised as PyTorch's, with fan_in = weight.shape[1] * kH * kW = out_channels * kH * kW.

    ``forward(x, output_size=(H, W))`` picks the output_padding that gives that size, or
    says which sizes are possible.

    >>> ConvTranspose2d(64, 1, 4, stride=2, padding=1)(minigen.randn(8, 64, 14, 14)).shape
    (8, 1, 28, 28)
    """

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None):
        self.output_padding = pair(output_padding, "output_padding", 0)
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device, dtype)
        self._check_output_padding(self.output_padding)

    def _check_output_padding(self, output_padding: tuple[int, int]) -> None:
        for op, s, d in zip(output_padding, self.stride, self.dilation):
            if not 0 <= op < max(s, d):
                raise ValueError(f"ConvTranspose2d: output_padding {output_padding} must be "
                                 f"smaller than the stride {self.stride} or the dilation "
                                 f"{self.dilation}")

    def output_shape(self, height: int, width: int,
                     output_padding: Any = None) -> tuple[int, int]:
        """(H_out, W_out) for an input of (height, width)."""
        pad_out = self.output_padding if output_padding is None else output_padding
        return ops.conv_transpose2d_output_size((height, width), self.kernel_size, self.stride,
                                                self.padding, pad_out, self.dilation)

    def output_padding_for(self, input_size: tuple[int, int],
                           output_size: tuple[int, ...]) -> tuple[int, int]:
        """The output_padding that turns an input of ``input_size`` (H, W) into
        ``output_size`` ((H, W), or a full (N, C, H, W)); a ShapeError says which sizes this
        layer can make when none does."""
        try:
            return ops.conv_transpose2d_output_padding(input_size, output_size,
                                                       self.kernel_size, self.stride,
                                                       self.padding, self.dilation)
        except ShapeError as e:
            raise ShapeError(f"{self!r}: {e}") from None

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        self._check_input(input)
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = self.output_padding_for(input.shape[2:], output_size)
        return ops.conv_transpose2d(input, self.weight, self.bias, self.stride, self.padding,
                                    output_padding, dilation=self.dilation)
