"""Classification losses, as in PyTorch: the negative log-likelihood of integer labels
(``nll_loss``), the cross-entropy of logits (``cross_entropy``: log_softmax, then NLL, with
class weights, an ignored label, label smoothing, or class probabilities as the target), and
``one_hot``.

The class dimension is dim 1: logits (N, C), or (N, C, d1, ...) with one label per position
(N, d1, ...), or (C,) with a 0-d label. One fused op, :class:`NLLLoss`, picks each label's
log-probability; everything else is composed of ops that have their own backward.
"""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import DeviceError, DTypeError, ShapeError
from minigen.extras._common import check_floating, check_tensor, is_int
from minigen.ops import reductions
from minigen.ops.activations import log_softmax
from minigen.ops.losses import REDUCTIONS
from minigen.tensor import Tensor


def _label_hits(target: Array, valid: Array, classes: int) -> Array:
    """(N, C, d...) booleans: True where the class is the position's label (and the label is
    not ignored). One comparison with a broadcast arange: no loop, no scatter."""
    xp = backend.namespace(target)
    shape = (1, classes) + (1,) * (target.ndim - 1)
    arange = xp.arange(classes, dtype=target.dtype, device=backend.device_of(target).native)
    return (xp.reshape(arange, shape) == target[:, None, ...]) & valid[:, None, ...]


class NLLLoss(Function):
    """-weight[y] * logp[y] at each position (the label's log-probability, dim 1), reduced:
    the weighted mean divides by the sum of the labels' weights, as in PyTorch."""

    @staticmethod
    def forward(ctx: Context, logp: Array, target: Array, weight: Array | None,
                ignore_index: int, reduction: str) -> Array:
        xp = backend.namespace(logp)
        valid = target != ignore_index
        hits = _label_hits(target, valid, logp.shape[1])
        if weight is None:  # each label weighs 1, an ignored one 0
            w = xp.astype(hits, logp.dtype)
        else:
            w = xp.where(hits, xp.reshape(weight, (1, -1) + (1,) * (logp.ndim - 2)), 0.0)
        # where(), not w * logp: a class of probability 0 (logp = -inf) with weight 0 would
        # give 0 * -inf = NaN
        loss = -xp.sum(xp.where(hits, w * logp, 0.0), axis=1)
        ctx.reduction, ctx.loss_shape = reduction, loss.shape
        ctx.save_for_backward(w)
        if reduction == "none":
            return loss
        total = xp.asarray(xp.sum(loss))
        if reduction == "sum":
            return total
        ctx.denominator = xp.sum(w)
        return total / ctx.denominator

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Any, None, None]:
        (w,) = ctx.saved_arrays
        if ctx.reduction == "mean":
            grad_out = grad_out / ctx.denominator
        if ctx.reduction == "none":
            grad_out = grad_out[:, None, ...]
        return -w * grad_out, None, None


# ------------------------------------------------------------------------- functions


def _targets(input: Tensor, target: Any, ignore_index: int, op: str) -> Array:
    """The labels as an integer array of shape (N, d...), each in [0, C) or ignore_index."""
    if not isinstance(target, Tensor):
        raise TypeError(f"{op}: target must be a tensor of class labels, got "
                        f"{type(target).__name__}")
    if target.device != input.device:
        raise DeviceError(f"{op}: input is on {input.device}, target on {target.device}: "
                          "move one with .to()")
    expected = input.shape[:1] + input.shape[2:]
    if target.shape != expected:
        raise ShapeError(f"{op}: input {input.shape} (class dim 1) needs labels of shape "
                         f"{expected}, got {target.shape}")
    if not is_int(ignore_index):
        raise TypeError(f"{op}: ignore_index must be an int, got {ignore_index!r}")
    data, classes = target.data, input.shape[1]
    xp = backend.namespace(data)
    bad = ((data < 0) | (data >= classes)) & (data != ignore_index)
    if bool(xp.any(bad)):
        first = int(xp.max(xp.where(bad, data, -(2 ** 62))))  # (one bad label, for the message)
        raise IndexError(f"{op}: label {first} is out of range for {classes} classes (labels "
                         f"are 0..{classes - 1}, or ignore_index={ignore_index})")
    return data


