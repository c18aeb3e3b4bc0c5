"""2-D max and average pooling by PyTorch's rules: one strided slice per kernel tap.

Window (h, w) reads, through kernel tap (i, j), input pixel (h*s + i*d - p, w*s + j*d - p).
As in conv's im2col, the pixels that meet tap (i, j) in ALL windows form one strided slice of
the padded input (``tap_slices``, shared with conv), so pooling loops over the kH*kW taps only,
each tap one array op over every sample, channel and window:

    max:  best  = max(best, xpad[..., rows_ij, cols_ij])     (padding counts as -inf)
    avg:  total = total + xpad[..., rows_ij, cols_ij]         (padding counts as 0), / divisor

Backward is the adjoint of that slicing, as conv's col2im: each tap's share of the gradient is
added back into the slice it was read from (windows that overlap add up), then the padding is
cut off. Max pooling sends a window's gradient to the pixel that won it; average pooling
spreads it evenly, gradient / divisor to each pixel of the window.

The output size per axis is PyTorch's ``floor((H + 2p - d(k - 1) - 1) / s) + 1``, or with
``ceil_mode`` the ceiling, minus one where that last window would start in the right padding.
Such a last window may hang past the padded input: the extra rows and columns are padding too.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import ShapeError
from minigen.extras import _arrays
from minigen.extras._common import check_floating, is_int
from minigen.ops.conv import tap_slices
from minigen.ops.conv_geometry import Pair, pair
from minigen.tensor import Tensor

# ------------------------------------------------------------------ geometry


def _pair(value: Any, name: str, low: int) -> Pair:
    """An int or a pair, as conv's ``pair``; PyTorch's pooling also takes a 1-tuple."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = (value[0], value[0])
    return pair(value, name, low)


def window_arguments(op: str, kernel_size: Any, stride: Any, padding: Any,
                     dilation: Any) -> tuple[Pair, Pair, Pair, Pair]:
    """(kernel, stride, padding, dilation) as pairs; stride None (or empty) is the kernel.
    PyTorch's rule: the padding may be at most half the kernel, dilation left out."""
    k = _pair(kernel_size, f"{op}: kernel_size", 1)
    no_stride = stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)
    s = k if no_stride else _pair(stride, f"{op}: stride", 1)
    p, d = _pair(padding, f"{op}: padding", 0), _pair(dilation, f"{op}: dilation", 1)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"{op}: padding {p} is more than half the kernel {k}: padding must be "
                         "at most kernel_size // 2 on each axis (PyTorch: 'pad should be at "
                         "most half of effective kernel size')")
    return k, s, p, d


def check_divisor_override(value: Any, op: str) -> int | None:
    """avg_pool2d's ``divisor_override``: None, or a nonzero int (negative is allowed)."""
    if value is not None and (not is_int(value) or value == 0):
        raise ValueError(f"{op}: divisor_override must be a nonzero int or None, got "
                         f"{value!r}")
    return None if value is None else int(value)


def pool2d_output_size(input_size: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
                       dilation: Any = 1, ceil_mode: bool = False) -> Pair:
    """(H_out, W_out) of max_pool2d and avg_pool2d, PyTorch's rule per axis:
    ``floor((H + 2p - d(k - 1) - 1) / s) + 1``; with ``ceil_mode`` the ceiling, less one when
    that last window would start past the input, in the right padding."""
    size = pair(input_size, "input_size", 0)
    k, s, p, d = window_arguments("pool2d_output_size", kernel_size, stride, padding, dilation)
    out = []
    for a in (0, 1):
        room = size[a] + 2 * p[a] - d[a] * (k[a] - 1) - 1
        n = (room + (s[a] - 1 if ceil_mode else 0)) // s[a] + 1  # // rounds down, as C's div_rtn
        if ceil_mode and (n - 1) * s[a] >= size[a] + p[a]:
            n -= 1  # every window must start inside the input or the left padding
        out.append(n)
    return (out[0], out[1])


class Window(NamedTuple):
    """One pooling's geometry: the four arguments as pairs, the output ``grid`` (H_out,
    W_out), the input ``size`` (H, W), and the padding ``widths`` of every axis (p on both
    sides of H and W, plus, in ceil mode, the rows and columns that the last window reaches
    past the padded input)."""

    kernel: Pair
    stride: Pair
    padding: Pair
    dilation: Pair
    grid: Pair
    size: Pair
    widths: tuple[tuple[int, int], ...]


