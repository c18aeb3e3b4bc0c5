"""The checks the op functions share: what they accept, and the error that names the problem
when it does not fit (a wrong type, dtype, shape or axis). Not public."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from minigen import backend
from minigen.errors import DeviceError, DTypeError, ShapeError
from minigen.tensor import Tensor


def is_int(x: Any) -> bool:
    """A Python or NumPy integer (not a bool, not a float that happens to be whole)."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def check_tensor(t: Any, op: str) -> None:
    if not isinstance(t, Tensor):
        raise DTypeError(f"{op} takes a Tensor, got {type(t).__name__}: wrap it in "
                         "minigen.tensor()")


def check_floating(t: Any, op: str) -> None:
    check_tensor(t, op)
    if not t.dtype.is_floating_point:
        raise DTypeError(f"{op} needs a floating tensor, got {t.dtype}: cast with .float()")


def check_numeric(t: Any, op: str) -> None:
    """A tensor that arithmetic takes: not bool (the array API has no bool + bool)."""
    check_tensor(t, op)
    if t.dtype == backend.bool_:
        raise DTypeError(f"{op} of a bool tensor: convert it with .float() (or .long())")


def operands(a: Any, b: Any, op: str, broadcast: bool = True) -> tuple[Any, Any]:
    """The two operands of a binary op: tensors or Python numbers. A NumPy number becomes a
    Python one (as in PyTorch: NumPy 2 would otherwise make float32 float64), an array a
    tensor of its own dtype; at least one is a tensor, and (if ``broadcast``) the shapes
    broadcast."""
    a, b = _operand(a, b, op, "left"), _operand(b, a, op, "right")
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        from minigen.creation import tensor  # (creation.py builds on the ops' modules)

        a = tensor(a)
    for t, other in ((a, b), (b, a)):
        if isinstance(t, Tensor):
            check_numeric(t, op)
        if isinstance(t, Tensor) and not t.dtype.is_floating_point and isinstance(other, float):
            raise DTypeError(f"{op} of a {t.dtype} tensor and the float {other}: the result "
                             "would silently be float64; convert the tensor with .float()")
    if broadcast:
        broadcast_shapes(getattr(a, "shape", ()), getattr(b, "shape", ()), op=op)
    return a, b


def _operand(x: Any, other: Any, op: str, side: str) -> Any:
    if isinstance(x, np.generic) and x.dtype.kind in "biuf":  # (np.float64 is a float too)
        return x.item()
    if isinstance(x, (Tensor, int, float)):
        return x
    if not (hasattr(x, "shape") and hasattr(x, "dtype")):
        hint = ": wrap it in minigen.tensor()" if isinstance(x, (list, tuple)) else ""
        raise DTypeError(f"ops take tensors or numbers, got {type(x).__name__}{hint}")
    t = Tensor._make(x)  # an array: its dtype is kept, and must match the tensor beside it
    if not isinstance(other, Tensor):
        return t
    kind = f"{type(x).__module__.split('.')[0]}.{type(x).__name__}"
    fix = (f"make it a tensor first: minigen.tensor(x, dtype=minigen.{other.dtype.name}, "
           f"device='{other.device}')")
    if t.device != other.device:
        raise DeviceError(f"{op}: the {side} operand is a {kind} on {t.device}, the other a "
                          f"tensor on {other.device}; {fix}")
    if t.dtype != other.dtype and (t.dtype.is_floating_point or other.dtype.is_floating_point):
        raise DTypeError(f"{op}: the {side} operand is a {kind} of {t.dtype.name}, the other a "
                         f"{other.dtype.name} tensor; minigen never casts silently: {fix}")
    return t


def broadcast_shapes(*shapes: tuple[int, ...], op: str = "broadcast") -> tuple[int, ...]:
    """The shape NumPy's broadcasting rules give ``shapes``, or a ShapeError naming them."""
    out = []
    for i in range(-max((len(s) for s in shapes), default=0), 0):
        sizes = {s[i] for s in shapes if len(s) >= -i} - {1}
        if len(sizes) > 1:
            raise ShapeError(f"{op}: shapes {', '.join(map(str, shapes))} do not broadcast "
                             "together (each dimension must match or be 1)")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def normalize_axes(dim: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """``dim`` (None, an int or a tuple of ints, negatives counting from the end) as sorted
    axes; None stays None (all axes). A 0-d tensor takes 0 or -1, as in PyTorch."""
    if dim is None:
        return None
    dims = (dim,) if is_int(dim) else dim
    if not isinstance(dims, (tuple, list)) or not all(is_int(d) for d in dims):
        raise ShapeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
    n = max(ndim, 1)
    if not all(-n <= d < n for d in dims):
        raise ShapeError(f"{op}: dim {dim} is out of range for a tensor of {ndim} dimension(s)")
    axes = sorted(int(d) % n for d in dims)
    if len(set(axes)) != len(axes):
        raise ShapeError(f"{op}: dim {dim!r} names a dimension twice")
    return tuple(axes) if ndim else ()


def single_axis(dim: Any, ndim: int, op: str) -> int:
    """One axis of a tensor with at least one dimension."""
    if not is_int(dim):
        raise ShapeError(f"{op}: dim must be an int, got {dim!r}")
    if ndim == 0:
        raise ShapeError(f"{op} needs a tensor with at least one dimension, got a 0-d tensor")
    return normalize_axes(dim, ndim, op)[0]


def numpy_names(dim: Any, keepdim: Any, names: dict[str, Any], op: str) -> tuple[Any, Any]:
    """PyTorch's reductions also take NumPy's names, ``axis=`` and ``keepdims=``."""
    for numpy_name in names:
        if numpy_name not in ("axis", "keepdims"):
            raise TypeError(f"{op}() got an unexpected keyword argument {numpy_name!r}")
        given = dim if numpy_name == "axis" else keepdim
        if given is not None and given is not False:
            raise TypeError(f"{op}: give {'dim' if numpy_name == 'axis' else 'keepdim'}= or "
                            f"{numpy_name}= (NumPy's name for it), not both")
    return names.get("axis", dim), names.get("keepdims", keepdim)
