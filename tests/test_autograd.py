"""The engine: graph walking, accumulation, freeing, errors, anomaly detection, user ops."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen
from minigen import Function, backend
from minigen.testing import strategies as mst
from tests.opcheck import host


def leaf(values, device="cpu", dtype="float64"):
    return minigen.tensor(values, dtype=dtype, device=device, requires_grad=True)


# ------------------------------------------------------------------------- the graph walk


def test_a_chain_of_10000_ops_needs_no_recursion(device):
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # Python's default: a recursive walk would fail at 10,000
    try:
        x = leaf([1.0, 2.0], device)
        y = x
        for _ in range(10_000):
            y = y * 1.0001
        y.sum().backward()
    finally:
        sys.setrecursionlimit(limit)
    np.testing.assert_allclose(host(x.grad), [1.0001**10_000] * 2, rtol=1e-9)


def test_a_reused_tensor_accumulates(device):
    a = leaf([1.0, -2.0, 3.0], device)
    (a * a).sum().backward()  # d(a^2)/da = 2a: both uses count
    np.testing.assert_allclose(host(a.grad), [2.0, -4.0, 6.0])
    x = leaf([5.0], device)
    (x + x).sum().backward()
    np.testing.assert_allclose(host(x.grad), [2.0])


def test_a_diamond_graph_sums_both_paths(device):
    a = leaf([1.0, 2.0], device)
    b, c = a * 2.0, a * 3.0  # two paths from a ...
    d = b * c  # ... joined again: d = 6 a^2, so dd/da = 12 a
    d.sum().backward()
    np.testing.assert_allclose(host(a.grad), [12.0, 24.0])


@st.composite
def random_graphs(draw):
    """A random DAG: each node applies an op to one or two EARLIER nodes (reuse likely)."""
    steps = []
    for i in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["add", "mul", "tanh", "sub", "exp"]))
        args = [draw(st.integers(0, i + 1)) for _ in range(2 if op in ("add", "mul", "sub")
                                                              else 1)]
        steps.append((op, args))
    return steps


def _run_graph(steps, x, y):
    nodes = [x, y]
    for op, args in steps:
        ins = [nodes[a] for a in args]
        if op == "exp":
            nodes.append((ins[0] * 0.1).exp())  # 0.1: keeps repeated exps moderate
        else:
            nodes.append(getattr(minigen, op)(*ins))
    return nodes[-1]


@given(steps=random_graphs(), data=st.data())
def test_random_graphs_with_shared_nodes_gradcheck(device, steps, data):
    x = data.draw(mst.tensors((2, 3), device=device), label="x")
    y = data.draw(mst.tensors((3,), device=device), label="y")  # broadcasts against x
    out = _run_graph(steps, x, y)
    if out.requires_grad:
        assert minigen.gradcheck(lambda a, b: _run_graph(steps, a, b), x, y)


def test_gradients_accumulate_across_backward_calls(device):
    x = leaf([1.0, 2.0], device)
    (x * 2.0).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(host(x.grad), [5.0, 5.0])


def test_retain_grad_keeps_a_non_leaf_gradient(device):
    x = leaf([1.0, 2.0], device)
    y = x * 3.0
    z = x * 2.0
    y.retain_grad()
    (y * y + z).sum().backward()
    np.testing.assert_allclose(host(y.grad), 2 * host(y.detach()))
    assert z.grad is None  # not asked for
    np.testing.assert_allclose(host(x.grad), 3 * 2 * host(y.detach()) + 2)


# ------------------------------------------------------------------------- grad modes


def test_no_grad_records_nothing():
    x = leaf([1.0, 2.0])
    with minigen.no_grad():
        y = x * 2.0
        assert not minigen.is_grad_enabled()
        with minigen.enable_grad():
            w = x * 2.0
    assert minigen.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert w.requires_grad and w.grad_fn == "Mul"

    @minigen.no_grad()
    def double(t):
        return t * 2.0

    assert double.__name__ == "double" and not double(x).requires_grad


# ------------------------------------------------------------------------- freeing, errors


def test_saved_arrays_are_freed_after_backward(device):
    x = leaf([1.0, 2.0], device)
    y = x * x
    ctx = y._ctx
    assert len(ctx.saved) == 2
    y.sum().backward()
    assert ctx.saved is None


@pytest.mark.parametrize("make", [lambda x: (x * x).sum(), lambda x: (x + 1.0).sum()],
                         ids=["saves arrays", "saves nothing"])
def test_a_second_backward_needs_retain_graph(device, make):
    x = leaf([1.0, 2.0], device)
    y = make(x)
    y.backward(retain_graph=True)
    first = host(x.grad).copy()
    y.backward()  # allowed: the first call kept the graph
    np.testing.assert_allclose(host(x.grad), 2 * first)
    with pytest.raises(minigen.GraphError, match="retain_graph=True"):
        y.backward()


def test_backward_of_a_non_scalar_needs_a_gradient():
    y = leaf([1.0, 2.0]) * 2.0
    with pytest.raises(minigen.GraphError, match=r"shape \(2,\)"):
        y.backward()
    y.backward(minigen.tensor([1.0, 1.0], dtype="float64"))  # with one it works


def test_backward_without_requires_grad_or_with_create_graph_is_an_error():
    with pytest.raises(minigen.GraphError, match="does not require grad"):
        minigen.tensor([1.0]).sum().backward()
    with pytest.raises(minigen.GraphError, match="higher-order"):
        (leaf([1.0]) * 2.0).sum().backward(create_graph=True)


def test_integer_tensors_cannot_require_grad():
    t = minigen.tensor([1, 2, 3])
    with pytest.raises(minigen.DTypeError, match="int64"):
        t.requires_grad_()
    with pytest.raises(minigen.DTypeError):
        minigen.tensor([1, 2], requires_grad=True)


def test_mixing_dtypes_is_an_error_naming_both():
    a = minigen.ones(2)
    b = minigen.ones(2, dtype="float64")
    with pytest.raises(minigen.DTypeError, match="float32.*float64|float64.*float32"):
        a + b
    a + b.float()  # after an explicit cast it works


def test_mixing_devices_is_an_error_naming_both():
    a = minigen.ones(2)
    b = minigen.ones(2, device="strict")
    with pytest.raises(minigen.DeviceError, match="cpu.*strict|strict.*cpu"):
        a * b
    a * b.to("cpu")


def test_an_ndarray_on_the_left_reaches_the_tensor_operators():
    t = leaf([1.0, 2.0], dtype="float32")
    left = np.array([3.0, 4.0], dtype=np.float32)
    for out in (left * t, left + t, left - t, left / t):
        assert isinstance(out, minigen.Tensor) and out.requires_grad
    (left * t).sum().backward()
    np.testing.assert_allclose(host(t.grad), left)
    with pytest.raises(minigen.DTypeError):  # a float64 array is not silently cast
        np.ones(2) * t


# ------------------------------------------------------------------------- detect_anomaly


def test_detect_anomaly_names_the_op_of_a_nan_in_forward(device):
    x = leaf([-1.0, 1.0], device)
    with np.errstate(invalid="ignore"):  # NumPy's own warning is not what is under test
        y = minigen.log(x)  # without detect_anomaly: NaN, silently
        assert np.isnan(host(y.detach())[0])
        with minigen.detect_anomaly(), pytest.raises(minigen.AnomalyError) as error:
            minigen.log(x)
    assert "NaN" in str(error.value) and "output of Log" in str(error.value)
    assert "test_autograd.py" in str(error.value)  # the line of user code that made it


def test_detect_anomaly_names_the_op_of_a_bad_gradient(device):
    x = leaf([0.0, 1.0], device)  # d sqrt(x)/dx = 1 / (2 sqrt(x)) is infinite at 0
    with np.errstate(divide="ignore", invalid="ignore"):
        with minigen.detect_anomaly():
            y = minigen.sqrt(x).sum()  # the forward is fine
            with pytest.raises(minigen.AnomalyError, match="gradient of Sqrt"):
                y.backward()


# ------------------------------------------------------------------------- user Functions


class UserCube(Function):
    """x ** 3 written as a student would in the lesson on custom ops."""

    @staticmethod
    def forward(ctx, x, scale=1.0):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return scale * x * x * x

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_arrays
        return grad_out * 3 * ctx.scale * x * x  # d(s x^3)/dx = 3 s x^2


class UserScaledAdd(Function):
    """a + k b with broadcasting, returning gradients of the output's shape."""

    @staticmethod
    def forward(ctx, a, b, k):
        ctx.k = k
        return a + k * b

    @staticmethod
    def backward(ctx, grad_out):
        return (grad_out if ctx.needs_input_grad[0] else None,
                grad_out * ctx.k if ctx.needs_input_grad[1] else None)


def test_a_user_function_works_like_a_builtin(device):
    x = leaf([[1.0, -2.0], [0.5, 3.0]], device)
    assert minigen.gradcheck(lambda t: UserCube.apply(t, scale=2.0), x)
    b = leaf([1.0, 2.0], device)
    assert minigen.gradcheck(lambda s, t: UserScaledAdd.apply(s, t, 3.0), x, b)
    out = UserCube.apply(x)
    assert out.grad_fn == "UserCube" and isinstance(out, minigen.Tensor)


class UserWrongShape(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.n = x.shape[0]
        return x * 2

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out[: ctx.n - 1, ...] * 2  # bug: one row short


class UserTooFewDims(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad_out):
        return backend.namespace(grad_out).sum(grad_out)  # bug: a 0-d gradient


@pytest.mark.parametrize("op", [UserWrongShape, UserTooFewDims])
def test_a_backward_of_the_wrong_shape_is_named(device, op):
    x = leaf([[1.0, 2.0, 3.0]] * 2, device)
    with pytest.raises(minigen.ShapeError, match=f"{op.__name__}.*shape"):
        op.apply(x).sum().backward()
