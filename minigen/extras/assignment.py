"""Assignment: ``x[key] = value``, with the keys indexing takes and PyTorch's rules.

minigen never writes into an array that an op may have saved for its backward (PyTorch keeps
a version counter on every tensor to catch that case and raise). Instead ``x[key] = value``
makes a NEW array holding the change and points ``x`` at it; when a gradient is wanted, ``x``
is now the output of an :class:`IndexPut` op whose backward sends the gradient of the
overwritten elements to ``value`` and the rest to the old ``x``. So every graph built before
the assignment stays valid, and a slice taken from ``x`` before it keeps the old values (in
PyTorch it would see the new ones: it shares memory). For the same reason, assigning INTO a
slice or view (``x[0][1] = v``, a row of ``for row in x``, ``x.view(-1)[0] = v``,
``x.detach()[0] = v``) is refused: in PyTorch it writes through to ``x``, here it could not.

Which elements ``key`` picks is worked out by indexing an array of positions,
``arange(x.numel()).reshape(x.shape)[key]``, so assignment accepts exactly the keys that
reading does and orders them the same way.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import minigen
from minigen import autograd, backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import DeviceError, DTypeError, ShapeError
from minigen.extras import _arrays
from minigen.extras._common import broadcast_shapes, check_tensor
from minigen.ops.shape import getitem
from minigen.tensor import Tensor


class IndexPut(Function):
    """``x`` with ``value`` (broadcast to the picked elements) written at the flat
    ``positions`` (distinct), as a new array."""

    @staticmethod
    def forward(ctx: Context, x: Array, value: Array, positions: Array,
                shape: tuple[int, ...]) -> Array:
        xp = backend.namespace(x)
        values = xp.reshape(xp.broadcast_to(value, shape), (-1,))
        ctx.save_for_backward(positions)
        ctx.shape = shape
        out = _arrays.put(xp.reshape(x, (-1,)), positions, values)
        return xp.reshape(out, x.shape)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Any, Any, None, None]:
        (positions,) = ctx.saved_arrays
        xp = backend.namespace(grad_out)
        flat = xp.reshape(grad_out, (-1,))
        grad_x = grad_value = None
        if ctx.needs_input_grad[0]:  # an overwritten element no longer depends on x
            zeros = xp.zeros(positions.shape, dtype=flat.dtype,
                             device=backend.device_of(flat).native)
            grad_x = xp.reshape(_arrays.put(flat, positions, zeros), grad_out.shape)
        if ctx.needs_input_grad[1]:  # (the engine sums it down to value's own shape)
            grad_value = xp.reshape(xp.take(flat, positions), ctx.shape)
        return grad_x, grad_value, None, None


def as_value(x: Tensor, value: Any) -> Tensor:
    """``value`` as a tensor of ``x``'s dtype on ``x``'s device: a Python number is made so
    (an int tensor refuses a fractional one), a tensor must already be so."""
    if isinstance(value, Tensor):
        if value.device != x.device:
            raise DeviceError(f"assigning a tensor on {value.device} into one on {x.device}: "
                              "move it with .to() first")
        if value.dtype != x.dtype:
            raise DTypeError(f"assigning a {value.dtype} tensor into a {x.dtype} one; minigen "
                             f"never casts silently: convert it with .to({x.dtype})")
        return value
    if isinstance(value, numbers.Number) and hasattr(value, "item"):
        value = value.item()  # a NumPy number: the Python one
    if isinstance(value, (bool, int, float)):
        if x.dtype == minigen.bool_ and not isinstance(value, bool):
            raise DTypeError(f"assigning {value!r} into a bool tensor: assign True or False")
        if not x.dtype.is_floating_point and x.dtype != minigen.bool_:
            _check_integer(value, x.dtype.name)
        return minigen.tensor(value, dtype=x.dtype, device=x.device)
    raise TypeError(f"can assign a number or a Tensor into a tensor, got "
                    f"{type(value).__name__}: wrap it with minigen.tensor(...)")


def _check_integer(value: bool | int | float, dtype: str) -> None:
    """A number an integer tensor can hold exactly: whole, and within the dtype's range."""
    if isinstance(value, float) and not value.is_integer():
        raise DTypeError(f"assigning {value} into a {dtype} tensor would cut it to an integer: "
                         "assign an int, or use a floating tensor")
    bits = int(dtype.lstrip("uint"))
    low, high = (0, 2 ** bits - 1) if dtype.startswith("u") else (-2 ** (bits - 1),
                                                                  2 ** (bits - 1) - 1)
    if not low <= value <= high:
        raise DTypeError(f"{value} does not fit in {dtype} ({low} to {high})")


