"""Ops that compute nothing: reshape, permute, expand, cat, stack, pad, indexing, and the
moves between devices and dtypes. Each backward routes the gradient back to where each
element came from."""

from __future__ import annotations

import importlib
import itertools
import math
from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.creation import shape_args
from minigen.errors import ShapeError
from minigen.ops._common import check_tensor, is_int, normalize_axes, single_axis
from minigen.tensor import Tensor


class Reshape(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, shape: tuple[int, ...]) -> Any:
        ctx.shape = a.shape
        return backend.namespace(a).reshape(a, shape)

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        return backend.namespace(grad_out).reshape(grad_out, ctx.shape)


class Permute(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, dims: tuple[int, ...]) -> Any:
        ctx.inverse = tuple(sorted(range(len(dims)), key=dims.__getitem__))
        return backend.namespace(a).permute_dims(a, dims)

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        return backend.namespace(grad_out).permute_dims(grad_out, ctx.inverse)


class Expand(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, shape: tuple[int, ...]) -> Any:
        return backend.namespace(a).broadcast_to(a, shape)

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        return grad_out  # the engine sums the copies back (where broadcasts are undone)


class Cat(Function):
    @staticmethod
    def forward(ctx: Context, *arrays: Any, axis: int) -> Any:
        ctx.axis, ctx.sizes = axis, [a.shape[axis] for a in arrays]
        return backend.namespace(arrays[0]).concat(arrays, axis=axis)

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> tuple[Any, ...]:
        starts = [0, *itertools.accumulate(ctx.sizes)]
        return tuple(grad_out[(slice(None),) * ctx.axis + (slice(a, b), ...)]
                     for a, b in zip(starts, starts[1:]))


class Stack(Function):
    @staticmethod
    def forward(ctx: Context, *arrays: Any, axis: int) -> Any:
        ctx.axis, ctx.n = axis, len(arrays)
        return backend.namespace(arrays[0]).stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> tuple[Any, ...]:
        return tuple(grad_out[(slice(None),) * ctx.axis + (i, ...)] for i in range(ctx.n))


class Pad(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, widths: tuple[tuple[int, int], ...], value: float) -> Any:
        ctx.widths = widths
        return backend.pad(a, widths, value)

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        return backend.unpad(grad_out, ctx.widths)  # the padding itself has no input


class GetItem(Function):
    """``a[key]`` for a basic key: ints, slices, None and ``...``."""

    @staticmethod
    def forward(ctx: Context, a: Any, key: tuple[Any, ...]) -> Any:
        ctx.shape, ctx.key = a.shape, key
        return a[key]

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        xp = backend.namespace(grad_out)
        grad = backend.full(ctx.shape, 0, backend.dtype_of(grad_out), backend.device_of(grad_out))
        key = tuple(k for k in ctx.key if k is not None)  # (assignment takes no new axes)
        grad[key] = xp.reshape(grad_out, grad[key].shape)  # each element back where it was
        return grad


class ToDevice(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, device: backend.Device) -> Any:
        ctx.source = backend.device_of(a)
        return backend.to_device(a, device)

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        return backend.to_device(grad_out, ctx.source)


class AsType(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, dtype: backend.DType) -> Any:
        ctx.source = backend.dtype_of(a)
        return backend.namespace(a).astype(a, backend.device_of(a).dtype(dtype))

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        xp, dev = backend.namespace(grad_out), backend.device_of(grad_out)
        return xp.astype(grad_out, dev.dtype(ctx.source))


# ------------------------------------------------------------------ the functions
def mark_view(t: Tensor) -> Tensor:
    """Mark ``t`` as what PyTorch would make a view of its input (sharing its memory): an
    assignment into it could not reach the input here, so it is refused (extras.assignment)."""
    t._is_view = True
    return t


