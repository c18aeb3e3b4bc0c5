"""MaxPool2d and AvgPool2d: the pooling ops of :mod:`minigen.extras.pooling` as layers.

A pooling layer has no parameters: it keeps its arguments as given (``MaxPool2d(2)`` shows
``kernel_size=2, stride=2``, as PyTorch's does) and checks them when it is built, so that a
padding of more than half the kernel is refused at once (PyTorch refuses at the first forward).
Sizes as for a convolution: ``floor((n + 2p - d(k - 1) - 1) / s) + 1``, with k=2, s=2 that is
28 -> 14 -> 7 (``minigen.extras.pooling.pool2d_output_size`` computes it, ceil_mode included).
"""

from __future__ import annotations

from typing import Any

from minigen.extras.pooling import (
    avg_pool2d,
    check_divisor_override,
    max_pool2d,
    window_arguments,
)
from minigen.nn.module import Module
from minigen.tensor import Tensor


class MaxPool2d(Module):
    """2-D max pooling: the largest value of each window (padding counts as -inf).

    Shapes: input (N, C, H, W) or (C, H, W), output (N, C, H_out, W_out). ``stride`` defaults
    to ``kernel_size``. With ``return_indices=True`` the layer returns (values, indices), the
    indices flat in the input's H*W plane, as PyTorch's. Ties go to the first maximum of a
    window (row-major); see :func:`minigen.extras.pooling.max_pool2d`.

    >>> MaxPool2d(2)(minigen.randn(8, 16, 28, 28)).shape
    (8, 16, 14, 14)
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False, ceil_mode: bool = False):
        super().__init__()
        window_arguments("MaxPool2d", kernel_size, stride, padding, dilation)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor) -> Any:
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class AvgPool2d(Module):
    """2-D average pooling: the mean of each window (padding counts as 0).

    Shapes: input (N, C, H, W) or (C, H, W), output (N, C, H_out, W_out). ``stride`` defaults
    to ``kernel_size``. The divisor is PyTorch's: the window's size with its padding
    (``count_include_pad=True``, never past the padded input) or its real pixels only, or
    ``divisor_override``; see :func:`minigen.extras.pooling.avg_pool2d`.

    >>> AvgPool2d(2)(minigen.randn(8, 16, 28, 28)).shape
    (8, 16, 14, 14)
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None):
        super().__init__()
        window_arguments("AvgPool2d", kernel_size, stride, padding, 1)
        check_divisor_override(divisor_override, "AvgPool2d")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
