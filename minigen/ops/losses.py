"""Loss functions, fused: one op computes the elementwise loss and its reduction, and one
backward gives the gradient. A target broadcasts to its input's shape (a scalar label for a
whole batch, one image for k samples of it), never the other way round: an input (N, 1)
against a target (N,) would silently become an (N, N) loss, the classic discriminator bug."""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import ShapeError
from minigen.ops import reductions
from minigen.ops._common import binary_operands, broadcast_shapes, check_floating
from minigen.ops.activations import _log1p_unit, _sigmoid_from

REDUCTIONS = ("mean", "sum", "none")
# PyTorch floors p (1 - p) in BCE's gradient at 1e-12 held as a C float: 1e-12 rounded to
# float32, which is this number, not 1e-12 (a gradient 4e-9 apart at p = 0 or 1 in float64).
GRAD_FLOOR = 9.999999960041972e-13


def _reduce(ctx: Context, loss: Array, reduction: str) -> Array:
    xp = backend.namespace(loss)
    ctx.reduction, ctx.loss_shape = reduction, loss.shape
    if reduction == "mean":
        return xp.asarray(xp.mean(loss))  # a 0-d array (NumPy would give a scalar)
    if reduction == "sum":
        return xp.asarray(xp.sum(loss))
    return loss


def _grad_scale(ctx: Context, grad_out: Array) -> Array:
    """The incoming gradient for each element: g, or g / n after a mean."""
    if ctx.reduction == "mean":
        n = 1
        for size in ctx.loss_shape:
            n *= size
        return grad_out / max(n, 1)
    return grad_out


def _loss_shaped(ctx: Context, grad: Array) -> Array:
    """A gradient that depends on one operand only, broadcast to the loss's shape: the other
    operand may have more elements, and the engine sums broadcast copies back, never spreads."""
    return backend.namespace(grad).broadcast_to(grad, ctx.loss_shape)


class BinaryCrossEntropyWithLogits(Function):
    @staticmethod
    def forward(ctx: Context, logits: Array, target: Array, pos_weight: Array | None,
                reduction: str) -> Array:
        xp = backend.namespace(logits)
        e = xp.exp(-xp.abs(logits))  # shared with the backward's sigmoid
        ctx.save_for_backward(logits, target, e, pos_weight)
        if pos_weight is None:
            # -[y log s(x) + (1-y) log(1 - s(x))] = max(x, 0) - x y + log(1 + e^-|x|)
            loss = xp.maximum(logits, 0.0) - logits * target + _log1p_unit(e)
        else:
            # -[pw y log s(x) + (1-y) log(1 - s(x))] = (1-y) x + (1 + (pw-1) y) softplus(-x)
            loss = (1.0 - target) * logits + (1.0 + (pos_weight - 1.0) * target) * (
                xp.maximum(-logits, 0.0) + _log1p_unit(e))
        return _reduce(ctx, loss, reduction)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Any, Any, Any]:
        logits, target, e, pos_weight = ctx.saved_arrays
        xp = backend.namespace(logits)
        g = _grad_scale(ctx, grad_out)
        need_x, need_y, need_pw = ctx.needs_input_grad[:3]
        if pos_weight is None:
            grad_x = g * (_sigmoid_from(logits, e) - target) if need_x else None
            grad_y = _loss_shaped(ctx, g * -logits) if need_y else None
            return grad_x, grad_y, None
        softplus_neg = xp.maximum(-logits, 0.0) + _log1p_unit(e)  # -log s(x)
        grad_x = grad_y = grad_pw = None
        if need_x:  # d/dx = (1 + (pw-1) y) s(x) - pw y
            grad_x = g * ((1.0 + (pos_weight - 1.0) * target) * _sigmoid_from(logits, e)
                          - pos_weight * target)
        if need_y:  # d/dy = -x + (pw - 1) softplus(-x)
            grad_y = _loss_shaped(ctx, g * ((pos_weight - 1.0) * softplus_neg - logits))
        if need_pw:  # d/dpw = y softplus(-x)
            grad_pw = _loss_shaped(ctx, g * target * softplus_neg)
        return grad_x, grad_y, grad_pw


def _log_floored(log: Any, p: Array, edge: float) -> Array:
    """``max(log(p), -100)``, where ``p == edge`` (log of 0) is -100 directly: computing
    log(0) = -inf and clamping it would warn on every saturated sigmoid output."""
    xp = backend.namespace(p)
    at_edge = p == edge
    return xp.where(at_edge, -100.0, xp.clip(log(xp.where(at_edge, 0.5, p)), -100.0, None))


