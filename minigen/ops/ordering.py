"""Reordering and running ops, as PyTorch's: ``flip``, ``roll``, ``repeat``, ``index_select``,
``cumsum``, ``prod``, ``sort``, ``argsort``, ``topk``, ``norm``, and the steps ``sign``,
``round``, ``floor``, ``ceil`` with ``reciprocal`` and ``rsqrt``.

``sort``, ``topk`` and ``index_select`` pick elements with indexing (``gather`` /
``getitem``), so their gradient is indexing's; ``repeat`` is ``expand`` and ``reshape``;
``norm`` is made of reductions. ``flip``, ``roll``, ``cumsum`` and ``prod`` have their own
backward. The steps (sign, round, floor, ceil) have derivative 0 wherever they have one, and
that is the gradient they give, as in PyTorch (which also gives 0 at the jumps).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import minigen
from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import DeviceError, DTypeError, ShapeError
from minigen.ops._common import (
    check_floating,
    check_numeric,
    check_tensor,
    is_int,
    normalize_axes,
)
from minigen.ops.arithmetic import div, pow
from minigen.ops.elementwise import abs, sqrt
from minigen.ops.indexing import getitem
from minigen.ops.reductions import ValuesIndices, amax, amin, sum
from minigen.ops.selection import gather
from minigen.ops.shape import expand, reshape
from minigen.tensor import Tensor


def _dims(dims: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``dims`` (an int, or a list/tuple of ints) as positive axes, each at most once."""
    if is_int(dims):
        dims = (dims,)
    if not isinstance(dims, (tuple, list)):
        raise ShapeError(f"{op}: dims must be an int or a tuple of ints, got {dims!r}")
    return normalize_axes(tuple(dims), ndim, op) or ()


def _one_dim(dim: Any, ndim: int, op: str) -> int:
    """One axis; a 0-d tensor accepts 0 or -1 (as in PyTorch) and is treated as shape (1,)."""
    if not is_int(dim):
        raise ShapeError(f"{op}: dim must be an int, got {dim!r}")
    axes = normalize_axes(dim, ndim, op)
    return axes[0] if ndim else 0


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
    return Flip.apply(a, _dims(dims, a.ndim, "flip"))


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
    axis = _one_dim(dim, a.ndim, "index_select")
    if not isinstance(index, Tensor) or index.dtype.is_floating_point or \
            index.dtype == minigen.bool_:
        raise DTypeError(f"index_select: index must be an integer tensor, got "
                         f"{getattr(index, 'dtype', type(index).__name__)}")
    if index.ndim > 1:
        raise ShapeError(f"index_select: index must be 1-D, got shape {index.shape}")
    if index.device != a.device:
        raise DeviceError(f"index_select: the tensor is on {a.device}, the index on "
                          f"{index.device}")
    index = reshape(index, (-1,))
    if a.ndim == 0:  # PyTorch: one index, a 0-d result
        if index.shape[0] != 1:
            raise ShapeError(f"index_select: a 0-d tensor takes one index, got {index.shape[0]}")
        return reshape(getitem(reshape(a, (1,)), index), ())
    return getitem(a, (slice(None),) * axis + (index,))


class Cumsum(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, axis: int) -> Array:
        ctx.axis = axis
        return backend.namespace(a).cumulative_sum(a, axis=axis)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        xp = backend.namespace(grad_out)  # each input counts in every later output
        return xp.flip(xp.cumulative_sum(xp.flip(grad_out, axis=ctx.axis), axis=ctx.axis),
                       axis=ctx.axis)


def cumsum(a: Tensor, dim: int) -> Tensor:
    """Running sums along ``dim``: ``out[i] = a[0] + ... + a[i]``."""
    check_tensor(a, "cumsum")
    check_numeric(a, "cumsum")
    axis = _one_dim(dim, a.ndim, "cumsum")
    if a.ndim == 0:
        return reshape(Cumsum.apply(reshape(a, (1,)), 0), ())
    return Cumsum.apply(a, axis)


