"""Autograd: Function and Context, the backward pass, and the switches every op reads.

An op is a Function subclass with two static methods on raw arrays, side by side: ``forward``
computes the output and saves in ``ctx`` what the derivative needs; ``backward`` turns the
gradient w.r.t. the output into one gradient per input (the chain rule, one op at a time).
``Function.apply`` runs ``forward`` and, when a gradient will be wanted, links the output to
its Context, which remembers the inputs: that chain of contexts IS the graph. ``backward``
walks it from the loss back to the leaves. Next to read: ``tensor.py``, then ``ops/``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import itertools
from typing import Any

from minigen import backend
from minigen.errors import DeviceError, DTypeError, GraphError, ShapeError

grad_enabled = True  # False inside `with no_grad():`: ops then record no graph
anomaly_enabled = False  # True inside `with detect_anomaly():`: every value is checked


# ------------------------------------------------------------------ Function and Context
class Context:
    """What one application of an op remembers for its backward: the arrays it saved
    (``save_for_backward``; freed after the backward pass) and small facts set as attributes
    (``ctx.axis = 1``). Once ``apply`` links it into the graph, also ``fn`` (the op's class),
    ``parents`` (each input's own Context, or the input itself if it is a leaf, or None if it
    needs no gradient), ``input_shapes`` and ``needs_input_grad`` (so backward can skip work).
    """

    def __init__(self, name: str) -> None:
        self.name = name  # the op's class name, for grad_fn and error messages
        self.saved: tuple[Any, ...] | None = ()
        self._hooks: dict[int, Any] = {}  # gradient hooks of the op's output (register_hook)
        self.retained: Any = None  # a weak reference to the output, after retain_grad()

    def save_for_backward(self, *arrays: Any) -> None:
        self.saved = arrays

    @property
    def saved_arrays(self) -> tuple[Any, ...]:
        if self.saved is None:
            raise GraphError(f"backward through {self.name} a second time, but its saved "
                             "arrays were freed after the first backward: pass "
                             "retain_graph=True to the first backward() to call it twice")
        return self.saved


class Function:
    """Base class of every op: subclass it and write ``forward`` and ``backward``.

    ``backward`` returns one gradient per positional input of ``forward`` (None for inputs
    that need none). A gradient may have the broadcast output's shape: :func:`backward` sums
    it back down to its input's shape, the one place where broadcasting is undone.
    """

    @staticmethod
    def forward(ctx: Context, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor:
        """Run ``forward`` on the arrays inside the tensor arguments (other arguments pass
        as they are) and return its output as a Tensor, linked into the graph if needed."""
        tensors = [a for a in args if isinstance(a, Tensor)]
        if not tensors:
            raise DTypeError(f"{cls.__name__}.apply needs at least one Tensor argument")
        for t in tensors[1:]:
            _check_compatible(cls.__name__, tensors[0], t)
        ctx = Context(cls.__name__)
        arrays = [a.data if isinstance(a, Tensor) else a for a in args]
        with backend.quiet_floating_point():  # inf and NaN are values, not warnings
            out = backend.as_array(cls.forward(ctx, *arrays, **kwargs))
        result = Tensor._make(out)
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        # An integer or bool result is piecewise constant: no gradient, so no graph.
        if grad_enabled and any(needs) and backend.dtype_of(out).is_floating_point:
            ctx.fn, ctx.needs_input_grad = cls, needs
            # Each input is linked by its own context, or by itself if it is a leaf.
            ctx.parents = tuple((a._ctx or a) if need else None for a, need in zip(args, needs))
            ctx.input_shapes = tuple(a.shape if need else None for a, need in zip(args, needs))
            ctx.batch_last = backend.batch_last(out)  # (its memory layout: see backward)
            result.requires_grad, result._ctx = True, ctx
        if anomaly_enabled:  # (minigen.detect_anomaly: see minigen.extras.anomaly)
            importlib.import_module("minigen.extras.anomaly").check_output(ctx, args, out)
        return result


def _check_compatible(op: str, a: Tensor, b: Tensor) -> None:
    """Two tensor inputs of one op share a device and, if floating, a dtype (no silent
    copies or casts: NumPy would upcast float32 + float64 to float64 without a word)."""
    x, y = a.data, b.data
    if type(x) is type(y) and x.dtype == y.dtype and x.device == y.device:
        return  # the usual case, told cheaply
    if a.device != b.device:
        raise DeviceError(f"{op} got tensors on two devices, {a.device} and {b.device}: "
                          f"move one with .to('{a.device}') first")
    if a.dtype != b.dtype and (a.dtype.is_floating_point or b.dtype.is_floating_point):
        raise DTypeError(f"{op} got two dtypes, {a.dtype} and {b.dtype}; minigen never casts "
                         f"silently: convert one with .to({a.dtype}) or .to({b.dtype})")


# ------------------------------------------------------------------ the backward pass
def backward(tensor: Tensor, gradient: Any = None, retain_graph: bool = False,
             create_graph: bool = False) -> None:
    """Add d(tensor)/d(leaf), contracted with ``gradient``, into every leaf's ``.grad``.

    ``gradient`` (the cotangent, the tensor's shape) may be left out for a single number.
    The saved arrays of the graph are freed on the way, unless ``retain_graph``.
    """
    if create_graph:
        raise GraphError("higher-order gradients (create_graph=True) are not supported")
    if not tensor.requires_grad and not tensor.dtype.is_floating_point:
        raise GraphError(f"backward() on a {tensor.dtype} tensor: integer and bool results "
                         "have no gradient; compute the loss from floating tensors")
    if not tensor.requires_grad:
        raise GraphError("backward() on a tensor that does not require grad: no input of the "
                         "computation had requires_grad=True (or it ran under no_grad())")
    if gradient is None:
        if tensor.numel() != 1:
            raise GraphError(f"backward() without a gradient works only for a single number, "
                             f"but this tensor has shape {tensor.shape}: call .sum() or "
                             ".mean() first, or pass gradient= of the same shape")
        gradient = backend.namespace(tensor.data).ones_like(tensor.data)
    gradient = gradient.data if isinstance(gradient, Tensor) else gradient
    if tuple(gradient.shape) != tensor.shape:
        raise ShapeError(f"backward() got a gradient of shape {tuple(gradient.shape)} for a "
                         f"tensor of shape {tensor.shape}")
    root = tensor._ctx or tensor
    grads = {id(root): gradient}  # node -> the sum of the gradients that reached it so far
    with backend.quiet_floating_point():
        for node in _topological_order(root):
            grad_out = grads.pop(id(node), None)
            if grad_out is None:  # (nothing reached it: an input that needs no gradient)
                continue
            for hook in list(node._hooks.values()):  # (a hook may remove itself)
                grad_out = hook(grad_out)
            if isinstance(node, Tensor):  # a leaf: its gradient is complete
                _accumulate(node, grad_out)
                continue
            ctx = node
            if ctx.retained is not None and ctx.retained() is not None:  # retain_grad()
                _accumulate(ctx.retained(), grad_out)
            _ = ctx.saved_arrays  # (a clear error if an earlier backward freed this graph)
            # The gradient in the memory layout of the output it belongs to: a matter of speed,
            # not of maths (see backend.in_layout).
            grads_in = ctx.fn.backward(ctx, backend.in_layout(grad_out, ctx.batch_last))
            for parent, shape, g in zip(ctx.parents, ctx.input_shapes,
                                        grads_in if isinstance(grads_in, tuple) else (grads_in,)):
                if parent is None or g is None:
                    continue
                g = backend.as_array(g)
                if tuple(g.shape) != shape:
                    g = _unbroadcast(g, shape, ctx.name)
                if anomaly_enabled:
                    importlib.import_module("minigen.extras.anomaly").check_gradient(ctx, g)
                # exercise 1: backward(), the sum of the gradients that reach a node
                # A node used by several ops gets the SUM of their gradients (chain rule).
                grads[id(parent)] = g if id(parent) not in grads else grads[id(parent)] + g
                # end exercise 1
            if not retain_graph:
                ctx.saved = None  # free the saved arrays as soon as they are used


def _accumulate(tensor: Tensor, grad: Any) -> None:
    """``tensor.grad += grad``: gradients add up over backward calls until zero_grad()."""
    grad = backend.in_layout(grad, backend.batch_last(tensor.data))  # (as in backward)
    # exercise 1: _accumulate, leaf.grad summed over backward() calls
    tensor.grad = Tensor._make(grad if tensor.grad is None else tensor.grad.data + grad)
    # end exercise 1


def _topological_order(root: Any) -> list[Any]:
    """The contexts and leaves that ``root`` depends on, each before everything it depends
    on: a depth-first search with an explicit stack (a deep graph cannot overflow Python's)."""
    # exercise 1: _topological_order, with an explicit stack
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            parents = () if isinstance(node, Tensor) else node.parents
            stack.extend((p, False) for p in parents if p is not None)
    return order[::-1]
    # end exercise 1


def _unbroadcast(grad: Any, shape: tuple[int, ...], op: str) -> Any:
    """Sum ``grad`` down to ``shape``. Broadcasting copied the input along new leading axes
    and along its axes of size 1, so its gradient sums over exactly those axes."""
    # exercise 3: _unbroadcast, a gradient summed down to its input's shape
    xp = backend.namespace(grad)
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = xp.sum(grad, axis=tuple(range(extra)))
    ones = tuple(i for i, n in enumerate(shape) if n == 1 and extra >= 0 and grad.shape[i] != 1)
    if ones:
        grad = xp.sum(grad, axis=ones, keepdims=True)
    if tuple(grad.shape) != shape:
        raise ShapeError(f"the backward of {op} returned a gradient of shape "
                         f"{tuple(grad.shape)} for an input of shape {shape} (a bug in "
                         f"{op}.backward)")
    return grad
    # end exercise 3


# ------------------------------------------------------------------ the switches
def is_grad_enabled() -> bool:
    return grad_enabled


class no_grad:
    """Record no graph inside ``with no_grad():`` (evaluation, optimizer updates), or in a
    function decorated ``@no_grad()`` (or the bare ``@no_grad``, as in PyTorch 2)."""

    mode = False

    def __new__(cls, func: Any = None) -> Any:
        if func is None:
            return super().__new__(cls)
        if not callable(func):
            raise TypeError(f"{cls.__name__}() takes no argument, or decorates a function; "
                            f"got {func!r:.60}")
        return cls()(func)  # the bare @no_grad on a function

    def __enter__(self) -> None:
        global grad_enabled
        self.previous, grad_enabled = grad_enabled, self.mode

    def __exit__(self, *exc: object) -> None:
        global grad_enabled
        grad_enabled = self.previous

    def __call__(self, func: Any) -> Any:
        if inspect.isgeneratorfunction(func):  # (rare: minigen.extras.grad_mode handles it)
            return importlib.import_module("minigen.extras.grad_mode").generator(self, func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():  # a fresh context on every call
                return func(*args, **kwargs)

        return wrapper


class enable_grad(no_grad):
    """Record the graph again, inside a ``no_grad`` block (or as a decorator)."""

    mode = True


# ------------------------------------------------------------------ hooks
class RemovableHandle:
    """What ``register_hook`` returns: ``handle.remove()`` takes the hook away."""

    _ids = itertools.count()

    def __init__(self, hooks: dict[int, Any], hook: Any):
        self.hooks, self.id = hooks, next(self._ids)
        hooks[self.id] = hook  # dicts keep their order: hooks run as registered

    def remove(self) -> None:
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


from minigen.tensor import Tensor  # noqa: E402  (tensor.py builds on this file: it comes last)
