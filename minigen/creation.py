"""Creation functions: new leaf tensors. ``tensor`` copies data in; ``zeros``, ``ones``,
``full`` and ``arange`` fill; ``randn`` and ``rand`` draw from the device's seeded generator
(``minigen.manual_seed``). Floating tensors get the default dtype (float32) unless told.
(More of PyTorch's: ``eye``, ``linspace``, ``randint``, ``randperm``... are extras.)
"""

from __future__ import annotations

import numbers
import operator
from typing import Any

import numpy as np

from minigen import backend
from minigen.errors import DTypeError, ShapeError
from minigen.tensor import Tensor


def shape_args(shape: tuple[Any, ...], what: str = "a shape") -> tuple[int, ...]:
    """Both ``f(2, 3)`` and ``f((2, 3))`` mean the shape (2, 3); every size an integer."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        return tuple(operator.index(n) for n in shape)  # (ints and NumPy ints; not 2.0)
    except TypeError:
        raise TypeError(f"{what} takes integer sizes, got {shape!r}") from None


def new_shape(shape: tuple[Any, ...], what: str) -> tuple[int, ...]:
    sizes = shape_args(shape, what)
    if any(n < 0 for n in sizes):
        raise ValueError(f"{what} got a negative size in {sizes}")
    return sizes


def leaf(data: Any, requires_grad: bool = False) -> Tensor:
    return Tensor._make(data).requires_grad_(True) if requires_grad else Tensor._make(data)


def tensor(data: Any, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """A new leaf tensor from a number, nested lists or an array, holding its own copy of
    the data (as ``torch.tensor``; :func:`from_numpy` shares instead). Python floats become
    the default dtype, ints int64; an array keeps its dtype unless ``dtype`` is given."""
    dev = backend.device(device)
    source = data.data if isinstance(data, Tensor) else data
    if dtype is None and _has_python_float(source):
        dtype = backend.get_default_dtype()
    try:
        array = backend.asarray(source, None if dtype is None else backend.as_dtype(dtype), dev)
        backend.dtype_of(array)  # (NumPy makes strings or objects an array: not ours)
    except (ValueError, TypeError, AttributeError):
        _nested_shape(source)  # ragged lists or a string, at the top or inside: say where
        raise  # something else: the backend's own error
    if array is source or (isinstance(array, np.ndarray) and isinstance(source, np.ndarray)
                           and np.shares_memory(array, source)):  # (never share the data)
        array = backend.namespace(array).asarray(array, copy=True)
    return leaf(array, requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A CPU tensor SHARING ``array``'s memory, as ``torch.from_numpy``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy takes a NumPy array, got {type(array).__name__}: use "
                        "minigen.tensor(...)")
    if array.dtype.kind not in "biuf":
        raise DTypeError(f"from_numpy: a {array.dtype} array is not a dtype minigen holds")
    return Tensor._make(array)


def _has_python_float(data: Any) -> bool:
    # type() is float, not isinstance: NumPy's float64 scalar subclasses float, and keeps its
    # dtype as an array does (torch.tensor(np.float64(2.0)) is float64 too)
    while isinstance(data, (list, tuple)) and data:
        if any(type(d) is float for d in data):
            return True
        data = data[0]
    return type(data) is float


def _nested_shape(data: Any, where: str = "data") -> tuple[int, ...]:
    """The shape of nested lists of numbers, checked element by element, to name the row
    that makes them ragged (NumPy's own error names neither the row nor the fix)."""
    if hasattr(data, "shape") and hasattr(data, "dtype"):
        return tuple(data.shape)
    if isinstance(data, numbers.Real):
        return ()
    if not isinstance(data, (list, tuple)):
        raise DTypeError(f"minigen.tensor takes a real number, nested lists of them or an "
                         f"array, {'got' if where == 'data' else f'but {where} is'} a "
                         f"{type(data).__name__} {data!r:.40}")
    shapes = [_nested_shape(d, f"{where}[{i}]") for i, d in enumerate(data)]
    for i, s in enumerate(shapes[1:], 1):
        if s != shapes[0]:
            raise ShapeError(f"minigen.tensor: the nested lists are ragged, not a rectangular "
                             f"array: {where}[0] has shape {shapes[0]} but {where}[{i}] has "
                             f"shape {s}. Give every row the same length (pad the short ones)")
    return (len(data),) + (shapes[0] if shapes else ())


def full(shape: Any, fill_value: float, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value``."""
    shape = new_shape((shape,) if isinstance(shape, int) else tuple(shape), "a new tensor")
    return leaf(backend.full(shape, fill_value, backend.as_dtype(dtype),
                             backend.device(device)), requires_grad)


def zeros(*shape: Any, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return full(new_shape(shape, "zeros"), 0, dtype, device, requires_grad)


def ones(*shape: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    return full(new_shape(shape, "ones"), 1, dtype, device, requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           device: Any = None) -> Tensor:
    """``arange(5)`` is 0..4 as int64; float arguments give the default floating dtype."""
    if end is None:
        start, end = 0, start
    if dtype is None and any(isinstance(v, float) for v in (start, end, step)):
        dtype = backend.get_default_dtype()
    dt = backend.int64 if dtype is None else backend.as_dtype(dtype)
    return leaf(backend.arange(start, end, step, dt, backend.device(device)))


def randn(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          generator: backend.Generator | None = None) -> Tensor:
    """Standard normal samples from the device's seeded generator (``manual_seed``)."""
    gen = generator or backend.default_generator(device)
    return leaf(gen.normal(new_shape(shape, "randn"), _floating(dtype, "randn")), requires_grad)


def rand(*shape: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         generator: backend.Generator | None = None) -> Tensor:
    """Uniform samples on [0, 1) from the device's seeded generator."""
    gen = generator or backend.default_generator(device)
    return leaf(gen.uniform(new_shape(shape, "rand"), _floating(dtype, "rand")), requires_grad)


def _floating(dtype: Any, name: str) -> backend.DType:
    dt = backend.as_dtype(dtype)
    if not dt.is_floating_point:
        raise DTypeError(f"{name} draws floating values, not {dt} (as in PyTorch): for random "
                         "integers use minigen.randint(low, high, size) or randint_like")
    return dt


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
    """``t``'s shape filled with ``fill_value`` in ``t``'s dtype (an int tensor truncates
    2.7 to 2, as PyTorch's) unless ``dtype`` is given."""
    return full(t.shape, fill_value, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad)


def randn_like(t: Tensor, dtype: Any = None, *, device: Any = None,
               requires_grad: bool = False, generator: Any = None) -> Tensor:
    return randn(t.shape, dtype=dtype or t.dtype, device=device or t.device,
                 requires_grad=requires_grad, generator=generator)


def rand_like(t: Tensor, dtype: Any = None, *, device: Any = None,
              requires_grad: bool = False, generator: Any = None) -> Tensor:
    return rand(t.shape, dtype=dtype or t.dtype, device=device or t.device,
                requires_grad=requires_grad, generator=generator)
