"""Batch normalisation and dropout: fused ops with hand-written backward passes.

Batch norm could be composed of mean, var, sub and div, but its graph would keep half a dozen
activation-sized arrays; the fused op keeps one (x - mean), and its backward is the classic
three-term formula.
"""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.errors import DTypeError, ShapeError
from minigen.ops._common import check_floating, check_tensor
from minigen.tensor import Tensor


def _per_channel(v: Any, ndim: int) -> Any:
    """A (C,) vector shaped (1, C, 1, ..., 1), to broadcast along axis 1 of an array."""
    return backend.namespace(v).reshape(v, (1, -1) + (1,) * (ndim - 2))


class BatchNorm(Function):
    """``y = (x - mean) / sqrt(var + eps) * weight + bias``, per channel (axis 1).

    In training, mean and var are the batch's, over every axis but 1 (the biased variance),
    and the running averages are updated; in eval they are the running averages, constants.
    """

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any, running_mean: Tensor | None,
                running_var: Tensor | None, training: bool, momentum: float,
                eps: float) -> Any:
        xp = backend.namespace(x)
        axes = (0,) + tuple(range(2, x.ndim))
        count = x.size // x.shape[1]  # M: values per channel
        if training:
            mean = xp.mean(x, axis=axes)
            centred = x - _per_channel(mean, x.ndim)
            var = backend.sum_of_products(centred, centred, axes) / count  # biased, / M
            if running_mean is not None:  # the buffers' arrays are replaced: a new average
                running_mean.data = (1.0 - momentum) * running_mean.data + momentum * mean
            if running_var is not None:  # ... of the UNBIASED variance, M / (M - 1)
                unbiased = var * (count / (count - 1))
                running_var.data = (1.0 - momentum) * running_var.data + momentum * unbiased
        else:
            centred, var = x - _per_channel(running_mean.data, x.ndim), running_var.data
        inv_std = 1.0 / xp.sqrt(var + eps)
        scale = inv_std if weight is None else weight * inv_std  # dy/dx_hat * dx_hat/dx
        ctx.save_for_backward(centred, inv_std, scale)
        ctx.training, ctx.axes, ctx.count = training, axes, count
        out = centred * _per_channel(scale, x.ndim)  # = x_hat * weight
        if bias is not None:
            out += _per_channel(bias, x.ndim)
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> tuple[Any, Any, Any]:
        # exercise 11: BatchNorm.backward, the three-term formula
        centred, inv_std, scale = ctx.saved_arrays  # x_hat = centred * inv_std
        xp, ndim, m = backend.namespace(grad_out), grad_out.ndim, ctx.count
        need_x, need_w, need_b = ctx.needs_input_grad
        grad_x = grad_w = grad_b = None
        if need_b or (need_x and ctx.training):  # dL/dbias = sum of g over all axes but 1
            grad_b = xp.sum(grad_out, axis=ctx.axes)
        if need_w or (need_x and ctx.training):  # dL/dweight = sum of g * x_hat
            grad_w = backend.sum_of_products(grad_out, centred, ctx.axes) * inv_std
        if need_x:
            grad_x = grad_out * _per_channel(scale, ndim)
            if ctx.training:  # mean and var depend on x too; with M values per channel,
                # dL/dx = w / sigma * (g - mean(g) - x_hat * mean(g * x_hat))
                grad_x -= centred * _per_channel(scale * inv_std * grad_w / m, ndim)
                grad_x -= _per_channel(scale * grad_b / m, ndim)
        return grad_x, grad_w if need_w else None, grad_b if need_b else None
        # end exercise 11


class Dropout(Function):
    """``y = x * mask``, the mask 0 with probability p and 1 / (1 - p) otherwise."""

    @staticmethod
    def forward(ctx: Context, x: Any, mask: Any) -> Any:
        ctx.save_for_backward(mask)
        return x * mask

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> tuple[Any, None]:
        (mask,) = ctx.saved_arrays
        return grad_out * mask, None  # dy/dx = mask, a constant


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
    # u ~ U(0, 1) of the input's shape, drawn in its memory layout (see backend.uniform_like)
    u = backend.uniform_like(backend.default_generator(input.device), input.data)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    mask = xp.astype(u >= p, input.data.dtype) * scale  # 0 or 1 / (1 - p)
    return Dropout.apply(input, mask)
