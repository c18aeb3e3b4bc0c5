"""Batch normalisation and dropout: fused ops with hand-written backward passes.

Batch norm could be composed from mean, var, sub and div, but the graph would keep half a dozen
activation-sized arrays and run a dozen passes over them; the fused op keeps one (x - mean) and
its backward is the classic three-term formula.
"""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import DTypeError, ShapeError
from minigen.ops._common import check_floating, check_tensor
from minigen.tensor import Tensor


def _per_channel(v: Array, ndim: int) -> Array:
    """A (C,) vector shaped (1, C, 1, ..., 1) to broadcast along axis 1 of an ndim array."""
    return backend.namespace(v).reshape(v, (1, -1) + (1,) * (ndim - 2))


def _channel_dot(a: Array, b: Array) -> Array:
    """``sum(a * b)`` over every axis but 1, per channel: a (C,) vector, in one pass.

    ``a * b`` and a sum would take two passes and an activation-sized temporary; a dot product
    per channel (``vecdot``) takes one, if each channel's values can be laid out as a row. For
    images stored batch-last, (C, H, W, N), the channels are already rows: 4x faster than the
    two passes. For the usual (N, C, H, W) order, (N, C, H*W) rows and a sum over N.
    """
    xp = backend.namespace(a)
    if backend.batch_last(a) and backend.batch_last(b):  # (C, ..., N) in memory
        dims = tuple(range(1, a.ndim)) + (0,)
        rows = [xp.reshape(xp.permute_dims(v, dims), (a.shape[1], -1)) for v in (a, b)]
        return xp.vecdot(rows[0], rows[1])
    if a.ndim == 2:  # (N, C): a column per channel, no rows to dot
        return xp.sum(a * b, axis=0)
    rows = [xp.reshape(v, (a.shape[0], a.shape[1], -1)) for v in (a, b)]
    return xp.sum(xp.vecdot(rows[0], rows[1]), axis=0)


class BatchNorm(Function):
    """``y = (x - mean) / sqrt(var + eps) * weight + bias`` per channel (axis 1).

    In training, mean and var are the batch's statistics over every axis but 1 (the biased
    variance), and the running averages are updated; in eval they are the running averages,
    constants of the graph.

    Every pass over an activation-sized array counts (BatchNorm sits between the big layers and
    does little arithmetic per element), so the forward takes five (a mean, a subtraction, one
    dot product per channel for the variance, a multiply-add) and keeps the centred input
    ``x - mean`` for the backward; the backward takes six.
    """

    @staticmethod
    def forward(ctx: Context, x: Array, weight: Array | None, bias: Array | None,
                running_mean: Tensor | None, running_var: Tensor | None, training: bool,
                momentum: float, eps: float) -> Array:
        xp = backend.namespace(x)
        axes = (0,) + tuple(range(2, x.ndim))
        count = x.size // x.shape[1]  # M: values per channel
        if training:
            mean = xp.mean(x, axis=axes)
            centred = x - _per_channel(mean, x.ndim)
            var = _channel_dot(centred, centred) / count  # biased: divides by M, as PyTorch
            if running_mean is not None:  # in place on the buffer tensors' .data
                running_mean.data = (1.0 - momentum) * running_mean.data + momentum * mean
            if running_var is not None:  # ... but the running variance is unbiased: M / (M-1)
                unbiased = var * (count / (count - 1))
                running_var.data = (1.0 - momentum) * running_var.data + momentum * unbiased
        else:
            centred = x - _per_channel(running_mean.data, x.ndim)
            var = running_var.data
        inv_std = 1.0 / xp.sqrt(var + eps)
        scale = inv_std if weight is None else weight * inv_std  # dy/dx_hat * dx_hat/dx
        ctx.save_for_backward(centred, inv_std, scale)
        ctx.training, ctx.axes, ctx.count = training, axes, count
        out = centred * _per_channel(scale, x.ndim)  # = x_hat * weight
        if bias is not None:
            out += _per_channel(bias, x.ndim)
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Any, Any, Any]:
        centred, inv_std, scale = ctx.saved_arrays  # x_hat = centred * inv_std
        xp = backend.namespace(grad_out)
        ndim, count = grad_out.ndim, ctx.count
        input_grad, weight_grad, bias_grad = ctx.needs_input_grad
        grad_x = grad_w = grad_b = None
        sum_g = sum_g_xhat = None  # each a pass over g: only when a gradient needs it
        if bias_grad or (input_grad and ctx.training):
            sum_g = xp.sum(grad_out, axis=ctx.axes)  # dL/dbias = sum of g over all but C
        if weight_grad or (input_grad and ctx.training):
            sum_g_xhat = _channel_dot(grad_out, centred) * inv_std  # dL/dweight: sum g * x_hat
        if input_grad:
            grad_x = grad_out * _per_channel(scale, ndim)
            if ctx.training:
                # mean and var depend on x too. With M values per channel:
                #   dL/dx = w / sigma * (g - mean(g) - x_hat * mean(g * x_hat))
                grad_x -= centred * _per_channel(scale * inv_std * sum_g_xhat / count, ndim)
                grad_x -= _per_channel(scale * sum_g / count, ndim)
            # eval: the running statistics are constants, y is affine in x: nothing to add
        if weight_grad:
            grad_w = sum_g_xhat
        if bias_grad:
            grad_b = sum_g
        return grad_x, grad_w, grad_b


