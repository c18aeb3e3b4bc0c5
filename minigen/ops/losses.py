"""Loss functions, fused: one op computes the elementwise loss and its reduction, and one
backward gives the gradient. A target broadcasts to its input's shape (a scalar label for a
whole batch, one image for k samples of it), never the other way round: an input (N, 1)
against a target (N,) would silently become an (N, N) loss, the classic discriminator bug."""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.errors import ShapeError
from minigen.ops import reductions
from minigen.ops._common import broadcast_shapes, check_floating, operands
from minigen.ops.activations import stable_sigmoid

REDUCTIONS = ("mean", "sum", "none")


def reduce_loss(ctx: Context, loss: Any, reduction: str) -> Any:
    xp = backend.namespace(loss)
    ctx.reduction, ctx.loss_shape = reduction, loss.shape
    if reduction == "mean":
        return xp.asarray(xp.mean(loss))  # a 0-d array (NumPy would give a scalar)
    if reduction == "sum":
        return xp.asarray(xp.sum(loss))
    return loss


def per_element_grad(ctx: Context, grad_out: Any) -> Any:
    """The incoming gradient for each element: g, or g / n after a mean."""
    if ctx.reduction == "mean":
        n = 1
        for size in ctx.loss_shape:
            n *= size
        return grad_out / max(n, 1)
    return grad_out


def loss_shaped(ctx: Context, grad: Any) -> Any:
    """A gradient that depends on one operand only, broadcast to the loss's shape: the other
    operand may have more elements, and the engine sums broadcast copies back, never spreads."""
    return backend.namespace(grad).broadcast_to(grad, ctx.loss_shape)


class BinaryCrossEntropyWithLogits(Function):
    @staticmethod
    def forward(ctx: Context, logits: Any, target: Any, pos_weight: Any | None,
                reduction: str) -> Any:
        xp = backend.namespace(logits)
        e = xp.exp(-xp.abs(logits))  # shared with the backward's sigmoid
        ctx.save_for_backward(logits, target, e, pos_weight)
        if pos_weight is None:
            # exercise 8: BinaryCrossEntropyWithLogits.forward, the stable loss
            # -[y log s(x) + (1-y) log(1 - s(x))] = max(x, 0) - x y + log(1 + e^-|x|)
            loss = xp.maximum(logits, 0.0) - logits * target + backend.log1p_unit(e)
            # end exercise 8
        else:
            # -[pw y log s(x) + (1-y) log(1 - s(x))] = (1-y) x + (1 + (pw-1) y) softplus(-x)
            loss = (1.0 - target) * logits + (1.0 + (pos_weight - 1.0) * target) * (
                xp.maximum(-logits, 0.0) + backend.log1p_unit(e))
        return reduce_loss(ctx, loss, reduction)

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> tuple[Any, Any, Any]:
        logits, target, e, pos_weight = ctx.saved_arrays
        xp = backend.namespace(logits)
        g = per_element_grad(ctx, grad_out)
        need_x, need_y, need_pw = ctx.needs_input_grad[:3]
        if pos_weight is None:
            # exercise 8: BinaryCrossEntropyWithLogits.backward, without pos_weight
            grad_x = g * (stable_sigmoid(logits, e) - target) if need_x else None
            grad_y = loss_shaped(ctx, g * -logits) if need_y else None
            return grad_x, grad_y, None
            # end exercise 8
        softplus_neg = xp.maximum(-logits, 0.0) + backend.log1p_unit(e)  # -log s(x)
        grad_x = grad_y = grad_pw = None
        if need_x:  # d/dx = (1 + (pw-1) y) s(x) - pw y
            grad_x = g * ((1.0 + (pos_weight - 1.0) * target) * stable_sigmoid(logits, e)
                          - pos_weight * target)
        if need_y:  # d/dy = -x + (pw - 1) softplus(-x)
            grad_y = loss_shaped(ctx, g * ((pos_weight - 1.0) * softplus_neg - logits))
        if need_pw:  # d/dpw = y softplus(-x)
            grad_pw = loss_shaped(ctx, g * target * softplus_neg)
        return grad_x, grad_y, grad_pw



