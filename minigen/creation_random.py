"""Random creation functions: ``randn``, ``rand``, ``randint``, ``randperm`` and their
``*_like`` forms. Each draws from the device's seeded generator (``minigen.manual_seed``, or
the ``generator`` given): the CPU's NumPy stream, the same numbers on the strict test device,
CuPy's own on CUDA. The other creation functions are in :mod:`minigen.creation`.
"""

from __future__ import annotations

import numbers
from typing import Any

from minigen import backend
from minigen.backend import Array, DType
from minigen.creation import new_leaf
from minigen.errors import DTypeError
from minigen.tensor import Tensor
from minigen.tensor_methods import new_shape


def randn(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          generator: backend.Generator | None = None) -> Tensor:
    """Standard normal samples from the device's seeded generator (``manual_seed``)."""
    gen = generator or backend.default_generator(device)
    samples = gen.normal(new_shape(shape, "randn"), _floating(dtype, "randn"))
    return new_leaf(samples, requires_grad)


def rand(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         generator: backend.Generator | None = None) -> Tensor:
    """Uniform samples on [0, 1) from the device's seeded generator."""
    gen = generator or backend.default_generator(device)
    return new_leaf(gen.uniform(new_shape(shape, "rand"), _floating(dtype, "rand")), requires_grad)


def randn_like(t: Tensor, dtype: Any = None, *, device: Any = None,
               requires_grad: bool = False,
               generator: backend.Generator | None = None) -> Tensor:
    return randn(t.shape, dtype=dtype or t.dtype, device=device or t.device,
                 requires_grad=requires_grad, generator=generator)


def rand_like(t: Tensor, dtype: Any = None, *, device: Any = None,
              requires_grad: bool = False,
              generator: backend.Generator | None = None) -> Tensor:
    return rand(t.shape, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad, generator=generator)


# ---------------------------------------------------------------- more of PyTorch's
def _floating(dtype: Any, name: str) -> DType:
    """The floating dtype to draw ``name``'s samples in (the default one when None)."""
    dt = backend.as_dtype(dtype)
    if not dt.is_floating_point:
        raise DTypeError(f"{name} draws floating values, not {dt} (as in PyTorch): for random "
                         "integers use minigen.randint(low, high, size) or randint_like")
    return dt


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


def permutation(gen: backend.Generator, n: int) -> Array:
    """A random permutation of range(n), int64, on ``gen``'s device. CuPy 14's generator has no
    ``permutation`` (``Generator.permutation`` fails there): on CUDA it is the order that
    sorts n float64 uniforms, a uniformly random permutation too (ties: probability < n**2 /
    2**53)."""
    if gen.device.type != "cuda":
        return gen.permutation(n)
    u = gen.uniform((n,), backend.float64)
    xp = backend.namespace(u)
    return xp.astype(xp.argsort(u), xp.int64)


def randperm(n: int, *, generator: backend.Generator | None = None, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """A random permutation of 0..n-1 (int64 unless ``dtype`` is given), from the device's
    seeded generator; ``x[minigen.randperm(len(x))]`` shuffles the rows of ``x``."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
        raise ValueError(f"randperm: n must be an integer >= 0, got {n!r}")
    gen = generator or backend.default_generator(device)
    perm = permutation(gen, int(n))
    dt = _int_dtype(dtype, backend.int64)
    xp = backend.namespace(perm)
    return new_leaf(xp.astype(perm, getattr(xp, dt.name)), requires_grad)