class Prod(Function):
    """The product over one axis (or all). Backward without dividing by zero: with no zero
    the gradient is out / x; with one zero, the zero's is the product of the others and the
    rest are 0; with two or more, all are 0."""

    @staticmethod
    def forward(ctx: Context, a: Array, axis: int | None, keepdim: bool) -> Array:
        xp = backend.namespace(a)
        out = xp.asarray(xp.prod(a, axis=axis, keepdims=True))
        ctx.save_for_backward(a, out)
        ctx.axis = axis
        return out if keepdim else xp.reshape(
            out, () if axis is None else a.shape[:axis] + a.shape[axis + 1:])

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        a, out = ctx.saved_arrays
        xp = backend.namespace(a)
        grad = xp.reshape(grad_out, out.shape)
        zero = a == 0
        zeros = xp.sum(xp.astype(zero, xp.int64), axis=ctx.axis, keepdims=True)
        safe = xp.where(zero, xp.ones_like(a), a)
        others = xp.prod(safe, axis=ctx.axis, keepdims=True)  # the product of the non-zeros
        local = xp.where(zeros == 0, out / safe,
                         xp.where((zeros == 1) & zero, others, xp.zeros_like(a)))
        return grad * local


def prod(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The product of all elements, or over one ``dim`` (an int, as PyTorch's)."""
    check_tensor(a, "prod")
    check_numeric(a, "prod")
    if not isinstance(keepdim, bool):
        raise TypeError(f"prod: keepdim must be a bool, got {keepdim!r}")
    if dim is None:
        return Prod.apply(a, None, False)
    axis = _one_dim(dim, a.ndim, "prod")
    if a.ndim == 0:
        return a * 1
    return Prod.apply(a, axis, keepdim)


class Rounding(Function):
    """sign, round, floor, ceil: steps, whose derivative is 0 wherever it exists; the
    gradient is 0 everywhere, as PyTorch's."""

    @staticmethod
    def forward(ctx: Context, a: Array, name: str) -> Array:
        return getattr(backend.namespace(a), name)(a)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        return backend.namespace(grad_out).zeros_like(grad_out)


def _rounding(a: Tensor, name: str, op: str) -> Tensor:
    check_tensor(a, op)
    check_numeric(a, op)
    return Rounding.apply(a, name)


def sign(a: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of each element (NaN stays NaN). Gradient 0."""
    return _rounding(a, "sign", "sign")


def round(a: Tensor) -> Tensor:
    """Each element to the nearest integer, halves to the even one (PyTorch's and NumPy's
    rule: 0.5 -> 0, 1.5 -> 2). Gradient 0."""
    return _rounding(a, "round", "round")


def floor(a: Tensor) -> Tensor:
    """Each element rounded down. Gradient 0."""
    return _rounding(a, "floor", "floor")


def ceil(a: Tensor) -> Tensor:
    """Each element rounded up. Gradient 0."""
    return _rounding(a, "ceil", "ceil")


def reciprocal(a: Tensor) -> Tensor:
    """``1 / a``."""
    check_tensor(a, "reciprocal")
    check_floating(a, "reciprocal")
    return div(1.0, a)


def rsqrt(a: Tensor) -> Tensor:
    """``1 / sqrt(a)``."""
    check_floating(a, "rsqrt")
    return div(1.0, sqrt(a))


def _sorted_index(a: Tensor, axis: int, descending: bool, op: str) -> Array:
    xp = backend.namespace(a.data)
    return xp.argsort(a.data, axis=axis, descending=bool(descending), stable=True)


def argsort(a: Tensor, dim: int = -1, descending: bool = False, stable: bool = False
            ) -> Tensor:
    """The indices that sort ``a`` along ``dim`` (ties in their order: always stable)."""
    check_tensor(a, "argsort")
    check_numeric(a, "argsort")
    axis = _one_dim(dim, a.ndim, "argsort")
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
    axis = _one_dim(dim, a.ndim, "sort")
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
    axis = _one_dim(dim, a.ndim, "topk")
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


class NuclearNorm(Function):
    """The sum of the singular values of the matrices over ``axes`` (two of them); gradient
    ``U @ Vh`` of the thin SVD (as PyTorch's where the singular values are distinct and
    nonzero)."""

    @staticmethod
    def forward(ctx: Context, a: Array, axes: tuple[int, int], keepdim: bool) -> Array:
        xp = backend.namespace(a)
        rest = tuple(i for i in range(a.ndim) if i not in axes)
        ctx.perm = rest + axes
        u, s, vh = xp.linalg.svd(xp.permute_dims(a, ctx.perm), full_matrices=False)
        ctx.save_for_backward(u, vh)
        ctx.batch = tuple(a.shape[i] for i in rest)
        ctx.kept = tuple(1 if i in axes else n for i, n in enumerate(a.shape))
        out = xp.sum(s, axis=-1)
        return xp.reshape(out, ctx.kept if keepdim else ctx.batch)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        xp = backend.namespace(grad_out)
        u, vh = ctx.saved_arrays
        g = xp.reshape(grad_out, ctx.batch + (1, 1)) * xp.matmul(u, vh)
        inverse = tuple(sorted(range(len(ctx.perm)), key=lambda i: ctx.perm[i]))
        return xp.permute_dims(g, inverse)


def norm(a: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
    """The ``p``-norm of ``a`` over ``dim`` (None or (): all elements; an int or a tuple), by
    PyTorch 2.13's ``torch.norm`` rule:

    * ``p`` a number (``None`` is 2): the vector norm over any number of dims, as
      ``torch.linalg.vector_norm``: ``(sum |x|**p) ** (1/p)``, ``inf`` the largest ``|x|``,
      ``-inf`` the smallest, ``0`` the count of nonzero elements (gradient 0), negative ``p``
      by the same formula;
    * ``"fro"``: the 2-norm of the elements over all dims, one dim or two; over three or more
      dims PyTorch refuses it (its matrix norm needs exactly two), and so does minigen;
    * ``"nuc"``: the nuclear norm (the sum of the singular values) over exactly two dims
      (``dim=None`` means a 2-d tensor's two), refused otherwise, as in PyTorch;
    * any other string is refused. A bool ``p`` is refused (PyTorch reads True as 1).

    Made of reductions, so its gradient is theirs (at a zero vector the 2-norm's is NaN,
    where PyTorch gives 0); the nuclear norm's is ``U @ Vh`` of the SVD."""
    check_tensor(a, "norm")
    check_floating(a, "norm")
    if not isinstance(keepdim, bool):
        raise TypeError(f"norm: keepdim must be a bool, got {keepdim!r}")
    if isinstance(p, str):
        if dim is not None and not is_int(dim) and not isinstance(dim, (tuple, list)):
            raise ShapeError(f"norm: dim must be an int or a tuple of ints, got {dim!r}")
        if p == "fro" and (dim is None or is_int(dim) or len(dim) <= 2):
            p = 2  # PyTorch: the vector 2-norm
        elif p in ("fro", "nuc"):
            dims = tuple(range(a.ndim)) if dim is None else (dim,) if is_int(dim) else dim
            if p == "nuc" and a.ndim < 2:
                raise ShapeError(f"norm: p='nuc' needs a tensor of at least 2 dimensions, "
                                 f"got shape {tuple(a.shape)}")
            if len(dims) != 2:
                raise ShapeError(f"norm: p={p!r} over {len(dims)} dims {tuple(dims)}: as in "
                                 f"PyTorch, {p!r} " + ("over more than two dims " if p == "fro"
                                 else "") + "is a matrix norm, which needs exactly two dims")
            normalize_axes(dims, a.ndim, "norm")  # ints, in range, not twice
            return NuclearNorm.apply(a, (dims[0] % a.ndim, dims[1] % a.ndim), keepdim)
        else:
            raise ValueError(f"norm: p must be a number, inf, -inf, 'fro' or 'nuc', got {p!r}")
    if p is None:
        p = 2
    if isinstance(p, bool) or not isinstance(p, (int, float)) or math.isnan(p):
        raise ValueError(f"norm: p must be a number, inf, -inf, 'fro' or 'nuc', got {p!r}")
    if isinstance(dim, (tuple, list)) and not dim:
        dim = None  # PyTorch: no dims named is all of them
    axes = normalize_axes(dim, a.ndim, "norm")
    if p < 0 and math.prod(a.shape[i] for i in (range(a.ndim) if axes is None else axes)) == 0:
        raise ShapeError(f"norm: p={p} over no elements (dim {dim} of shape {tuple(a.shape)}) "
                         "has no value, as in PyTorch: the minimum of nothing")
    if p == math.inf:
        return amax(abs(a), dim, keepdim)
    if p == -math.inf:
        return amin(abs(a), dim, keepdim)
    if p == 0:
        return sum(abs(sign(a)), dim, keepdim)  # the count of nonzeros, gradient 0
    if p == 1:
        return sum(abs(a), dim, keepdim)
    if p == 2:
        return sqrt(sum(a * a, dim, keepdim))
    return pow(sum(pow(abs(a), float(p)), dim, keepdim), 1.0 / p)
