"""Layer normalisation: each sample normalised over its last dimensions, a fused op with a
hand-written backward (as batch_norm in :mod:`minigen.ops.normalization`).

Composed from mean, sub, mul and sqrt, the graph would keep about six input-sized arrays; the
fused op keeps one (the normalised input x_hat) and one value per sample (1 / sigma).
"""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import DTypeError, ShapeError
from minigen.extras._common import check_floating, check_tensor, is_int
from minigen.tensor import Tensor


class LayerNorm(Function):
    """``y = (x - mean) / sqrt(var + eps) * weight + bias``, mean and the BIASED variance over
    the last ``ndim`` axes of each sample (PyTorch's); weight and bias have those axes' shape.

    Backward, with x_hat = (x - mean) / sigma, g' = g * weight and M values per sample:
    ``dL/dx = (g' - mean(g') - x_hat * mean(g' * x_hat)) / sigma``, ``dL/dweight = sum of
    g * x_hat`` and ``dL/dbias = sum of g`` over the leading (sample) axes.
    """

    @staticmethod
    def forward(ctx: Context, x: Array, weight: Array | None, bias: Array | None, ndim: int,
                eps: float) -> Array:
        xp = backend.namespace(x)
        axes = tuple(range(x.ndim - ndim, x.ndim))
        count = 1
        for n in x.shape[x.ndim - ndim:]:
            count *= n
        scale = 1.0 / max(count, 1)  # a sum and a scale: no mean of an empty slice warning

        def mean(a: Array) -> Array:
            return xp.sum(a, axis=axes, keepdims=True) * scale

        # Shifted by each block's first element before the mean: the sum then adds small
        # numbers, and a constant block is exactly 0 (x - mean(x) in float32 left it at one
        # rounding of the mean, 1.9e-5 after dividing by sqrt(eps); PyTorch gives 0).
        shifted = x - x[(..., *(slice(0, 1),) * ndim)]
        centred = shifted - mean(shifted)
        var = mean(centred * centred)  # biased: divides by M
        inv_std = 1.0 / xp.sqrt(var + eps)
        x_hat = centred * inv_std
        ctx.save_for_backward(x_hat, inv_std, weight)
        ctx.axes, ctx.leading, ctx.scale = axes, tuple(range(x.ndim - ndim)), scale
        out = x_hat if weight is None else x_hat * weight
        return out if bias is None else out + bias

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Any, Any, Any]:
        x_hat, inv_std, weight = ctx.saved_arrays
        xp = backend.namespace(grad_out)
        need_x, need_w, need_b = ctx.needs_input_grad[:3]

        def over_samples(a: Array) -> Array:  # a sum over the leading axes: weight's shape
            return xp.sum(a, axis=ctx.leading) if ctx.leading else a

        grad_x = grad_w = grad_b = None
        if need_x:
            g = grad_out if weight is None else grad_out * weight
            mean_g = xp.sum(g, axis=ctx.axes, keepdims=True) * ctx.scale
            mean_g_xhat = xp.sum(g * x_hat, axis=ctx.axes, keepdims=True) * ctx.scale
            grad_x = (g - mean_g - x_hat * mean_g_xhat) * inv_std
        if need_w:
            grad_w = over_samples(grad_out * x_hat)
        if need_b:
            grad_b = over_samples(grad_out)
        return grad_x, grad_w, grad_b


def normalized_shape_tuple(normalized_shape: Any, op: str) -> tuple[int, ...]:
    """``normalized_shape`` (a tuple or list of sizes >= 0, at least one) as a tuple."""
    if is_int(normalized_shape):
        raise TypeError(f"{op}: normalized_shape must be a tuple of ints, got the int "
                        f"{normalized_shape}: write ({normalized_shape},) (nn.LayerNorm "
                        "takes an int, F.layer_norm does not, as in PyTorch)")
    if not isinstance(normalized_shape, (tuple, list)) or not all(
            is_int(n) for n in normalized_shape):
        raise TypeError(f"{op}: normalized_shape must be a tuple of ints, got "
                        f"{normalized_shape!r}")
    shape = tuple(int(n) for n in normalized_shape)
    if not shape:
        raise ShapeError(f"{op}: normalized_shape must name at least one dimension, got ()")
    if any(n < 0 for n in shape):
        raise ShapeError(f"{op}: normalized_shape {shape} has a negative size")
    return shape


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Layer normalisation over the last ``len(normalized_shape)`` dimensions.

    Parameters
    ----------
    input : Tensor (*, *normalized_shape)
    normalized_shape : tuple (or list) of ints
        The trailing shape of ``input`` to normalise over, e.g. ``(C,)`` for (N, L, C)
        features, ``(C, H, W)`` for whole images.
    weight, bias : Tensor of shape ``normalized_shape``, optional
        The elementwise affine transform applied after normalising.
    eps : float
        Added to the (biased) variance: ``(x - mean) / sqrt(var + eps)``.

    Returns
    -------
    Tensor of the input's shape.

    Examples
    --------
    >>> x = minigen.randn(4, 10)
    >>> y = layer_norm(x, (10,))   # each row: mean 0, variance 1 (up to eps)
    """
    op = "layer_norm"
    check_floating(input, op)
    shape = normalized_shape_tuple(normalized_shape, op)
    if input.shape[input.ndim - len(shape):] != shape or input.ndim < len(shape):
        raise ShapeError(f"{op}: normalized_shape {shape} must be the input's trailing "
                         f"dimensions, got an input of shape {input.shape}")
    if not isinstance(eps, (int, float)) or isinstance(eps, bool) or not eps >= 0:
        raise ValueError(f"{op}: eps must be a number >= 0, got {eps!r}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is None:
            continue
        check_tensor(t, f"{op} ({name})")
        if t.shape != shape:
            raise ShapeError(f"{op}: {name} of shape {t.shape}, expected normalized_shape "
                             f"{shape}")
        if t.dtype != input.dtype:
            raise DTypeError(f"{op}: {name} is {t.dtype.name} but the input is "
                             f"{input.dtype.name}; minigen never casts silently: convert one "
                             "with .to()")
    return LayerNorm.apply(input, weight, bias, ndim=len(shape), eps=float(eps))
