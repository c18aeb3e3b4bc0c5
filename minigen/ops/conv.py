"""2-D convolution and transposed convolution: im2col + one GEMM, each the other's backward.

im2col copies every receptive field of the (padded) input into one column of a matrix, so the
whole convolution becomes one matrix product with the weight reshaped to (C_out, C_in*kH*kW):

    cols = im2col(x)                          (C_in*kH*kW, H_out*W_out*N)
    out  = W.reshape(C_out, -1) @ cols        (C_out, H_out*W_out*N)

im2col loops over the kH*kW kernel taps only: for tap (i, j), the pixels it meets in every
window form ONE strided slice of the padded input, so each tap is one array copy (never a loop
over samples or pixels). col2im, its adjoint, adds each column back where im2col copied it
from (overlapping windows add up).

The transposed convolution is the adjoint map: its forward is conv2d's input-gradient (W^T @ x,
then col2im) and its backward is conv2d's forward (im2col, then W @ cols).

Layout: inside these ops, images are (C, H, W, N) arrays, "batch last". Then the innermost
run of every strided copy is a whole batch of contiguous numbers, and a GEMM's columns are
(h, w, n). Outputs are returned as (N, C, H, W) views of that memory (``permute_dims``: no
copy), so the next conv layer finds its input batch-last already.
"""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.ops import conv_geometry as geometry
from minigen.tensor import Tensor


def tap_slices(kernel: tuple, stride: tuple, dilation: tuple, grid: tuple) -> list[tuple]:
    """For each kernel tap (i, j): the rows and columns of the padded image it reads. Window
    (h, w) starts at pixel (h s, w s); its tap (i, j) reads (h s + i d, w s + j d). Over all
    h that is rows i d, i d + s, i d + 2s...: one slice."""
    def rows(a: int, i: int) -> slice:
        return slice(i * dilation[a], i * dilation[a] + stride[a] * (grid[a] - 1) + 1, stride[a])

    return [(rows(0, i), rows(1, j)) for i in range(kernel[0]) for j in range(kernel[1])]


def im2col(xpad: Any, kernel: tuple, stride: tuple, dilation: tuple, grid: tuple) -> Any:
    """(C, Hp, Wp, N) padded image -> (C*kH*kW, H_out*W_out*N) columns."""
    xp = backend.namespace(xpad)
    taps = [xpad[:, r, c, :] for r, c in tap_slices(kernel, stride, dilation, grid)]
    cols = xp.stack(taps, axis=1)  # (C, kH*kW, H_out, W_out, N): one copy per tap
    return xp.reshape(cols, (-1, grid[0] * grid[1] * xpad.shape[-1]))


def col2im(cols: Any, padded_shape: tuple, kernel: tuple, stride: tuple, dilation: tuple,
           grid: tuple) -> Any:
    """The adjoint of im2col: columns -> (C, Hp, Wp, N), overlapping windows summed."""
    xp = backend.namespace(cols)
    c, n = padded_shape[0], padded_shape[-1]
    taps = xp.reshape(cols, (c, kernel[0] * kernel[1], grid[0], grid[1], n))
    xpad = backend.full(padded_shape, 0, backend.dtype_of(cols), backend.device_of(cols))
    for tap, (r, c_) in enumerate(tap_slices(kernel, stride, dilation, grid)):
        xpad[:, r, c_, :] += taps[:, tap, ...]  # (the array API wants every axis named)
    return xpad


def _padded_batch_last(x: Any, padding: tuple) -> Any:
    """(N, C, H, W) -> zero-padded (C, H + 2p, W + 2p, N), a new array."""
    widths = ((0, 0), (padding[0],) * 2, (padding[1],) * 2, (0, 0))
    return backend.pad(backend.namespace(x).permute_dims(x, (1, 2, 3, 0)), widths)


def _batch_first(x: Any, padding: tuple = (0, 0)) -> Any:
    """(C, H + 2p, W + 2p, N) -> the (N, C, H, W) view of its inside."""
    inside = x[:, padding[0]:x.shape[1] - padding[0], padding[1]:x.shape[2] - padding[1], :]
    return backend.namespace(x).permute_dims(inside, (3, 0, 1, 2))


def _columns(x: Any) -> Any:
    """(N, C, H, W) -> (C, H*W*N): free when ``x`` is batch-last in memory already."""
    xp = backend.namespace(x)
    return xp.reshape(xp.permute_dims(x, (1, 2, 3, 0)), (x.shape[1], -1))


def _image(cols: Any, n: int, size: tuple) -> Any:
    """(C, H*W*N) -> the (N, C, H, W) view."""
    xp = backend.namespace(cols)
    return xp.permute_dims(xp.reshape(cols, (cols.shape[0], size[0], size[1], n)), (3, 0, 1, 2))


