"""Similarity and divergence functions and the batched matrix product, as compositions of
checked ops (their gradients are those ops' gradients): ``normalize``, ``cosine_similarity``,
``kl_div`` and ``bmm``, with PyTorch 2.13's signatures, defaults and refusals."""

from __future__ import annotations

import warnings

from minigen.errors import ShapeError
from minigen.extras._common import (
    broadcast_shapes,
    check_floating,
    check_tensor,
    single_axis,
)
from minigen.extras.elementwise import clamp, where
from minigen.extras.numeric import norm
from minigen.ops.elementwise import exp, log
from minigen.ops.linalg import matmul
from minigen.ops.reductions import mean, sum
from minigen.ops.shape import expand
from minigen.tensor import Tensor

KL_REDUCTIONS = ("none", "batchmean", "sum", "mean")


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``input / max(norm(input, p, dim, keepdim=True), eps)``, as PyTorch's
    ``F.normalize``: each slice along ``dim`` scaled to ``p``-norm 1 (a zero slice stays 0,
    with gradient ``1/eps`` as PyTorch's for p = 2; for other finite p other than 1 it is
    NaN there, from ``norm``)."""
    check_tensor(input, "normalize")
    check_floating(input, "normalize")
    denom = clamp(norm(input, p, dim, keepdim=True), min=eps)
    return input / denom


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between ``x1`` and ``x2`` along ``dim`` (of their broadcast
    shape; that dim is removed), by PyTorch 2.13's formula: each norm clamped to at least
    ``eps`` on its own, ``sum((x1 / max(|x1|, eps)) * (x2 / max(|x2|, eps)), dim)``. Below
    ``eps`` PyTorch passes the gradient through the clamp, minigen does not."""
    check_tensor(x1, "cosine_similarity")
    check_tensor(x2, "cosine_similarity")
    check_floating(x1, "cosine_similarity")
    check_floating(x2, "cosine_similarity")
    shape = broadcast_shapes(tuple(x1.shape), tuple(x2.shape), op="cosine_similarity")
    axis = single_axis(dim, len(shape), "cosine_similarity")
    if tuple(x1.shape) != shape:
        x1 = expand(x1, shape)
    if tuple(x2.shape) != shape:
        x2 = expand(x2, shape)
    n1 = clamp(norm(x1, 2, axis, keepdim=True), min=eps)
    n2 = clamp(norm(x2, 2, axis, keepdim=True), min=eps)
    return sum((x1 / n1) * (x2 / n2), axis)


def kl_div(input: Tensor, target: Tensor, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """PyTorch's KL divergence loss, ``input`` log-probabilities: elementwise
    ``target * (log(target) - input)`` (0 where ``target`` is 0), or with ``log_target``
    ``exp(target) * (target - input)``. ``reduction``: 'none', 'sum', 'mean' (over every
    element; it warns, as PyTorch 2.13 does, that 'batchmean' is the true KL) or 'batchmean'
    (the sum over ``input.shape[0]``, the whole sum for a 0-d input). The two broadcast."""
    check_tensor(input, "kl_div")
    check_tensor(target, "kl_div")
    check_floating(input, "kl_div")
    check_floating(target, "kl_div")
    if reduction not in KL_REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if not isinstance(log_target, bool):
        raise TypeError(f"kl_div: log_target must be a bool, got {log_target!r}")
    broadcast_shapes(tuple(input.shape), tuple(target.shape), op="kl_div")
    if log_target:
        loss = exp(target) * (target - input)
    else:
        positive = target > 0
        safe = where(positive, target, 1.0)  # log(1) = 0: no NaN where target is 0
        loss = where(positive, target * log(safe), 0.0) - target * input
    if reduction == "none":
        return loss
    if reduction == "sum":
        return sum(loss)
    if reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.", UserWarning, stacklevel=2)
        return mean(loss)
    total = sum(loss)
    return total if input.ndim == 0 else total / input.shape[0]


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """The batched matrix product of two 3-d tensors, (b, n, m) @ (b, m, p) -> (b, n, p); as
    PyTorch, no broadcasting: other ranks, a different batch or inner size are refused."""
    check_tensor(input, "bmm")
    check_tensor(mat2, "bmm")
    if input.ndim != 3:
        raise ShapeError(f"bmm: batch1 must be a 3D tensor, got shape {tuple(input.shape)}")
    if mat2.ndim != 3:
        raise ShapeError(f"bmm: batch2 must be a 3D tensor, got shape {tuple(mat2.shape)}")
    want = (input.shape[0], input.shape[2])
    if tuple(mat2.shape[:2]) != want:
        raise ShapeError(f"bmm: expected size for first two dimensions of batch2 tensor to be: "
                         f"{list(want)} but got: {list(mat2.shape[:2])}")
    return matmul(input, mat2)
