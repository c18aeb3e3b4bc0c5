"""2-D convolution and transposed convolution: im2col + one GEMM, each the other's backward.

im2col copies every receptive field of the (padded) input into one column of a matrix, so the
whole convolution becomes a single matrix product with the reshaped weight:

    cols = im2col(x)               (C_in*kH*kW, H_out*W_out*N)
    out  = W.reshape(C_out, -1) @ cols                     (C_out, H_out*W_out*N)

im2col loops over the kH*kW kernel offsets only: for offset (i, j) the pixels that meet kernel
tap (i, j) in every window form ONE strided slice of the padded input, so each offset is one
array copy, never a loop over samples, channels or pixels. col2im is its adjoint: it adds each
column back where im2col copied it from (overlapping windows add up), then cuts the padding off.

Layout. Inside these ops images are held "batch last", as (C, H, W, N) arrays: the innermost
run of every strided copy is then a whole batch of contiguous numbers (long, fast copies) and
the GEMM's column index is (h, w, n). Results are returned as (N, C, H, W) *views* of that
memory (``permute_dims``, no copy), so the next layer finds its input already batch-last and
its own copy to batch-last is a straight memcpy.

The transposed convolution is the adjoint map: its forward is conv2d's input-gradient
(``W^T @ x`` then col2im) and its backward is conv2d's forward (im2col then ``W @ cols``).
"""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import ShapeError
from minigen.ops.conv_geometry import (
    Pair,
    check_arguments,
    check_groups,
    conv2d_output_size,
    conv_transpose2d_output_size,
    pair,
    spec,
    string_padding,
)
from minigen.tensor import Tensor

# ------------------------------------------------------------------ im2col / col2im


def _offsets(kernel: Pair, stride: Pair, dilation: Pair, grid: Pair) -> list[tuple[slice, slice]]:
    """For each kernel tap (i, j): the row and column slices of the padded image it reads.

    Window (h, w) of the output grid starts at padded pixel (h*s, w*s); its tap (i, j) reads
    pixel (h*s + i*d, w*s + j*d). Over all h < H_grid that is rows i*d, i*d + s, ... : a slice.
    """
    def taps(a: int, i: int) -> slice:
        return slice(i * dilation[a], i * dilation[a] + stride[a] * (grid[a] - 1) + 1, stride[a])

    return [(taps(0, i), taps(1, j)) for i in range(kernel[0]) for j in range(kernel[1])]


def _im2col(xpad: Array, kernel: Pair, stride: Pair, dilation: Pair, grid: Pair) -> Array:
    """(C, Hp, Wp, N) padded batch-last image -> (C*kH*kW, H_grid*W_grid*N) columns."""
    xp = backend.namespace(xpad)
    c, n = xpad.shape[0], xpad.shape[-1]
    taps = [xpad[:, rows, cols, :] for rows, cols in _offsets(kernel, stride, dilation, grid)]
    cols = xp.stack(taps, axis=1)  # (C, kH*kW, H_grid, W_grid, N): one copy per kernel tap
    return xp.reshape(cols, (c * kernel[0] * kernel[1], grid[0] * grid[1] * n))


def _col2im(cols: Array, padded_shape: tuple[int, ...], kernel: Pair, stride: Pair,
            dilation: Pair, grid: Pair) -> Array:
    """The adjoint of :func:`_im2col`: columns -> (C, Hp, Wp, N), overlaps summed."""
    xp = backend.namespace(cols)
    c, n = padded_shape[0], padded_shape[-1]
    taps = xp.reshape(cols, (c, kernel[0] * kernel[1], grid[0], grid[1], n))
    xpad = backend.zeros(padded_shape, like=cols)
    for tap, (rows, cols_) in enumerate(_offsets(kernel, stride, dilation, grid)):
        xpad[:, rows, cols_, :] += taps[:, tap, ...]  # windows that overlap add up
    return xpad


def _widths(padding: Pair) -> tuple[tuple[int, int], ...]:
    return ((0, 0), (padding[0],) * 2, (padding[1],) * 2, (0, 0))