class BinaryCrossEntropy(Function):
    @staticmethod
    def forward(ctx: Context, p: Array, target: Array, reduction: str) -> Array:
        xp = backend.namespace(p)
        # PyTorch clamps each log at -100, so p = 0 or 1 gives a large finite loss, not inf.
        log_p = _log_floored(xp.log, p, edge=0.0)
        log_1mp = _log_floored(lambda q: xp.log1p(-q), p, edge=1.0)
        ctx.save_for_backward(p, target, log_p, log_1mp)
        loss = -(target * log_p + (1.0 - target) * log_1mp)
        return _reduce(ctx, loss, reduction)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Any, Any]:
        p, target, log_p, log_1mp = ctx.saved_arrays
        xp = backend.namespace(p)
        g = _grad_scale(ctx, grad_out)
        grad_p = grad_y = None
        if ctx.needs_input_grad[0]:
            # d/dp = (p - y) / (p (1 - p)), with PyTorch's floor on the denominator
            grad_p = g * (p - target) / xp.maximum(p * (1.0 - p), GRAD_FLOOR)
        if ctx.needs_input_grad[1]:
            grad_y = _loss_shaped(ctx, g * (log_1mp - log_p))
        return grad_p, grad_y


class MSELoss(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, b: Array, reduction: str) -> Array:
        diff = a - b
        ctx.save_for_backward(diff)
        return _reduce(ctx, diff * diff, reduction)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Array, Array]:
        (diff,) = ctx.saved_arrays
        grad = _grad_scale(ctx, grad_out) * (2.0 * diff)  # d/da (a-b)^2 = 2 (a-b)
        return grad, -grad


class GaussianKL(Function):
    """KL( N(mu, diag(e^logvar)) || N(0, I) ) per row, fused: the VAE's KL term is a dozen
    tiny elementwise ops when composed, and its gradients are simple closed forms."""

    @staticmethod
    def forward(ctx: Context, mu: Array, logvar: Array, reduction: str) -> Array:
        xp = backend.namespace(mu)
        var = xp.exp(logvar)
        ctx.save_for_backward(mu, var)
        # 0.5 * sum_j (mu_j^2 + sigma_j^2 - log sigma_j^2 - 1), over the last axis
        per_element = mu * mu + var - logvar - 1.0
        ctx.full_shape = per_element.shape  # one of mu, logvar may broadcast to the other
        return _reduce(ctx, xp.sum(per_element, axis=-1) * 0.5, reduction)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Any, Any, None]:
        mu, var = ctx.saved_arrays
        g = _grad_scale(ctx, grad_out)
        if ctx.reduction == "none":
            g = g[..., None]  # one value per row -> the same for each latent dimension
        xp = backend.namespace(mu)
        # each gradient depends on one operand only: spread it over the broadcast shape, and
        # the engine sums the copies back to the operand's shape
        grad_mu = grad_logvar = None
        if ctx.needs_input_grad[0]:
            grad_mu = xp.broadcast_to(g * mu, ctx.full_shape)  # d/dmu = mu
        if ctx.needs_input_grad[1]:  # d/dlogvar = (e^logvar - 1) / 2
            grad_logvar = xp.broadcast_to(g * ((var - 1.0) * 0.5), ctx.full_shape)
        return grad_mu, grad_logvar, None


# ------------------------------------------------------------------------- functions


def _check(input: Any, target: Any, reduction: str, op: str) -> tuple[Any, Any]:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    input, target = binary_operands(input, target, op)
    check_floating(input, op)
    target_shape = tuple(getattr(target, "shape", ()))
    shape = broadcast_shapes(input.shape, target_shape, op=op)
    if shape != input.shape:
        raise ShapeError(
            f"{op}: input {input.shape} and target {target_shape} would broadcast to {shape}, "
            f"a loss over every pair of elements. Give the target the input's shape: e.g. "
            f"target.reshape{input.shape} or input.reshape{target_shape} (a discriminator's "
            f"(N, 1) output against (N,) labels is the usual cause)")
    if reduction == "mean" and 0 in shape:
        raise ShapeError(f"{op}: the mean over an empty input (shape {shape}) has no value: "
                         "use reduction='sum' or check the batch")
    return input, target


def _weighted(loss: Any, weight: Any, reduction: str) -> Any:
    """The elementwise ``loss`` times ``weight``, then reduced (the mean over the elements,
    not over the weights, as in PyTorch)."""
    loss = loss * weight
    if reduction == "mean":
        return reductions.mean(loss)
    return reductions.sum(loss) if reduction == "sum" else loss


