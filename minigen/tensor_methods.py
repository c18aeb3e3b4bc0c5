"""The Tensor's named methods: ``x.sum(1)``, ``x.exp()``, ``x.reshape(2, 3)``... Each forwards
to the op of the same name in :mod:`minigen.ops`, where its forward and backward are.

:class:`~minigen.tensor.Tensor` inherits them, so that ``tensor.py`` holds what a tensor *is*
(its array, its facts, conversions, operators) and this file what it can *do*. The ops import
Tensor, so they cannot be imported here first: each method looks ``minigen.ops`` up when it
runs, by which time the package is loaded.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import minigen

if TYPE_CHECKING:
    from minigen.tensor import Tensor


def numpy_names(fn: Any) -> Any:
    """Also accept NumPy's ``axis=`` and ``keepdims=`` for ``dim=`` and ``keepdim=``, as
    PyTorch's reductions do (``x.sum(axis=1, keepdims=True)``); both spellings at once is a
    TypeError."""
    @functools.wraps(fn)
    def with_numpy_names(*args: Any, **kwargs: Any) -> Any:
        for numpy_name, name in (("axis", "dim"), ("keepdims", "keepdim")):
            if numpy_name in kwargs:
                if name in kwargs:
                    raise TypeError(f"{fn.__name__}: give {name}= or {numpy_name}= (NumPy's "
                                    "name for it), not both")
                kwargs[name] = kwargs.pop(numpy_name)
        return fn(*args, **kwargs)
    return with_numpy_names


class TensorMethods:
    """The methods that forward to :mod:`minigen.ops` (a mixin of :class:`Tensor`)."""

    __slots__ = ()

    @numpy_names
    def sum(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return minigen.ops.sum(self, dim, keepdim)

    @numpy_names
    def mean(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return minigen.ops.mean(self, dim, keepdim)

    @numpy_names
    def var(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: int | None = None) -> Tensor:
        return minigen.ops.var(self, dim, unbiased, keepdim, correction=correction)

    @numpy_names
    def std(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: int | None = None) -> Tensor:
        return minigen.ops.std(self, dim, unbiased, keepdim, correction=correction)

    @numpy_names
    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        """The largest value, or over one ``dim`` the pair (values, indices), as PyTorch."""
        return minigen.ops.max(self, dim, keepdim)

    @numpy_names
    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        return minigen.ops.min(self, dim, keepdim)

    @numpy_names
    def amax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return minigen.ops.amax(self, dim, keepdim)

    @numpy_names
    def amin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return minigen.ops.amin(self, dim, keepdim)

    @numpy_names
    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        return minigen.ops.logsumexp(self, dim, keepdim)

    @numpy_names
    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return minigen.ops.argmax(self, dim, keepdim)

    @numpy_names
    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return minigen.ops.argmin(self, dim, keepdim)

    def exp(self) -> Tensor:
        return minigen.ops.exp(self)

    def log(self) -> Tensor:
        return minigen.ops.log(self)

    def log1p(self) -> Tensor:
        return minigen.ops.log1p(self)

    def sqrt(self) -> Tensor:
        return minigen.ops.sqrt(self)

    def abs(self) -> Tensor:
        return minigen.ops.abs(self)

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        return minigen.ops.clamp(self, min, max)

    clip = clamp  # PyTorch's alias

    def pow(self, exponent: Any) -> Tensor:
        return minigen.ops.pow(self, exponent)

    def neg(self) -> Tensor:
        return minigen.ops.neg(self)

    # the operators by name, as PyTorch has them: x.div(255) is x / 255
    def add(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """``self + alpha * other``."""
        return minigen.ops.add(self, other if alpha == 1 else minigen.ops.mul(other, alpha))

    def sub(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """``self - alpha * other``."""
        return minigen.ops.sub(self, other if alpha == 1 else minigen.ops.mul(other, alpha))

    def mul(self, other: Any) -> Tensor:
        return minigen.ops.mul(self, other)

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        """``self / other``; ``rounding_mode="floor"``: ``self // other``."""
        if rounding_mode is None:
            return minigen.ops.div(self, other)
        if rounding_mode == "floor":
            return minigen.ops.floor_divide(self, other)
        raise ValueError(f"div: rounding_mode must be None or 'floor' in minigen, got "
                         f"{rounding_mode!r} (PyTorch's 'trunc', towards zero, is not here)")

    def relu(self) -> Tensor:
        return minigen.ops.relu(self)

    def sigmoid(self) -> Tensor:
        return minigen.ops.sigmoid(self)

    def tanh(self) -> Tensor:
        return minigen.ops.tanh(self)

    @numpy_names
    def softmax(self, dim: int) -> Tensor:
        return minigen.ops.softmax(self, dim)

    @numpy_names
    def log_softmax(self, dim: int) -> Tensor:
        return minigen.ops.log_softmax(self, dim)

    def matmul(self, other: Tensor) -> Tensor:
        return minigen.ops.matmul(self, other)

    def bmm(self, mat2: Tensor) -> Tensor:
        return minigen.ops.bmm(self, mat2)

    def reshape(self, *shape: Any) -> Tensor:
        return minigen.ops.reshape(self, shape_args(shape))

    view = reshape

    def view_as(self, other: Tensor) -> Tensor:
        """This tensor reshaped to ``other``'s shape (``target.view_as(pred)``)."""
        return minigen.ops.reshape(self, other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return minigen.ops.flatten(self, start_dim, end_dim)

    def permute(self, *dims: Any) -> Tensor:
        return minigen.ops.permute(self, shape_args(dims))

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return minigen.ops.transpose(self, dim0, dim1)

    def unsqueeze(self, dim: int) -> Tensor:
        return minigen.ops.unsqueeze(self, dim)

    def squeeze(self, dim: Any = None) -> Tensor:
        return minigen.ops.squeeze(self, dim)

    def expand(self, *shape: Any) -> Tensor:
        return minigen.ops.expand(self, shape_args(shape))

    def expand_as(self, other: Tensor) -> Tensor:
        return minigen.ops.expand(self, other.shape)

    def clone(self) -> Tensor:
        return minigen.ops.clone(self)

    def contiguous(self) -> Tensor:
        """Itself: minigen has no strided views to make contiguous (``view`` is ``reshape``)."""
        return self  # type: ignore[return-value]

    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
        return minigen.ops.split(self, split_size_or_sections, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        return minigen.ops.chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        return minigen.ops.unbind(self, dim)

    def gather(self, dim: int, index: Tensor) -> Tensor:
        return minigen.ops.gather(self, dim, index)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        return minigen.ops.masked_fill(self, mask, value)

    def isnan(self) -> Tensor:
        return minigen.ops.isnan(self)

    def isfinite(self) -> Tensor:
        return minigen.ops.isfinite(self)

    @numpy_names
    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return minigen.ops.all(self, dim, keepdim)

    @numpy_names
    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        return minigen.ops.any(self, dim, keepdim)

    def square(self) -> Tensor:
        return minigen.ops.mul(self, self)

    def t(self) -> Tensor:
        """The transpose of a matrix (a tensor of at most 2 dimensions, as PyTorch's)."""
        if self.ndim > 2:
            raise minigen.ShapeError(f"t() transposes at most 2 dimensions, this tensor has "
                                     f"shape {self.shape}: use transpose(dim0, dim1) or mT")
        return self if self.ndim < 2 else minigen.ops.transpose(self, 0, 1)

    # reordering (minigen.ops.ordering), running, rounding and norms (minigen.ops.numeric)

    def flip(self, *dims: Any) -> Tensor:
        return minigen.ops.flip(self, shape_args(dims))

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        return minigen.ops.roll(self, shifts, dims)

    def repeat(self, *sizes: Any) -> Tensor:
        return minigen.ops.repeat(self, shape_args(sizes))

    def index_select(self, dim: int, index: Tensor) -> Tensor:
        return minigen.ops.index_select(self, dim, index)

    @numpy_names
    def cumsum(self, dim: int) -> Tensor:
        return minigen.ops.cumsum(self, dim)

    @numpy_names
    def prod(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        return minigen.ops.prod(self, dim, keepdim)

    def sign(self) -> Tensor:
        return minigen.ops.sign(self)

    def round(self) -> Tensor:
        return minigen.ops.round(self)

    def floor(self) -> Tensor:
        return minigen.ops.floor(self)

    def ceil(self) -> Tensor:
        return minigen.ops.ceil(self)

    def reciprocal(self) -> Tensor:
        return minigen.ops.reciprocal(self)

    def rsqrt(self) -> Tensor:
        return minigen.ops.rsqrt(self)

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
        return minigen.ops.norm(self, p, dim, keepdim)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        return minigen.ops.sort(self, dim, descending, stable)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        return minigen.ops.argsort(self, dim, descending, stable)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        return minigen.ops.topk(self, k, dim, largest, sorted)


def shape_args(shape: Sequence[Any], what: str = "a shape") -> tuple[int, ...]:
    """Accept both ``t.reshape(2, 3)`` and ``t.reshape((2, 3))``; every size an integer."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    sizes = []
    for size in shape:
        try:
            sizes.append(operator.index(size))  # (ints and NumPy ints; not 2.0, not "3")
        except TypeError:
            raise TypeError(f"{what} takes integer sizes, got {size!r} "
                            f"({type(size).__name__}) in {tuple(shape)!r}") from None
    return tuple(sizes)


def new_shape(shape: Sequence[Any], what: str) -> tuple[int, ...]:
    """The shape of a new tensor (``zeros(2, 3)``, ``randn((2, 3))``): integers, none below 0."""
    sizes = shape_args(shape, what)
    if any(size < 0 for size in sizes):
        raise ValueError(f"{what} got a negative size in {sizes}")
    return sizes
