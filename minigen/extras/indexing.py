"""Indexing with index arrays and boolean masks: ``x[idx]``, ``x[:, idx]``, ``x[x > 0]``,
``logp[arange(n), labels]``, by PyTorch's rules. (Basic keys, ints and slices, are the core's:
:func:`minigen.ops.shape.getitem`, which hands the other keys to this module.)

One op does the new work: :class:`Take` gathers along one axis. Every other key is composed of
it, the core's basic ``GetItem`` and reshapes, so its gradient comes with them. Take's backward
puts each gradient back where its element came from (a scatter-add, so an element picked
twice gets both gradients)."""

from __future__ import annotations

import math
from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import DeviceError, ShapeError
from minigen.extras import _arrays
from minigen.extras._common import broadcast_shapes, check_tensor, is_int
from minigen.ops.shape import GetItem, basic_key, mark_view, permute, reshape
from minigen.tensor import Tensor


class Take(Function):
    """``take(a, index, axis)``: the entries of ``a`` at the 1-D int64 ``index`` along
    ``axis``, a gather."""

    @staticmethod
    def forward(ctx: Context, a: Array, axis: int, index: Array) -> Array:
        ctx.shape, ctx.axis = a.shape, axis
        ctx.save_for_backward(index)
        return backend.namespace(a).take(a, index, axis=axis)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Any:
        (index,) = ctx.saved_arrays  # repeated indices add up: a scatter-add
        return _arrays.scatter_add(ctx.shape, ctx.axis, index, grad_out)


def getitem(a: Tensor, key: Any) -> Tensor:
    """Indexing, by PyTorch's rules. Basic keys (ints, slices, ``None``, ``...``) pick a
    view; index arrays (integer tensors, lists or ranges) and boolean masks pick elements:
    ``x[idx]``, ``x[:, idx]``, ``x[x > 0]``, ``logp[minigen.arange(n), labels]``. Several
    index arrays broadcast together and pick one element per position; their dimensions go
    where the first one stood if they are next to each other, else first. Ints pick first,
    so ``x[0, :, idx]`` of a (2, 3, 4) tensor is (3, len(idx)), as in PyTorch (NumPy:
    (len(idx), 3))."""
    check_tensor(a, "getitem")
    parts = key if isinstance(key, tuple) else (key,)
    if not any(_is_index_array(k) for k in parts):  # a view in PyTorch (index arrays copy)
        return mark_view(GetItem.apply(a, basic_key(parts, a.shape)))
    return _advanced(a, parts, key)


def _advanced(a: Tensor, parts: tuple[Any, ...], key: Any) -> Tensor:
    """A key holding index arrays. PyTorch's rule (NumPy's differs): the ints and slices pick
    first, as in basic indexing, so an int's dimension is gone before the arrays index what
    is left. Then one array along one axis is a single gather (``take``), and anything else
    becomes one too, on a view with the indexed axes merged into one."""
    if any(k is None for k in parts):
        raise IndexError(f"None (a new axis) cannot be mixed with index arrays, got {key!r}: "
                         "index first, then unsqueeze")
    if sum(k is Ellipsis for k in parts) > 1:
        raise IndexError("an index can hold only one ellipsis (...)")
    parts = tuple(_as_index(k, a.device) if _is_index_array(k) else k for k in parts)
    parts = tuple(int(k) if hasattr(k, "shape") and k.ndim == 0 and not _is_mask(k) else k
                  for k in parts)  # a 0-d integer index is an int (PyTorch)
    used = sum(k.ndim if _is_mask(k) else 1 for k in parts if k is not Ellipsis)
    if used > a.ndim:
        raise IndexError(f"too many indices for a tensor of shape {a.shape}: {key!r}")
    cut = next((i for i, k in enumerate(parts) if k is Ellipsis), len(parts))
    rest = parts[cut + 1:] if cut < len(parts) else ()
    parts = parts[:cut] + (slice(None),) * (a.ndim - used) + rest
    basic, axis = [], 0  # the ints and slices, with ':' over each array's dims
    for k in parts:
        width = k.ndim if _is_mask(k) else 1
        if _is_mask(k) and tuple(k.shape) != a.shape[axis:axis + width]:
            raise IndexError(f"a boolean mask of shape {tuple(k.shape)} at dim {axis} does "
                             f"not match a tensor of shape {a.shape}")
        basic += [slice(None)] * width if hasattr(k, "shape") else [k]
        axis += width
    if any(k != slice(None) for k in basic):
        a = GetItem.apply(a, basic_key(tuple(basic), a.shape))
    parts = tuple(k if hasattr(k, "shape") else slice(None) for k in parts if not is_int(k))
    arrays = [k for k in parts if hasattr(k, "shape")]
    if not arrays:  # (the only one was 0-d: an int)
        return a
    if len(arrays) == 1 and (_is_mask(arrays[0]) or arrays[0].ndim == 1):
        axis = next(i for i, k in enumerate(parts) if hasattr(k, "shape"))
        if _is_mask(arrays[0]):
            return _masked(a, axis, arrays[0])
        return Take.apply(a, axis, _checked(arrays[0], a.shape[axis], axis))
    return _gather(a, parts, key)


