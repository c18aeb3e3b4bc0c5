"""Indexing: ``x[key]`` with basic keys (ints, slices, None, ...), one integer index array, or
a boolean mask.

The forward picks elements; the backward puts each gradient back where its element came from
(a scatter-add, so an element picked twice gets both gradients)."""

from __future__ import annotations

import math
from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import DeviceError
from minigen.ops._common import check_tensor, is_int
from minigen.ops.shape import reshape
from minigen.tensor import Tensor


class GetItem(Function):
    """``a[key]``: basic indexing (ints, slices, None, ...) or one integer index array."""

    @staticmethod
    def forward(ctx: Context, a: Array, key: Any, axis: int | None = None,
                index: Array | None = None) -> Array:
        ctx.shape, ctx.key, ctx.axis = a.shape, key, axis
        if axis is not None:  # integer-array indexing along one axis: a gather
            ctx.save_for_backward(index)
            return backend.namespace(a).take(a, index, axis=axis)
        # The array API wants a key that covers every axis: a trailing ... does, as NumPy's
        # shorter keys do implicitly.
        key = key if isinstance(key, tuple) else (key,)
        if not any(k is Ellipsis for k in key):
            key = key + (Ellipsis,)
        ctx.key = key
        return a[key]

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        xp = backend.namespace(grad_out)
        if ctx.axis is not None:  # repeated indices add up: a scatter-add
            (index,) = ctx.saved_arrays
            return backend.scatter_add(ctx.shape, ctx.axis, index, grad_out)
        grad = backend.zeros(ctx.shape, like=grad_out)
        # Assignment takes no None (new axes): index without them, and drop those size-1 axes.
        key = tuple(k for k in ctx.key if k is not None)
        if len(key) != len(ctx.key):
            grad_out = xp.reshape(grad_out, tuple(grad[key].shape))
        grad[key] = grad_out
        return grad


def getitem(a: Tensor, key: Any) -> Tensor:
    """Indexing. Basic keys (ints, slices, ``None``, ``...``) as in NumPy; an integer tensor or
    list selects along one axis (``x[idx]``, ``x[:, idx]``), repeated indices allowed; a
    boolean mask keeps the elements where it is True (``x[x > 0]``, ``x[:, mask]``)."""
    check_tensor(a, "getitem")
    parts = key if isinstance(key, tuple) else (key,)
    arrays = [i for i, k in enumerate(parts) if _is_index_array(k)]
    if not arrays:
        return GetItem.apply(a, _basic_key(parts, a.shape))
    axis = arrays[0]
    rest = parts[:axis] + parts[axis + 1:]
    if len(arrays) > 1 or any(not (isinstance(k, slice) and k == slice(None)) for k in rest):
        raise IndexError("minigen supports one index array (integers or a boolean mask), "
                         f"with ':' for every other dimension (x[idx] or x[:, idx]); got "
                         f"{key!r}")
    index = parts[axis]
    if isinstance(index, Tensor):
        index = index.data
    if hasattr(index, "dtype") and backend.dtype_of(index) == backend.bool_:
        return _masked(a, axis, index, len(parts))  # a mask may cover several dimensions
    if len(parts) > a.ndim:  # (every other part is ':' here, one per dimension)
        raise IndexError(f"too many indices for a tensor of shape {a.shape}: {key!r}")
    if not hasattr(index, "shape"):
        if not all(is_int(i) for i in index):
            raise IndexError(f"an index list must hold ints, got {index!r}")
        index = backend.asarray(list(index), backend.int64, a.device)
    if index.ndim != 1:
        raise IndexError(f"an index array must be 1-D, got shape {tuple(index.shape)}")
    xp = backend.namespace(index)
    if backend.dtype_of(index).is_floating_point:
        raise IndexError(f"an index array must hold integers, got {backend.dtype_of(index)}")
    if backend.device_of(index) != a.device:
        raise DeviceError(f"the index array is on {backend.device_of(index)}, the tensor on "
                          f"{a.device}: move one with .to()")
    n = a.shape[axis]
    if index.shape[0] and (int(xp.max(index)) >= n or int(xp.min(index)) < -n):
        raise IndexError(f"index out of range for dimension {axis} of size {n}")
    index = xp.where(index < 0, index + n, index)
    return GetItem.apply(a, None, axis, index)


