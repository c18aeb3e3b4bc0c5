"""The backward pass: from the tensor ``backward()`` was called on, visit every context and
leaf it depends on in reverse topological order (iteratively: a deep graph cannot overflow
Python's stack), call each op's ``backward`` once with the sum of the gradients that reached
its output, undo broadcasting in one place (:func:`_unbroadcast`), run gradient hooks, and add
each leaf's gradient into its ``.grad``."""

from __future__ import annotations

from typing import Any

from minigen import grad_mode
from minigen.autograd import TensorCore, _check_finite
from minigen.backend import Array, HostScalar, as_host_array, namespace
from minigen.errors import ShapeError


def _topological_order(root: Any) -> list[Any]:
    """Contexts and leaves reachable from ``root``, each after everything it feeds into."""
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        for parent in (() if isinstance(node, TensorCore) else node.parents):
            if parent is not None and id(parent) not in visited:
                stack.append((parent, False))
    order.reverse()
    return order


def _accumulate_leaf(leaf: TensorCore, grad: Array) -> None:
    if isinstance(grad, HostScalar):
        grad = as_host_array(grad)
    if leaf.grad is None:
        leaf.grad = leaf._make(grad)
    else:
        leaf.grad = leaf._make(leaf.grad.data + grad)


def _run_hooks(hooks: dict[int, Any] | None, grad: Array) -> Array:
    """A tensor's complete gradient through its hooks (``Tensor.register_hook``), in order."""
    if hooks:
        if isinstance(grad, HostScalar):
            grad = as_host_array(grad)
        for hook in list(hooks.values()):  # (a hook may remove itself)
            grad = hook(grad)
    return grad


def run_backward(root: Any, grad: Array, retain_graph: bool) -> None:
    """The backward pass, from ``root`` (a Context, or a leaf tensor) with cotangent ``grad``."""
    grads = {id(root): grad}
    for node in _topological_order(root):
        grad_out = grads.pop(id(node), None)
        if grad_out is None:
            continue
        grad_out = _run_hooks(getattr(node, "_backward_hooks", None), grad_out)
        if isinstance(node, TensorCore):  # a leaf: its gradient is complete
            _accumulate_leaf(node, grad_out)
            continue
        ctx = node
        if ctx.out_ref is not None and ctx.out_ref() is not None:
            _accumulate_leaf(ctx.out_ref(), grad_out)
        _ = ctx.saved_arrays  # raises a clear error if a previous backward freed them
        in_grads = ctx.fn.backward(ctx, grad_out)
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        for parent, shape, g in zip(ctx.parents, ctx.input_shapes, in_grads):
            if parent is None or g is None:
                continue
            if tuple(g.shape) != shape:
                g = _unbroadcast(g, shape, ctx.name)
            if grad_mode.anomaly_enabled:
                _check_finite(g, "gradient", ctx)
            key = id(parent)
            grads[key] = g if key not in grads else grads[key] + g
        if not retain_graph:
            ctx.saved = None


def _unbroadcast(grad: Array, shape: tuple[int, ...], op: str) -> Array:
    """Sum ``grad`` down to ``shape``: the one place where broadcasting is undone.

    Broadcasting copied the input along new leading axes and along its size-1 axes, so the
    gradient sums over exactly those axes (d/dx sum_j f(x) = sum_j f'(x)).
    """
    xp = namespace(grad)
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = xp.sum(grad, axis=tuple(range(extra)))
    if extra >= 0:  # (fewer dimensions than the input: no broadcast explains it, a bug below)
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        if axes:
            grad = xp.sum(grad, axis=axes, keepdims=True)
    if tuple(grad.shape) != tuple(shape):
        raise ShapeError(
            f"the backward of {op} returned a gradient of shape {tuple(grad.shape)} for an input "
            f"of shape {tuple(shape)} (a bug in {op}.backward)"
        )
    return grad
