"""Creation functions: new leaf tensors (``tensor``, ``zeros``, ``randn``, ``arange``, ``eye``,
``linspace``, ``randint``, ``randperm``...).

Floating ones are made in the default dtype (float32) unless told otherwise; random ones draw
from the device's seeded generator (``minigen.manual_seed``).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigen import backend
from minigen.backend import Array, Device, DType
from minigen.errors import DTypeError, ShapeError
from minigen.tensor import Tensor
from minigen.tensor_methods import new_shape


def _leaf(data: Array, requires_grad: bool) -> Tensor:
    t = Tensor._make(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data: Any, dtype: DType | str | None = None, device: Device | str | None = None,
           requires_grad: bool = False) -> Tensor:
    """A new leaf tensor from Python numbers, nested lists, or an array, always holding its
    own copy of the data (as ``torch.tensor``; :func:`from_numpy` shares a NumPy array's).

    Python floats become the default dtype (float32); ints become int64; a NumPy array keeps
    its dtype unless ``dtype`` is given (as in PyTorch).
    """
    dev = backend.device(device)
    if isinstance(data, Tensor):
        data = data.data
    if dtype is None and _is_python_floats(data):
        dtype = backend.get_default_dtype()
    try:
        array = backend.asarray(data, None if dtype is None else backend.as_dtype(dtype), dev)
        backend.dtype_of(array)  # NumPy makes strings or objects an array: not a dtype of ours
        if _is_array(data) and _shares(array, data):
            array = backend.namespace(array).asarray(array, copy=True)
        return _leaf(array, requires_grad)
    except (ValueError, TypeError, AttributeError):  # (a str or dict: no array at all)
        _nested_shape(data)  # ragged lists or a string, at the top or inside: say where
        raise  # something else: the backend's own error


def _is_array(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype")


def _shares(array: Array, source: Any) -> bool:
    """Whether ``array`` may hold ``source``'s memory (the same array, or a NumPy view)."""
    if array is source:
        return True
    if isinstance(array, np.ndarray) and isinstance(source, np.ndarray):
        return bool(np.shares_memory(array, source))
    return True  # (another array library: copy rather than guess)


def from_numpy(array: np.ndarray) -> Tensor:
    """A CPU tensor SHARING ``array``'s memory, as ``torch.from_numpy``: a change to one is a
    change to the other. :func:`tensor` copies instead."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy takes a NumPy array, got {type(array).__name__}: use "
                        "minigen.tensor(...)")
    if array.dtype.kind not in "biuf":
        raise DTypeError(f"from_numpy: a {array.dtype} array is not a dtype minigen holds")
    return Tensor._make(array)


def _nested_shape(data: Any, where: str = "data") -> tuple[int, ...]:
    """The shape of nested lists of numbers, checked element by element. Only called once the
    backend has refused the data: NumPy's own errors name neither the row nor the fix."""
    if _is_array(data):
        return tuple(data.shape)
    if isinstance(data, numbers.Real):  # (not complex)
        return ()
    if not isinstance(data, (list, tuple)):
        what = "got" if where == "data" else f"but {where} is"
        raise DTypeError(f"minigen.tensor takes a real number, nested lists of them or an "
                         f"array, {what} a {type(data).__name__} {data!r:.40}")
    shapes = [_nested_shape(d, f"{where}[{i}]") for i, d in enumerate(data)]
    for i, s in enumerate(shapes[1:], 1):
        if s != shapes[0]:
            raise ShapeError(f"minigen.tensor: the nested lists are ragged, not a rectangular "
                             f"array: {where}[0] has shape {shapes[0]} but {where}[{i}] has "
                             f"shape {s}. Give every row the same length (pad the short ones)")
    return (len(data),) + (shapes[0] if shapes else ())


def _is_python_floats(data: Any) -> bool:
    # type() is float, not isinstance: NumPy's float64 scalar subclasses float, and keeps its
    # dtype as an array does (PyTorch: torch.tensor(np.float64(2.0)) is float64)
    while isinstance(data, (list, tuple)) and data:
        if any(type(d) is float for d in data):
            return True
        data = data[0]
    return type(data) is float


def _full(shape: Sequence[Any], value: float, dtype: Any, device: Any,
          requires_grad: bool) -> Tensor:
    dev, dt = backend.device(device), backend.as_dtype(dtype)
    shape = new_shape(tuple(shape), "a new tensor")
    if dev.type == "cuda":
        with dev.native:
            array = dev.xp.full(shape, value, dtype=dev.dtype(dt))
    else:
        array = dev.xp.full(shape, value, dtype=dev.dtype(dt), device=dev.native)
    return _leaf(array, requires_grad)


def zeros(*shape: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _full(shape, 0, dtype, device, requires_grad)


def ones(*shape: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    return _full(shape, 1, dtype, device, requires_grad)


def full(shape: Sequence[int], fill_value: float, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    return _full((tuple(shape),), fill_value, dtype, device, requires_grad)


def randn(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          generator: backend.Generator | None = None) -> Tensor:
    """Standard normal samples from the device's seeded generator (``manual_seed``)."""
    gen = generator or backend.default_generator(device)
    return _leaf(gen.normal(new_shape(shape, "randn"), _floating(dtype, "randn")), requires_grad)


def rand(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         generator: backend.Generator | None = None) -> Tensor:
    """Uniform samples on [0, 1) from the device's seeded generator."""
    gen = generator or backend.default_generator(device)
    return _leaf(gen.uniform(new_shape(shape, "rand"), _floating(dtype, "rand")), requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           device: Any = None) -> Tensor:
    """``arange(5)`` -> 0..4 as int64; float arguments give the default float dtype."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        floats = any(isinstance(v, float) for v in (start, end, step))
        dtype = backend.get_default_dtype() if floats else backend.int64
    dev, dt = backend.device(device), backend.as_dtype(dtype)
    kwargs = {} if dev.type == "cuda" else {"device": dev.native}
    return _leaf(dev.xp.arange(start, end, step, dtype=dev.dtype(dt), **kwargs), False)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False, *,
               device: Any = None) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, device=device or t.device,
                 requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False, *,
              device: Any = None) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def full_like(t: Tensor, fill_value: float, dtype: Any = None, *, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """``t``'s shape filled with ``fill_value``, in ``t``'s dtype (so ``full_like`` of an
    int tensor truncates 2.7 to 2, as PyTorch) unless ``dtype`` is given."""
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


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


def empty(*size: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` whose values you will overwrite. PyTorch leaves them uninitialised
    (garbage); minigen fills them with zeros (arrays here are never written in place, so an
    uninitialised one would save nothing). Do not rely on the zeros: use ``zeros``."""
    return _full(size, 0, dtype, device, requires_grad)


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
    return _leaf(array, requires_grad)


def _steps(steps: Any, name: str) -> int:
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"{name}: steps must be an integer >= 0 (the number of values, as "
                         f"PyTorch: there is no default), got {steps!r}")
    return int(steps)


def _on(host: np.ndarray, dt: DType, dev: Device, requires_grad: bool) -> Tensor:
    return _leaf(backend.asarray(host.astype(getattr(np, dt.name)), dt, dev), requires_grad)


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
    return _leaf(_random_integers(gen, lo, hi, sizes, dt), requires_grad)


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
    return _leaf(_random_integers(gen, lo, hi, tuple(t.shape), dt), requires_grad)


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
    return _leaf(xp.astype(perm, getattr(xp, dt.name)), requires_grad)
