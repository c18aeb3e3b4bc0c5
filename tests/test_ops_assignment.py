"""Property tests of assignment, ``x[key] = value`` (minigen.ops.assignment): every key that
indexing takes, values that broadcast, the gradient to both the old tensor and the value,
and the rules: a new array (graphs made before stay valid), no assignment into a leaf that
requires grad, no silent casts, no element written twice."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigen
from minigen.errors import DTypeError, GraphError, ShapeError
from minigen.testing import strategies as mst
from tests.opcheck import check_op, host, index_like_pytorch
from tests.test_ops_shape import _on, advanced_keys

COVERED_OPS = {"IndexPut"}
COVERED_FUNCTIONS = {"setitem"}


def _reference(a: np.ndarray, key, value: np.ndarray) -> np.ndarray:
    """PyTorch's assignment, in NumPy: the positions ``key`` picks (PyTorch's indexing
    rules), each given the broadcast value."""
    positions = index_like_pytorch(np.arange(a.size).reshape(a.shape), key)
    while value.ndim > positions.ndim and value.shape[0] == 1:
        value = value[0]  # PyTorch drops a value's leading size-1 dims
    out = a.copy().reshape(-1)
    out[positions.reshape(-1)] = np.broadcast_to(value, positions.shape).reshape(-1)
    return out.reshape(a.shape)


@st.composite
def value_shapes(draw, shape: tuple[int, ...]):
    """A shape that broadcasts to ``shape``: fewer dims, some of them 1, or a leading 1 more
    (PyTorch drops it)."""
    kept = draw(st.integers(0, len(shape)), label="value dims")
    value = [1 if draw(st.booleans()) else n for n in shape[len(shape) - kept:]]
    return (1,) * draw(st.integers(0, 1), label="leading 1") + tuple(value)


@given(data=st.data())
def test_setitem(device, data):
    x = data.draw(mst.tensors(shape=mst.shapes(min_dims=1), device=device), label="x")
    basic = data.draw(st.booleans(), label="basic key")
    if basic:
        key = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True), label="key")
    else:
        key = data.draw(advanced_keys(x.shape), label="key")
    try:
        picked = index_like_pytorch(np.arange(x.numel()).reshape(x.shape), key)
    except IndexError:
        return  # (a mask whose True count does not broadcast with the ints: tested there)
    assume(picked.size and len(set(picked.reshape(-1).tolist())) == picked.size)
    v = data.draw(mst.tensors(data.draw(value_shapes(picked.shape)), device=device), label="v")
    mkey = key if basic else _on(key, device)

    def fn(t, v):
        y = t * 1.0  # (a non-leaf: a leaf that requires grad cannot be assigned into)
        y[mkey] = v
        return y

    check_op(fn, [x, v], lambda a, b: _reference(a, key, b), "IndexPut")


def test_what_student_code_does(device):
    x = minigen.zeros(2, 3, device=device)
    x[0] = 1.0
    x[:, 2] = minigen.tensor([5.0, 6.0], device=device)
    x[x > 5] = -1.0
    labels = minigen.tensor([2, 0], device=device)
    x[minigen.arange(2, device=device), labels] = 9.0
    assert host(x).tolist() == [[1.0, 1.0, 9.0], [9.0, 0.0, -1.0]]
    x[1] = minigen.ones(1, 3, device=device)  # a leading 1 is dropped, as in PyTorch
    assert host(x[1]).tolist() == [1.0, 1.0, 1.0]


def test_a_graph_made_before_keeps_its_values():
    """y = w * x saved x; assigning into x afterwards must not change y's gradient (PyTorch
    would raise: x is modified in place). A slice taken before keeps the old values too."""
    w = minigen.tensor([1.0, 2.0], requires_grad=True)
    x = minigen.tensor([3.0, 4.0])
    y = w * x
    before = x[:]
    x[0] = 100.0
    y.sum().backward()
    assert w.grad.tolist() == [3.0, 4.0]
    assert before.tolist() == [3.0, 4.0] and x.tolist() == [100.0, 4.0]


def test_the_value_gets_the_gradient_of_what_it_overwrote():
    w = minigen.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = minigen.tensor(10.0, requires_grad=True)
    y = w * 2
    y[[0, 2]] = v
    (y * minigen.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert w.grad.tolist() == [0.0, 4.0, 0.0] and v.item() == 10.0 and v.grad.item() == 4.0
    assert y.grad_fn == "IndexPut"


def test_the_rules_are_named():
    p = minigen.zeros(3, requires_grad=True)
    with pytest.raises(GraphError, match="cannot be assigned into"):
        p[0] = 1.0
    with minigen.no_grad():
        p[0] = 1.0  # (allowed, as in PyTorch: the optimizers do no less)
    assert p.tolist() == [1.0, 0.0, 0.0] and p.grad is None and p.requires_grad
    x = minigen.zeros(3)
    with pytest.raises(DTypeError, match="never casts silently"):
        x[0] = minigen.tensor(1.0, dtype="float64")
    with pytest.raises(DTypeError, match="cut it to an integer"):
        minigen.zeros(3, dtype="int64")[0] = 1.5
    with pytest.raises(DTypeError, match="does not fit in int64"):
        minigen.zeros(3, dtype="int64")[0] = 1e30
    with pytest.raises(DTypeError, match="True or False"):
        minigen.zeros(3, dtype="bool")[0] = 1
    with pytest.raises(ShapeError, match=r"cannot assign a value of shape \(2,\)"):
        x[:] = minigen.ones(2)
    with pytest.raises(IndexError, match="more than once"):
        x[[0, 0]] = minigen.tensor([1.0, 2.0])
    with pytest.raises(IndexError, match="out of range"):
        x[3] = 1.0
    with pytest.raises(TypeError, match="a number or a Tensor"):
        x[0] = "a"
    integers = minigen.zeros(3, dtype="int64")
    integers[1] = 2
    assert integers.tolist() == [0, 2, 0] and integers.dtype == minigen.int64


@pytest.mark.parametrize("assign", [
    "x[0][1] = 5.0", "x.view(-1)[0] = 5.0", "x.reshape(3, 2)[0] = 5.0", "x.t()[0] = 7.0",
    "x.detach()[0, 0] = 1.0", "x.unsqueeze(0)[0, 0] = 1.0", "x.expand(2, 2, 3)[0] = 1.0",
    "[row for row in x][0][0] = 9.0", "x.split(1)[0][0] = 1.0",
])
def test_assigning_into_a_view_is_refused(assign):
    """In PyTorch these write through to x; minigen tensors never share memory, so the
    assignment would silently change only the new tensor: refused, naming the fix."""
    x = minigen.zeros(2, 3)
    with pytest.raises(ValueError, match=r"x\[0, 1\] = v, or take a \.clone\(\)"):
        exec(assign)
    assert x.tolist() == [[0.0] * 3] * 2
    y = x[0].clone()
    y[1] = 2.0  # (a copy is the student's own)
    x[[0, 1], 0] = minigen.tensor([3.0, 4.0])  # (index arrays copy in PyTorch too: allowed)
    assert y.tolist() == [0.0, 2.0, 0.0] and x[:, 0].tolist() == [3.0, 4.0]
