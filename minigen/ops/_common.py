"""Small helpers shared by the op modules (not public)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from minigen import backend
from minigen.backend import Array
from minigen.errors import DeviceError, DTypeError, ShapeError
from minigen.tensor import Tensor

_SCALARS = (int, float, bool)


def namespace_of(*operands: Any) -> Any:
    """The array namespace of the first operand that is an array (the others may be numbers)."""
    return backend.namespace(next(a for a in operands if hasattr(a, "shape")))


def operand(x: Any) -> Any:
    """Tensors and Python numbers pass through, NumPy numbers become Python ones, and arrays
    (a NumPy array, say) become tensors.

    An array keeps its dtype, so a float64 array meeting a float32 tensor is the clear dtype
    error of :func:`minigen.autograd.Function.apply`, not a silent cast.
    """
    if isinstance(x, np.generic) and x.ndim == 0 and x.dtype.kind in "biuf":
        # a NumPy number (np.sqrt(3), np.float64(0.5)) is a number, as in PyTorch: held as a
        # Python one, else NumPy 2 would promote a float32 tensor to float64 silently
        return x.item()
    if isinstance(x, (Tensor,) + _SCALARS):
        return x
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return Tensor._make(x)
    if isinstance(x, (list, tuple)):
        raise DTypeError("ops take tensors or numbers, not lists: wrap it in minigen.tensor()")
    raise DTypeError(f"ops take tensors or numbers, got {type(x).__name__}")


def ensure_tensor(*args: Any, op: str | None = None) -> tuple[Any, ...]:
    """At least one argument must be a Tensor; if none is, the first becomes one."""
    raw = [not isinstance(a, (Tensor,) + _SCALARS) for a in args]
    kinds = [type(a) for a in args]
    args = tuple(operand(a) for a in args)
    if not any(isinstance(a, Tensor) for a in args):
        from minigen.creation import tensor

        args = (tensor(args[0]),) + args[1:]
    if len(args) == 2 and raw[0] != raw[1] and all(isinstance(a, Tensor) for a in args):
        _check_raw_array(op, args, 0 if raw[0] else 1, kinds[0 if raw[0] else 1])
    return args


def _check_raw_array(op: str | None, args: tuple[Tensor, Tensor], i: int, kind: type) -> None:
    """An array (NumPy's, say) met a tensor of another dtype or device: say so in terms of the
    array, which has no ``.to()`` (the tensors' own message would suggest it)."""
    wrapped, tensor = args[i], args[1 - i]
    where = f"{op}: the" if op else "The"
    side = ("left", "right")[i]
    name = f"{kind.__module__.split('.')[0]}.{kind.__name__}"
    fix = (f"make it a tensor first: minigen.tensor(x, dtype=minigen.{tensor.dtype.name}, "
           f"device='{tensor.device}')")
    if wrapped.device != tensor.device:
        raise DeviceError(f"{where} {side} operand is a {name} on {wrapped.device}, the other "
                          f"a tensor on {tensor.device}; {fix}")
    if wrapped.dtype != tensor.dtype and (wrapped.dtype.is_floating_point
                                          or tensor.dtype.is_floating_point):
        raise DTypeError(f"{where} {side} operand is a {name} of {wrapped.dtype.name}, the "
                         f"other a {tensor.dtype.name} tensor; minigen never casts silently: "
                         f"{fix}")


def binary_operands(a: Any, b: Any, op: str) -> tuple[Any, Any]:
    """Tensors (or numbers) for a broadcasting binary op, with a clear error if the shapes
    cannot broadcast."""
    a, b = ensure_tensor(a, b, op=op)
    for t in (a, b):
        check_numeric(t, op)
    for t, other in ((a, b), (b, a)):  # an integer tensor and a float number: NumPy's float64
        if (isinstance(t, Tensor) and not t.dtype.is_floating_point
                and isinstance(other, float)):
            raise DTypeError(f"{op} of a {t.dtype} tensor and the float {other}: the result "
                             "would silently be float64; convert the tensor with .float()")
    shape_a, shape_b = getattr(a, "shape", ()), getattr(b, "shape", ())
    if shape_a != shape_b:
        broadcast_shapes(shape_a, shape_b, op=op)
    return a, b


def is_int(x: Any) -> bool:
    """A Python or NumPy integer (not a bool, not a float that happens to be whole)."""
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def normalize_axes(dim: Any, ndim: int, op: str) -> tuple[int, ...] | None:
    """``dim`` (None, an int, or a tuple of ints, negatives allowed) as sorted positive axes.

    A 0-d tensor accepts dim 0 or -1 (as in PyTorch) and has no axes to reduce: ``()``.
    """
    if dim is None:
        return None
    dims = (dim,) if is_int(dim) else dim
    if not isinstance(dims, (tuple, list)) or not all(is_int(d) for d in dims):
        raise ShapeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise ShapeError(f"{op}: dim {d} is out of range for a tensor of {ndim} dimension(s)")
        out.append(int(d) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: dim {dim!r} names a dimension twice")
    return tuple(sorted(out)) if ndim else ()


def single_axis(dim: Any, ndim: int, op: str, zero_d: bool = False) -> int:
    """One axis (an int, negatives allowed) of a tensor with at least one dimension; with
    ``zero_d``, a 0-d tensor too, which takes 0 or -1 (as in PyTorch) and is treated as
    shape (1,)."""
    if not is_int(dim):
        raise ShapeError(f"{op}: dim must be an int, got {dim!r}")
    if ndim == 0 and not zero_d:
        raise ShapeError(f"{op} needs a tensor with at least one dimension, got a 0-d tensor")
    axes = normalize_axes(dim, ndim, op)
    return axes[0] if ndim else 0


def check_index(index: Any, a: Any, op: str) -> None:
    """``index`` picks entries of ``a``: an integer tensor on ``a``'s device."""
    if not isinstance(index, Tensor) or index.dtype.is_floating_point or \
            index.dtype == backend.bool_:
        raise DTypeError(f"{op}: index must be an integer tensor, got "
                         f"{getattr(index, 'dtype', type(index).__name__)}")
    if index.device != a.device:
        raise DeviceError(f"{op}: the tensor is on {a.device}, the index on {index.device}")


def keepdims_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape of a reduction over ``axes`` with keepdim=True."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def expand_to(grad: Array, reduced_shape: tuple[int, ...], shape: tuple[int, ...]) -> Array:
    """Undo a reduction in backward: reshape to keepdims form, then broadcast to ``shape``."""
    xp = backend.namespace(grad)
    return xp.broadcast_to(xp.reshape(grad, reduced_shape), shape)


def check_tensor(t: Any, op: str) -> None:
    """A DTypeError unless ``t`` is a Tensor (the unary ops take no lists or numbers)."""
    if not isinstance(t, Tensor):
        raise DTypeError(f"{op} takes a Tensor, got {type(t).__name__}: wrap it in "
                         "minigen.tensor()")


def check_numeric(t: Any, op: str) -> None:
    """A DTypeError for a bool tensor in arithmetic (the array API has no bool + bool)."""
    if isinstance(t, Tensor) and t.dtype == backend.bool_:
        raise DTypeError(f"{op} of a bool tensor: convert it with .float() (or .long()) first")


def check_floating(t: Tensor, op: str) -> None:
    check_tensor(t, op)
    if not t.dtype.is_floating_point:
        raise DTypeError(f"{op} needs a floating tensor, got {t.dtype}: cast with .float()")


def broadcast_shapes(*shapes: tuple[int, ...], op: str = "broadcast") -> tuple[int, ...]:
    """The shape that NumPy's broadcasting rules give ``shapes`` (a ShapeError if none)."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for i in range(-ndim, 0):
        sizes = {s[i] for s in shapes if len(s) >= -i} - {1}
        if len(sizes) > 1:
            raise ShapeError(f"{op}: shapes {', '.join(map(str, shapes))} do not broadcast "
                             "together (each dimension must match or be 1)")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def dims_as_axes(dims: Any, ndim: int, op: str) -> tuple[int, ...]:
    """``dims`` (an int, or a list/tuple of ints) as positive axes, each at most once."""
    if is_int(dims):
        dims = (dims,)
    if not isinstance(dims, (tuple, list)):
        raise ShapeError(f"{op}: dims must be an int or a tuple of ints, got {dims!r}")
    return normalize_axes(tuple(dims), ndim, op) or ()
