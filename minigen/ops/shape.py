"""Shape ops: reshape, permute, expand, cat, stack, pad, clone (indexing is in
:mod:`minigen.ops.indexing`).

None of them computes anything; each backward routes the gradient back to where each element
came from."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import ShapeError
from minigen.ops._common import check_tensor, is_int, normalize_axes, single_axis
from minigen.tensor import Tensor


class Clone(Function):
    """A copy with its own memory; the gradient passes through unchanged."""

    @staticmethod
    def forward(ctx: Context, a: Array) -> Array:
        return backend.namespace(a).asarray(a, copy=True)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        return grad_out


class Reshape(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, shape: tuple[int, ...]) -> Array:
        ctx.shape = a.shape
        return backend.namespace(a).reshape(a, shape)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        return backend.namespace(grad_out).reshape(grad_out, ctx.shape)


class Permute(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, dims: tuple[int, ...]) -> Array:
        ctx.inverse = tuple(sorted(range(len(dims)), key=dims.__getitem__))
        return backend.namespace(a).permute_dims(a, dims)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        return backend.namespace(grad_out).permute_dims(grad_out, ctx.inverse)


class Expand(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, shape: tuple[int, ...]) -> Array:
        return backend.namespace(a).broadcast_to(a, shape)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        return grad_out  # the engine sums the copies back (the one place broadcasts are undone)


class Cat(Function):
    @staticmethod
    def forward(ctx: Context, *arrays: Array, axis: int) -> Array:
        ctx.axis, ctx.sizes = axis, [a.shape[axis] for a in arrays]
        return backend.namespace(arrays[0]).concat(arrays, axis=axis)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Array, ...]:
        grads, start = [], 0
        for size in ctx.sizes:
            key = (slice(None),) * ctx.axis + (slice(start, start + size), ...)  # all axes
            grads.append(grad_out[key])
            start += size
        return tuple(grads)


class Stack(Function):
    @staticmethod
    def forward(ctx: Context, *arrays: Array, axis: int) -> Array:
        ctx.axis, ctx.n = axis, len(arrays)
        return backend.namespace(arrays[0]).stack(arrays, axis=axis)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Array, ...]:
        prefix = (slice(None),) * ctx.axis
        return tuple(grad_out[prefix + (i, ...)] for i in range(ctx.n))  # ... for the array API


class Pad(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, widths: tuple[tuple[int, int], ...],
                value: float) -> Array:
        ctx.widths = widths
        return backend.pad(a, widths, value)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        return backend.unpad(grad_out, ctx.widths)  # the padding itself has no input


# ------------------------------------------------------------------------- functions


def _resolve_shape(shape: Sequence[int], size: int, old: tuple[int, ...]) -> tuple[int, ...]:
    if not all(is_int(n) and n >= -1 for n in shape):
        raise ShapeError(f"reshape: a shape is sizes >= 0 (and at most one -1), got "
                         f"{tuple(shape)}")
    shape = tuple(int(n) for n in shape)
    if shape.count(-1) > 1:
        raise ShapeError(f"reshape: only one dimension may be -1, got {shape}")
    known = math.prod(n for n in shape if n != -1)
    if -1 in shape:
        if known == 0 or size % known:
            raise ShapeError(f"cannot reshape a tensor of shape {old} ({size} elements) "
                             f"to {shape}")
        shape = tuple(size // known if n == -1 else n for n in shape)
    if math.prod(shape) != size:
        raise ShapeError(f"cannot reshape a tensor of shape {old} ({size} elements) to {shape}")
    return shape


def _view(t: Tensor) -> Tensor:
    """Mark ``t`` as what PyTorch would make a view (sharing the input's memory), so that
    assigning into it, which in minigen cannot reach the input, is refused with the reason
    (see :mod:`minigen.ops.assignment`)."""
    t._is_view = True
    return t


def clone(a: Tensor) -> Tensor:
    """A copy of ``a`` that is part of the graph (``detach()`` leaves it): what an op or an
    assignment does to the copy never reaches ``a``'s array."""
    check_tensor(a, "clone")
    return Clone.apply(a)


def reshape(a: Tensor, shape: Sequence[int]) -> Tensor:
    """A new shape with the same number of elements (one dimension may be -1)."""
    check_tensor(a, "reshape")
    shape = _resolve_shape(shape, a.numel(), a.shape)
    return a if shape == a.shape else _view(Reshape.apply(a, shape))


def flatten(a: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` (inclusive) into one."""
    check_tensor(a, "flatten")
    if a.ndim == 0:
        return reshape(a, (1,))
    op = f"flatten(start_dim={start_dim!r}, end_dim={end_dim!r}) of shape {a.shape}"
    start, end = single_axis(start_dim, a.ndim, op), single_axis(end_dim, a.ndim, op)
    if start > end:
        raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} "
                         f"for a tensor of shape {a.shape}")
    merged = math.prod(a.shape[start: end + 1])
    return reshape(a, a.shape[:start] + (merged,) + a.shape[end + 1:])


def permute(a: Tensor, dims: Sequence[int]) -> Tensor:
    """Reorder the dimensions: ``out.shape[i] == a.shape[dims[i]]``."""
    check_tensor(a, "permute")
    if not all(is_int(d) and -a.ndim <= d < a.ndim for d in dims):
        raise ShapeError(f"permute: {tuple(dims)} are not dims of a tensor of shape {a.shape}")
    axes = tuple(int(d) % a.ndim for d in dims)
    if sorted(axes) != list(range(a.ndim)):
        raise ShapeError(f"permute: {tuple(dims)} is not a permutation of the {a.ndim} "
                         f"dimensions of a tensor of shape {a.shape}")
    return _view(Permute.apply(a, axes))


def transpose(a: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    check_tensor(a, "transpose")
    dims = list(range(a.ndim))
    d0, d1 = single_axis(dim0, a.ndim, "transpose"), single_axis(dim1, a.ndim, "transpose")
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return _view(Permute.apply(a, tuple(dims)))


def unsqueeze(a: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim``."""
    check_tensor(a, "unsqueeze")
    if not is_int(dim) or not -a.ndim - 1 <= dim <= a.ndim:
        raise ShapeError(f"unsqueeze: dim {dim!r} is out of range for {a.ndim} dimension(s)")
    dim = dim % (a.ndim + 1)
    return _view(Reshape.apply(a, a.shape[:dim] + (1,) + a.shape[dim:]))


def squeeze(a: Tensor, dim: Any = None) -> Tensor:
    """Remove dimensions of size 1 (all of them, or those in ``dim`` that are 1)."""
    check_tensor(a, "squeeze")
    axes = normalize_axes(dim, a.ndim, "squeeze")
    shape = tuple(n for i, n in enumerate(a.shape) if n != 1 or (axes is not None and
                                                                   i not in axes))
    return reshape(a, shape)


def expand(a: Tensor, shape: Sequence[int]) -> Tensor:
    """Broadcast to ``shape`` without copying (-1 keeps a dimension)."""
    check_tensor(a, "expand")
    shape = tuple(shape)
    lead = len(shape) - a.ndim
    if lead < 0:
        raise ShapeError(f"expand: cannot expand shape {a.shape} to fewer dimensions {shape}")
    if not all(is_int(n) and (n >= 0 or (n == -1 and i >= lead)) for i, n in enumerate(shape)):
        raise ShapeError(f"expand: sizes must be >= 0, or -1 to keep one of the tensor's own "
                         f"dimensions, got {shape} for a tensor of shape {a.shape}")
    full = tuple(a.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
    for i, n in enumerate(a.shape):
        if n != 1 and n != full[i + lead]:
            raise ShapeError(f"expand: dimension {i} of size {n} cannot become "
                             f"{full[i + lead]} (shape {a.shape} -> {shape})")
    return _view(Expand.apply(a, full))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat needs at least one tensor")
    for t in tensors:
        check_tensor(t, "cat")
    axis = single_axis(dim, tensors[0].ndim, "cat")
    for t in tensors[1:]:
        if t.ndim != tensors[0].ndim or any(
                t.shape[i] != tensors[0].shape[i] for i in range(t.ndim) if i != axis):
            raise ShapeError(f"cat along dim {dim}: shapes {tensors[0].shape} and {t.shape} "
                             "differ outside that dimension")
    return Cat.apply(*tensors, axis=axis)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    for t in tensors:
        check_tensor(t, "stack")
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            raise ShapeError(f"stack needs tensors of one shape, got {tensors[0].shape} and "
                             f"{t.shape}")
    if not is_int(dim) or not -tensors[0].ndim - 1 <= dim <= tensors[0].ndim:
        raise ShapeError(f"stack: dim {dim!r} is out of range for tensors of shape "
                         f"{tensors[0].shape}")
    return Stack.apply(*tensors, axis=dim % (tensors[0].ndim + 1))


def pad(a: Tensor, pad: Sequence[int], value: float = 0.0) -> Tensor:
    """Constant padding, PyTorch's order: ``(left, right)`` for the last dimension, then
    ``(top, bottom)`` for the one before, and so on."""
    check_tensor(a, "pad")
    pad = tuple(pad)
    if (not all(is_int(p) and p >= 0 for p in pad) or len(pad) % 2
            or len(pad) // 2 > a.ndim):
        raise ShapeError(f"pad: expected non-negative (before, after) pairs for at most "
                         f"{a.ndim} dimensions, got {pad}")
    widths = [(0, 0)] * a.ndim
    for i in range(len(pad) // 2):
        widths[a.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    return Pad.apply(a, tuple(widths), value)
