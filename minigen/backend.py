"""Devices, array namespaces, dtypes and random generators.

This is the only module that imports NumPy or CuPy by name. Everything else asks
``namespace(x)`` for the array-API namespace of an array and calls standard functions on it
(``xp.matmul``, ``xp.sum(x, axis=...)``, ``xp.permute_dims``...). The few things the standard
lacks (scatter-add, pad, random numbers) are shims here.

Three kinds of device exist:

==========  ===========================================  =====================================
name        arrays                                       use
==========  ===========================================  =====================================
``cpu``     NumPy                                        always
``cuda:i``  CuPy                                         when CuPy and a CUDA GPU are present
``strict``  array-api-strict on ``Device("device1")``    tests: a simulated non-CPU device that
                                                         refuses silent NumPy conversion
==========  ===========================================  =====================================
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from typing import Any

import array_api_compat
import numpy as np

from minigen.errors import DeviceError, DTypeError

Array = Any  # an array of any array-API library


# --------------------------------------------------------------------------- dtypes


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


# --------------------------------------------------------------------------- devices


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


# --------------------------------------------------------------------------- shims


def scatter_add(shape: tuple[int, ...], axis: int, index: Array, values: Array) -> Array:
    """``out = zeros(shape); out[..., index[j], ...] += values[..., j, ...]`` along ``axis``.

    Repeated indices add up (the gradient of a gather). ``index`` is 1-D.
    """
    xp = namespace(values)
    if isinstance(values, np.ndarray):
        out = np.zeros(shape, dtype=values.dtype)
        np.add.at(out, (slice(None),) * axis + (index,), values)
        return out
    if "cupy" in xp.__name__:
        import cupyx

        out = xp.zeros(shape, dtype=values.dtype)
        cupyx.scatter_add(out, (slice(None),) * axis + (index,), values)
        return out
    # Generic array-API path: a one-hot matrix (n, k) times the values moved to the front.
    n = shape[axis]
    positions = xp.arange(n, dtype=index.dtype, device=index.device)
    one_hot = xp.astype(positions[:, None] == index[None, :], values.dtype)
    moved = xp.moveaxis(values, axis, 0)
    summed = xp.tensordot(one_hot, moved, axes=1)
    return xp.moveaxis(summed, 0, axis)


def zeros(shape: tuple[int, ...], like: Array) -> Array:
    """Zeros of ``shape`` with the dtype of ``like``, on its device (gradient buffers)."""
    return namespace(like).zeros(shape, dtype=like.dtype, device=array_api_compat.device(like))


# --------------------------------------------------------------------------- memory layout
# The array API says nothing about memory layout, but an elementwise op between two arrays
# stored in different orders (one (N, C, H, W), one (C, H, W, N)) costs NumPy a strided pass,
# 10 to 15 times a contiguous one. So gradients are handed back in their input's layout. These
# two helpers read the layout where the array type shows it (NumPy's and CuPy's strides) and
# answer "no" / do nothing where it does not (array-api-strict).


def batch_last(x: Array) -> bool:
    """Whether axis 0 (the batch) of ``x`` is its innermost axis in memory: images stored as
    (C, H, W, N), features as (F, N), as minigen's conv layers leave them."""
    strides = getattr(x, "strides", None)
    return (strides is not None and x.ndim >= 2 and x.shape[0] > 1 and x.shape[1] > 1
            and 0 < strides[0] < strides[1])


def batch_first(x: Array) -> Array:
    """``x`` stored in the usual C order, (N, C, H, W): a copy if it is not already."""
    contiguous = getattr(namespace(x), "ascontiguousarray", None)  # NumPy's and CuPy's
    if contiguous is None or getattr(x, "strides", None) is None:
        return x
    return contiguous(x)


def pad(x: Array, widths: tuple[tuple[int, int], ...], value: float = 0.0) -> Array:
    """Constant padding: ``widths[i] = (before, after)`` for each axis of ``x``."""
    xp = namespace(x)
    shape = tuple(n + a + b for n, (a, b) in zip(x.shape, widths))
    out = xp.full(shape, value, dtype=x.dtype, device=array_api_compat.device(x))
    out[tuple(slice(a, a + n) for n, (a, _) in zip(x.shape, widths))] = x
    return out


