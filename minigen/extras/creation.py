"""More of PyTorch's creation functions: ``empty``, ``eye``, ``linspace``, ``logspace``, and
random integers: ``randint``, ``randint_like``, ``randperm``."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from minigen import backend
from minigen.backend import Array, Device, DType
from minigen.creation import full, new_shape
from minigen.creation import leaf as new_leaf
from minigen.tensor import Tensor


def empty(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` whose values you will overwrite. PyTorch leaves them uninitialised
    (garbage); minigen fills them with zeros (arrays here are never written in place, so an
    uninitialised one would save nothing). Do not rely on the zeros: use ``zeros``."""
    return full(new_shape(size, "empty"), 0, dtype, device, requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """The ``n`` x ``m`` (default ``n`` x ``n``) identity: ones on the diagonal."""
    m = n if m is None else m
    for name, v in (("n", n), ("m", m)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
            raise ValueError(f"eye: {name} must be an integer >= 0, got {v!r}")
    dev, dt = backend.device(device), backend.as_dtype(dtype)
    if dev.type == "cuda":
        with dev.native:
            array = dev.xp.eye(int(n), int(m), dtype=dev.dtype(dt))
    else:
        array = dev.xp.eye(int(n), int(m), dtype=dev.dtype(dt), device=dev.native)
    return new_leaf(array, requires_grad)


def _steps(steps: Any, name: str) -> int:
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"{name}: steps must be an integer >= 0 (the number of values, as "
                         f"PyTorch: there is no default), got {steps!r}")
    return int(steps)


def _on(host: np.ndarray, dt: DType, dev: Device, requires_grad: bool) -> Tensor:
    return new_leaf(backend.asarray(host.astype(getattr(np, dt.name)), dt, dev), requires_grad)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included (``steps`` has
    no default, as in PyTorch 2). Computed in float64, then cast: an integer ``dtype``
    truncates toward zero, as PyTorch's does."""
    steps = _steps(steps, "linspace")
    host = np.linspace(float(start), float(end), steps, dtype=np.float64)
    return _on(host, backend.as_dtype(dtype), backend.device(device), requires_grad)


def logspace(start: float, end: float, steps: int, base: float = 10.0, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``: ``logspace(-3, 0, 4)`` is 0.001, 0.01, 0.1, 1."""
    steps = _steps(steps, "logspace")
    host = float(base) ** np.linspace(float(start), float(end), steps, dtype=np.float64)
    return _on(host, backend.as_dtype(dtype), backend.device(device), requires_grad)


def _int_dtype(dtype: Any, default: DType) -> DType:
    return default if dtype is None else backend.as_dtype(dtype)


def _random_integers(gen: backend.Generator, low: int, high: int, shape: tuple[int, ...],
                     dt: DType) -> Array:
    """Integers uniform on [low, high), drawn as ``low + floor(u * (high - low))`` from the
    generator's float64 uniforms: the same stream on every device (the strict device's is the
    CPU's), and the bias is below 2**-40 for any range a tensor is indexed with."""
    u = gen.uniform(shape, backend.float64)
    xp = backend.namespace(u)
    k = xp.astype(xp.floor(u * float(high - low)), xp.int64)
    k = xp.minimum(k, xp.asarray(high - low - 1, dtype=xp.int64, device=_device_kw(u)))
    return xp.astype(k + low, getattr(xp, dt.name))


def _device_kw(a: Array) -> Any:
    dev = backend.device_of(a)
    return None if dev.type == "cuda" else dev.native


def _check_range(name: str, low: Any, high: Any) -> tuple[int, int]:
    for what, v in (("low", low), ("high", high)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise TypeError(f"{name}: {what} must be an int, got {v!r}")
    if not low < high:
        raise ValueError(f"{name}: expects low < high (the range is [low, high), high "
                         f"excluded), got low={low}, high={high}")
    return int(low), int(high)


def randint(*args: Any, low: int | None = None, high: int | None = None, size: Any = None,
            generator: backend.Generator | None = None, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Integers uniform on [low, high) of shape ``size``, as PyTorch's two forms:
    ``randint(high, size)`` and ``randint(low, high, size)`` (``low`` defaults to 0; ``size``
    is a tuple, ``(3,)`` not ``3``). int64 unless ``dtype`` is given; drawn from the device's
    seeded generator (``manual_seed``)."""
    names = ("low", "high", "size")
    if len(args) == 1 and size is None and high is None:
        raise TypeError(f"randint({args[0]!r}) is missing size: randint(high, size) or "
                        f"randint(low, high, size), e.g. randint({args[0]!r}, (3,))")
    given = {"low": low, "high": high, "size": size}
    if size is None and args:
        given["size"], args = args[-1], args[:-1]
    if len(args) > 2 or (len(args) == 2 and (low is not None or high is not None)):
        raise TypeError("randint takes randint(high, size) or randint(low, high, size), got "
                        f"{len(args) + sum(v is not None for v in given.values())} arguments")
    if len(args) == 2:
        given["low"], given["high"] = args
    elif len(args) == 1:
        given["high" if high is None else "low"] = args[0]
    missing = [n for n in names[1:] if given[n] is None]
    if missing:
        raise TypeError(f"randint() is missing {' and '.join(missing)}: randint(high, size) or "
                        "randint(low, high, size), e.g. randint(10, (3,))")
    lo, hi = _check_range("randint", 0 if given["low"] is None else given["low"], given["high"])
    shape = given["size"]
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"randint: size must be a tuple of ints, e.g. ({shape!r},), not "
                        f"{type(shape).__name__} {shape!r} (as in PyTorch)")
    gen = generator or backend.default_generator(device)
    dt = _int_dtype(dtype, backend.int64)
    sizes = new_shape((tuple(shape),), "randint")
    return new_leaf(_random_integers(gen, lo, hi, sizes, dt), requires_grad)


def randint_like(t: Tensor, low: int = 0, high: int | None = None, *, dtype: Any = None,
                 device: Any = None, requires_grad: bool = False,
                 generator: backend.Generator | None = None) -> Tensor:
    """``randint_like(t, high)`` or ``randint_like(t, low, high)``: ``t``'s shape, dtype and
    device (unless given), integers uniform on [low, high)."""
    if high is None:
        low, high = 0, low
    lo, hi = _check_range("randint_like", low, high)
    dev = device or t.device
    gen = generator or backend.default_generator(dev)
    dt = _int_dtype(dtype, t.dtype)
    return new_leaf(_random_integers(gen, lo, hi, tuple(t.shape), dt), requires_grad)


def randperm(n: int, *, generator: backend.Generator | None = None, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """A random permutation of 0..n-1 (int64 unless ``dtype`` is given), from the device's
    seeded generator; ``x[minigen.randperm(len(x))]`` shuffles the rows of ``x``."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"randperm: n must be an integer >= 0, got {n!r}")
    gen = generator or backend.default_generator(device)
    perm = gen.permutation(int(n))
    dt = _int_dtype(dtype, backend.int64)
    xp = backend.namespace(perm)
    return new_leaf(xp.astype(perm, getattr(xp, dt.name)), requires_grad)