def reshape(a: Tensor, shape: Any) -> Tensor:
    """The same elements in a new shape (one size may be -1: worked out from the rest)."""
    check_tensor(a, "reshape")
    shape = shape_args(tuple(shape), "reshape")
    known = math.prod(n for n in shape if n != -1)
    if shape.count(-1) == 1 and known and a.numel() % known == 0:
        shape = tuple(a.numel() // known if n == -1 else n for n in shape)
    if any(n < 0 for n in shape) or math.prod(shape) != a.numel():
        raise ShapeError(f"cannot reshape a tensor of shape {a.shape} ({a.numel()} elements) "
                         f"to {shape}")
    return a if shape == a.shape else mark_view(Reshape.apply(a, shape))


def flatten(a: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` (both included) into one."""
    check_tensor(a, "flatten")
    if a.ndim == 0:
        return reshape(a, (1,))
    op = f"flatten(start_dim={start_dim!r}, end_dim={end_dim!r}) of shape {a.shape}"
    start, end = (single_axis(d, a.ndim, op) for d in (start_dim, end_dim))
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a "
                         f"tensor of shape {a.shape}")
    return reshape(a, a.shape[:start] + (math.prod(a.shape[start:end + 1]),) + a.shape[end + 1:])


def permute(a: Tensor, dims: Any) -> Tensor:
    """Reorder the dimensions: ``out.shape[i] == a.shape[dims[i]]``."""
    check_tensor(a, "permute")
    dims = shape_args(tuple(dims), "permute")
    if sorted(d % max(a.ndim, 1) for d in dims) != list(range(a.ndim)) or not all(
            -a.ndim <= d < a.ndim for d in dims):
        raise ShapeError(f"permute: {dims} is not a permutation of the {a.ndim} dimensions of "
                         f"a tensor of shape {a.shape}")
    return mark_view(Permute.apply(a, tuple(d % a.ndim for d in dims)))


def transpose(a: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    check_tensor(a, "transpose")
    dims = list(range(a.ndim))
    i, j = single_axis(dim0, a.ndim, "transpose"), single_axis(dim1, a.ndim, "transpose")
    dims[i], dims[j] = dims[j], dims[i]
    return mark_view(Permute.apply(a, tuple(dims)))


def unsqueeze(a: Tensor, dim: int) -> Tensor:
    """A new dimension of size 1 at ``dim``."""
    check_tensor(a, "unsqueeze")
    if not is_int(dim) or not -a.ndim - 1 <= dim <= a.ndim:
        raise ShapeError(f"unsqueeze: dim {dim!r} is out of range for {a.ndim} dimension(s)")
    dim %= a.ndim + 1
    return mark_view(Reshape.apply(a, a.shape[:dim] + (1,) + a.shape[dim:]))


def squeeze(a: Tensor, dim: Any = None) -> Tensor:
    """Without the dimensions of size 1 (all of them, or those in ``dim`` that are 1)."""
    check_tensor(a, "squeeze")
    axes = normalize_axes(dim, a.ndim, "squeeze")
    return reshape(a, tuple(n for i, n in enumerate(a.shape)
                            if n != 1 or (axes is not None and i not in axes)))


def expand(a: Tensor, shape: Any) -> Tensor:
    """Broadcast to ``shape`` without copying (-1 keeps a dimension)."""
    check_tensor(a, "expand")
    shape = shape_args(tuple(shape), "expand")
    lead = len(shape) - a.ndim
    full = tuple(a.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
    if lead < 0 or any(n < 0 for n in full) or any(
            n not in (1, full[i + lead]) for i, n in enumerate(a.shape)):
        raise ShapeError(f"expand: cannot expand shape {a.shape} to {shape} (each dimension "
                         "must match or be 1, -1 keeps one of the tensor's own)")
    return mark_view(Expand.apply(a, full))


def cat(tensors: Any, dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    tensors = _joined(tensors, "cat")
    axis = single_axis(dim, tensors[0].ndim, "cat")
    for t in tensors[1:]:
        if t.ndim != tensors[0].ndim or any(t.shape[i] != tensors[0].shape[i]
                                            for i in range(t.ndim) if i != axis):
            raise ShapeError(f"cat along dim {dim}: shapes {tensors[0].shape} and {t.shape} "
                             "differ outside that dimension")
    return Cat.apply(*tensors, axis=axis)


def stack(tensors: Any, dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new dimension."""
    tensors = _joined(tensors, "stack")
    if any(t.shape != tensors[0].shape for t in tensors):
        raise ShapeError(f"stack needs tensors of one shape, got "
                         f"{sorted({t.shape for t in tensors})}")
    if not is_int(dim) or not -tensors[0].ndim - 1 <= dim <= tensors[0].ndim:
        raise ShapeError(f"stack: dim {dim!r} is out of range for tensors of shape "
                         f"{tensors[0].shape}")
    return Stack.apply(*tensors, axis=dim % (tensors[0].ndim + 1))


def _joined(tensors: Any, op: str) -> list[Tensor]:
    tensors = list(tensors)
    if not tensors:
        raise ValueError(f"{op} needs at least one tensor")
    for t in tensors:
        check_tensor(t, op)
    return tensors


def pad(a: Tensor, pad: Any, value: float = 0.0) -> Tensor:
    """Constant padding, PyTorch's order: ``(left, right)`` for the last dimension, then
    ``(top, bottom)`` for the one before, and so on (``F.pad`` also has other modes)."""
    check_tensor(a, "pad")
    pad = tuple(pad)
    if not all(is_int(p) and p >= 0 for p in pad) or len(pad) % 2 or len(pad) // 2 > a.ndim:
        raise ShapeError(f"pad: expected non-negative (before, after) pairs for at most "
                         f"{a.ndim} dimensions, got {pad}")
    widths = [(0, 0)] * a.ndim
    for i in range(len(pad) // 2):
        widths[a.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return Pad.apply(a, tuple(widths), value)


def getitem(a: Tensor, key: Any) -> Tensor:
    """``a[key]`` by PyTorch's rules. Basic keys (ints, slices, ``None``, ``...``) are
    handled here; keys holding index arrays or masks (``x[idx]``, ``x[x > 0]``) by
    minigen.extras.indexing, loaded on first use."""
    check_tensor(a, "getitem")
    parts = key if isinstance(key, tuple) else (key,)
    if not all(k is None or k is Ellipsis or is_int(k) or isinstance(k, slice) for k in parts):
        return importlib.import_module("minigen.extras.indexing").getitem(a, key)
    return mark_view(GetItem.apply(a, basic_key(parts, a.shape)))


def basic_key(parts: tuple[Any, ...], shape: tuple[int, ...]) -> tuple[Any, ...]:
    """The key, checked, with a trailing ``...`` (the array API wants every axis covered)
    and each slice's ends clamped into its dimension (x[0:500] of 300 rows is all 300, as in
    NumPy and PyTorch; the array API leaves such ends unspecified)."""
    for k in parts:
        if not (k is None or k is Ellipsis or is_int(k) or isinstance(k, slice)) or (
                isinstance(k, slice) and (k.step == 0 or not all(
                    e is None or is_int(e) for e in (k.start, k.stop, k.step)))):
            raise IndexError(f"cannot index a tensor with {k!r}: use ints, slices with int "
                             "ends and a non-zero step, None, ..., index arrays or masks")
    if sum(k is Ellipsis for k in parts) > 1:
        raise IndexError("an index can hold only one ellipsis (...)")
    used = [k for k in parts if k is not None and k is not Ellipsis]
    if len(used) > len(shape):
        raise IndexError(f"too many indices ({len(used)}) for a tensor of shape {shape}")
    if Ellipsis not in parts:
        parts = parts + (Ellipsis,)
    cut = parts.index(Ellipsis)  # axes counted from the front before ..., from the back after
    axes = [i for i, k in enumerate(parts[:cut]) if k is not None]
    back = [i for i in range(cut + 1, len(parts)) if parts[i] is not None]
    key, axis_of = list(parts), dict(zip(axes, range(len(axes))))
    axis_of.update({i: len(shape) - len(back) + j for j, i in enumerate(back)})
    for i, axis in axis_of.items():
        k, n = parts[i], shape[axis]
        if is_int(k) and not -n <= k < n:
            raise IndexError(f"index {k} is out of range for dimension {axis} of size {n} "
                             f"(tensor of shape {shape})")
        if isinstance(k, slice):
            start, stop, step = k.indices(n)  # writes "before the first" as -1: made None
            key[i] = slice(0, 0, 1) if step < 0 and start < 0 else slice(
                start, None if stop < 0 else stop, step)
    return tuple(key)


def to_device(a: Tensor, device: Any) -> Tensor:
    """``a`` moved to ``device``; gradients flow back to where it came from."""
    check_tensor(a, "to_device")
    return ToDevice.apply(a, backend.device(device))


def astype(a: Tensor, dtype: Any) -> Tensor:
    check_tensor(a, "astype")
    return AsType.apply(a, backend.as_dtype(dtype))