def unpad(x: Array, widths: tuple[tuple[int, int], ...]) -> Array:
    """The inverse of :func:`pad`: cut ``widths`` off each axis."""
    return x[tuple(slice(a, n - b) for n, (a, b) in zip(x.shape, widths))]


# --------------------------------------------------------------------------- random numbers


class Generator:
    """One random generator per device; every random draw in minigen goes through one.

    NumPy's PCG64 on the CPU (and, copied over, for the strict test device); CuPy's generator
    on CUDA. ``get_state``/``set_state`` make a resumed training run repeat exactly.
    """

    def __init__(self, dev: Device, seed: int | None = None):
        self.device = dev
        self.manual_seed(seed)

    def manual_seed(self, seed: int | None) -> Generator:
        self.seed = seed
        if self.device.type == "cuda":
            import cupy

            with self.device.native:
                self._rng = cupy.random.default_rng(seed)
        else:
            self._rng = np.random.default_rng(seed)
        return self

    def _finish(self, host_or_device: Array, dtype: DType) -> Array:
        if self.device.type == "strict":
            return self.device.xp.asarray(host_or_device, device=self.device.native)
        return host_or_device

    def normal(self, shape: tuple[int, ...], dtype: DType) -> Array:
        """Standard normal samples of ``shape``."""
        if self.device.type == "cuda":
            with self.device.native:
                return self._rng.standard_normal(shape, dtype=self.device.dtype(dtype))
        return self._finish(self._rng.standard_normal(shape, dtype=getattr(np, dtype.name)), dtype)

    def uniform(self, shape: tuple[int, ...], dtype: DType) -> Array:
        """Uniform samples on [0, 1)."""
        if self.device.type == "cuda":
            with self.device.native:
                return self._rng.random(shape, dtype=self.device.dtype(dtype))
        return self._finish(self._rng.random(shape, dtype=getattr(np, dtype.name)), dtype)

    def permutation(self, n: int) -> Array:
        """A random permutation of ``range(n)`` as an int64 array on this device."""
        if self.device.type == "cuda":
            with self.device.native:
                return self._rng.permutation(n)
        return self._finish(self._rng.permutation(n), int64)

    def get_state(self) -> dict:
        if self.device.type == "cuda":
            raise NotImplementedError("saving the CUDA generator's state is not supported yet")
        return self._rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        if self.device.type == "cuda":
            raise NotImplementedError("restoring the CUDA generator's state is not supported yet")
        self._rng.bit_generator.state = state


_generators: dict[Device, Generator] = {}
_seed: int | None = None  # the last manual_seed: generators made later start from it too


def default_generator(dev: Device | str | None = None) -> Generator:
    """The generator of ``dev``, created on first use (seeded by the last ``manual_seed``)."""
    dev = device(dev)
    if dev not in _generators:
        _generators[dev] = Generator(dev, _seed)
    return _generators[dev]


def manual_seed(seed: int) -> None:
    """Seed the generator of every device, so that a seeded run repeats exactly."""
    global _seed
    _seed = seed
    default_generator("cpu")
    for gen in _generators.values():
        gen.manual_seed(seed)


# --------------------------------------------------------------------------- host memory


def keep_freed_memory(enabled: bool = True) -> bool:
    """Let glibc's allocator keep freed blocks for reuse instead of returning them to the OS.

    A training step allocates the same large temporaries (activations, im2col columns,
    gradients, Adam's intermediates) again and again. By default glibc gives each one back to
    the operating system when it is freed and has it fault in again, page by page, on the next
    step: on the machines we measured, that costs as much as the step's matrix products for the
    VAE (16.8 ms a step against 10.3 ms with this on). Keeping freed memory, as PyTorch's CPU
    allocator does in effect, leaves the process's resident size at its peak.

    minigen turns this on when imported, on Linux with glibc; set the environment variable
    ``MINIGEN_MALLOC=system`` to leave the allocator alone. Returns whether it took effect.
    """
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl, Windows): nothing to do
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    if enabled:  # blocks up to 32 MiB (glibc's maximum) from the heap, which is never trimmed
        ok = mallopt(m_mmap_threshold, 32 * 1024 * 1024) and mallopt(m_trim_threshold, 2**30)
    else:  # glibc's defaults
        ok = mallopt(m_mmap_threshold, 128 * 1024) and mallopt(m_trim_threshold, 128 * 1024)
    return bool(ok)


if os.environ.get("MINIGEN_MALLOC", "").lower() != "system":
    keep_freed_memory(True)
