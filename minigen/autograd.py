"""The autograd engine: Function, Context and the tensor's core (the backward pass itself is
in ``backprop``, the grad modes in ``grad_mode``).

Every differentiable operation is a :class:`Function` subclass with a ``forward`` and a
``backward`` on raw arrays, side by side. ``Function.apply`` runs ``forward`` and, when a
gradient will be needed, links the output to a :class:`Context` that remembers the inputs and
whatever ``forward`` saved. ``backward()`` walks those contexts in reverse topological order,
without recursion, calling each ``backward`` once with the summed gradient of its output.

The graph keeps only what backward needs: the leaf tensors (to fill their ``.grad``), the
contexts, and the arrays each op saved; intermediate outputs are freed as soon as user code
drops them, and saved arrays as soon as their op's backward has run.
"""

from __future__ import annotations

import os
import traceback
import weakref
from typing import Any

from minigen import grad_mode
from minigen.backend import (
    Array,
    HostScalar,
    as_host_array,
    dtype_of,
    namespace,
    quiet_floating_point,
)
from minigen.errors import AnomalyError, DeviceError, DTypeError, GraphError, ShapeError
from minigen.grad_mode import (  # noqa: F401  (re-exported: minigen.autograd.no_grad etc.)
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
)
from minigen.hooks import RemovableHandle


def _check_finite(array: Array, what: str, ctx: Context) -> None:
    xp = namespace(array)
    if not dtype_of(array).is_floating_point or bool(xp.all(xp.isfinite(array))):
        return
    kind = "NaN" if bool(xp.any(xp.isnan(array))) else "Inf"
    if hasattr(ctx, "trace"):
        shapes = ", ".join(str(s) for s in ctx.anomaly_shapes)
        where = "".join(traceback.format_list(ctx.trace)).rstrip()
    else:  # a graph recorded before detect_anomaly was switched on
        shapes = ", ".join(str(tuple(s)) for s in ctx.input_shapes if s is not None)
        where = "  (unknown: run the forward pass under detect_anomaly() too)"
    raise AnomalyError(
        f"{kind} found in the {what} of {ctx.name} (input shapes: {shapes}).\n"
        f"The op was created here:\n{where}"
    )


class Context:
    """What one op application remembers for its backward.

    ``save_for_backward(*arrays)`` keeps arrays (freed after backward); small facts (axes,
    shapes, strides) may be set as plain attributes. ``needs_input_grad[i]`` says whether input
    ``i`` wants a gradient, so backward can skip work.
    """

    def __init__(self) -> None:
        self.saved: tuple[Array, ...] | None = ()

    def save_for_backward(self, *arrays: Array) -> None:
        self.saved = arrays

    @property
    def saved_arrays(self) -> tuple[Array, ...]:
        if self.saved is None:
            raise GraphError(
                f"backward through {self.name} a second time, but its saved arrays were freed "
                "after the first backward: pass retain_graph=True to the first backward() "
                "if you need to call it twice"
            )
        return self.saved


class Function:
    """Base class of differentiable ops: subclass, write ``forward`` and ``backward``.

    ``forward(ctx, *args, **kwargs)`` receives arrays where the caller passed tensors and
    returns one array. ``backward(ctx, grad_out)`` returns one gradient per positional input
    (``None`` for inputs without one), each of its input's shape or broadcastable to it: the
    engine sums broadcast dimensions away in one place. Every subclass is listed in
    ``Function.registry``; the test suite checks each against finite differences.
    """

    registry: dict[str, type[Function]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Function.registry[cls.__name__] = cls

    @staticmethod
    def forward(ctx: Context, *args: Any, **kwargs: Any) -> Array:
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Any:
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any):
        first = None
        arrays = []
        requires_grad = False
        for a in args:
            if isinstance(a, TensorCore):
                if first is None:
                    first = a
                elif (type(a.data) is not type(first.data) or a.data.dtype != first.data.dtype
                      or a.data.device != first.data.device):
                    _check_compatible(cls.__name__, first, a)
                requires_grad = requires_grad or a.requires_grad
                arrays.append(a.data)
            else:
                arrays.append(a)
        if first is None:
            raise DTypeError(f"{cls.__name__}.apply needs at least one Tensor argument")
        ctx = Context()
        with quiet_floating_point():  # inf and NaN are values, not warnings
            out = cls.forward(ctx, *arrays, **kwargs)
        if isinstance(out, HostScalar):  # NumPy turns 0-d results into scalars: undo that
            out = as_host_array(out)
        result = first._make(out)
        # An integer or bool result is piecewise constant: no gradient, so no graph (PyTorch).
        if requires_grad and grad_mode.grad_enabled and dtype_of(out).is_floating_point:
            ctx.name = cls.__name__
            ctx.fn = cls
            ctx.needs_input_grad = tuple(isinstance(a, TensorCore) and a.requires_grad
                                         for a in args)
            # Each input is linked by its own context, or by itself when it is a leaf.
            ctx.parents = tuple(
                (a._ctx if a._ctx is not None else a) if need else None
                for a, need in zip(args, ctx.needs_input_grad)
            )
            ctx.input_shapes = tuple(a.shape if need else None
                                     for a, need in zip(args, ctx.needs_input_grad))
            ctx.out_ref = None
            result.requires_grad = True
            result._ctx = ctx
        if grad_mode.anomaly_enabled:  # (also under no_grad: a NaN made there is just as wrong)
            ctx.name = cls.__name__
            ctx.anomaly_shapes = tuple(tuple(a.shape) for a in args if isinstance(a, TensorCore))
            ctx.trace = _creation_trace()
            _check_finite(out, "output", ctx)
        return result


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _creation_trace() -> list[traceback.FrameSummary]:
    """Where an op is being created: from the innermost line of the user's code (the last frame
    outside minigen's package) down to the op's function, at most 10 frames."""
    frames = traceback.extract_stack()[:-2]  # drop this function and apply
    while len(frames) > 1 and frames[-1].filename.startswith(_PACKAGE + "ops" + os.sep):
        frames.pop()  # and the op's own function (ops.linear...)
    outside = [i for i, f in enumerate(frames) if not f.filename.startswith(_PACKAGE)]
    start = outside[-1] if outside else 0
    frames = frames[start:]
    return frames if len(frames) <= 10 else frames[:1] + frames[-9:]