class MSELoss(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any, reduction: str) -> Any:
        diff = a - b
        ctx.save_for_backward(diff)
        return reduce_loss(ctx, diff * diff, reduction)

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> tuple[Any, Any]:
        (diff,) = ctx.saved_arrays
        grad = per_element_grad(ctx, grad_out) * (2.0 * diff)  # d/da (a-b)^2 = 2 (a-b)
        return grad, -grad


class GaussianKL(Function):
    """KL( N(mu, diag(e^logvar)) || N(0, I) ) per row, fused: the VAE's KL term is a dozen
    tiny elementwise ops when composed, and its gradients are simple closed forms."""

    @staticmethod
    def forward(ctx: Context, mu: Any, logvar: Any, reduction: str) -> Any:
        # exercise 12: GaussianKL.forward, the closed form per row
        xp = backend.namespace(mu)
        var_minus_1 = xp.expm1(logvar)  # sigma^2 - 1, exact near the prior (no cancellation)
        ctx.save_for_backward(mu, var_minus_1)
        # 0.5 * sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2), over the last axis
        per_element = mu * mu + (var_minus_1 - logvar)
        ctx.full_shape = per_element.shape  # one of mu, logvar may broadcast to the other
        return reduce_loss(ctx, xp.sum(per_element, axis=-1) * 0.5, reduction)
        # end exercise 12

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> tuple[Any, Any, None]:
        # exercise 12: GaussianKL.backward
        mu, var_minus_1 = ctx.saved_arrays
        g = per_element_grad(ctx, grad_out)
        if ctx.reduction == "none":
            g = g[..., None]  # one value per row -> the same for each latent dimension
        xp = backend.namespace(mu)
        # each gradient depends on one operand only: spread it over the broadcast shape, and
        # the engine sums the copies back to the operand's shape
        grad_mu = grad_logvar = None
        if ctx.needs_input_grad[0]:
            grad_mu = xp.broadcast_to(g * mu, ctx.full_shape)  # d/dmu = mu
        if ctx.needs_input_grad[1]:  # d/dlogvar = (e^logvar - 1) / 2
            grad_logvar = xp.broadcast_to(g * (var_minus_1 * 0.5), ctx.full_shape)
        return grad_mu, grad_logvar, None
        # end exercise 12


# ------------------------------------------------------------------------- functions


def loss_arguments(input: Any, target: Any, reduction: str, op: str) -> tuple[Any, Any]:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    input, target = operands(input, target, op)
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


def weighted(loss: Any, weight: Any, reduction: str) -> Any:
    """The elementwise ``loss`` times ``weight``, then reduced (the mean over the elements,
    not over the weights, as in PyTorch)."""
    loss = loss * weight
    if reduction == "mean":
        return reductions.mean(loss)
    return reductions.sum(loss) if reduction == "sum" else loss


def loss_weight(input: Any, weight: Any, name: str, op: str) -> Any:
    """``weight`` (or ``pos_weight``) as a tensor that broadcasts to the input's shape."""
    if isinstance(weight, str):
        raise TypeError(f"{op}: {name} must be a tensor, got {weight!r}: pass the reduction "
                        f"by name, reduction={weight!r}")
    _, weight = operands(input, weight, op)
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
    input, target = loss_arguments(input, target, reduction, op)
    if pos_weight is not None:
        pos_weight = loss_weight(input, pos_weight, "pos_weight", op)
    if weight is None:
        return BinaryCrossEntropyWithLogits.apply(input, target, pos_weight, reduction)
    weight = loss_weight(input, weight, "weight", op)
    loss = BinaryCrossEntropyWithLogits.apply(input, target, pos_weight, "none")
    return weighted(loss, weight, reduction)



def mse_loss(input: Any, target: Any, reduction: str = "mean"):
    """Mean (or summed) squared error."""
    input, target = loss_arguments(input, target, reduction, "mse_loss")
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
    mu, logvar = operands(mu, logvar, op)
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