def _window(op: str, input: Any, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
            ceil_mode: bool) -> Window:
    """The checks PyTorch makes, then the :class:`Window`."""
    check_floating(input, op)
    if input.ndim not in (3, 4) or 0 in input.shape[-3:]:
        raise ShapeError(f"{op} expected input of shape (N, C, H, W) or (C, H, W), with C, H "
                         f"and W at least 1, got {input.shape}")
    k, s, p, d = window_arguments(op, kernel_size, stride, padding, dilation)
    size = (input.shape[-2], input.shape[-1])
    grid = pool2d_output_size(size, k, s, p, d, ceil_mode)
    if min(grid) < 1:
        raise ShapeError(f"{op}: an input of {size[0]}x{size[1]} gives an empty output "
                         f"{grid[0]}x{grid[1]} (kernel {k}, stride {s}, padding {p}, dilation "
                         f"{d}): the kernel spans more than the padded input")
    extra = [max(0, d[a] * (k[a] - 1) + s[a] * (grid[a] - 1) + 1 - (size[a] + 2 * p[a]))
             for a in (0, 1)]
    widths = ((0, 0),) * (input.ndim - 2) + ((p[0], p[0] + extra[0]), (p[1], p[1] + extra[1]))
    return Window(k, s, p, d, grid, size, widths)


def _starts(like: Array, window: Window) -> list[Array]:
    """Per axis, the input row (column) where each window starts, ``o*s - p``: (H_out,) and
    (W_out,) int64 arrays on the device of ``like``."""
    xp = backend.namespace(like)
    int64 = backend.device_of(like).dtype(backend.int64)
    return [xp.arange(window.grid[a], dtype=int64, device=like.device) * window.stride[a]
            - window.padding[a] for a in (0, 1)]


def _flat_indices(like: Array, window: Window) -> list[Array]:
    """For each tap (i, j), in the order of ``tap_slices``: the flat index ``row * W + col`` in
    the H*W plane (PyTorch's index) of the pixel each window reads through it, (H_out, W_out).
    Padding gets one too: outside the plane, or, for a column of the margin, another row's."""
    k, d, width = window.kernel, window.dilation, window.size[1]
    rows, cols = _starts(like, window)
    return [(rows[:, None] + i * d[0]) * width + (cols[None, :] + j * d[1])
            for i in range(k[0]) for j in range(k[1])]


