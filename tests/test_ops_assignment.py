"""Property tests of assignment, ``x[key] = value`` (minigen.extras.assignment): every key that
indexing takes, values that broadcast, the gradient to both the old tensor and the value,
and the rules: a new array (graphs made before stay valid), no assignment into a leaf that
requires grad, no silent casts, no element written twice. Then the in-place methods
(``x += y``, ``x.add_(y)``...: Tensor._update, extras.tensor_methods), by the same rules."""

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
COVERED_FUNCTIONS = {"setitem", "inplace"}


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
    with pytest.raises(GraphError, match="assigning into a leaf tensor that requires grad"):
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
    with pytest.raises(ValueError, match=r"x\[0, 1\] = v, x\[0\] \+= 1\), or take a"):
        exec(assign)
    assert x.tolist() == [[0.0] * 3] * 2
    y = x[0].clone()
    y[1] = 2.0  # (a copy is the student's own)
    x[[0, 1], 0] = minigen.tensor([3.0, 4.0])  # (index arrays copy in PyTorch too: allowed)
    assert y.tolist() == [0.0, 2.0, 0.0] and x[:, 0].tolist() == [3.0, 4.0]


# ---------------------------------------------------------------- in place: x += y, x.add_(y)
# (name, how to apply it, the op whose output the result is, NumPy's reference, other's domain)
INPLACE = [
    ("+=", lambda c, o: c.__iadd__(o), "Add", np.add, mst.real),
    ("-=", lambda c, o: c.__isub__(o), "Sub", np.subtract, mst.real),
    ("*=", lambda c, o: c.__imul__(o), "Mul", np.multiply, mst.real),
    ("/=", lambda c, o: c.__itruediv__(o), "Div", np.divide, mst.positive),
    ("add_ alpha", lambda c, o: c.add_(o, alpha=-0.5), "Add", lambda a, b: a - 0.5 * b, mst.real),
    ("sub_", lambda c, o: c.sub_(o), "Sub", np.subtract, mst.real),
    ("mul_", lambda c, o: c.mul_(o), "Mul", np.multiply, mst.real),
    ("div_", lambda c, o: c.div_(o), "Div", np.divide, mst.positive),
    ("copy_", lambda c, o: c.copy_(o), "Clone", lambda a, b: np.broadcast_to(b, a.shape),
     mst.real),
]


@pytest.mark.parametrize("name, apply, op, reference, domain", INPLACE,
                         ids=[n for n, *_ in INPLACE])
@given(data=st.data())
def test_inplace(device, name, apply, op, reference, domain, data):
    """Values and gradients (to the old tensor and to the other operand, which broadcasts
    to the tensor's shape) as the out-of-place op's; the same object comes back."""
    x = data.draw(mst.tensors(device=device), label="x")
    o = data.draw(mst.tensors(data.draw(value_shapes(x.shape)), device=device,
                              elements=domain), label="other")
    while o.ndim > x.ndim:  # (value_shapes may add a leading 1: that would broadcast x up)
        o = o.detach()[0].requires_grad_()
    if name == "copy_":  # (x's old values are gone: no gradient reaches x; PyTorch's is 0)
        x = x.detach() * 1.0

    def fn(t, other):
        c = t * 1.0  # (a non-leaf: a leaf that requires grad is changed only under no_grad)
        out = apply(c, other)
        assert out is c
        return c

    check_op(fn, [x, o], reference, op)


@pytest.mark.parametrize("name", ["clamp_", "pow_", "neg_", "fill_", "zero_"])
@given(data=st.data())
def test_inplace_unary(device, name, data):
    x = data.draw(mst.tensors(device=device, elements=mst.away_from(-0.5, 0.5, low=0.1)),
                  label="x")
    apply, op, reference = {
        "clamp_": (lambda c: c.clamp_(-0.5, 0.5), "Clamp", lambda a: np.clip(a, -0.5, 0.5)),
        "pow_": (lambda c: c.pow_(3.0), "Pow", lambda a: a ** 3.0),
        "neg_": (lambda c: c.neg_(), "Neg", np.negative),
        "zero_": (lambda c: c.zero_(), None, np.zeros_like),
    }.get(name, (None, None, None))
    if name == "fill_":  # the gradient goes to a 0-d tensor value, none to x's old values
        v = data.draw(mst.tensors((), device=device), label="value")
        check_op(lambda t, v: (t * 1.0).fill_(v), [x.detach() * 1.0, v],
                 lambda a, b: np.broadcast_to(b, a.shape), "Clone")
        c = x.detach() * 1.0
        assert c.fill_(2) is c and (host(c) == 2.0).all() and c.dtype == x.dtype
        return
    if op is None:  # zero_: no gradient goes through; the tensor leaves the graph
        c = x * 1.0
        assert c.zero_() is c and not c.requires_grad and c.is_leaf
        assert not host(c).any() and c.device == x.device
        return
    check_op(lambda t: apply(t * 1.0), [x], reference, op)


