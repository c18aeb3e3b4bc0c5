"""The Tensor: an array (``data``: NumPy, CuPy or array-api-strict), its gradient (``grad``),
and its place in the graph (``_ctx``, the Context of the op that made it; None for a leaf).

Every operator and method forwards to an op of :mod:`minigen.ops`, where forward and backward
are written. The creation functions (``tensor``, ``zeros``, ``randn``...) are in ``creation.py``.
"""

from __future__ import annotations

import functools
import importlib
import weakref
from typing import Any

from minigen import autograd, backend
from minigen.errors import DeviceError, DTypeError, GraphError, ShapeError


class Tensor:
    """An n-dimensional array with an optional gradient.

    >>> x = minigen.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    # _hooks: a leaf's gradient hooks (a non-leaf's are on its Context); _is_view: made by an
    # op that PyTorch would make a view of its input (x[0], x.reshape(...)), sharing memory.
    __slots__ = ("data", "grad", "requires_grad", "_ctx", "_hooks", "_is_view", "__weakref__")
    __array_ufunc__ = None  # ndarray * Tensor: NumPy steps aside and Python calls __rmul__
    __array_priority__ = 1000

    def __init__(self, data: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False):
        from minigen.creation import tensor  # (creation.py builds on this file)

        t = tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)
        self.data, self.grad, self.requires_grad = t.data, None, t.requires_grad
        self._ctx, self._hooks, self._is_view = None, {}, False

    @classmethod
    def _make(cls, data: Any, requires_grad: bool = False) -> Tensor:
        """A tensor around the array ``data``, without checks or copies (the engine's way)."""
        t = object.__new__(cls)
        t.data, t.grad, t.requires_grad = data, None, requires_grad
        t._ctx, t._hooks, t._is_view = None, {}, False
        return t

    # ------------------------------------------------------------------ facts
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def dtype(self) -> backend.DType:
        return backend.dtype_of(self.data)

    @property
    def device(self) -> backend.Device:
        return backend.device_of(self.data)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def grad_fn(self) -> str | None:
        """The name of the op that made this tensor (None for a leaf)."""
        return None if self._ctx is None else self._ctx.name

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

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
        body = repr(backend.to_numpy(self.data))  # "array([1., 2.], dtype=float32)"
        parts = [body[body.index("(") + 1: body.rindex(")")].split(", dtype=")[0]]
        if self.dtype not in (backend.float32, backend.int64, backend.bool_):
            parts.append(f"dtype={self.dtype}")
        if self.device.type != "cpu":
            parts.append(f"device='{self.device}'")
        if self.requires_grad:
            parts.append(f"grad_fn=<{self.grad_fn}>" if self._ctx else "requires_grad=True")
        return "tensor(" + ", ".join(parts) + ")"

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient: Any = None, retain_graph: bool = False,
                 create_graph: bool = False) -> None:
        """Add d(self)/d(leaf) into every leaf's ``.grad``: see :func:`autograd.backward`."""
        autograd.backward(self, gradient, retain_graph, create_graph)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if self._ctx is not None:
            self._ctx.retained = weakref.ref(self)

    def register_hook(self, hook: Any) -> autograd.RemovableHandle:
        """Call ``hook(grad)`` with this tensor's complete gradient in every backward pass
        (for a leaf, before it is added to ``.grad``); a returned tensor replaces it."""
        if not callable(hook):
            raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
        if not self.requires_grad:
            raise GraphError("register_hook on a tensor that does not require grad: it gets "
                             "no gradient to hook")

        def on_array(grad: Any) -> Any:  # (the engine passes arrays, the hook sees tensors)
            out = hook(Tensor._make(grad))
            if out is not None and not isinstance(out, Tensor):
                raise TypeError(f"a gradient hook must return None or a minigen Tensor, got "
                                f"{type(out).__name__}")
            if out is not None and out.shape != self.shape:
                raise ShapeError(f"a gradient hook must return a tensor of shape {self.shape}, "
                                 f"got {out.shape}")
            return grad if out is None else out.data

        return autograd.RemovableHandle((self._ctx or self)._hooks, on_array)

    def detach(self) -> Tensor:
        """The same data, cut off from the graph."""
        out = Tensor._make(self.data)
        out._is_view = True  # (in PyTorch it shares memory with self)
        return out

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and not self.dtype.is_floating_point:
            raise DTypeError(f"only floating tensors can require grad, this one is "
                             f"{self.dtype}: convert it first with .float()")
        if not requires_grad and not self.is_leaf:
            raise GraphError("requires_grad_(False) on a non-leaf: use .detach()")
        self.requires_grad = requires_grad
        return self

    # ------------------------------------------------------------------ conversions
    def numpy(self) -> Any:
        """The data as a NumPy array: the same memory on the CPU, a copy from a device."""
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
        if self.numel() != 1:
            raise ValueError(f"item() needs a tensor of one element, this one has shape "
                             f"{self.shape}")
        return backend.to_numpy(self.data).reshape(()).item()

    def tolist(self) -> Any:
        return backend.to_numpy(self.data).tolist()

    def to(self, device_or_dtype: Any = None, dtype: Any = None) -> Tensor:
        """Move (``t.to("cuda")``) and/or cast (``t.to(minigen.float64)``), in the graph:
        gradients flow back to the original device and dtype."""
        if backend.is_dtype(device_or_dtype):
            device_or_dtype, dtype = None, device_or_dtype
        out = self
        if device_or_dtype is not None and backend.device(device_or_dtype) != self.device:
            out = ops.to_device(out, device_or_dtype)
        if dtype is not None and backend.as_dtype(dtype) != out.dtype:
            out = ops.astype(out, dtype)
        return out

    cpu = functools.partialmethod(to, "cpu")  # x.cpu() is x.to("cpu"), and so on
    float = functools.partialmethod(to, backend.float32)
    double = functools.partialmethod(to, backend.float64)
    long = functools.partialmethod(to, backend.int64)
    int = functools.partialmethod(to, backend.int32)
    bool = functools.partialmethod(to, backend.bool_)

    def cuda(self, index: int = 0) -> Tensor:
        return self.to(f"cuda:{index}")

    def __bool__(self) -> bool:
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    __hash__ = object.__hash__  # (== is elementwise, so hashing is by identity)

    # ------------------------------------------------------------------ operators
    # x + y calls ops.add(x, y), 2 * x ops.mul(2, x), x -= y in place: every binary operator
    # is made by _operator, from the table OPERATORS at the end of the file.
    def __neg__(self) -> Tensor:
        return ops.neg(self)

    def __abs__(self) -> Tensor:
        return ops.abs(self)

    def __getitem__(self, key: Any) -> Tensor:
        return ops.getitem(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        # x[key] = value gives x a new array: see minigen.extras.assignment (loaded on use).
        importlib.import_module("minigen.extras.assignment").setitem(self, key, value)

    # Comparisons give boolean tensors, outside the graph.
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare("equal", other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare("not_equal", other)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare("less", other)

    def __le__(self, other: Any) -> Tensor:
        return self._compare("less_equal", other)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare("greater", other)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare("greater_equal", other)

    def _compare(self, name: str, other: Any) -> Tensor:
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._make(getattr(backend.namespace(self.data), name)(self.data, other))

    # ------------------------------------------------------------------ in place
    # x += y changes the tensor OBJECT, so every name for it sees the change: the SGD step
    # `with no_grad(): w -= lr * w.grad` updates the module's parameter w (without __isub__,
    # Python would run w = w - lr * w.grad: a new tensor, the module's left as it was). Inside,
    # x takes the result's new array and its place in the graph; graphs made before keep the
    # old array. On a slice or view (x[0] += 1) the result is returned instead, and Python
    # stores it with x[0] = ..., as PyTorch's x[0] += 1 does.
    def _update(self, result: Tensor, doing: str = "changing in place") -> Tensor:
        if self._is_view:
            return result
        if self.requires_grad and self.is_leaf and autograd.grad_enabled:
            raise GraphError(f"{doing} a leaf tensor that requires grad (a parameter, say) is "
                             "refused: its .grad would no longer match it. Do it under "
                             "minigen.no_grad() (an optimizer step), or on a copy (x.clone())")
        if result.shape != self.shape:
            raise ShapeError(f"an in-place op on a tensor of shape {self.shape} cannot give it "
                             f"the broadcast shape {result.shape}: write x = x + y instead")
        if result.dtype != self.dtype:
            raise DTypeError(f"an in-place op on a {self.dtype} tensor gave {result.dtype}; "
                             "minigen never casts silently: write x = ... (a new tensor)")
        self.data = result.data
        if result._ctx is not None or autograd.grad_enabled:  # (under no_grad: values only)
            self._ctx, self.requires_grad = result._ctx, result.requires_grad
        return self

    # ------------------------------------------------------------------ methods
    # Most methods ARE the op's function, which takes the tensor first: x.sum(1) calls
    # ops.sum(x, 1). They are set at the end of the file, once the ops exist (see METHODS).
    def reshape(self, *shape: Any) -> Tensor:
        return ops.reshape(self, shape)  # x.reshape(2, 3) or x.reshape((2, 3))

    view = reshape  # (minigen tensors never share memory: a view is a reshape)

    def permute(self, *dims: Any) -> Tensor:
        return ops.permute(self, dims)

    def expand(self, *shape: Any) -> Tensor:
        return ops.expand(self, shape)

    def __getattr__(self, name: str) -> Any:
        # Python calls __getattr__ only for an attribute the tensor lacks: the methods of
        # minigen.extras (x.topk(2), x.clamp(0, 1), x.var()...), imported on first use, as
        # minigen/__init__.py's module __getattr__ imports its functions.
        if name.startswith("_"):  # private, or Python asking (__array_interface__...)
            raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")
        return importlib.import_module("minigen.extras.tensor_methods").method(self, name)


from minigen import ops  # noqa: E402  (the ops build on Tensor: they come last)

METHODS = ("sum", "mean", "max", "min", "exp", "log", "sqrt", "abs", "pow", "relu", "sigmoid",
           "tanh", "softmax", "log_softmax", "flatten", "transpose", "unsqueeze", "squeeze")
for _name in METHODS:
    setattr(Tensor, _name, getattr(ops, _name))


def _operator(op: str, reflected: bool = False, in_place: bool = False) -> Any:
    """The method of a binary operator: ``x + y`` is ``ops.add(x, y)``, ``2 + x`` (reflected:
    Python asks the right operand) ``ops.add(2, x)``, ``x += y`` (in place) ``x._update(x + y)``.
    """
    def method(self: Tensor, other: Any) -> Tensor:
        result = getattr(ops, op)(*((other, self) if reflected else (self, other)))
        return self._update(result) if in_place else result
    return method


# Python's name of each operator, and its op. (The last five are extras: % and // give values
# only, and & | ^ are the logic of boolean masks; ops.remainder... are found on first use.)
OPERATORS = (("add", "add"), ("sub", "sub"), ("mul", "mul"), ("truediv", "div"), ("pow", "pow"),
             ("matmul", "matmul"), ("mod", "remainder"), ("floordiv", "floor_divide"),
             ("and", "logical_and"), ("or", "logical_or"), ("xor", "logical_xor"))
for _symbol, _op in OPERATORS:
    setattr(Tensor, f"__{_symbol}__", _operator(_op))
    setattr(Tensor, f"__r{_symbol}__", _operator(_op, reflected=True))
    setattr(Tensor, f"__i{_symbol}__", _operator(_op, in_place=True))
Tensor.__invert__ = lambda self: ops.logical_not(self)  # ~mask
