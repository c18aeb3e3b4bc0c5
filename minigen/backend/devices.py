"""Devices, their array namespaces, and the one place where arrays cross between them."""

from __future__ import annotations

import functools
from typing import Any

import array_api_compat
import numpy as np

from minigen.backend.dtypes import Array, DType
from minigen.errors import DeviceError


class Device:
    """Where arrays live: ``Device("cpu")``, ``Device("cuda:0")`` or ``Device("strict")``."""

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
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def dtype(self, dtype: DType) -> Any:
        """The array library's dtype object for ``dtype`` on this device."""
        return getattr(self.xp, dtype.name)


@functools.cache
def _make_device(type: str, index: int) -> Device:
    if type == "cpu":
        import array_api_compat.numpy as xp_numpy

        return Device("cpu", 0, xp_numpy, "cpu")
    if type == "strict":
        import array_api_strict

        return Device("strict", index, array_api_strict, array_api_strict.Device(f"device{index}"))
    if type == "cuda":
        try:
            import cupy
        except ImportError as e:
            raise DeviceError(
                "device 'cuda' needs CuPy, which is not installed: "
                "pip install 'minigen[cuda]' (CuPy for CUDA 12)"
            ) from e
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as e:  # the CUDA driver is missing or broken
            raise DeviceError(f"CuPy is installed but finds no CUDA GPU ({e})") from e
        if index >= count:
            raise DeviceError(f"device 'cuda:{index}' asked for, but only {count} GPU(s) found")
        import array_api_compat.cupy as xp_cupy

        return Device("cuda", index, xp_cupy, cupy.cuda.Device(index))
    raise DeviceError(f"unknown device type {type!r}: use 'cpu', 'cuda', 'cuda:N' or 'strict'")


def device(spec: Device | str | None = None) -> Device:
    """Parse a device: ``None`` or ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"strict"``."""
    if spec is None:
        return _make_device("cpu", 0)
    if isinstance(spec, Device):
        return spec
    if not isinstance(spec, str):
        raise DeviceError(f"a device is a string such as 'cpu' or 'cuda', got {spec!r}")
    type, _, index = spec.partition(":")
    if index and not index.isdigit():
        raise DeviceError(f"bad device index in {spec!r}")
    return _make_device(type, int(index) if index else (1 if type == "strict" else 0))


def cuda_is_available() -> bool:
    """True when CuPy is importable and sees at least one CUDA GPU."""
    try:
        device("cuda")
    except DeviceError:
        return False
    return True


def namespace(x: Array) -> Any:
    """The array-API namespace of ``x`` (cached per array type: this is on every hot path)."""
    try:
        return _NAMESPACES[type(x)]
    except KeyError:
        if hasattr(x, "requires_grad") and hasattr(x, "grad"):  # a minigen Tensor
            raise TypeError(
                "a minigen Tensor where its array belongs: in minigen, tensor.data is the raw "
                "array, not a Tensor. If you wrote p.data = t, write p.data = t.data, or "
                "assign under minigen.no_grad(): p[...] = t") from None
        xp = array_api_compat.array_namespace(x)
        _NAMESPACES[type(x)] = xp
        return xp


_NAMESPACES: dict[type, Any] = {}


HostScalar = np.generic  # what NumPy returns for a 0-d result (np.float32(1.0), say)
as_host_array = np.asarray


def quiet_floating_point() -> Any:
    """A context in which overflow, 0/0 and log(-1) give inf or NaN silently, as in PyTorch
    (NumPy would also print a RuntimeWarning). :func:`minigen.detect_anomaly` finds them."""
    return np.errstate(all="ignore")


def device_of(x: Array) -> Device:
    if isinstance(x, (np.ndarray, np.generic)):
        return _make_device("cpu", 0)
    native = array_api_compat.device(x)
    xp = namespace(x)
    if "strict" in xp.__name__:
        return _make_device("strict", int(str(native).split("device")[-1].strip("')")))
    return _make_device("cuda", int(getattr(native, "id", 0)))


def to_device(x: Array, dev: Device) -> Array:
    """Copy ``x`` to ``dev`` (host <-> device transfers happen here and only here)."""
    src = device_of(x)
    if src == dev:
        return x
    host = to_numpy(x)
    if dev.type == "cpu":
        return host
    if dev.type == "strict":
        return dev.xp.asarray(host, device=dev.native)
    with dev.native:
        return dev.xp.asarray(host)


def to_numpy(x: Array) -> np.ndarray:
    """An explicit copy to host memory as a NumPy array."""
    if isinstance(x, (np.ndarray, np.generic)):
        return np.asarray(x)
    dev = device_of(x)
    if dev.type == "strict":
        cpu = dev.xp.Device("CPU_DEVICE")
        return np.asarray(x.to_device(cpu))
    return x.get()  # CuPy


def asarray(obj: Any, dtype: DType | None, dev: Device) -> Array:
    """Make an array on ``dev`` from Python data or another array."""
    if not isinstance(obj, (int, float, bool, list, tuple, np.ndarray, np.generic)):
        obj = to_device(obj, dev)  # an array of another library or device: move it explicitly
        if dev.type != "cpu":  # now on dev already: only a cast may be left to do
            return obj if dtype is None else dev.xp.astype(obj, dev.dtype(dtype))
    if dev.type == "cpu":
        return np.asarray(obj, dtype=None if dtype is None else dev.dtype(dtype))
    if dev.type == "strict":
        host = np.asarray(obj, dtype=None if dtype is None else getattr(np, dtype.name))
        return dev.xp.asarray(host, device=dev.native)
    with dev.native:
        return dev.xp.asarray(obj, dtype=None if dtype is None else dev.dtype(dtype))
