"""The Tensor methods of the extras (``x.topk(2)``, ``x.eq(y)``...).

:class:`ExtraMethods` is never mixed into :class:`~minigen.tensor.Tensor`: when a tensor is
asked for a method it lacks, ``Tensor.__getattr__`` calls :func:`method`, which binds the one
found here to that tensor.
"""

from __future__ import annotations

from typing import Any

from minigen.extras import comparison


class ExtraMethods:
    """The methods, as plain functions of ``self`` (a Tensor)."""

    def eq(self, other: Any) -> Any:
        return comparison.eq(self, other)

    def ne(self, other: Any) -> Any:
        return comparison.ne(self, other)

    def lt(self, other: Any) -> Any:
        return comparison.lt(self, other)

    def le(self, other: Any) -> Any:
        return comparison.le(self, other)

    def gt(self, other: Any) -> Any:
        return comparison.gt(self, other)

    def ge(self, other: Any) -> Any:
        return comparison.ge(self, other)

    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne

    def equal(self, other: Any) -> bool:
        return comparison.equal(self, other)


def method(tensor: Any, name: str) -> Any:
    """``tensor.<name>``, bound, or the AttributeError Python would have raised."""
    function = None if name.startswith("_") else getattr(ExtraMethods, name, None)
    if function is None:
        raise AttributeError(f"'{type(tensor).__name__}' object has no attribute {name!r}")
    return function.__get__(tensor)