class Conv2d(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any, stride: tuple, padding: tuple,
                dilation: tuple) -> Any:
        # exercise 6: Conv2d.forward, by im2col and one matrix product
        xp = backend.namespace(x)
        kernel, c_out = tuple(weight.shape[2:]), weight.shape[0]
        grid = geometry.conv2d_output_size(x.shape[2:], kernel, stride, padding, dilation)
        xpad = _padded_batch_last(x, padding)
        out = xp.matmul(xp.reshape(weight, (c_out, -1)), im2col(xpad, kernel, stride,
                                                                  dilation, grid))
        if bias is not None:
            out += xp.reshape(bias, (c_out, 1))
        # The padded input, not its columns (kH*kW times bigger): backward rebuilds them.
        ctx.save_for_backward(xpad, weight)
        ctx.geometry = (kernel, stride, dilation, grid)
        ctx.padding = padding
        return _image(out, x.shape[0], grid)
        # end exercise 6

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> tuple[Any, Any, Any]:
        # exercise 6: Conv2d.backward, with col2im and im2col
        xpad, weight = ctx.saved_arrays
        xp = backend.namespace(grad_out)
        w2 = xp.reshape(weight, (weight.shape[0], -1))  # (C_out, C_in*kH*kW)
        g = _columns(grad_out)  # (C_out, H_out*W_out*N)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:  # out = W2 cols: dL/dcols = W2^T g, back to pixels
            cols = xp.matmul(xp.matrix_transpose(w2), g)
            grad_x = _batch_first(col2im(cols, xpad.shape, *ctx.geometry), ctx.padding)
        if ctx.needs_input_grad[1]:  # dL/dW2 = g cols^T
            cols = im2col(xpad, *ctx.geometry)
            grad_w = xp.reshape(xp.matmul(g, xp.matrix_transpose(cols)), weight.shape)
        if ctx.needs_input_grad[2]:  # the bias is added at every pixel of every image
            grad_b = xp.sum(g, axis=1)
        return grad_x, grad_w, grad_b
        # end exercise 6


class ConvTranspose2d(Function):
    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any, stride: tuple, padding: tuple,
                output_padding: tuple, dilation: tuple) -> Any:
        # exercise 7: ConvTranspose2d.forward, conv2d's input-gradient
        xp = backend.namespace(x)
        n, c_out, kernel = x.shape[0], weight.shape[1], tuple(weight.shape[2:])
        grid = tuple(x.shape[2:])  # the input plays the part of conv2d's output grid
        size = geometry.conv_transpose2d_output_size(grid, kernel, stride, padding,
                                                     output_padding, dilation)
        x2 = _columns(x)  # (C_in, H*W*N)
        # conv2d's input-gradient with x in the place of grad_out: W2^T x2, then col2im
        cols = xp.matmul(xp.matrix_transpose(xp.reshape(weight, (x.shape[1], -1))), x2)
        padded = (c_out, size[0] + 2 * padding[0], size[1] + 2 * padding[1], n)
        ypad = col2im(cols, padded, kernel, stride, dilation, grid)
        if bias is not None:
            ypad += xp.reshape(bias, (c_out, 1, 1, 1))
        ctx.save_for_backward(x2, weight)
        ctx.geometry = (kernel, stride, dilation, grid)
        ctx.padding = padding
        return _batch_first(ypad, padding)
        # end exercise 7

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> tuple[Any, Any, Any]:
        # exercise 7: ConvTranspose2d.backward, conv2d's forward
        x2, weight = ctx.saved_arrays
        xp = backend.namespace(grad_out)
        w2 = xp.reshape(weight, (weight.shape[0], -1))  # (C_in, C_out*kH*kW)
        # y = col2im(W2^T x2), and the adjoint of col2im is im2col: conv2d's forward on g
        cols = im2col(_padded_batch_last(grad_out, ctx.padding), *ctx.geometry)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:  # dL/dx = W2 im2col(g)
            grad_x = _image(xp.matmul(w2, cols), grad_out.shape[0], ctx.geometry[3])
        if ctx.needs_input_grad[1]:  # dL/dW2 = x2 im2col(g)^T
            grad_w = xp.reshape(xp.matmul(x2, xp.matrix_transpose(cols)), weight.shape)
        if ctx.needs_input_grad[2]:
            grad_b = xp.sum(grad_out, axis=(0, 2, 3))
        return grad_x, grad_w, grad_b
        # end exercise 7


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
           padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation, as in PyTorch): input (N, C_in, H, W), weight
    (C_out, C_in, kH, kW), bias (C_out,) -> (N, C_out, H_out, W_out) with
    ``H_out = floor((H + 2p - d(kH - 1) - 1) / s) + 1``. ``padding`` may be "same" or "valid".

    >>> conv2d(minigen.randn(8, 1, 28, 28), minigen.randn(64, 1, 4, 4), stride=2, padding=1).shape
    (8, 64, 14, 14)
    """
    input, s, p, d = geometry.conv2d_arguments(input, weight, bias, stride, padding, dilation,
                                               groups)
    return Conv2d.apply(input, weight, bias, stride=s, padding=p, dilation=d)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None,
                     stride: Any = 1, padding: Any = 0, output_padding: Any = 0,
                     groups: int = 1, dilation: Any = 1) -> Tensor:
    """The adjoint of :func:`conv2d`: input (N, C_in, H, W), weight (C_in, C_out, kH, kW)
    (PyTorch's layout), bias (C_out,) -> (N, C_out, H_out, W_out) with
    ``H_out = (H - 1)s - 2p + d(kH - 1) + output_padding + 1``.

    >>> conv_transpose2d(minigen.randn(8, 128, 7, 7), minigen.randn(128, 64, 4, 4), stride=2,
    ...                  padding=1).shape
    (8, 64, 14, 14)
    """
    s, p, op, d = geometry.conv_transpose2d_arguments(input, weight, bias, stride, padding,
                                                      output_padding, groups, dilation)
    return ConvTranspose2d.apply(input, weight, bias, stride=s, padding=p, output_padding=op,
                                 dilation=d)
