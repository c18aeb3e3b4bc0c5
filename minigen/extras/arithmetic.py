"""``%`` and ``//`` (values only, no gradient), and the logic of boolean masks
(``mask & other``, ``|``, ``^``, ``~``), outside the graph like the comparisons."""

from __future__ import annotations

from typing import Any

from minigen import autograd, backend
from minigen.errors import DTypeError, GraphError
from minigen.extras._common import operands
from minigen.tensor import Tensor


def _floored(a: Any, b: Any, op: str, symbol: str) -> Tensor:
    """``a % b`` or ``a // b``: values only. They step at every multiple of ``b``, so
    minigen gives them no gradient (PyTorch's // has none either) and refuses a tensor that
    asks for one rather than silently detaching it."""
    a, b = operands(a, b, op)
    if autograd.grad_enabled and any(isinstance(t, Tensor) and t.requires_grad
                                      for t in (a, b)):
        raise GraphError(f"{symbol} has no gradient in minigen: apply it to .detach()ed values")
    integers = not any(isinstance(t, float) or (isinstance(t, Tensor)
                                                and t.dtype.is_floating_point) for t in (a, b))
    if integers and (b == 0 if isinstance(b, int) else
                     bool(backend.namespace(b.data).any(b.data == 0))):
        raise ValueError(f"integer {symbol} by zero")
    x, y = (t.data if isinstance(t, Tensor) else t for t in (a, b))
    with backend.quiet_floating_point():  # (a float divided by 0: inf or NaN, as in PyTorch)
        out = x % y if symbol == "%" else x // y
    return Tensor._make(backend.as_array(out))


def remainder(a: Any, b: Any) -> Tensor:
    """``a % b``, with the sign of ``b`` (Python's and PyTorch's rule). No gradient."""
    return _floored(a, b, "remainder", "%")


def floor_divide(a: Any, b: Any) -> Tensor:
    """``a // b``, rounded towards minus infinity. No gradient."""
    return _floored(a, b, "floor_divide", "//")


def _logic(a: Any, b: Any, name: str) -> Tensor:
    for t in (a, b):
        if isinstance(t, Tensor) and t.dtype != backend.bool_ or not isinstance(
                t, (Tensor, bool)):
            what = t.dtype if isinstance(t, Tensor) else type(t).__name__
            raise DTypeError(f"{name} takes boolean tensors (masks such as x > 0), got {what}")
    tensor = a if isinstance(a, Tensor) else b
    other = b.data if isinstance(b, Tensor) else b
    first = a.data if isinstance(a, Tensor) else a
    return Tensor._make(getattr(backend.namespace(tensor.data), name)(first, other))


def logical_and(a: Any, b: Any) -> Tensor:
    """``a & b`` of boolean tensors (masks)."""
    return _logic(a, b, "logical_and")


def logical_or(a: Any, b: Any) -> Tensor:
    return _logic(a, b, "logical_or")


def logical_xor(a: Any, b: Any) -> Tensor:
    return _logic(a, b, "logical_xor")


def logical_not(a: Tensor) -> Tensor:
    """``~a`` of a boolean tensor (a mask)."""
    if not isinstance(a, Tensor) or a.dtype != backend.bool_:
        raise DTypeError(f"~ takes a boolean tensor (a mask such as x > 0), got "
                         f"{getattr(a, 'dtype', type(a).__name__)}")
    return Tensor._make(backend.namespace(a.data).logical_not(a.data))