def _first_pixels(like: Array, window: Window) -> Array:
    """Where PyTorch starts each window's index, (H_out, W_out): its first tap at or past row
    0 and column 0, which is its first real pixel (for a window of padding only, a pixel
    outside it)."""
    xp = backend.namespace(like)
    first = []
    for a, start in enumerate(_starts(like, window)):
        d = window.dilation[a]
        first.append(start + xp.clip(d - 1 - start, min=0) // d * d)  # ceil(-start / d) taps
    return first[0][:, None] * window.size[1] + first[1][None, :]


def _taps(window: Window) -> list[tuple[slice, slice]]:
    return tap_slices(window.kernel, window.stride, window.dilation, window.grid)


def _adjoint(grad_taps: Any, shape: tuple[int, ...], window: Window, like: Array) -> Array:
    """Add each tap's gradient back into the slice it was read from, cut the padding off."""
    padded = tuple(n + a + b for n, (a, b) in zip(shape, window.widths))
    grad_pad = _arrays.zeros(padded, like=like)
    for (rows, cols), grad in zip(_taps(window), grad_taps):
        grad_pad[..., rows, cols] += grad  # windows that overlap add up
    return backend.unpad(grad_pad, window.widths)


# ------------------------------------------------------------------ max pooling


def _window_max(x: Array, window: Window) -> tuple[Array, Array]:
    """Each window's maximum and the flat index of the pixel that holds it, scanning the taps
    in PyTorch's order (row-major over the kernel)."""
    xp = backend.namespace(x)
    xpad = backend.pad(x, window.widths, value=-math.inf)
    shape = tuple(x.shape[:-2]) + window.grid
    best = xp.full(shape, -math.inf, dtype=x.dtype, device=x.device)
    index = xp.broadcast_to(_first_pixels(x, window), shape)
    for (rows, cols), flat in zip(_taps(window), _flat_indices(x, window)):
        v = xp.asarray(xpad[..., rows, cols], copy=True)  # read thrice: copy the strided view
        # A STRICTLY larger value takes over, so a tie stays with the first maximum (and the
        # -inf padding never wins); a NaN always does, so NaN propagates (the last NaN wins).
        # A window whose real pixels are all -inf keeps the index it started with, as PyTorch.
        take = (v > best) | xp.isnan(v)
        best = xp.maximum(best, v)  # the same values as xp.where(take, v, best), NaN included
        index = xp.where(take, flat, index)
    return best, index


class MaxPool2d(Function):
    """Each window's gradient goes to the pixel that won it. The scan that finds the winners,
    ``_window_max``, runs before ``apply``: it also yields their indices, an integer result
    that a Function (one array out) cannot return. ``forward`` is handed both."""

    @staticmethod
    def forward(ctx: Context, x: Array, values: Array, index: Array, window: Window) -> Array:
        ctx.save_for_backward(index)
        ctx.window, ctx.shape = window, x.shape
        return values

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Any:
        (index,) = ctx.saved_arrays
        xp = backend.namespace(grad_out)
        # d max / d x = 1 for the winner, 0 for the others: tap (i, j) passes on the gradient
        # of the windows whose winner it read. (A padding tap may share the winner's flat
        # index, row r + 1 column -1 being r*W + W - 1, but the padding is cut off after.)
        flats = _flat_indices(index, ctx.window)
        grads = (xp.where(index == flat, grad_out, 0.0) for flat in flats)
        return _adjoint(grads, ctx.shape, ctx.window, grad_out), None, None


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """2-D max pooling, as PyTorch's ``F.max_pool2d``.

    Parameters
    ----------
    input : Tensor (N, C, H, W) or (C, H, W), floating point
    kernel_size, stride, padding, dilation : int or (int, int); stride defaults to the kernel
        and padding (which counts as -inf) may be at most half the kernel
    ceil_mode : round the output size up (see :func:`pool2d_output_size`)
    return_indices : also return, for each output, the flat index ``row * W + col`` in the
        input's H*W plane of the pixel it came from (int64, no gradient)

    Returns
    -------
    Tensor (N, C, H_out, W_out), or the pair (values, indices). Ties go to the first maximum
    in the window's row-major order, a NaN in a window wins, as in PyTorch; the gradient goes
    to the pixel the index names. A window of padding only (possible with dilation) is -inf
    and passes no gradient; its index, as PyTorch's, points outside it.

    Examples
    --------
    >>> max_pool2d(minigen.randn(8, 16, 28, 28), 2).shape
    (8, 16, 14, 14)
    """
    window = _window("max_pool2d", input, kernel_size, stride, padding, dilation,
                     bool(ceil_mode))
    values, index = _window_max(input.data, window)
    out = MaxPool2d.apply(input, values, index, window)
    return (out, Tensor._make(index)) if return_indices else out


# ------------------------------------------------------------------ average pooling


def _divisor(x: Array, window: Window, count_include_pad: bool) -> Array:
    """How many pixels each window averages over, (H_out, W_out), PyTorch's count: with
    ``count_include_pad`` its padding too, but never what lies past the padded input (ceil
    mode's last window is cut there); without, its real pixels only."""
    k, p, size, xp = window.kernel, window.padding, window.size, backend.namespace(x)
    counts = []
    for a, start in enumerate(_starts(x, window)):
        end = xp.clip(start + k[a], max=size[a] + p[a])
        if not count_include_pad:
            start, end = xp.clip(start, min=0), xp.clip(end, max=size[a])
        counts.append(end - start)
    return xp.astype(counts[0][:, None] * counts[1][None, :], x.dtype)


class AvgPool2d(Function):
    @staticmethod
    def forward(ctx: Context, x: Array, window: Window, count_include_pad: bool,
                divisor_override: int | None) -> Array:
        xpad = backend.pad(x, window.widths)  # zeros
        total = None
        for rows, cols in _taps(window):
            tap = xpad[..., rows, cols]
            total = tap if total is None else total + tap
        divisor = divisor_override
        if divisor is None:
            divisor = _divisor(x, window, count_include_pad)
        ctx.window, ctx.shape, ctx.divisor = window, x.shape, divisor
        return total / divisor

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Any:
        share = grad_out / ctx.divisor  # d out / d x = 1 / divisor for each pixel of a window
        taps = ctx.window.kernel[0] * ctx.window.kernel[1]
        return _adjoint([share] * taps, ctx.shape, ctx.window, grad_out), None, None, None


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
               ceil_mode: bool = False, count_include_pad: bool = True,
               divisor_override: int | None = None) -> Tensor:
    """2-D average pooling, as PyTorch's ``F.avg_pool2d``.

    Parameters
    ----------
    input : Tensor (N, C, H, W) or (C, H, W), floating point
    kernel_size, stride, padding : int or (int, int); stride defaults to the kernel and
        padding (which counts as 0) may be at most half the kernel
    ceil_mode : round the output size up (see :func:`pool2d_output_size`)
    count_include_pad : divide by the window's size including its padding (but not what
        lies past the padded input in ceil mode), else by its number of real pixels
    divisor_override : a nonzero int to divide every window's sum by instead

    Returns
    -------
    Tensor (N, C, H_out, W_out)

    Examples
    --------
    >>> avg_pool2d(minigen.randn(8, 16, 28, 28), 2).shape
    (8, 16, 14, 14)
    """
    window = _window("avg_pool2d", input, kernel_size, stride, padding, 1, bool(ceil_mode))
    override = check_divisor_override(divisor_override, "avg_pool2d")
    return AvgPool2d.apply(input, window, bool(count_include_pad), override)
