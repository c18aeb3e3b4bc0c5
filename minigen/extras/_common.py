"""The checks the extras' ops share beyond the core's (:mod:`minigen.ops._common`, whose names
are re-exported here): one axis of a 0-d tensor, index tensors, axes given as dims."""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.errors import DeviceError, DTypeError, ShapeError
from minigen.ops._common import (  # noqa: F401  (re-exported for the extras)
    broadcast_shapes,
    check_floating,
    check_numeric,
    check_tensor,
    is_int,
    normalize_axes,
    operands,
)
from minigen.ops._common import single_axis as _single_axis
from minigen.tensor import Tensor


def single_axis(dim: Any, ndim: int, op: str, zero_d: bool = False) -> int:
    """One axis (negatives allowed) of a tensor; with ``zero_d``, a 0-d tensor also takes 0
    or -1 (as in PyTorch) and is treated as shape (1,)."""
    if zero_d and ndim == 0:
        if not is_int(dim) or dim not in (0, -1):
            raise ShapeError(f"{op}: dim {dim!r} is out of range for a 0-d tensor")
        return 0
    return _single_axis(dim, ndim, op)


def check_index(index: Any, a: Any, op: str) -> None:
    """``index`` picks entries of ``a``: an integer tensor on ``a``'s device."""
    if not isinstance(index, Tensor) or index.dtype.is_floating_point or \
            index.dtype == backend.bool_:
        raise DTypeError(f"{op}: index must be an integer tensor, got "
                         f"{getattr(index, 'dtype', type(index).__name__)}")
    if index.device != a.device:
        raise DeviceError(f"{op}: the tensor is on {a.device}, the index on {index.device}")


def dims_as_axes(dims: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``dims`` (an int, or a list/tuple of ints) as positive axes, each at most once."""
    if is_int(dims):
        dims = (dims,)
    if not isinstance(dims, (tuple, list)):
        raise ShapeError(f"{op}: dims must be an int or a tuple of ints, got {dims!r}")
    return normalize_axes(tuple(dims), ndim, op) or ()


def keepdims_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape of a reduction over ``axes`` with keepdim=True."""
    return tuple(1 if axes is None or i in axes else n for i, n in enumerate(shape))


def numpy_names(fn: Any) -> Any:
    """Also accept NumPy's ``axis=`` and ``keepdims=`` for ``dim=`` and ``keepdim=``, as
    PyTorch's reductions do; both spellings at once is a TypeError."""
    import functools

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