def test_a_hand_written_sgd_step_changes_the_modules_parameters():
    """Without __isub__, `p -= lr * p.grad` would rebind the name p to a new tensor and
    leave the module as it was, silently: the classic first training loop."""
    minigen.manual_seed(0)
    model = minigen.nn.Linear(3, 2)
    opt = minigen.optim.SGD(model.parameters(), lr=0.1)  # (holds the same objects)
    before = [p.detach().clone() for p in model.parameters()]
    x = minigen.randn(4, 3)
    out = model(x)
    out.pow(2).sum().backward()
    # d/dW sum (x W^T + b)^2 = 2 out^T x, d/db = 2 sum over the batch of out
    wanted = [2 * out.detach().numpy().T @ x.numpy(), 2 * out.detach().numpy().sum(axis=0)]
    with minigen.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    for p, old, held, grad in zip(model.parameters(), before, opt.param_groups[0]["params"],
                                  wanted):
        assert held is p and p.is_leaf and p.requires_grad
        np.testing.assert_allclose(p.grad.numpy(), grad, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(p.detach().numpy(), old.numpy() - 0.1 * p.grad.numpy(),
                                   rtol=1e-6)
    alias = model.weight
    with minigen.no_grad():
        model.weight.mul_(0.0).add_(1.0)
    assert alias.tolist() == [[1.0] * 3] * 2


def test_inplace_keeps_graphs_made_before_and_follows_assignments_rules():
    x = minigen.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1.0
    y = h * h  # saved h's array
    h += 10.0  # h is now the output of Add; y's graph keeps the old values
    (y.sum() + h.sum()).backward()
    assert x.grad.tolist() == [3.0, 5.0] and h.tolist() == [11.0, 12.0]
    with pytest.raises(GraphError, match="changing in place a leaf tensor that requires grad"):
        x += 1.0
    with pytest.raises(GraphError, match="changing in place a leaf"):
        x.zero_()
    with pytest.raises(ShapeError, match="broadcast shape"):
        minigen.zeros(3).add_(minigen.ones(2, 3))
    with pytest.raises(DTypeError, match="add of a minigen.int64 tensor and the float 0.5"):
        minigen.zeros(3, dtype="int64").add_(0.5)
    with pytest.raises(DTypeError, match="never casts silently"):
        minigen.zeros(3).add_(minigen.ones(3, dtype="float64"))
    counts = minigen.zeros(3, dtype="int64")
    counts += 2
    counts //= 2
    assert counts.tolist() == [1, 1, 1] and counts.dtype == minigen.int64
    mask = minigen.tensor([True, False])
    mask |= minigen.tensor([False, True])
    assert mask.tolist() == [True, True]


def test_copy_casts_moves_and_broadcasts_as_pytorch(device):
    x = minigen.zeros(2, 3, device=device)
    x.copy_(minigen.tensor([1.0, 2.0, 3.0], dtype="float64"))  # from the cpu, float64
    assert x.dtype == minigen.float32 and x.device == minigen.device(device)
    assert host(x).tolist() == [[1.0, 2.0, 3.0]] * 2
    with pytest.raises(ShapeError):
        x.copy_(minigen.ones(4))
    with pytest.raises(TypeError, match="wrap it with minigen.tensor"):
        x.copy_([1.0, 2.0, 3.0])


def test_inplace_on_a_slice(device):
    """x[0] += 1 is x[0] = x[0] + 1, as in PyTorch; a named in-place method on a slice,
    which in PyTorch would change x, is refused (here it could not)."""
    x = minigen.zeros(2, 3, device=device)
    x[0] += 1.0
    x[:, 1:] *= 3.0
    x[x > 2] -= 1.0
    assert host(x).tolist() == [[1.0, 2.0, 2.0], [0.0, 0.0, 0.0]]
    for change in ("x[0].add_(1.0)", "x.view(-1).zero_()", "x.detach().fill_(2.0)",
                   "x.t().mul_(2.0)"):
        with pytest.raises(ValueError, match=r"x\[0\] \+= 1\), or take a \.clone\(\)"):
            exec(change)
    assert host(x).tolist() == [[1.0, 2.0, 2.0], [0.0, 0.0, 0.0]]
    p = minigen.nn.Parameter(minigen.zeros(3, device=device))
    with pytest.raises(GraphError, match="assigning into a leaf"):
        p[0] += 1.0