def _check_compatible(op: str, a: TensorCore, b: TensorCore) -> None:
    if a.device != b.device:
        raise DeviceError(
            f"{op} got tensors on two devices, {a.device} and {b.device}: "
            f"move one with .to('{a.device}') first"
        )
    if a.dtype.is_floating_point and b.dtype.is_floating_point and a.dtype != b.dtype:
        raise DTypeError(
            f"{op} got two dtypes, {a.dtype} and {b.dtype}; minigen never casts silently: "
            f"cast one with .to({a.dtype}) or .to({b.dtype})"
        )
    if a.dtype.is_floating_point != b.dtype.is_floating_point:  # NumPy would give float64
        floating, other = (a, b) if a.dtype.is_floating_point else (b, a)
        raise DTypeError(
            f"{op} got a {floating.dtype} tensor and a {other.dtype} tensor; minigen never "
            f"casts silently: convert the {other.dtype} one with .to({floating.dtype})"
        )


class TensorCore:
    """What the engine needs of a tensor; :class:`minigen.Tensor` adds the user's API."""

    # _backward_hooks: a leaf's gradient hooks ({id: array -> array}), set only when one is
    # registered (a non-leaf's live on its Context); read with getattr(..., None)
    # _is_view: made by an op that makes a view in PyTorch (a slice, reshape, transpose,
    # detach); set only then, read with getattr(..., False)
    __slots__ = ("data", "requires_grad", "grad", "_ctx", "_backward_hooks", "_is_view",
                 "__weakref__")

    @classmethod
    def _make(cls, data: Array, requires_grad: bool = False) -> TensorCore:
        t = object.__new__(cls)
        t.data, t.requires_grad, t.grad, t._ctx = data, requires_grad, None, None
        return t

    def backward(self, gradient: Any = None, retain_graph: bool = False,
                 create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad``.

        ``gradient`` is the cotangent (same shape as ``self``); it may be omitted only for a
        tensor of one element. The graph's saved arrays are freed unless ``retain_graph``.
        """
        if create_graph:
            raise GraphError("higher-order gradients (create_graph=True) are not supported")
        if not self.requires_grad and not dtype_of(self.data).is_floating_point:
            raise GraphError(
                f"backward() on a {dtype_of(self.data)} tensor: integer and bool results have "
                "no gradient (the graph stops at .long(), comparisons and argmax); compute "
                "the loss from floating tensors"
            )
        if not self.requires_grad:
            raise GraphError(
                "backward() on a tensor that does not require grad: no input of the "
                "computation had requires_grad=True (or it ran under no_grad())"
            )
        if gradient is None:
            if self.data.size != 1:
                raise GraphError(
                    f"backward() without a gradient works only for a single number, but this "
                    f"tensor has shape {tuple(self.shape)}: call .sum() or .mean() first, or "
                    "pass gradient= of the same shape"
                )
            xp = namespace(self.data)
            gradient = xp.ones_like(self.data)
        elif isinstance(gradient, TensorCore):
            gradient = gradient.data
        if tuple(gradient.shape) != tuple(self.data.shape):
            raise ShapeError(
                f"backward() got a gradient of shape {tuple(gradient.shape)} for a tensor of "
                f"shape {tuple(self.data.shape)}"
            )
        from minigen.backprop import run_backward  # (it needs TensorCore, defined here)

        with quiet_floating_point():
            run_backward(self._ctx if self._ctx is not None else self, gradient, retain_graph)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        if self._ctx is not None:
            self._ctx.out_ref = weakref.ref(self)

    def register_hook(self, hook: Any) -> Any:
        """Call ``hook(grad)`` with this tensor's gradient whenever a backward pass has
        computed it (for a leaf: before it is added to ``.grad``). A returned tensor of the
        same shape replaces the gradient; None keeps it. Returns a handle: ``.remove()``.
        See :mod:`minigen.hooks`."""
        if not self.requires_grad:
            raise GraphError("register_hook on a tensor that does not require grad: it gets "
                             "no gradient to hook")
        shape = tuple(self.shape)

        def on_gradient(grad: Array) -> Array:
            out = hook(self._make(grad))
            if out is None:
                return grad
            if not isinstance(out, TensorCore):
                raise TypeError(f"a gradient hook must return None or a minigen Tensor, got "
                                f"{type(out).__name__}")
            if tuple(out.shape) != shape:
                raise ShapeError(f"a gradient hook must return a tensor of shape {shape}, "
                                 f"got {tuple(out.shape)}")
            return out.data

        owner = self if self._ctx is None else self._ctx
        hooks = getattr(owner, "_backward_hooks", None)
        if hooks is None:
            hooks = owner._backward_hooks = {}
        return RemovableHandle(hooks, on_gradient)
