"""Exercise 1: the backward pass (minigen/autograd.py): _topological_order, the sum of the
gradients that reach a node, and leaf.grad summed over backward() calls.

The graphs here are made of ops defined in this file (forward and backward on arrays), all of
one shape, so that no other exercise (Mul, _unbroadcast...) runs.
"""

from collections import Counter

import numpy as np
from exercise_grading import GradeError, check_close, graded, worst
from hypothesis import given
from hypothesis import strategies as st

import minigen
from minigen import autograd

CALLS: Counter = Counter()  # id(ctx) -> backward calls


class Times(minigen.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_out):
        CALLS[id(ctx)] += 1
        a, b = ctx.saved_arrays
        return grad_out * b, grad_out * a


class Plus(minigen.Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad_out):
        CALLS[id(ctx)] += 1
        return grad_out, grad_out


class Sin(minigen.Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.sin(a)

    @staticmethod
    def backward(ctx, grad_out):
        CALLS[id(ctx)] += 1
        (a,) = ctx.saved_arrays
        return grad_out * np.cos(a)


class Scale(minigen.Function):
    @staticmethod
    def forward(ctx, a, c):
        ctx.c = c
        return a * c

    @staticmethod
    def backward(ctx, grad_out):
        CALLS[id(ctx)] += 1
        return grad_out * ctx.c, None


OPS = {"times": (Times, 2, np.multiply), "plus": (Plus, 2, np.add), "sin": (Sin, 1, np.sin)}


@st.composite
def graphs(draw):
    """A random graph: leaves, then ops whose inputs are earlier nodes (one node may feed
    several ops, or one op twice), the last node the output."""
    leaves = draw(st.integers(1, 3))
    ops = []
    for i in range(draw(st.integers(1, 7))):
        kind = draw(st.sampled_from(sorted(OPS)))
        inputs = [draw(st.integers(0, leaves + i - 1)) for _ in range(OPS[kind][1])]
        ops.append((kind, inputs))
    values = [draw(st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3)) for _ in
              range(leaves)]
    constant = draw(st.integers(-1, leaves - 1))  # a leaf that needs no gradient (-1: none)
    return [np.array(v) for v in values], ops, constant


def evaluate(leaves, ops):
    """The graph in NumPy alone: the output's values."""
    nodes = list(leaves)
    for kind, inputs in ops:
        nodes.append(OPS[kind][2](*[nodes[i] for i in inputs]))
    return nodes[-1]


def build(leaves, ops, constant):
    tensors = [minigen.tensor(v, dtype=minigen.float64, requires_grad=i != constant)
               for i, v in enumerate(leaves)]
    nodes = list(tensors)
    for kind, inputs in ops:
        nodes.append(OPS[kind][0].apply(*[nodes[i] for i in inputs]))
    return tensors, nodes[-1]


def reachable(root):
    """Every context and leaf the output depends on, found by the test's own walk."""
    seen, todo = {}, [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen[id(node)] = node
        if not isinstance(node, minigen.Tensor):
            todo += [p for p in node.parents if p is not None]
    return seen


@graded(40)
@given(graph=graphs())
def test_topological_order(graph):
    """_topological_order: every node the output depends on, once, each before its inputs."""
    tensors, out = build(*graph)
    if out._ctx is None:
        return
    order = autograd._topological_order(out._ctx)
    want = reachable(out._ctx)
    ids = [id(n) for n in order]
    if len(ids) != len(set(ids)):
        raise GradeError("_topological_order lists a node more than once: keep a set of the "
                         "nodes visited")
    if set(ids) != set(want):
        raise GradeError(f"_topological_order gave {len(ids)} nodes, but the output depends "
                         f"on {len(want)} (its context, the contexts of its inputs... down to "
                         "the leaves; skip parents that are None)")
    if order[0] is not out._ctx:
        raise GradeError("_topological_order must start with the root (the output's context)")
    position = {id(n): k for k, n in enumerate(order)}
    for node in order:
        for parent in getattr(node, "parents", ()):
            if parent is not None and position[id(parent)] < position[id(node)]:
                raise GradeError(f"_topological_order puts {getattr(parent, 'name', 'a leaf')}"
                                 f" before {node.name}, which uses it: a node must come after "
                                 "every node that uses it (their gradients must all reach it "
                                 "before its backward runs)")


@graded(40)
@given(graph=graphs(), seed=st.integers(0, 2**32 - 1))
def test_gradients(graph, seed):
    """loss.backward(v) gives every leaf the gradient finite differences give; each op's
    backward runs once."""
    leaves, ops, constant = graph
    tensors, out = build(leaves, ops, constant)
    if not out.requires_grad:
        return
    v = np.random.default_rng(seed).standard_normal(out.shape)
    CALLS.clear()
    out.backward(minigen.tensor(v, dtype=minigen.float64))
    if CALLS and max(CALLS.values()) > 1:
        raise GradeError("an op's backward ran more than once in one backward pass: each node "
                         "is visited once, after all the gradients for it have been summed")
    for i, t in enumerate(tensors):
        if i == constant:
            continue
        numeric = np.zeros(3)
        for k in range(3):
            up, down = [list(leaves) for _ in range(2)]
            up[i], down[i] = leaves[i].copy(), leaves[i].copy()
            up[i][k] += 1e-6
            down[i][k] -= 1e-6
            numeric[k] = (v @ evaluate(up, ops) - v @ evaluate(down, ops)) / 2e-6
        got = np.zeros(3) if t.grad is None else t.grad.numpy()
        if not np.allclose(got, numeric, rtol=1e-5, atol=1e-7):
            k = worst(np.abs(got - numeric))
            raise GradeError(
                f"leaf {i}'s gradient, worst element ({k[0]},): engine {got[k]:.8g}, numerical "
                f"{numeric[k]:.8g}. A node used by several ops (or twice by one) gets the SUM "
                "of their gradients, and runs its backward only once they have all arrived")


def test_deep_chain():
    """A chain of 3,000 ops: no recursion (Python stops at about 1,000 nested calls)."""
    x = minigen.tensor([1.0, 2.0], dtype=minigen.float64, requires_grad=True)
    y = x
    for _ in range(3000):
        y = Scale.apply(y, 1.0001)
    try:
        y.backward(minigen.tensor([1.0, 1.0], dtype=minigen.float64))
    except RecursionError:
        raise GradeError("RecursionError on a chain of 3,000 ops: walk the graph with an "
                         "explicit stack (a list you push and pop), not a recursive "
                         "function") from None
    check_close("x.grad after a chain of 3,000 x 1.0001", x.grad.data,
                np.full(2, 1.0001**3000), rtol=1e-9)


def test_grad_adds_up_over_calls():
    """Two backward() calls add into leaf.grad (until zero_grad() or grad = None)."""
    x = minigen.tensor([0.5, -1.0, 2.0], dtype=minigen.float64, requires_grad=True)
    y = Scale.apply(x, 3.0)
    v = minigen.tensor([1.0, 2.0, -1.0], dtype=minigen.float64)
    y.backward(v, retain_graph=True)
    check_close("x.grad after one backward()", x.grad.data, 3.0 * v.numpy())
    y.backward(v)
    check_close("x.grad after a second backward() (gradients add up over calls)",
                x.grad.data, 6.0 * v.numpy())
