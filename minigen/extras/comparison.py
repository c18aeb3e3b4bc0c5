"""Comparisons by name, as PyTorch's: ``minigen.eq(a, b)`` and ``a.eq(b)`` are ``a == b``, and
likewise ``ne`` (``!=``), ``lt`` (``<``), ``le`` (``<=``), ``gt`` (``>``), ``ge`` (``>=``), with
PyTorch's longer aliases (``greater``, ``less_equal``, ``not_equal``...). Each gives a bool
tensor outside the graph, exactly as the operator does (it is the operator). ``equal(a, b)``
answers with one Python bool: the same shape and the same values.

The Tensor methods (``a.eq(b)``...) are in :mod:`minigen.extras.tensor_methods`.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from minigen.tensor import Tensor

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
           "less_equal", "not_equal", "equal"]


def _compare(name: str, symbol: str, op: Any, input: Any, other: Any) -> Tensor:
    from minigen.tensor import Tensor

    if not isinstance(input, Tensor):
        raise TypeError(f"minigen.{name} takes a tensor first, as torch.{name}, got "
                        f"{type(input).__name__} {input!r:.40}: write minigen.{name}(t, "
                        f"{input!r:.20}) with the sides swapped, or x {symbol} y")
    return op(input, other)


def eq(input: Tensor, other: Any) -> Tensor:
    """``input == other`` element by element (``other`` a tensor or a number): a bool tensor."""
    return _compare("eq", "==", operator.eq, input, other)


def ne(input: Tensor, other: Any) -> Tensor:
    """``input != other``: a bool tensor."""
    return _compare("ne", "!=", operator.ne, input, other)


def lt(input: Tensor, other: Any) -> Tensor:
    """``input < other``: a bool tensor."""
    return _compare("lt", "<", operator.lt, input, other)


def le(input: Tensor, other: Any) -> Tensor:
    """``input <= other``: a bool tensor."""
    return _compare("le", "<=", operator.le, input, other)


def gt(input: Tensor, other: Any) -> Tensor:
    """``input > other``: a bool tensor."""
    return _compare("gt", ">", operator.gt, input, other)


def ge(input: Tensor, other: Any) -> Tensor:
    """``input >= other``: a bool tensor."""
    return _compare("ge", ">=", operator.ge, input, other)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def equal(input: Tensor, other: Tensor) -> bool:
    """Whether two tensors have the same shape and the same values: one Python bool, as
    ``torch.equal`` (NaN is not equal to NaN). Tensors on different devices are refused, as
    the operators refuse them."""
    from minigen.tensor import Tensor

    if not isinstance(input, Tensor) or not isinstance(other, Tensor):
        raise TypeError(f"minigen.equal compares two tensors, got {type(input).__name__} and "
                        f"{type(other).__name__}: use minigen.tensor(...) on the other, or "
                        "(a == b).all() to compare with a number")
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool((input == other).all())