def _fits(value: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``value`` shaped to broadcast to ``shape``: PyTorch first drops leading size-1 dims
    (x[0] = v of shape (1, n) fills a row of n)."""
    while value.ndim > len(shape) and value.shape[0] == 1:
        value = value.reshape(value.shape[1:])
    try:
        broadcast = broadcast_shapes(value.shape, shape, op="assignment")
    except ShapeError:
        broadcast = None
    if broadcast != shape:
        raise ShapeError(f"cannot assign a value of shape {value.shape} to the {shape} "
                         "elements the index picks: it must broadcast to that shape")
    return value


def _distinct(positions: Array, size: int) -> None:
    """An element picked twice would be written twice, and which value wins is left
    undefined by PyTorch: refuse instead."""
    xp = backend.namespace(positions)
    ones = xp.ones(positions.shape, dtype=xp.float32, device=backend.device_of(positions).native)
    counts = _arrays.scatter_add((size,), 0, positions, ones)
    if float(xp.max(counts)) > 1:
        first = int(xp.argmax(counts))
        raise IndexError(f"the index picks element {first} (flat) more than once: with "
                         "repeated indices it is undefined which value is written")


def setitem(x: Tensor, key: Any, value: Any) -> None:
    """``x[key] = value``: ``x`` now holds a new array with ``value`` (a number, or a tensor
    that broadcasts to ``x[key]``'s shape) at the elements ``key`` picks.

    >>> x = minigen.zeros(2, 3)
    >>> x[0] = 1.0; x[:, 2] = minigen.tensor([5.0, 6.0]); x[x > 5] = -1.0
    >>> x
    tensor([[ 1.,  1.,  5.],
           [ 0.,  0., -1.]])
    """
    check_tensor(x, "setitem")
    _check_writable(x, "assigning into")
    value = as_value(x, value)
    n = x.numel()
    # (int32 where it can: half the memory of int64 for a large tensor's positions)
    index_dtype = minigen.int32 if n < 2 ** 31 else minigen.int64
    positions = getitem(minigen.arange(n, dtype=index_dtype, device=x.device).reshape(x.shape),
                        key)
    shape = positions.shape
    value = _fits(value, shape)
    flat = backend.namespace(positions.data).reshape(positions.data, (-1,))
    parts = key if isinstance(key, tuple) else (key,)
    if any(isinstance(k, (list, range)) or (isinstance(k, Tensor) and k.dtype != minigen.bool_)
           for k in parts) and math.prod(shape) > 1:
        _distinct(flat, n)
    x._update(IndexPut.apply(x, value, flat, shape), "assigning into")


def _check_writable(x: Tensor, doing: str) -> None:
    """Refuse to change ``x`` where PyTorch would write through to another tensor (``x`` is
    a slice or view); the core's ``Tensor._update`` refuses a leaf that requires grad."""
    if x._is_view:
        raise ValueError(
            f"{doing} a slice, view, reshape, transpose or detach() of another tensor "
            "(x[0][1] = v, x[0].add_(1), x.view(-1).zero_()) would change only that new "
            "tensor here: minigen tensors never share memory (in PyTorch this writes through "
            "to x). Change the tensor itself (x[0, 1] = v, x[0] += 1), or take a .clone() to "
            "change only the copy")
    if x.requires_grad and x.is_leaf and autograd.grad_enabled:
        x._update(x, doing)  # (raises the core's error, with what was being done)


def inplace(x: Tensor, op: Any, *args: Any, **kwargs: Any) -> Tensor:
    """``x`` changed in place to ``op(x, *args, **kwargs)``: ``x.add_(y)``, ``x.clamp_(0, 1)``
    ... The same object, as in PyTorch, so every name for it (a module's parameter, an alias)
    sees the change; inside, a new array (see ``Tensor._update``, which ``x += y`` uses).

    >>> w = minigen.nn.Parameter(minigen.ones(3)); alias = w
    >>> with minigen.no_grad():
    ...     _ = w.sub_(0.5 * minigen.ones(3))    # a hand-written SGD step
    >>> alias is w, alias.tolist()
    (True, [0.5, 0.5, 0.5])
    """
    check_tensor(x, "an in-place op")
    _check_writable(x, "changing in place")
    return x._update(op(x, *args, **kwargs))
