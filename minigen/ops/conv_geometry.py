"""The geometry of a convolution: output sizes, and the checks that name a bad shape.

``conv2d_output_size`` and its transposed twin are the formulas lesson 03 derives; the rest
turns the arguments a user may write (an int or a pair, ``padding="same"``) into the pairs the
ops in :mod:`minigen.ops.conv` compute with, after checking them.
"""

from __future__ import annotations

from typing import Any

from minigen.errors import ShapeError
from minigen.ops._common import check_floating, check_tensor, is_int
from minigen.ops.shape import pad
from minigen.tensor import Tensor

Pair = tuple[int, int]


def pair(value: Any, name: str, low: int) -> Pair:
    pair = (value, value) if is_int(value) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or not all(is_int(v) and v >= low for v in pair)):
        raise ValueError(f"{name} must be an int >= {low} or a pair of them, got {value!r}")
    return tuple(int(v) for v in pair)  # type: ignore[return-value]


def spec(stride: Any, padding: Any, dilation: Any) -> tuple[Pair, Pair, Pair]:
    return pair(stride, "stride", 1), pair(padding, "padding", 0), pair(dilation,
                                                                         "dilation", 1)


def conv2d_output_size(input_size: Any, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                       dilation: Any = 1) -> Pair:
    """(H_out, W_out) of conv2d: ``floor((H + 2p - d(k - 1) - 1) / s) + 1`` per axis."""
    size, k = pair(input_size, "input_size", 0), pair(kernel_size, "kernel_size", 1)
    s, p, d = spec(stride, padding, dilation)
    return tuple((size[a] + 2 * p[a] - d[a] * (k[a] - 1) - 1) // s[a] + 1 for a in (0, 1))


def conv_transpose2d_output_size(input_size: Any, kernel_size: Any, stride: Any = 1,
                                 padding: Any = 0, output_padding: Any = 0,
                                 dilation: Any = 1) -> Pair:
    """(H_out, W_out) of conv_transpose2d: ``(H - 1)s - 2p + d(k - 1) + output_padding + 1``."""
    size, k = pair(input_size, "input_size", 0), pair(kernel_size, "kernel_size", 1)
    (s, p, d), op = spec(stride, padding, dilation), pair(output_padding, "output_padding", 0)
    return tuple((size[a] - 1) * s[a] - 2 * p[a] + d[a] * (k[a] - 1) + op[a] + 1 for a in (0, 1))


def conv_transpose2d_output_padding(input_size: Any, output_size: Any, kernel_size: Any,
                                    stride: Any = 1, padding: Any = 0,
                                    dilation: Any = 1) -> Pair:
    """The ``output_padding`` that makes conv_transpose2d map ``input_size`` (H, W) to
    ``output_size`` ((H, W) or a whole (N, C, H, W) shape). As in PyTorch's
    ``output_size=``, the result is below the stride (``output_padding`` itself may go up to
    max(stride, dilation) - 1); a ShapeError names the sizes that can be reached."""
    s, _, d = spec(stride, padding, dilation)
    low = conv_transpose2d_output_size(input_size, kernel_size, s, padding, 0, d)
    if isinstance(output_size, (tuple, list)):
        output_size = tuple(output_size)[-2:]
    want = pair(output_size, "output_size", 1)
    for a in (0, 1):
        top = low[a] + s[a] - 1
        if not low[a] <= want[a] <= top:
            raise ShapeError(
                f"conv_transpose2d cannot make size {want[a]} on axis {a} from "
                f"{pair(input_size, 'input_size', 0)[a]} (kernel {kernel_size}, stride "
                f"{stride}, padding {padding}, dilation {dilation}): it reaches "
                f"{low[a]}..{top} with output_padding 0..{top - low[a]}")
    return (want[0] - low[0], want[1] - low[1])


def check_arguments(input: Any, weight: Any, bias: Any, op: str, transposed: bool) -> None:
    """Tensors, a float input, a 4-D weight, and channel counts that fit (naming both)."""
    for t in (input, weight) if bias is None else (input, weight, bias):
        check_tensor(t, op)
    check_floating(input, op)
    layout = "(C_in, C_out, kH, kW)" if transposed else "(C_out, C_in, kH, kW)"
    if weight.ndim != 4 or 0 in weight.shape:
        raise ShapeError(f"{op} expected weight of shape {layout} with no size 0, got "
                         f"{weight.shape}")
    c_in, c_out = weight.shape[:2] if transposed else weight.shape[1::-1]
    if input.ndim != 4 or input.shape[1] != c_in:
        what = "" if input.ndim != 4 else (
            f" (the weight {weight.shape} expects {c_in} input channels, the input has "
            f"{input.shape[1]})")
        raise ShapeError(f"{op} expected input of shape (N, {c_in}, H, W), got "
                         f"{input.shape}{what}")
    if bias is not None and bias.shape != (c_out,):
        raise ShapeError(f"{op}: bias of shape {bias.shape}, expected ({c_out},) for a weight "
                         f"of shape {weight.shape}")


def check_groups(groups: Any, op: str) -> None:
    if groups != 1:
        raise NotImplementedError(f"{op}: grouped convolutions (groups={groups!r}) are not "
                                  "supported, only groups=1")


def string_padding(input: Tensor, kernel: Pair, stride: Any, padding: str,
                    dilation: Any) -> tuple[Tensor, Pair]:
    """PyTorch's ``padding="valid"`` (none) and ``padding="same"`` (stride 1 only: the output
    keeps the input's size). "same" pads d(k - 1) in all per axis, half before and half after;
    an odd total puts the extra row (column) at the bottom (right), as PyTorch does.
    Returns the input, padded where it must be, and the symmetric padding left to apply."""
    if padding == "valid":
        return input, (0, 0)
    if padding != "same":
        raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got "
                         f"{padding!r}")
    s, _, d = spec(stride, 0, dilation)
    if s != (1, 1):
        raise ValueError(f"conv2d: padding='same' needs stride 1, got stride {s}")
    totals = [d[a] * (kernel[a] - 1) for a in (0, 1)]
    low = (totals[0] // 2, totals[1] // 2)
    extra = (totals[0] - 2 * low[0], totals[1] - 2 * low[1])  # 0 or 1 per axis
    if extra != (0, 0):
        input = pad(input, (0, extra[1], 0, extra[0]))
    return input, low


def conv2d_arguments(input: Any, weight: Any, bias: Any, stride: Any, padding: Any,
                     dilation: Any, groups: Any) -> tuple[Tensor, Pair, Pair, Pair]:
    """conv2d's input (padded for an odd "same"), stride, padding and dilation, checked."""
    check_groups(groups, "conv2d")
    check_arguments(input, weight, bias, "conv2d", transposed=False)
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        input, padding = string_padding(input, kernel, stride, padding, dilation)
    s, p, d = spec(stride, padding, dilation)
    for a in (0, 1):
        reach, room = d[a] * (kernel[a] - 1) + 1, input.shape[2 + a] + 2 * p[a]
        if reach > room:
            raise ShapeError(
                f"conv2d: the kernel spans {reach} pixels on axis {a} (kernel {kernel}, "
                f"dilation {d}) but the padded input has only {room} (input {input.shape}, "
                f"padding {p})")
    return input, s, p, d


def conv_transpose2d_arguments(input: Any, weight: Any, bias: Any, stride: Any, padding: Any,
                               output_padding: Any, groups: Any,
                               dilation: Any) -> tuple[Pair, Pair, Pair, Pair]:
    """conv_transpose2d's stride, padding, output_padding and dilation, checked."""
    check_groups(groups, "conv_transpose2d")
    (s, p, d), op = spec(stride, padding, dilation), pair(output_padding, "output_padding", 0)
    check_arguments(input, weight, bias, "conv_transpose2d", transposed=True)
    if any(op[a] >= s[a] and op[a] >= d[a] for a in (0, 1)):
        raise ShapeError(
            f"conv_transpose2d: output_padding {op} must be smaller than the stride {s} or the "
            f"dilation {d}; to reach a given output size use "
            "conv_transpose2d_output_padding(input_size, output_size, kernel_size, stride, "
            "padding, dilation)")
    if 0 in input.shape[2:]:
        raise ShapeError(f"conv_transpose2d: input of shape {input.shape} has no pixels (H or "
                         "W is 0)")
    size = conv_transpose2d_output_size(input.shape[2:], weight.shape[2:], s, p, op, d)
    if min(size) < 1:
        raise ShapeError(f"conv_transpose2d: input {input.shape} with weight {weight.shape}, "
                         f"stride {s}, padding {p}, dilation {d} gives an empty output {size}")
    return s, p, op, d


def layer_output_size(layer: Any, size: Pair) -> Pair:
    """(H_out, W_out) of a Conv2d or ConvTranspose2d layer for an input of ``size``."""
    if layer.transposed:
        return conv_transpose2d_output_size(size, layer.kernel_size, layer.stride,
                                            layer.padding, layer.output_padding, layer.dilation)
    if layer.padding == "same":
        return size
    padding = 0 if layer.padding == "valid" else layer.padding
    return conv2d_output_size(size, layer.kernel_size, layer.stride, padding, layer.dilation)


def check_layer_input(layer: Any, x: Any) -> None:
    """A ShapeError in the layer's terms unless ``x`` is (N, in_channels, H, W) and large
    enough for the kernel, with a hint for the usual mistakes."""
    name, c = type(layer).__name__, layer.in_channels
    if x.ndim != 4 or x.shape[1] != c:
        side = round((x.shape[-1] / c) ** 0.5) if x.ndim == 2 else 0
        hint = (": one image without a batch dimension? use x.unsqueeze(0)"
                if x.ndim == 3 and x.shape[0] == c else
                f": reshape the flat rows first, x.reshape(-1, {c}, {side}, {side})"
                if x.ndim == 2 and c * side**2 == x.shape[1] else "")
        raise ShapeError(f"{name} expected input of shape (N, {c}, H, W), got {x.shape}{hint}")
    if not layer.transposed and min(layer_output_size(layer, x.shape[2:])) < 1:
        raise ShapeError(f"{name}: an input of {x.shape[2]}x{x.shape[3]} is smaller than the "
                         f"kernel {layer.kernel_size} (dilation {layer.dilation}) even with "
                         f"padding {layer.padding}")
