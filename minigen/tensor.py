"""The Tensor: an array, where it lives, and what it needs to take part in autograd.

Operators and methods forward to the differentiable ops in :mod:`minigen.ops` (named methods
in :mod:`minigen.tensor_methods`, in-place ones in :mod:`minigen.tensor_inplace`); the creation
functions (``tensor``, ``zeros``, ``randn``...) are in :mod:`minigen.creation`.
"""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import TensorCore
from minigen.backend import Device, DType
from minigen.comparison import ComparisonMethods
from minigen.errors import DeviceError, DTypeError, GraphError
from minigen.tensor_inplace import TensorInPlace
from minigen.tensor_methods import TensorMethods


class Tensor(TensorCore, TensorMethods, TensorInPlace, ComparisonMethods):
    """An n-dimensional array with an optional gradient.

    Attributes: ``data`` (the NumPy, CuPy or array-API array), ``grad`` (a Tensor or None),
    ``requires_grad``; properties ``shape``, ``dtype``, ``device``, ``ndim``.

    >>> x = minigen.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    __slots__ = ()
    __array_ufunc__ = None  # `ndarray * Tensor` gives NumPy's NotImplemented, then __rmul__
    __array_priority__ = 1000

    def __init__(self, data: Any, dtype: DType | str | None = None,
                 device: Device | str | None = None, requires_grad: bool = False):
        t = _creation.tensor(data, dtype=dtype, device=device,
                             requires_grad=requires_grad)
        self.data, self.requires_grad, self.grad, self._ctx = t.data, t.requires_grad, None, None

    # ---------------------------------------------------------------- facts
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def dtype(self) -> DType:
        return backend.dtype_of(self.data)

    @property
    def device(self) -> Device:
        return backend.device_of(self.data)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def is_cuda(self) -> bool:
        """Whether the tensor is on a CUDA GPU, as PyTorch's (``if x.is_cuda and ngpu > 1``)."""
        return self.device.type == "cuda"

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def grad_fn(self) -> str | None:
        """The name of the op that made this tensor (None for leaves)."""
        return None if self._ctx is None else self._ctx.name

    @property
    def T(self) -> Tensor:
        return _ops.permute(self, tuple(reversed(range(self.ndim))))

    def size(self, dim: int | None = None) -> Any:
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self) -> str:
        body = repr(backend.to_numpy(self.data))
        body = body[body.index("(") + 1: body.rindex(")")] if "(" in body else body
        extras = []
        if self.dtype not in (backend.float32, backend.int64, backend.bool_):
            extras.append(f"dtype={self.dtype}")
        if self.device.type != "cpu":
            extras.append(f"device='{self.device}'")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        body = body.split(", dtype=")[0]
        return "tensor(" + ", ".join([body] + extras) + ")"

    # ---------------------------------------------------------------- conversions
    def numpy(self) -> Any:
        """The data as a NumPy array: the same memory on the CPU, a copy from other devices.

        Refuses a tensor that requires grad, as PyTorch does: use ``.detach().numpy()``.
        """
        if self.requires_grad:
            raise GraphError("numpy() on a tensor that requires grad: use .detach().numpy()")
        return backend.to_numpy(self.data)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        if self.device.type != "cpu":
            raise DeviceError(f"a tensor on {self.device} cannot become a NumPy array "
                              "silently: call .cpu() or .numpy() explicitly")
        return self.data if dtype is None else self.data.astype(dtype)

    def item(self) -> float | int | bool:
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor of one element, this one has shape "
                             f"{self.shape}")
        value = backend.to_numpy(self.data).reshape(()).item()
        return value

    def tolist(self) -> Any:
        return backend.to_numpy(self.data).tolist()

    def detach(self) -> Tensor:
        """The same data, cut off from the graph."""
        out = Tensor._make(self.data)
        out._is_view = True  # (PyTorch's detach shares memory: see minigen.ops.assignment)
        return out

    def to(self, device_or_dtype: Any = None, dtype: Any = None) -> Tensor:
        """Move to a device (``t.to("cuda")``) and/or cast (``t.to(minigen.float64)``).

        A move keeps the graph: gradients flow back to the original device.
        """
        out = self
        target = device_or_dtype
        if isinstance(target, (DType,)) or (isinstance(target, str) and _is_dtype(target)):
            target, dtype = None, target
        if target is not None:
            dev = backend.device(target)
            if dev != out.device:
                out = _ops.to_device(out, dev)
        if dtype is not None and backend.as_dtype(dtype) != out.dtype:
            out = _ops.astype(out, backend.as_dtype(dtype))
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, index: int = 0) -> Tensor:
        return self.to(f"cuda:{index}")

    def float(self) -> Tensor:
        return self.to(backend.float32)

    def double(self) -> Tensor:
        return self.to(backend.float64)

    def long(self) -> Tensor:
        return self.to(backend.int64)

    def int(self) -> Tensor:
        return self.to(backend.int32)

    def bool(self) -> Tensor:
        return self.to(backend.bool_)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and not self.dtype.is_floating_point:
            raise DTypeError(f"only floating tensors can require grad, this one is "
                             f"{self.dtype}: convert it first with .float()")
        if not self.is_leaf and not requires_grad:
            raise GraphError("requires_grad_(False) on a non-leaf: use .detach()")
        self.requires_grad = requires_grad
        return self

    # ---------------------------------------------------------------- operators
    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.div(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _ops.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ops.pow(other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __abs__(self) -> Tensor:
        return _ops.abs(self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(other, self)

    def __mod__(self, other: Any) -> Tensor:
        return _ops.remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return _ops.remainder(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return _ops.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return _ops.floor_divide(other, self)

    def __getitem__(self, key: Any) -> Tensor:
        return _ops.getitem(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        _ops.setitem(self, key, value)  # a new array, see minigen.ops.assignment

    # Comparisons give boolean tensors outside the graph.
    def _compare(self, other: Any, name: str) -> Tensor:
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._make(getattr(backend.namespace(self.data), name)(self.data, other))

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, "equal")

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, "not_equal")

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, "less")

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, "less_equal")

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, "greater")

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, "greater_equal")

    # Logic on boolean tensors (masks), outside the graph like the comparisons.
    def _logic(self, other: Any, name: str) -> Tensor:
        xp = backend.namespace(self.data)
        if self.dtype != backend.bool_ or (isinstance(other, Tensor)
                                           and other.dtype != backend.bool_):
            raise DTypeError(f"{name} takes boolean tensors (masks such as x > 0), got "
                             f"{self.dtype}")
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._make(getattr(xp, name)(self.data, other))

    def __and__(self, other: Any) -> Tensor:
        return self._logic(other, "logical_and")

    def __or__(self, other: Any) -> Tensor:
        return self._logic(other, "logical_or")

    def __xor__(self, other: Any) -> Tensor:
        return self._logic(other, "logical_xor")

    def __invert__(self) -> Tensor:
        if self.dtype != backend.bool_:
            raise DTypeError(f"~ takes a boolean tensor (a mask such as x > 0), got {self.dtype}")
        return Tensor._make(backend.namespace(self.data).logical_not(self.data))

    __hash__ = TensorCore.__hash__

    def __bool__(self) -> bool:
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())


def _is_dtype(name: str) -> bool:
    try:
        backend.as_dtype(name)
    except DTypeError:
        return False
    return True


# The ops and the creation functions import Tensor, so they come last.
from minigen import creation as _creation  # noqa: E402
from minigen import ops as _ops  # noqa: E402