def _pad_batch_last(x: Array, padding: Pair) -> Array:
    """(N, C, H, W) -> zero-padded (C, H + 2p, W + 2p, N), a new contiguous array."""
    return backend.pad(backend.namespace(x).permute_dims(x, (1, 2, 3, 0)), _widths(padding))


def _unpad_batch_first(xpad: Array, padding: Pair) -> Array:
    """(C, H + 2p, W + 2p, N) -> (N, C, H, W), a view."""
    unpadded = backend.unpad(xpad, _widths(padding))
    return backend.namespace(xpad).permute_dims(unpadded, (3, 0, 1, 2))


def _to_columns(x: Array) -> Array:
    """(N, C, H, W) -> (C, H*W*N): free when ``x`` is already batch-last in memory."""
    xp = backend.namespace(x)
    return xp.reshape(xp.permute_dims(x, (1, 2, 3, 0)), (x.shape[1], -1))


def _from_columns(x2: Array, n: int, size: Pair) -> Array:
    """(C, H*W*N) -> (N, C, H, W), a view."""
    xp = backend.namespace(x2)
    return xp.permute_dims(xp.reshape(x2, (x2.shape[0], size[0], size[1], n)), (3, 0, 1, 2))


def _in_layout_of_input(ctx: Context, grad_x: Array) -> Array:
    """The input's gradient, computed batch-last, in the layout the input had: a batch-first
    input (from a Linear layer, or the data) gets a batch-first gradient, so that the ops
    behind it (BatchNorm, ReLU) do not mix two memory orders in every elementwise pass."""
    return grad_x if ctx.batch_last_input else backend.batch_first(grad_x)


# ------------------------------------------------------------------ the two ops


class Conv2d(Function):
    @staticmethod
    def forward(ctx: Context, x: Array, weight: Array, bias: Array | None, stride: Pair,
                padding: Pair, dilation: Pair) -> Array:
        xp = backend.namespace(x)
        n, c_out, kernel = x.shape[0], weight.shape[0], tuple(weight.shape[2:])
        grid = conv2d_output_size(x.shape[2:], kernel, stride, padding, dilation)
        xpad = _pad_batch_last(x, padding)
        cols = _im2col(xpad, kernel, stride, dilation, grid)
        out = xp.matmul(xp.reshape(weight, (c_out, -1)), cols)  # the one GEMM
        if bias is not None:
            out += xp.reshape(bias, (c_out, 1))
        # Save the padded input, not the columns (kH*kW times bigger); backward rebuilds them.
        ctx.save_for_backward(xpad, weight)
        ctx.geometry = (kernel, stride, padding, dilation, grid)
        ctx.batch_last_input = backend.batch_last(x)
        return _from_columns(out, n, grid)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Any, Any, Any]:
        xpad, weight = ctx.saved_arrays
        kernel, stride, padding, dilation, grid = ctx.geometry
        xp = backend.namespace(grad_out)
        w2 = xp.reshape(weight, (weight.shape[0], -1))  # (C_out, C_in*kH*kW)
        g = _to_columns(grad_out)  # (C_out, H_out*W_out*N)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            # out = W2 @ cols, so dL/dcols = W2^T g; col2im (adjoint of im2col) sends each
            # column's gradient back to the pixels it was copied from.
            grad_cols = xp.matmul(xp.matrix_transpose(w2), g)
            grad_pad = _col2im(grad_cols, xpad.shape, kernel, stride, dilation, grid)
            grad_x = _in_layout_of_input(ctx, _unpad_batch_first(grad_pad, padding))
        if ctx.needs_input_grad[1]:  # dL/dW2 = g cols^T
            cols = _im2col(xpad, kernel, stride, dilation, grid)
            grad_w = xp.reshape(xp.matmul(g, xp.matrix_transpose(cols)), weight.shape)
        if ctx.needs_input_grad[2]:  # the bias is added at every position of every sample
            grad_b = xp.sum(g, axis=1)
        return grad_x, grad_w, grad_b