def _prepare(input: Any, weight: Any, reduction: str, op: str) -> tuple[Tensor, Array | None]:
    check_tensor(input, op)
    if not input.dtype.is_floating_point:
        raise DTypeError(f"{op} takes floating scores (the logits) first and the labels second, "
                         f"got a {input.dtype} input: are the arguments swapped? "
                         f"{op}(logits, labels)")
    if reduction not in REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    if input.ndim == 0:
        raise ShapeError(f"{op}: input must have a class dimension, got a 0-d tensor")
    classes = input.shape[1] if input.ndim > 1 else input.shape[0]
    if weight is None:
        return input, None
    check_floating(weight, op)
    if weight.shape != (classes,):
        raise ShapeError(f"{op}: weight must hold one number per class, shape ({classes},), "
                         f"got {weight.shape}")
    if weight.device != input.device:
        raise DeviceError(f"{op}: input is on {input.device}, weight on {weight.device}")
    if weight.dtype != input.dtype:
        raise DTypeError(f"{op}: input is {input.dtype}, weight {weight.dtype}; minigen never "
                         f"casts silently: cast the weight with .to({input.dtype})")
    return input, weight.data


def _check_mean(denominator: Any, op: str) -> None:
    """No silent NaN: a mean over no counted label (all ignored, or an empty batch) is 0/0,
    which PyTorch returns as NaN; minigen says why instead."""
    if not float(denominator) > 0:
        raise ValueError(f"{op}: no label counts towards the mean (an empty batch, every label "
                         "equal to ignore_index, or zero weights): use reduction='sum'")


