"""Running, rounding and norm ops, as PyTorch's: ``cumsum``, ``prod``, ``norm`` (vector norms
of any order, Frobenius and nuclear), the steps ``sign``, ``round``, ``floor``, ``ceil``, and
``reciprocal`` and ``rsqrt``.

``cumsum``, ``prod`` and the nuclear norm have their own backward; the other norms are made
of reductions. The steps have derivative 0 wherever they have one, and that is the gradient
they give, as in PyTorch (which also gives 0 at the jumps).
"""

from __future__ import annotations

import math
from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import ShapeError
from minigen.extras._common import (
    check_floating,
    check_numeric,
    check_tensor,
    is_int,
    normalize_axes,
    numpy_names,
    single_axis,
)
from minigen.extras.reductions import amax, amin
from minigen.ops.arithmetic import div, pow
from minigen.ops.elementwise import abs, sqrt
from minigen.ops.reductions import sum
from minigen.ops.shape import reshape
from minigen.tensor import Tensor


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


@numpy_names
def cumsum(a: Tensor, dim: int) -> Tensor:
    """Running sums along ``dim``: ``out[i] = a[0] + ... + a[i]``."""
    check_tensor(a, "cumsum")
    check_numeric(a, "cumsum")
    axis = single_axis(dim, a.ndim, "cumsum", zero_d=True)
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


@numpy_names
def prod(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """The product of all elements, or over one ``dim`` (an int, as PyTorch's)."""
    check_tensor(a, "prod")
    check_numeric(a, "prod")
    if not isinstance(keepdim, bool):
        raise TypeError(f"prod: keepdim must be a bool, got {keepdim!r}")
    if dim is None:
        return Prod.apply(a, None, False)
    axis = single_axis(dim, a.ndim, "prod", zero_d=True)
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


class Norm2(Function):
    """The 2-norm ``sqrt(sum x**2)`` over ``axes`` (None: all). Its gradient ``x / norm`` is
    taken as 0 where the norm is 0, as PyTorch's (the formula gives 0 / 0 there): a zero row
    through ``normalize`` or ``cosine_similarity`` must not turn a model's gradients NaN."""

    @staticmethod
    def forward(ctx: Context, a: Array, axes: tuple[int, ...] | None, keepdim: bool) -> Array:
        xp = backend.namespace(a)
        kept = xp.sqrt(xp.sum(a * a, axis=axes, keepdims=True))
        ctx.save_for_backward(a, kept)
        if keepdim:
            return kept
        return xp.reshape(kept, tuple(n for i, n in enumerate(a.shape)
                                      if axes is not None and i not in axes))

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        a, kept = ctx.saved_arrays
        xp = backend.namespace(a)
        grad = xp.reshape(grad_out, kept.shape)
        zero = kept == 0
        scale = xp.where(zero, xp.zeros_like(kept), grad / xp.where(zero, xp.ones_like(kept),
                                                                    kept))
        return a * scale


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

    The 2-norm is one op (:class:`Norm2`), whose gradient at a zero vector is 0 as PyTorch's;
    the other orders are made of reductions, so their gradient is theirs (NaN at a zero vector
    for finite p other than 1 and 2, where PyTorch gives 0); the nuclear norm's is ``U @ Vh``
    of the SVD."""
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
        return Norm2.apply(a, axes, keepdim)
    return pow(sum(pow(abs(a), float(p)), dim, keepdim), 1.0 / p)