class ConvTranspose2d(Function):
    @staticmethod
    def forward(ctx: Context, x: Array, weight: Array, bias: Array | None, stride: Pair,
                padding: Pair, output_padding: Pair, dilation: Pair) -> Array:
        xp = backend.namespace(x)
        n, c_out, kernel = x.shape[0], weight.shape[1], tuple(weight.shape[2:])
        grid = tuple(x.shape[2:])  # the input plays the part of conv2d's output grid
        size = conv_transpose2d_output_size(grid, kernel, stride, padding, output_padding,
                                            dilation)
        x2 = _to_columns(x)  # (C_in, H*W*N)
        # conv2d's input-gradient with x in the place of grad_out: W2^T x, then col2im.
        cols = xp.matmul(xp.matrix_transpose(xp.reshape(weight, (x.shape[1], -1))), x2)
        padded_shape = (c_out, size[0] + 2 * padding[0], size[1] + 2 * padding[1], n)
        ypad = _col2im(cols, padded_shape, kernel, stride, dilation, grid)
        if bias is not None:
            ypad += xp.reshape(bias, (c_out, 1, 1, 1))  # the padding is cut off just after
        ctx.save_for_backward(x2, weight)
        ctx.geometry = (kernel, stride, padding, dilation, grid)
        ctx.batch_last_input = backend.batch_last(x)
        return _unpad_batch_first(ypad, padding)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Any, Any, Any]:
        x2, weight = ctx.saved_arrays
        kernel, stride, padding, dilation, grid = ctx.geometry
        xp = backend.namespace(grad_out)
        w2 = xp.reshape(weight, (weight.shape[0], -1))  # (C_in, C_out*kH*kW)
        # y = col2im(W2^T x), and the adjoint of col2im is im2col: conv2d's forward on g.
        cols = _im2col(_pad_batch_last(grad_out, padding), kernel, stride, dilation, grid)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:  # dL/dx = W2 im2col(g)
            grad_x = _in_layout_of_input(
                ctx, _from_columns(xp.matmul(w2, cols), grad_out.shape[0], grid))
        if ctx.needs_input_grad[1]:  # dL/dW2 = x2 im2col(g)^T
            grad_w = xp.reshape(xp.matmul(x2, xp.matrix_transpose(cols)), weight.shape)
        if ctx.needs_input_grad[2]:
            grad_b = xp.sum(grad_out, axis=(0, 2, 3))
        return grad_x, grad_w, grad_b


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation, as in PyTorch) as im2col + one GEMM.

    Parameters
    ----------
    input : Tensor (N, C_in, H, W)
    weight : Tensor (C_out, C_in, kH, kW)
    bias : Tensor (C_out,), optional
    stride, padding, dilation : int or (int, int); padding may also be "valid" or "same"
    groups : 1 (grouped convolutions are not supported)

    Returns
    -------
    Tensor (N, C_out, H_out, W_out), ``H_out = floor((H + 2p - d(kH - 1) - 1) / s) + 1``.

    Examples
    --------
    >>> x, w = minigen.randn(8, 1, 28, 28), minigen.randn(64, 1, 4, 4)
    >>> conv2d(x, w, stride=2, padding=1).shape
    (8, 64, 14, 14)
    """
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
    return Conv2d.apply(input, weight, bias, stride=s, padding=p, dilation=d)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """2-D transposed convolution: the adjoint (input-gradient) of :func:`conv2d`.

    Parameters
    ----------
    input : Tensor (N, C_in, H, W)
    weight : Tensor (C_in, C_out, kH, kW), PyTorch's layout
    bias : Tensor (C_out,), optional
    stride, padding, output_padding, dilation : int or (int, int)
        ``output_padding`` (below the stride or the dilation) adds rows and columns at the
        bottom and right; :func:`conv_transpose2d_output_padding` finds the one for a size.
    groups : 1 (grouped convolutions are not supported); before dilation, as in PyTorch

    Returns
    -------
    Tensor (N, C_out, H_out, W_out), ``H_out = (H - 1)s - 2p + d(kH - 1) + output_padding + 1``.

    Examples
    --------
    >>> x, w = minigen.randn(8, 128, 7, 7), minigen.randn(128, 64, 4, 4)
    >>> conv_transpose2d(x, w, stride=2, padding=1).shape
    (8, 64, 14, 14)
    """
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
    return ConvTranspose2d.apply(input, weight, bias, stride=s, padding=p, output_padding=op,
                                 dilation=d)
