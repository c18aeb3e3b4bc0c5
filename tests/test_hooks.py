"""Hooks (Tensor.register_hook; the forward hooks of extras.module_methods), and handles
that remove them."""

from __future__ import annotations

import numpy as np
import pytest

import minigen
from minigen import nn
from minigen.errors import GraphError, ShapeError
from tests.opcheck import host


def test_a_leaf_hook_sees_and_can_replace_the_gradient(device):
    x = minigen.tensor([1.0, 2.0], dtype="float64", device=device, requires_grad=True)
    seen = []
    first = x.register_hook(lambda g: seen.append(host(g).tolist()))
    second = x.register_hook(lambda g: g * 10)  # after the first: it saw the original
    (x * x).sum().backward()
    assert seen == [[2.0, 4.0]]
    np.testing.assert_array_equal(host(x.grad), [20.0, 40.0])
    first.remove()
    second.remove()
    second.remove()  # (twice is fine)
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [2.0, 4.0])
    assert seen == [[2.0, 4.0]]


def test_an_intermediate_hook_gets_the_summed_gradient_once(device):
    """y is used twice: its hook runs once, with both contributions, and what it returns is
    what flows on to x."""
    x = minigen.tensor([1.0, -1.0], dtype="float64", device=device, requires_grad=True)
    y = x * 3
    calls = []

    def halve(g):
        calls.append(host(g).tolist())
        return g / 2

    y.register_hook(halve)
    (y * y + y).sum().backward()  # d/dy = 2y + 1 = [7, -5]
    assert calls == [[7.0, -5.0]]
    np.testing.assert_array_equal(host(x.grad), [10.5, -7.5])  # 3 * [7, -5] / 2


def test_a_hook_that_removes_itself_runs_once():
    x = minigen.tensor([1.0], requires_grad=True)
    calls = []
    handle = None

    def once(g):
        calls.append(1)
        handle.remove()

    handle = x.register_hook(once)
    for _ in range(2):
        (x * 2).sum().backward()
    assert calls == [1]


def test_hook_errors_are_named():
    x = minigen.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g.sum())
    with pytest.raises(ShapeError, match=r"must return a tensor of shape \(2,\), got \(\)"):
        (x * x).sum().backward()
    y = minigen.tensor([1.0], requires_grad=True)
    y.register_hook(lambda g: g.numpy())
    with pytest.raises(TypeError, match="must return None or a minigen Tensor, got ndarray"):
        (y * 2).sum().backward()
    with pytest.raises(GraphError, match="does not require grad"):
        minigen.zeros(2).register_hook(lambda g: g)
    with pytest.raises(TypeError, match="must be callable"):
        nn.Linear(2, 2).register_forward_hook(3)


def test_forward_hooks_record_and_replace():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    shapes = []
    record = model[1].register_forward_hook(lambda m, args, out: shapes.append(out.shape))
    zero = model[2].register_forward_hook(lambda m, args, out: out * 0)
    double = model[0].register_forward_pre_hook(lambda m, args: args[0] * 2)
    x = minigen.randn(5, 4)
    out = model(x)
    assert shapes == [(5, 3)]
    np.testing.assert_array_equal(out.detach().numpy(), np.zeros((5, 2)))
    zero.remove()
    double.remove()
    with record:  # a handle is a context manager: removed on exit
        expected = model[2](model[1](model[0](x)))
    np.testing.assert_array_equal(model(x).detach().numpy(), expected.detach().numpy())
    assert len(shapes) == 2  # the with block's call; none after it
