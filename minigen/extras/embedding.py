"""Embedding lookup, as PyTorch's ``F.embedding``: row ``input[...]`` of a weight table.

Forward is one gather of rows (``take`` along axis 0) for the flattened indices, reshaped to
``input.shape + (embedding_dim,)``. Backward is its adjoint, a scatter-add of the output's
gradient into the rows it was read from: an index that appears twice gets both gradients.
The ``padding_idx`` row gets none, as in PyTorch (its value is whatever the table holds; the
layer :class:`minigen.nn.Embedding` starts it at zero).
"""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import DeviceError, DTypeError, ShapeError
from minigen.extras import _arrays
from minigen.extras._common import check_tensor, is_int
from minigen.tensor import Tensor


class Embedding(Function):
    @staticmethod
    def forward(ctx: Context, weight: Array, index: Array, padding_idx: int | None) -> Array:
        xp = backend.namespace(weight)
        flat = xp.reshape(index, (-1,))
        ctx.save_for_backward(flat)
        ctx.shape, ctx.padding_idx = weight.shape, padding_idx
        rows = xp.take(weight, flat, axis=0)
        return xp.reshape(rows, tuple(index.shape) + (weight.shape[1],))

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Any:
        (flat,) = ctx.saved_arrays
        xp = backend.namespace(grad_out)
        grads = xp.reshape(grad_out, (flat.shape[0], ctx.shape[1]))
        grad = _arrays.scatter_add(ctx.shape, 0, flat, grads)  # repeated indices add up
        if ctx.padding_idx is not None:
            grad[ctx.padding_idx, ...] = 0.0  # the padding row is never trained
        return grad, None, None


def check_padding_idx(padding_idx: Any, num_embeddings: int, op: str) -> int | None:
    """``padding_idx`` as a row in [0, num_embeddings), a negative one counted from the end,
    as PyTorch's; None stays None."""
    if padding_idx is None:
        return None
    if not is_int(padding_idx) or not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"{op}: padding_idx must be an int in [-{num_embeddings}, "
                         f"{num_embeddings}) (within num_embeddings), got {padding_idx!r}")
    return int(padding_idx) % num_embeddings


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` picked by ``input``, as PyTorch's ``F.embedding``.

    Parameters
    ----------
    input : Tensor of int64 or int32 indices, any shape, each in [0, num_embeddings)
    weight : Tensor (num_embeddings, embedding_dim)
    padding_idx : a row (negative counts from the end) that gets no gradient

    Returns
    -------
    Tensor ``input.shape + (embedding_dim,)``, of ``weight``'s dtype

    Examples
    --------
    >>> embedding(minigen.tensor([[0, 2], [1, 1]]), minigen.randn(10, 3)).shape
    (2, 2, 3)
    """
    check_tensor(weight, "embedding")
    if not isinstance(input, Tensor) or input.dtype not in (backend.int64, backend.int32):
        got = input.dtype if isinstance(input, Tensor) else type(input).__name__
        raise DTypeError(f"embedding: input must be a tensor of int64 (or int32) indices, got "
                         f"{got}; convert with .long()")
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got "
                         f"shape {weight.shape}")
    if input.device != weight.device:
        raise DeviceError(f"embedding: the indices are on {input.device}, the weight on "
                          f"{weight.device}; move one with .to()")
    n = weight.shape[0]
    padding_idx = check_padding_idx(padding_idx, n, "embedding")
    index = input.data
    if index.size:  # one check for all indices (PyTorch: 'index out of range in self')
        xp = backend.namespace(index)
        low, high = int(xp.min(index)), int(xp.max(index))
        if low < 0 or high >= n:
            bad = low if low < 0 else high
            raise IndexError(f"embedding: index {bad} is out of range for a table of {n} rows "
                             f"(indices must be in [0, {n}))")
    return Embedding.apply(weight, index, padding_idx)