def _check_weight(input: Any, weight: Any, name: str, op: str) -> Any:
    """``weight`` (or ``pos_weight``) as a tensor that broadcasts to the input's shape."""
    if isinstance(weight, str):
        raise TypeError(f"{op}: {name} must be a tensor, got {weight!r}: pass the reduction "
                        f"by name, reduction={weight!r}")
    _, weight = binary_operands(input, weight, op)
    shape = getattr(weight, "shape", ())
    if broadcast_shapes(input.shape, shape, op=op) != input.shape:
        raise ShapeError(f"{op}: {name} of shape {shape} does not broadcast to the input's "
                         f"shape {input.shape}")
    return weight


def binary_cross_entropy_with_logits(input: Any, target: Any, weight: Any = None, *,
                                     reduction: str = "mean", pos_weight: Any = None):
    """BCE of ``sigmoid(input)`` against ``target`` in [0, 1], computed from the logits
    stably: ``max(x, 0) - x*y + log1p(exp(-|x|))``. Prefer it to sigmoid + BCE.

    ``weight`` rescales each element's loss; ``pos_weight`` (one per class, the last axis)
    the positive term: ``-[pos_weight * y * log s(x) + (1 - y) * log(1 - s(x))]``. Both
    broadcast to the input's shape, as in PyTorch.
    """
    op = "binary_cross_entropy_with_logits"
    input, target = _check(input, target, reduction, op)
    if pos_weight is not None:
        pos_weight = _check_weight(input, pos_weight, "pos_weight", op)
    if weight is None:
        return BinaryCrossEntropyWithLogits.apply(input, target, pos_weight, reduction)
    weight = _check_weight(input, weight, "weight", op)
    loss = BinaryCrossEntropyWithLogits.apply(input, target, pos_weight, "none")
    return _weighted(loss, weight, reduction)


def binary_cross_entropy(input: Any, target: Any, weight: Any = None, *,
                         reduction: str = "mean"):
    """BCE of probabilities ``input`` in [0, 1] against ``target``; each log is clamped at
    -100 as in PyTorch. ``weight`` rescales each element's loss (it broadcasts to the
    input's shape)."""
    op = "binary_cross_entropy"
    input, target = _check(input, target, reduction, op)
    xp = backend.namespace(input.data)
    if bool(xp.any((input.data < 0.0) | (input.data > 1.0))):  # log of a negative: NaN
        low, high = float(xp.min(input.data)), float(xp.max(input.data))
        raise ValueError(f"{op}: every input must be a probability in [0, 1], got values in "
                         f"[{low:.4g}, {high:.4g}]. Pass D's sigmoid output, or give the "
                         "logits to binary_cross_entropy_with_logits (stabler)")
    if weight is None:
        return BinaryCrossEntropy.apply(input, target, reduction)
    weight = _check_weight(input, weight, "weight", op)
    return _weighted(BinaryCrossEntropy.apply(input, target, "none"), weight, reduction)


def mse_loss(input: Any, target: Any, reduction: str = "mean"):
    """Mean (or summed) squared error."""
    input, target = _check(input, target, reduction, "mse_loss")
    return MSELoss.apply(input, target, reduction)


def gaussian_kl(mu: Any, logvar: Any, reduction: str = "sum"):
    """KL( N(mu, diag(exp(logvar))) || N(0, I) ), summed over the last (latent) axis.

    Closed form: 0.5 * sum(mu^2 + sigma^2 - log sigma^2 - 1). Returns one value per row
    (``reduction="none"``), their sum, or their mean. It is >= 0, and 0 exactly at the prior.
    One of ``mu`` and ``logvar`` may broadcast to the other's shape (a shared log-variance),
    never widen it.
    """
    op = "gaussian_kl"
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    mu, logvar = binary_operands(mu, logvar, op)
    check_floating(mu, op)
    check_floating(logvar, op)
    shape = broadcast_shapes(mu.shape, logvar.shape, op=op)
    if shape not in (mu.shape, logvar.shape):  # (N, 1) and (N,) would be N latents per row
        raise ShapeError(f"{op}: mu {mu.shape} and logvar {logvar.shape} would broadcast to "
                         f"{shape}, larger than either. Give them one shape: e.g. "
                         f"logvar.reshape{mu.shape} (a shared log-variance may broadcast "
                         f"to mu's shape, never widen it)")
    if len(shape) == 0:
        raise ShapeError(f"{op}: mu and logvar need a latent axis (at least 1-D), got 0-d")
    if reduction == "mean" and 0 in shape[:-1]:
        raise ShapeError(f"{op}: the mean over an empty batch (shape {shape}) has no value: "
                         "use reduction='sum' or check the batch")
    return GaussianKL.apply(mu, logvar, reduction)