def _masked(a: Tensor, axis: int, mask: Array, parts: int) -> Tensor:
    """``a[mask]`` (or ``a[:, mask]``...): a boolean mask covering dims ``axis`` to
    ``axis + mask.ndim - 1`` keeps the elements where it is True, those dims merged into one,
    as in NumPy and PyTorch. A gather of the True positions, so the gradient scatters back."""
    k = mask.ndim
    if tuple(mask.shape) != a.shape[axis:axis + k] or parts - 1 + k > a.ndim:
        raise IndexError(f"a boolean mask of shape {tuple(mask.shape)} at dim {axis} does not "
                         f"match a tensor of shape {a.shape}")
    if backend.device_of(mask) != a.device:
        raise DeviceError(f"the mask is on {backend.device_of(mask)}, the tensor on "
                          f"{a.device}: move one with .to()")
    merged = reshape(a, a.shape[:axis] + (math.prod(mask.shape),) + a.shape[axis + k:])
    xp = backend.namespace(mask)
    (positions,) = xp.nonzero(xp.reshape(mask, (-1,)))
    return GetItem.apply(merged, None, axis, positions)


def _basic_key(parts: tuple[Any, ...], shape: tuple[int, ...]) -> tuple[Any, ...]:
    """The key with each slice's ends clamped into its dimension (x[0:500] of 300 rows is all
    300, as in NumPy and PyTorch; the array API leaves such ends unspecified, and
    array-api-strict refuses them), after an IndexError naming the problem for a key NumPy
    would refuse (or misread)."""
    def bad(k: Any) -> bool:
        if isinstance(k, slice):
            ends = (k.start, k.stop, k.step)
            return not all(e is None or is_int(e) for e in ends) or k.step == 0
        return not (k is None or k is Ellipsis or is_int(k))

    for k in parts:
        if bad(k):
            raise IndexError(f"cannot index a tensor with {k!r}: use ints, slices with int "
                             "ends and a non-zero step, None, ..., or one integer index array")
    if sum(k is Ellipsis for k in parts) > 1:
        raise IndexError("an index can hold only one ellipsis (...)")
    used = [k for k in parts if k is not None and k is not Ellipsis]
    if len(used) > len(shape):
        raise IndexError(f"too many indices ({len(used)}) for a tensor of shape {shape}")
    # Each part's axis: counted from the front before the ellipsis, from the back after it.
    cut = next((i for i, k in enumerate(parts) if k is Ellipsis), len(parts))
    front = [i for i in range(cut) if parts[i] is not None]
    back = [i for i in range(cut + 1, len(parts)) if parts[i] is not None]
    axis_of = {i: axis for axis, i in enumerate(front)}
    axis_of.update({i: len(shape) - len(back) + j for j, i in enumerate(back)})
    key = list(parts)
    for i, axis in axis_of.items():
        k, n = parts[i], shape[axis]
        if is_int(k) and not -n <= k < n:
            raise IndexError(f"index {k} is out of range for dimension {axis} of size {n} "
                             f"(tensor of shape {shape})")
        if isinstance(k, slice):
            key[i] = _clamp(k, n)
    return tuple(key)


def _clamp(k: slice, n: int) -> slice:
    """``k`` with in-range ends: slice.indices(n) clamps them, but writes "before the first
    element" as -1, which an index would read as the last one, so that becomes None."""
    start, stop, step = k.indices(n)
    if step < 0 and start < 0:  # a backward slice that starts before the first element
        return slice(0, 0, 1)
    return slice(start, None if stop < 0 else stop, step)


def _is_index_array(k: Any) -> bool:
    return isinstance(k, (list, Tensor)) or (hasattr(k, "shape") and hasattr(k, "dtype"))
