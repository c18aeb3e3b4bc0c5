"""Reordering ops, as PyTorch's: ``flip``, ``roll``, ``repeat``, ``index_select``, ``sort``,
``argsort``, ``topk`` (the running, rounding and norm ops are in :mod:`minigen.extras.numeric`).

``sort``, ``topk`` and ``index_select`` pick elements with indexing (``gather`` /
``getitem``), so their gradient is indexing's; ``repeat`` is ``expand`` and ``reshape``.
``flip`` and ``roll`` have their own backward.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import ShapeError
from minigen.extras._common import (
    check_index,
    check_numeric,
    check_tensor,
    dims_as_axes,
    is_int,
    normalize_axes,
    single_axis,
)
from minigen.extras.selection import gather
from minigen.ops.reductions import ValuesIndices
from minigen.ops.shape import expand, getitem, reshape
from minigen.tensor import Tensor


class Flip(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, axes: tuple[int, ...]) -> Array:
        ctx.axes = axes
        return backend.namespace(a).flip(a, axis=axes) if axes else a * 1

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        xp = backend.namespace(grad_out)
        return xp.flip(grad_out, axis=ctx.axes) if ctx.axes else grad_out


def flip(a: Tensor, dims: Any) -> Tensor:
    """``a`` with the order of ``dims`` (an int or a tuple of ints) reversed."""
    check_tensor(a, "flip")
    return Flip.apply(a, dims_as_axes(dims, a.ndim, "flip"))


class Roll(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, shifts: tuple[int, ...], axes: Any) -> Array:
        ctx.shifts, ctx.axes = shifts, axes
        return backend.namespace(a).roll(a, shift=shifts, axis=axes)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        back = -ctx.shifts if isinstance(ctx.shifts, int) else tuple(-s for s in ctx.shifts)
        return backend.namespace(grad_out).roll(grad_out, shift=back, axis=ctx.axes)


def roll(a: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Shift the elements along ``dims`` by ``shifts``, those pushed off one end coming back
    at the other; with ``dims=None`` the tensor is rolled as if flattened."""
    check_tensor(a, "roll")
    shifts_t = (shifts,) if is_int(shifts) else shifts
    if not isinstance(shifts_t, (tuple, list)) or not shifts_t or \
            not all(is_int(s) for s in shifts_t):
        raise ShapeError(f"roll: shifts must be an int or a tuple of ints, got {shifts!r}")
    shifts_t = tuple(int(s) for s in shifts_t)
    if dims is None:
        if len(shifts_t) != 1:
            raise ShapeError(f"roll: without dims, give one shift, got {shifts!r}")
        return Roll.apply(a, shifts_t[0], None)
    dims_t = (dims,) if is_int(dims) else dims
    if not isinstance(dims_t, (tuple, list)) or len(dims_t) != len(shifts_t):
        raise ShapeError(f"roll: shifts {shifts!r} and dims {dims!r} must be as many")
    if not all(is_int(d) for d in dims_t):
        raise ShapeError(f"roll: dims must be ints, got {dims!r}")
    axes = tuple((normalize_axes(int(d), a.ndim, "roll") or (0,))[0] for d in dims_t)
    if a.ndim == 0:
        return Roll.apply(a, 0, None)
    return Roll.apply(a, shifts_t, axes)


def repeat(a: Tensor, sizes: Sequence[int]) -> Tensor:
    """``a`` tiled ``sizes[i]`` times along each dimension (PyTorch's ``repeat``, NumPy's
    ``tile``); ``sizes`` may be longer than ``a.ndim`` (new leading dimensions), not
    shorter. ``expand`` then ``reshape``: the gradient sums the copies."""
    check_tensor(a, "repeat")
    sizes = tuple(sizes)
    if not all(is_int(s) and s >= 0 for s in sizes):
        raise ShapeError(f"repeat: sizes must be non-negative ints, got {sizes!r}")
    if len(sizes) < a.ndim:
        raise ShapeError(f"repeat: {len(sizes)} sizes for a tensor of {a.ndim} dimensions: "
                         "give at least one per dimension")
    shape = (1,) * (len(sizes) - a.ndim) + a.shape
    pairs = tuple(n for s in shape for n in (1, s))
    wide = tuple(n for r, s in zip(sizes, shape) for n in (r, s))
    return reshape(expand(reshape(a, pairs), wide), tuple(r * s for r, s in zip(sizes, shape)))


def index_select(a: Tensor, dim: int, index: Tensor) -> Tensor:
    """The entries of ``a`` at ``index`` (a 1-D, or 0-D, integer tensor) along ``dim``."""
    check_tensor(a, "index_select")
    axis = single_axis(dim, a.ndim, "index_select", zero_d=True)
    check_index(index, a, "index_select")
    if index.ndim > 1:
        raise ShapeError(f"index_select: index must be 1-D, got shape {index.shape}")
    index = reshape(index, (-1,))
    if a.ndim == 0:  # PyTorch: one index, a 0-d result
        if index.shape[0] != 1:
            raise ShapeError(f"index_select: a 0-d tensor takes one index, got {index.shape[0]}")
        return reshape(getitem(reshape(a, (1,)), index), ())
    return getitem(a, (slice(None),) * axis + (index,))


def _sorted_index(a: Tensor, axis: int, descending: bool, op: str) -> Array:
    xp = backend.namespace(a.data)
    return xp.argsort(a.data, axis=axis, descending=bool(descending), stable=True)


def argsort(a: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
            ) -> Tensor:
    """The indices that sort ``a`` along ``dim`` (ties in their order: always stable)."""
    check_tensor(a, "argsort")
    check_numeric(a, "argsort")
    axis = single_axis(dim, a.ndim, "argsort", zero_d=True)
    if a.ndim == 0:  # a 0-d tensor: its one value, at index 0
        xp = backend.namespace(a.data)
        return Tensor._make(xp.reshape(xp.argsort(xp.reshape(a.data, (1,))), ()))
    return Tensor._make(_sorted_index(a, axis, descending, "argsort"))


def sort(a: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
         ) -> ValuesIndices:
    """``(values, indices)`` of ``a`` sorted along ``dim``, as PyTorch's; the gradient of
    the values goes back to the elements they came from."""
    check_tensor(a, "sort")
    check_numeric(a, "sort")
    axis = single_axis(dim, a.ndim, "sort", zero_d=True)
    if a.ndim == 0:
        return ValuesIndices(a * 1, argsort(a))
    index = Tensor._make(_sorted_index(a, axis, descending, "sort"))
    return ValuesIndices(gather(a, axis, index), index)


def topk(a: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
         ) -> ValuesIndices:
    """``(values, indices)`` of the ``k`` largest (``largest=False``: smallest) along
    ``dim``, largest first (always sorted; PyTorch's ``sorted=False`` leaves the order
    unspecified)."""
    check_tensor(a, "topk")
    check_numeric(a, "topk")
    axis = single_axis(dim, a.ndim, "topk", zero_d=True)
    n = a.shape[axis] if a.ndim else 1
    if not is_int(k) or not 0 <= k <= n:
        raise ShapeError(f"topk: k must be an int from 0 to {n} (the size of dim {dim}), "
                         f"got {k!r}")
    if a.ndim == 0:  # as shape (1,), back to 0-d
        values, indices = topk(reshape(a, (1,)), k)
        return ValuesIndices(reshape(values, ()), reshape(indices, ())) if k else \
            ValuesIndices(values, indices)
    index = _sorted_index(a, axis, largest, "topk")
    index = Tensor._make(index[(slice(None),) * axis + (slice(0, k), ...)])
    return ValuesIndices(gather(a, axis, index), index)