def nll_loss(input: Any, target: Any, weight: Any = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of integer labels: ``-input[n, target[n]]``, reduced.

    ``input`` holds log-probabilities (``log_softmax`` of logits) with the classes on dim 1;
    ``weight`` (C,) rescales each class, and the mean is then weighted (divided by the sum of
    the labels' weights); labels equal to ``ignore_index`` count for nothing.

    >>> logp = F.log_softmax(minigen.tensor([[2.0, 0.0], [0.0, 2.0]]), 1)
    >>> round(F.nll_loss(logp, minigen.tensor([0, 0])).item(), 4)  # one right, one wrong
    1.1269
    """
    op = "nll_loss"
    input, w = _prepare(input, weight, reduction, op)
    check_tensor(target, op)
    if input.ndim == 1:  # (C,) and a 0-d label: a batch of one
        _check_unbatched(target.shape, (), op)
        loss = nll_loss(input.reshape(1, -1), target.reshape(1), weight, ignore_index,
                        reduction)
        return loss.reshape() if reduction == "none" else loss
    if target.dtype.is_floating_point or target.dtype == backend.bool_:
        raise DTypeError(f"{op}: target must hold integer class labels, got {target.dtype} "
                         "(class probabilities go to cross_entropy)")
    labels = _targets(input, target, ignore_index, op)
    if reduction == "mean":
        _check_mean(_label_weight_sum(labels, w, ignore_index), op)
    return NLLLoss.apply(input, labels, w, ignore_index, reduction)


def cross_entropy(input: Any, target: Any, weight: Any = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits ``input`` (classes on dim 1) against ``target``: integer labels
    (N, d...), or class probabilities of the input's shape. ``log_softmax`` then NLL, so
    feed it raw logits, not softmax outputs.

    ``weight`` (C,) rescales each class; labels equal to ``ignore_index`` count for nothing;
    ``label_smoothing`` = e mixes the target with the uniform distribution:
    ``(1 - e) * NLL + e * mean over classes of -log p``, as in PyTorch (with weights and
    ignored labels applied to both terms, and the same denominator).

    >>> logits = minigen.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 3.0]])
    >>> round(F.cross_entropy(logits, minigen.tensor([0, 2])).item(), 4)
    0.1609
    """
    op = "cross_entropy"
    input, w = _prepare(input, weight, reduction, op)
    check_tensor(target, op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    if input.ndim == 1:  # (C,) and a 0-d label (or (C,) probabilities): a batch of one
        _check_unbatched(target.shape, input.shape if target.dtype.is_floating_point else (),
                         op)
        loss = cross_entropy(input.reshape(1, -1), target.reshape(1, *target.shape[:1]),
                             weight, ignore_index, reduction, label_smoothing)
        return loss.reshape() if reduction == "none" else loss
    labels_shape = input.shape[:1] + input.shape[2:]
    if target.dtype.is_floating_point and target.shape == labels_shape != input.shape:
        raise DTypeError(f"{op}: a target of shape {target.shape} holds class labels, which must "
                         f"be integers, got {target.dtype}: convert it with .long() (class "
                         f"probabilities would have the input's shape {input.shape})")
    logp = log_softmax(input, 1)
    if target.dtype.is_floating_point:
        if ignore_index != -100:  # (PyTorch refuses it too: no label to compare with)
            raise ValueError(f"{op}: ignore_index applies to integer labels, not to class "
                             "probabilities")
        return _soft_targets(logp, target, w, reduction, label_smoothing, op)
    loss = nll_loss(logp, target, weight, ignore_index, reduction)
    if label_smoothing == 0.0:
        return loss
    labels = target.data
    xp = backend.namespace(labels)
    spread = logp if w is None else logp * Tensor._make(_class_axis(w, logp.ndim))
    smooth = -reductions.sum(spread, dim=1)  # -sum_c w_c log p_c at each position
    smooth = smooth * Tensor._make(xp.astype(labels != ignore_index, logp.data.dtype))
    if reduction == "sum":
        smooth = reductions.sum(smooth)
    elif reduction == "mean":
        smooth = reductions.sum(smooth) / float(_label_weight_sum(labels, w, ignore_index))
    e, classes = label_smoothing, input.shape[1]
    return loss * (1.0 - e) + smooth * (e / classes)


def _soft_targets(logp: Tensor, target: Tensor, w: Array | None, reduction: str,
                  label_smoothing: float, op: str) -> Tensor:
    """-sum_c w_c t_c log p_c at each position; the mean is over positions (N * d...)."""
    if target.shape != logp.shape:
        raise ShapeError(f"{op}: class probabilities must have the input's shape "
                         f"{logp.shape}, got {target.shape}")
    if target.device != logp.device:
        raise DeviceError(f"{op}: input is on {logp.device}, target on {target.device}")
    classes = logp.shape[1]
    target = target * (1.0 - label_smoothing) + label_smoothing / classes
    terms = logp * target if w is None else logp * target * Tensor._make(
        _class_axis(w, logp.ndim))
    loss = -reductions.sum(terms, dim=1)
    if reduction == "mean":
        _check_mean(loss.numel(), op)
        return reductions.mean(loss)
    return reductions.sum(loss) if reduction == "sum" else loss


def _class_axis(weight: Array, ndim: int) -> Array:
    """(C,) weights shaped (1, C, 1, ...) to broadcast along the class dim."""
    return backend.namespace(weight).reshape(weight, (1, -1) + (1,) * (ndim - 2))


def _check_unbatched(shape: tuple[int, ...], expected: tuple[int, ...], op: str) -> None:
    if shape != expected:
        raise ShapeError(f"{op}: an unbatched input (one row of class scores) needs a target "
                         f"of shape {expected}, got {shape}")


def _label_weight_sum(labels: Array, weight: Array | None, ignore_index: int) -> Array:
    """The weighted mean's denominator: the labels' weights (1 each without ``weight``),
    ignored labels left out."""
    xp = backend.namespace(labels)
    valid = xp.reshape(labels != ignore_index, (-1,))
    if weight is None:
        return xp.sum(xp.astype(valid, backend.device_of(labels).dtype(backend.int64)))
    picked = xp.take(weight, xp.where(valid, xp.reshape(labels, (-1,)), 0))
    return xp.sum(xp.where(valid, picked, 0.0))


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """Integer labels (any shape) as one-hot rows, int64, a new last dim of ``num_classes``
    (-1: the largest label + 1), as PyTorch's ``F.one_hot``. Not differentiable.

    >>> F.one_hot(minigen.tensor([0, 2]), 3)
    tensor([[1, 0, 0],
           [0, 0, 1]])
    """
    op = "one_hot"
    check_tensor(tensor, op)
    if tensor.dtype.is_floating_point or tensor.dtype == backend.bool_:
        raise DTypeError(f"{op}: needs integer labels, got {tensor.dtype}")
    if not is_int(num_classes) or num_classes < -1:
        raise ValueError(f"{op}: num_classes must be a positive int or -1, got {num_classes!r}")
    data = tensor.data
    xp = backend.namespace(data)
    size = tensor.numel()
    if size and int(xp.min(data)) < 0:
        raise IndexError(f"{op}: labels must be >= 0, got {int(xp.min(data))}")
    largest = int(xp.max(data)) if size else -1
    if num_classes == -1:
        if not size:
            raise ValueError(f"{op}: num_classes=-1 needs at least one label to count classes")
        num_classes = largest + 1
    elif largest >= num_classes:
        raise IndexError(f"{op}: label {largest} is out of range for {num_classes} classes")
    int64 = backend.device_of(data).dtype(backend.int64)
    arange = xp.arange(num_classes, dtype=data.dtype, device=backend.device_of(data).native)
    return Tensor._make(xp.astype(data[..., None] == arange, int64))
