"""Creation functions: new leaf tensors (``tensor``, ``zeros``, ``full``, ``arange``, ``eye``,
``linspace``...). Floating ones are made in the default dtype (float32) unless told otherwise.
The random ones (``randn``, ``randint``, ``randperm``...) are in :mod:`minigen.creation_random`.
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


def new_leaf(data: Array, requires_grad: bool) -> Tensor:
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
        return new_leaf(array, requires_grad)
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
    return new_leaf(array, requires_grad)


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
    return new_leaf(dev.xp.arange(start, end, step, dtype=dev.dtype(dt), **kwargs), False)


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