def _gather(a: Tensor, parts: tuple[Any, ...], key: Any) -> Tensor:
    """Index arrays (and ':') of any number and shape, composed of differentiable steps, so
    the gradient comes with them: move the indexed axes to the front, merge them, gather the
    flat positions (row-major: sum of index * stride), split the result into the index shape.
    """
    axes, index, axis = [], [], 0  # the indexed axes and their integer index arrays, in order
    for k in parts:
        if _is_mask(k):  # a mask is the integer arrays of its True positions (nonzero)
            axes += range(axis, axis + k.ndim)
            index += backend.namespace(k).nonzero(k)
            axis += k.ndim
            continue
        if hasattr(k, "shape"):
            axes.append(axis)
            index.append(_checked(k, a.shape[axis], axis))
        axis += 1
    try:
        shape = broadcast_shapes(*(tuple(i.shape) for i in index), op="index")
    except ShapeError as e:
        raise IndexError(f"the index arrays of {key!r} cannot be broadcast together: "
                         f"shapes {[tuple(i.shape) for i in index]}") from e
    xp = backend.namespace(index[0])
    others = [d for d in range(a.ndim) if d not in axes]
    sizes = [a.shape[d] for d in axes]
    flat = _arrays.zeros(shape, like=index[0])
    for i, size in zip(index, sizes):  # one pass per indexed axis, not per element
        flat = flat * size + i
    merged = reshape(permute(a, axes + others),
                     (math.prod(sizes),) + tuple(a.shape[d] for d in others))
    out = Take.apply(merged, 0, xp.reshape(flat, (-1,)))
    out = reshape(out, shape + merged.shape[1:])
    if axes != list(range(axes[0], axes[0] + len(axes))) or axes[0] == 0:
        return out  # index arrays apart from each other put their dims first
    nb, p = len(shape), axes[0]  # others[:p] | index dims | others[p:]
    order = [nb + j for j in range(p)] + list(range(nb)) + [nb + j for j in range(p, len(others))]
    return permute(out, order)


def _masked(a: Tensor, axis: int, mask: Array) -> Tensor:
    """``a[mask]`` (or ``a[:, mask]``...): a boolean mask covering dims ``axis`` to
    ``axis + mask.ndim - 1`` keeps the elements where it is True, those dims merged into one,
    as in NumPy and PyTorch. A gather of the True positions, so the gradient scatters back."""
    k = mask.ndim
    if tuple(mask.shape) != a.shape[axis:axis + k]:
        raise IndexError(f"a boolean mask of shape {tuple(mask.shape)} at dim {axis} does not "
                         f"match a tensor of shape {a.shape}")
    merged = reshape(a, a.shape[:axis] + (math.prod(mask.shape),) + a.shape[axis + k:])
    xp = backend.namespace(mask)
    (positions,) = xp.nonzero(xp.reshape(mask, (-1,)))
    return Take.apply(merged, axis, positions)


def _as_index(k: Any, device: Any) -> Array:
    """An index part as an array on the tensor's device: integers (int64) or a boolean mask.
    Lists and ranges (nested lists too) are made there; tensors and arrays must be there."""
    if isinstance(k, Tensor):
        k = k.data
    if isinstance(k, (list, range)):
        values, shape = _flatten(k)
        if values and all(isinstance(v, bool) for v in values):
            dtype = backend.bool_
        elif all(is_int(v) for v in values):
            dtype = backend.int64
        else:
            raise IndexError(f"an index list must hold ints (or bools, a mask), got {k!r}")
        return device.xp.reshape(backend.asarray(values, dtype, device), shape)
    dtype = backend.dtype_of(k)
    if dtype.is_floating_point:
        raise IndexError(f"an index array must hold integers or bools, got {dtype}")
    if backend.device_of(k) != device:
        raise DeviceError(f"the index array is on {backend.device_of(k)}, the tensor on "
                          f"{device}: move one with .to()")
    return k


def _flatten(obj: Any) -> tuple[list[Any], tuple[int, ...]]:
    """A (nested) list's values, row-major, and its shape; a ragged one is refused."""
    if not isinstance(obj, (list, range)):
        return [obj], ()
    parts = [_flatten(o) for o in obj]
    shapes = {shape for _, shape in parts}
    if len(shapes) > 1:
        raise IndexError(f"a nested index list must be rectangular, got {obj!r}")
    return [v for values, _ in parts for v in values], (len(parts),) + (shapes.pop() if shapes
                                                                         else ())


def _is_mask(k: Any) -> bool:
    return hasattr(k, "dtype") and backend.dtype_of(k) == backend.bool_


def _checked(index: Array, n: int, axis: int) -> Array:
    """``index`` as int64 in [0, n) (negatives count from the end), or an IndexError."""
    xp = backend.namespace(index)
    if math.prod(index.shape) and (int(xp.max(index)) >= n or int(xp.min(index)) < -n):
        raise IndexError(f"index out of range for dimension {axis} of size {n}")
    index = xp.astype(index, backend.device_of(index).dtype(backend.int64))
    return xp.where(index < 0, index + n, index)



def _is_index_array(k: Any) -> bool:
    return isinstance(k, (list, range, Tensor)) or (hasattr(k, "shape") and hasattr(k, "dtype"))
