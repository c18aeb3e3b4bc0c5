"""Creation functions: new leaf tensors (``tensor``, ``zeros``, ``randn``, ``arange``...).

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
from minigen.tensor_methods import shape_args


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
    shape = shape_args(tuple(shape))
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
    return _leaf(gen.normal(shape_args(shape), backend.as_dtype(dtype)), requires_grad)


def rand(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         generator: backend.Generator | None = None) -> Tensor:
    """Uniform samples on [0, 1) from the device's seeded generator."""
    gen = generator or backend.default_generator(device)
    return _leaf(gen.uniform(shape_args(shape), backend.as_dtype(dtype)), requires_grad)


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


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return zeros(t.shape, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return ones(t.shape, dtype=dtype or t.dtype, device=t.device, requires_grad=requires_grad)


def full_like(t: Tensor, fill_value: float, dtype: Any = None) -> Tensor:
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=t.device)


def randn_like(t: Tensor, dtype: Any = None) -> Tensor:
    return randn(t.shape, dtype=dtype or t.dtype, device=t.device)


def rand_like(t: Tensor, dtype: Any = None) -> Tensor:
    return rand(t.shape, dtype=dtype or t.dtype, device=t.device)
