"""minigen's dtypes (named like PyTorch's), the default one, and the dtype of any array."""

from __future__ import annotations

from typing import Any

from minigen.errors import DTypeError

Array = Any  # an array of any array-API library


class DType:
    """A floating or integer element type, named like PyTorch's (``minigen.float32``)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"minigen.{self.name}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DType):
            return self.name == other.name
        if isinstance(other, str):
            return self.name == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    @property
    def is_floating_point(self) -> bool:
        return self.name.startswith("float")


float32, float64 = DType("float32"), DType("float64")
int32, int64, uint8, bool_ = DType("int32"), DType("int64"), DType("uint8"), DType("bool")
_DTYPES = {d.name: d for d in (float32, float64, int32, int64, uint8, bool_)}
_DTYPES["float"], _DTYPES["double"], _DTYPES["long"] = float32, float64, int64

_default_dtype = float32


def get_default_dtype() -> DType:
    return _default_dtype


def set_default_dtype(dtype: DType | str) -> None:
    """Set the dtype of new floating tensors (float32 unless changed; gradcheck uses float64)."""
    global _default_dtype
    dtype = as_dtype(dtype)
    if not dtype.is_floating_point:
        raise DTypeError(f"the default dtype must be floating, got {dtype}")
    _default_dtype = dtype


def as_dtype(dtype: DType | str | None) -> DType:
    if dtype is None:
        return _default_dtype
    if isinstance(dtype, DType):
        return dtype
    key = getattr(dtype, "__name__", None) or str(dtype)  # np.float32 or "float32"
    key = key.rsplit(".", 1)[-1]
    if key not in _DTYPES:
        raise DTypeError(f"unknown dtype {dtype!r}; use one of {sorted(_DTYPES)}")
    return _DTYPES[key]


_DTYPE_OF: dict[tuple[type, Any], DType] = {}


def dtype_of(x: Array) -> DType:
    """The minigen dtype of an array of any library (cached: it is on every op's path)."""
    # The key starts with the dtype object's type, so that NumPy's and array-api-strict's
    # dtype objects are never compared with each other (the standard does not define that).
    key = (type(x.dtype), x.dtype)
    try:
        return _DTYPE_OF[key]
    except KeyError:
        _DTYPE_OF[key] = as_dtype(str(x.dtype))
        return _DTYPE_OF[key]
