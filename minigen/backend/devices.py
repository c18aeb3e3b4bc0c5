"""dtypes, devices, the array namespace of each, and the one place arrays cross devices."""

from __future__ import annotations

import functools
from typing import Any

import array_api_compat
import numpy as np

from minigen.errors import DeviceError, DTypeError

__all__ = ["Array", "DType", "Device", "arange", "as_array", "as_dtype", "asarray", "bool_",
           "cuda_is_available", "device", "device_of", "dtype_of", "float32", "float64",
           "full", "get_default_dtype", "int32", "int64", "is_dtype", "namespace", "pad",
           "quiet_floating_point", "set_default_dtype", "to_device", "to_numpy", "uint8",
           "unpad"]

Array = Any  # an array of any array-API library


# ------------------------------------------------------------------ dtypes
class DType:
    """An element type, named as PyTorch names it (``minigen.float32``)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"minigen.{self.name}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (DType, str)):
            return self.name == getattr(other, "name", other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    @property
    def is_floating_point(self) -> bool:
        return self.name.startswith("float")


float32, float64 = DType("float32"), DType("float64")
int32, int64, uint8, bool_ = DType("int32"), DType("int64"), DType("uint8"), DType("bool")
_DTYPES = {d.name: d for d in (float32, float64, int32, int64, uint8, bool_)}
_DTYPES.update(float=float32, double=float64, long=int64)
_default_dtype = float32  # of new floating tensors (gradcheck works in float64)


def get_default_dtype() -> DType:
    return _default_dtype


def set_default_dtype(dtype: Any) -> None:
    global _default_dtype
    if not as_dtype(dtype).is_floating_point:
        raise DTypeError(f"the default dtype must be floating, got {dtype}")
    _default_dtype = as_dtype(dtype)


def as_dtype(dtype: Any) -> DType:
    """A DType from None (the default one), a DType, a name or a NumPy type."""
    if dtype is None or isinstance(dtype, DType):
        return dtype or _default_dtype
    key = (getattr(dtype, "__name__", None) or str(dtype)).rsplit(".", 1)[-1]  # np.float32
    if key not in _DTYPES:
        raise DTypeError(f"unknown dtype {dtype!r}; use one of {sorted(_DTYPES)}")
    return _DTYPES[key]


def is_dtype(value: Any) -> bool:
    return isinstance(value, DType) or (isinstance(value, str) and value in _DTYPES)


_DTYPE_OF: dict[tuple[type, Any], DType] = {}


def dtype_of(x: Array) -> DType:
    """The DType of an array of any library (cached: it is on every op's path). The key
    starts with the dtype object's type: NumPy's and array-api-strict's dtype objects must
    never be compared with each other (the standard leaves that undefined)."""
    key = (type(x.dtype), x.dtype)
    if key not in _DTYPE_OF:
        _DTYPE_OF[key] = as_dtype(str(x.dtype))
    return _DTYPE_OF[key]


# ------------------------------------------------------------------ devices
class Device:
    """Where arrays live: ``cpu`` (NumPy), ``cuda:i`` (CuPy) or ``strict`` (array-api-strict
    on its simulated device ``device1``: the tests' stand-in for a GPU, which refuses silent
    NumPy conversions as CuPy does). ``xp`` is the array namespace, ``native`` the library's
    own device object."""

    __slots__ = ("type", "index", "xp", "native")

    def __init__(self, type: str, index: int, xp: Any, native: Any):
        self.type, self.index, self.xp, self.native = type, index, xp, native

    def __repr__(self) -> str:
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return "cpu" if self.type == "cpu" else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except DeviceError:
                return False
        if not isinstance(other, Device):
            return NotImplemented
        return (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def dtype(self, dtype: DType) -> Any:
        """The array library's dtype object for ``dtype``."""
        return getattr(self.xp, dtype.name)


@functools.cache
def _make_device(type: str, index: int) -> Device:
    if type == "cpu":
        import array_api_compat.numpy as xp

        return Device("cpu", 0, xp, "cpu")
    if type == "strict":
        import array_api_strict

        return Device("strict", index, array_api_strict,
                      array_api_strict.Device(f"device{index}"))
    if type != "cuda":
        raise DeviceError(f"unknown device type {type!r}: use 'cpu', 'cuda', 'cuda:N' or "
                          "'strict'")
    try:
        import cupy
    except ImportError as e:
        raise DeviceError("device 'cuda' needs CuPy, which is not installed: "
                          "pip install 'minigen[cuda]' (CuPy for CUDA 12)") from e
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # the CUDA driver is missing or broken
        raise DeviceError(f"CuPy is installed but finds no CUDA GPU ({e})") from e
    if index >= count:
        raise DeviceError(f"device 'cuda:{index}' asked for, but only {count} GPU(s) found")
    import array_api_compat.cupy as xp

    return Device("cuda", index, xp, cupy.cuda.Device(index))


def device(spec: Any = None) -> Device:
    """A Device from None or ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"strict"``."""
    if spec is None or isinstance(spec, Device):
        return spec or _make_device("cpu", 0)
    if not isinstance(spec, str):
        raise DeviceError(f"a device is a string such as 'cpu' or 'cuda', got {spec!r}")
    type, _, index = spec.partition(":")
    if index and not index.isdigit():
        raise DeviceError(f"bad device index in {spec!r}")
    return _make_device(type, int(index) if index else (1 if type == "strict" else 0))


def cuda_is_available() -> bool:
    """True when CuPy is importable and sees a CUDA GPU."""
    try:
        device("cuda")
    except DeviceError:
        return False
    return True


_NAMESPACES: dict[type, Any] = {}


def namespace(x: Array) -> Any:
    """The array-API namespace of ``x``: every op computes with ``xp = namespace(x)``,
    ``xp.exp(x)``, so that the same code runs on NumPy, CuPy and array-api-strict."""
    try:
        return _NAMESPACES[type(x)]  # (cached per array type: it is on every hot path)
    except KeyError:
        if hasattr(x, "requires_grad") and hasattr(x, "grad"):  # a minigen Tensor
            raise TypeError("a minigen Tensor where its array belongs: tensor.data is the raw "
                            "array. If you wrote p.data = t, write p.data = t.data, or "
                            "assign under minigen.no_grad(): p[...] = t") from None
        _NAMESPACES[type(x)] = array_api_compat.array_namespace(x)
        return _NAMESPACES[type(x)]


def device_of(x: Array) -> Device:
    if isinstance(x, (np.ndarray, np.generic)):
        return _make_device("cpu", 0)
    native = array_api_compat.device(x)
    if "strict" in namespace(x).__name__:
        return _make_device("strict", int(str(native).split("device")[-1].strip("')")))
    return _make_device("cuda", int(getattr(native, "id", 0)))


def to_device(x: Array, dev: Device) -> Array:
    """``x`` copied to ``dev``: host <-> device copies happen here and only here."""
    if device_of(x) == dev:
        return x
    host = to_numpy(x)
    if dev.type == "cpu":
        return host
    if dev.type == "strict":
        return dev.xp.asarray(host, device=dev.native)
    with dev.native:
        return dev.xp.asarray(host)


def to_numpy(x: Array) -> np.ndarray:
    """An explicit copy to host memory (no copy for a NumPy array)."""
    if isinstance(x, (np.ndarray, np.generic)):
        return np.asarray(x)
    if device_of(x).type == "strict":
        return np.asarray(x.to_device(device_of(x).xp.Device("CPU_DEVICE")))
    return x.get()  # CuPy


def asarray(obj: Any, dtype: DType | None, dev: Device) -> Array:
    """An array on ``dev`` from Python data or an array (of any library or device)."""
    if not isinstance(obj, (int, float, bool, list, tuple, np.ndarray, np.generic)):
        obj = to_device(obj, dev)  # an array of another library or device: moved explicitly
        if dev.type != "cpu":  # on dev already: only a cast may be left to do
            return obj if dtype is None else dev.xp.astype(obj, dev.dtype(dtype))
    host_dtype = None if dtype is None else getattr(np, dtype.name)
    if dev.type == "cpu":
        return np.asarray(obj, dtype=host_dtype)
    if dev.type == "strict":
        return dev.xp.asarray(np.asarray(obj, dtype=host_dtype), device=dev.native)
    with dev.native:
        return dev.xp.asarray(obj, dtype=None if dtype is None else dev.dtype(dtype))


def as_array(x: Any) -> Array:
    """NumPy turns 0-d results into scalars (np.float32(1.0)): make them arrays again."""
    return np.asarray(x) if isinstance(x, np.generic) else x


def full(shape: tuple[int, ...], value: Any, dtype: DType, dev: Device) -> Array:
    if dev.type == "cuda":  # (CuPy's creation functions take no device=: the context does)
        with dev.native:
            return dev.xp.full(shape, value, dtype=dev.dtype(dtype))
    return dev.xp.full(shape, value, dtype=dev.dtype(dtype), device=dev.native)


def arange(start: Any, end: Any, step: Any, dtype: DType, dev: Device) -> Array:
    if dev.type == "cuda":
        with dev.native:
            return dev.xp.arange(start, end, step, dtype=dev.dtype(dtype))
    return dev.xp.arange(start, end, step, dtype=dev.dtype(dtype), device=dev.native)


def quiet_floating_point() -> Any:
    """A context in which overflow, 0/0 and log(-1) give inf or NaN silently, as in PyTorch
    (NumPy would also warn); :func:`minigen.detect_anomaly` finds them."""
    return np.errstate(all="ignore")


def pad(x: Array, widths: tuple[tuple[int, int], ...], value: float = 0.0) -> Array:
    """``x`` padded with ``value``: ``widths[i] = (before, after)`` on axis i."""
    shape = tuple(n + a + b for n, (a, b) in zip(x.shape, widths))
    out = full(shape, value, dtype_of(x), device_of(x))
    out[tuple(slice(a, a + n) for n, (a, _) in zip(x.shape, widths))] = x
    return out


def unpad(x: Array, widths: tuple[tuple[int, int], ...]) -> Array:
    """The inverse of :func:`pad`: ``widths`` cut off each axis."""
    return x[tuple(slice(a, n - b) for n, (a, b) in zip(x.shape, widths))]
