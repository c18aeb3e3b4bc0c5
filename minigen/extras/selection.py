"""Picking parts of a tensor, as PyTorch's: ``split``, ``chunk``, ``unbind``, ``gather`` and
``masked_fill``. Each is composed of indexing (:mod:`~minigen.extras.indexing`) or ``where``, so
its gradient comes with them: no new backward to get wrong."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import minigen
from minigen.errors import ShapeError
from minigen.extras._common import (
    broadcast_shapes,
    check_index,
    check_tensor,
    is_int,
    single_axis,
)
from minigen.extras.elementwise import where
from minigen.ops.shape import getitem
from minigen.tensor import Tensor


def _along(a: Tensor, dim: int, part: Any) -> Tensor:
    """``a[:, ..., part, ...]`` with ``part`` at ``dim``."""
    return getitem(a, (slice(None),) * dim + (part,))


def split(a: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
          ) -> tuple[Tensor, ...]:
    """Pieces of ``a`` along ``dim``: of ``split_size_or_sections`` each (the last may be
    smaller), or of the listed sizes (which must add up to the dimension)."""
    check_tensor(a, "split")
    axis = single_axis(dim, a.ndim, "split")
    n = a.shape[axis]
    if is_int(split_size_or_sections):
        if split_size_or_sections < 1:
            raise ValueError(f"split: the size of a piece must be positive, got "
                             f"{split_size_or_sections}")
        sizes = [min(split_size_or_sections, n - start)
                 for start in range(0, n, split_size_or_sections)] or [0]
    else:
        if not isinstance(split_size_or_sections, (list, tuple)):
            raise TypeError(f"split: give the size of each piece (an int) or a list of sizes, "
                            f"got {split_size_or_sections!r}")
        sizes = list(split_size_or_sections)
        if not all(is_int(s) and s >= 0 for s in sizes) or sum(sizes) != n:
            raise ValueError(f"split: sizes {sizes} must be non-negative ints adding up to "
                             f"dimension {dim}'s {n} (tensor of shape {a.shape})")
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    return tuple(_along(a, axis, slice(s, s + k)) for s, k in zip(starts, sizes))


def chunk(a: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """``chunks`` pieces of ``a`` along ``dim``, of ceil(n / chunks) each (PyTorch's rule: so
    there may be fewer pieces when n does not divide well)."""
    check_tensor(a, "chunk")
    if not is_int(chunks) or chunks < 1:
        raise ValueError(f"chunk: chunks must be a positive int, got {chunks!r}")
    n = a.shape[single_axis(dim, a.ndim, "chunk")]
    return split(a, max(math.ceil(n / chunks), 1), dim)


def unbind(a: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices of ``a`` along ``dim``, that dimension removed: ``unbind(x)[i] == x[i]``."""
    check_tensor(a, "unbind")
    axis = single_axis(dim, a.ndim, "unbind")
    return tuple(_along(a, axis, i) for i in range(a.shape[axis]))


def gather(a: Tensor, dim: int, index: Tensor) -> Tensor:
    """Pick along ``dim`` by ``index``: ``out[i][j] = a[index[i][j]][j]`` for ``dim=0``
    (``a[i][index[i][j]]`` for ``dim=1``). ``index`` has ``a``'s number of dimensions, no
    size larger than ``a``'s outside ``dim``, and gives the output's shape. The indexing of
    one array per dimension: ``index`` at ``dim``, an arange on every other."""
    check_tensor(a, "gather")
    axis = single_axis(dim, a.ndim, "gather")
    check_index(index, a, "gather")
    if index.ndim != a.ndim or any(index.shape[d] > a.shape[d]
                                   for d in range(a.ndim) if d != axis):
        raise ShapeError(f"gather: index of shape {index.shape} for a tensor of shape "
                         f"{a.shape} along dim {dim}: it needs {a.ndim} dimensions, none "
                         "larger than the tensor's except dim's")
    key = tuple(index if d == axis else minigen.arange(index.shape[d], device=a.device)
                .reshape(*(index.shape[d] if e == d else 1 for e in range(a.ndim)))
                for d in range(a.ndim))
    return getitem(a, key)


def masked_fill(a: Tensor, mask: Any, value: Any) -> Tensor:
    """``a`` with ``value`` (a number, or a 0-d tensor) where ``mask`` (boolean, broadcasting
    to ``a``'s shape) is True."""
    check_tensor(a, "masked_fill")
    mask_shape = tuple(getattr(mask, "shape", ()))
    if broadcast_shapes(mask_shape, a.shape, op="masked_fill") != a.shape:
        raise ShapeError(f"masked_fill: a mask of shape {mask_shape} does not broadcast to the "
                         f"tensor's shape {a.shape}")
    if isinstance(value, Tensor) and value.ndim != 0:
        raise ShapeError(f"masked_fill: value must be a number or a 0-d tensor, got shape "
                         f"{value.shape}")
    return where(mask, value, a)