class Dropout(Function):
    """``y = x * mask``, the mask 0 with probability p and 1 / (1 - p) otherwise."""

    @staticmethod
    def forward(ctx: Context, x: Array, mask: Array) -> Array:
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Array, None]:
        (mask,) = ctx.saved_arrays
        return grad_out * mask, None  # dy/dx = mask (the mask is a constant)


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None,
               training: bool = False, momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation over axis 1 (channels), with statistics over all other axes.

    Parameters
    ----------
    input : Tensor (N, C) or (N, C, H, W) (any (N, C, ...))
    running_mean, running_var : Tensor (C,) or None
        In training they are updated in place (their ``.data`` replaced):
        ``r = (1 - momentum) * r + momentum * batch_stat``, with the UNBIASED batch variance
        (the normalisation itself uses the biased one), as in PyTorch. Eval mode uses them.
    weight, bias : Tensor (C,), optional
        The affine transform applied after normalising.
    training : bool
        Batch statistics (True) or running statistics (False).

    Returns
    -------
    Tensor of the input's shape.

    Examples
    --------
    >>> x = minigen.randn(16, 3)
    >>> rm, rv = minigen.zeros(3), minigen.ones(3)
    >>> y = batch_norm(x, rm, rv, training=True)   # y's columns: mean 0, variance 1
    """
    check_floating(input, "batch_norm")
    if input.ndim < 2:
        raise ShapeError(f"batch_norm expected input of shape (N, C) or (N, C, H, W), got "
                         f"{input.shape}")
    c = input.shape[1]
    if c == 0:
        raise ShapeError(f"batch_norm: an input of shape {input.shape} has no channels (C = 0)")
    for name, value in (("momentum", momentum), ("eps", eps)):
        if not _is_number(value) or not value >= 0:
            raise ValueError(f"batch_norm: {name} must be a number >= 0, got {value!r}")
    dtype = input.dtype
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is None:
            continue
        check_tensor(t, f"batch_norm ({name})")
        if t.shape != (c,):
            raise ShapeError(f"batch_norm: {name} of shape {t.shape}, expected ({c},) for an "
                             f"input of shape {input.shape} (C = {c})")
        if t.dtype != dtype:
            raise DTypeError(f"batch_norm: {name} is {t.dtype} but the input is {dtype}; "
                             "minigen never casts silently: convert one with .to()")
    if training and input.numel() // max(c, 1) < 2:
        raise ShapeError(f"batch_norm: training needs more than 1 value per channel, got input "
                         f"{input.shape}")
    if not training and (running_mean is None or running_var is None):
        raise ShapeError("batch_norm: eval mode (training=False) needs running_mean and "
                         "running_var")
    return BatchNorm.apply(input, weight, bias, running_mean=running_mean,
                           running_var=running_var, training=training, momentum=momentum,
                           eps=eps)


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by
    1 / (1 - p), so the expected value is unchanged; the identity when not training.

    The mask comes from the input device's seeded generator (``minigen.manual_seed``).

    Examples
    --------
    >>> y = dropout(minigen.ones(1000), p=0.2)   # about 800 values of 1.25, the rest 0
    """
    if not _is_number(p) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return input
    check_floating(input, "dropout")
    xp = backend.namespace(input.data)
    generator = backend.default_generator(input.device)
    if input.ndim == 4:
        # Draw an image mask in the (C, H, W, N) order that conv layers leave their outputs in
        # (see ops/conv.py), so that input * mask keeps that memory layout for the next layer.
        n, c, h, w = input.shape
        u = xp.permute_dims(generator.uniform((c, h, w, n), input.dtype), (3, 0, 1, 2))
    else:
        u = generator.uniform(input.shape, input.dtype)
    keep = u >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    mask = xp.astype(keep, input.data.dtype) * scale  # 0 or 1 / (1 - p)
    return Dropout.apply(input, mask)
