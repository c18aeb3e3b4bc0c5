"""Upsample, padding layers and AdaptiveAvgPool2d: :mod:`minigen.extras.resample` and
:mod:`minigen.extras.padding` as layers, with PyTorch's arguments and reprs. None has parameters.

The alternative DCGAN generator upsamples, then convolves (no checkerboard artefacts of a
strided transposed convolution): ``Sequential(Upsample(scale_factor=2), Conv2d(c, c // 2, 3,
padding=1), BatchNorm2d(c // 2), ReLU())`` doubles the image, 7 -> 14 -> 28.
"""

from __future__ import annotations

from typing import Any

from minigen.extras._common import is_int
from minigen.extras.padding import pad
from minigen.extras.resample import (
    MODES,
    adaptive_avg_pool2d,
    adaptive_pool_output_size,
    interpolate,
)
from minigen.nn.module import Module
from minigen.tensor import Tensor


class Upsample(Module):
    """Resize images (or (N, C, W) signals): ``F.interpolate`` as a layer.

    Give ``size`` (the output's spatial size) or ``scale_factor`` (kept as a float, or a tuple
    of floats, as PyTorch's); ``mode`` 'nearest' (repeats pixels for an integer factor),
    'linear' or 'bilinear' (``align_corners`` as in :func:`minigen.extras.resample.interpolate`).

    >>> Upsample(scale_factor=2)(minigen.randn(8, 64, 7, 7)).shape
    (8, 64, 14, 14)
    """

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"Upsample: mode {mode!r} is not one of {', '.join(MODES)}")
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor: Any = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners

    def forward(self, input: Tensor) -> Tensor:
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners)

    def extra_repr(self) -> str:
        info = (f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None
                else f"size={self.size!r}")
        return info + f", mode={self.mode!r}"


def _quadruple(padding: Any, layer: str) -> tuple[int, ...]:
    """An int for all four sides, or the pads as given (left, right, top, bottom)."""
    if is_int(padding):
        return (int(padding),) * 4
    if isinstance(padding, (tuple, list)) and all(is_int(p) for p in padding):
        return tuple(int(p) for p in padding)
    raise TypeError(f"{layer}: padding must be an int or a tuple of ints (left, right, top, "
                    f"bottom), got {padding!r}")


class ConstantPad2d(Module):
    """Pad the last two dimensions with ``value``: ``padding`` an int (all four sides) or
    (left, right, top, bottom); negative pads crop. (N, C, H, W) -> (N, C, H + top + bottom,
    W + left + right).

    >>> ConstantPad2d((1, 1, 2, 0), 0.5)(minigen.zeros(1, 3, 4, 4)).shape
    (1, 3, 6, 6)
    """

    def __init__(self, padding: Any, value: float):
        super().__init__()
        self.padding, self.value = _quadruple(padding, type(self).__name__), value

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dimensions with zeros (``ConstantPad2d(padding, 0.0)``)."""

    def __init__(self, padding: Any):
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad2d(Module):
    """Pad the last two dimensions with their mirror image, the edge not repeated (each pad
    less than its dimension): [a b c] padded by 2 on the left is [c b a b c]."""

    mode = "reflect"

    def __init__(self, padding: Any):
        super().__init__()
        self.padding = _quadruple(padding, type(self).__name__)

    def forward(self, input: Tensor) -> Tensor:
        return pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReplicationPad2d(ReflectionPad2d):
    """Pad the last two dimensions by repeating the edge: [a b c] padded by 2 on the left is
    [a a a b c]."""

    mode = "replicate"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed ``output_size`` (an int, or (H_out, W_out) where None keeps
    the input's): output (i, j) averages rows ``[floor(i*H/H_out), ceil((i+1)*H/H_out))`` and
    the columns likewise. ``AdaptiveAvgPool2d(1)`` is global average pooling.

    >>> AdaptiveAvgPool2d(1)(minigen.randn(8, 64, 7, 7)).shape
    (8, 64, 1, 1)
    """

    def __init__(self, output_size: Any):
        super().__init__()
        adaptive_pool_output_size((1, 1), output_size)  # checked when built
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
