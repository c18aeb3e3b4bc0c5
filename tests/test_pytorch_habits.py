"""What a PyTorch user writes, and what minigen does with it: the same, or a refusal that
names the difference and the fix (never a silent difference, never an error from deep in a
dependency). Found by trying the library as a student would."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import minigen
from minigen import nn
from tests.opcheck import host


def test_tensor_copies_and_from_numpy_shares():
    n = np.zeros(3, np.float32)
    copied, shared = minigen.tensor(n), minigen.from_numpy(n)
    n[0] = 4.0
    assert copied.tolist() == [0.0, 0.0, 0.0] and shared.tolist() == [4.0, 0.0, 0.0]
    p = minigen.randn(3)
    q = minigen.tensor(p)
    p.data[0] = 100.0
    assert q[0].item() != 100.0
    with pytest.raises(TypeError, match="from_numpy takes a NumPy array"):
        minigen.from_numpy([1.0])


def test_replacing_a_parameter_with_a_tensor_is_refused():
    """It would drop out of parameters() and state_dict(): not trained, not saved."""
    lin = nn.Linear(3, 2)
    with pytest.raises(TypeError, match=r"cannot assign a Tensor as parameter 'weight'.*"
                                        r"nn\.Parameter\(t\)"):
        lin.weight = minigen.randn(2, 3)
    lin.weight = nn.Parameter(minigen.randn(2, 3))
    lin.bias = None
    assert [name for name, _ in lin.named_parameters()] == ["weight"]


def test_data_set_to_a_tensor_says_so():
    lin = nn.Linear(3, 2)
    lin.weight.data = minigen.zeros(2, 3)  # (PyTorch's .data is a Tensor; minigen's an array)
    with pytest.raises(TypeError, match=r"write p\.data = t\.data"):
        lin(minigen.randn(1, 3))


def test_operators_by_name_and_view_as(device):
    """x.div(255), x.add(y, alpha=2), target.view_as(pred): as in pytorch/examples."""
    x = minigen.tensor([[1.0, -2.0], [3.0, 4.5]], device=device, requires_grad=True)
    y = minigen.tensor([0.5, 2.0], device=device)
    pairs = [(x.add(y), x + y), (x.add(y, alpha=2), x + 2 * y), (x.sub(y), x - y),
             (x.sub(y, alpha=0.5), x - 0.5 * y), (x.mul(y), x * y), (x.div(y), x / y),
             (x.div(2), x / 2), (x.detach().div(y, rounding_mode="floor"), x.detach() // y)]
    for named, operator in pairs:
        np.testing.assert_array_equal(host(named.detach()), host(operator.detach()))
    x.div(255).sum().backward()
    np.testing.assert_allclose(host(x.grad), np.full((2, 2), 1 / 255, np.float32))
    with pytest.raises(ValueError, match="rounding_mode"):
        x.div(y, rounding_mode="trunc")
    target = minigen.arange(4, device=device)
    assert target.view_as(minigen.zeros(4, 1)).shape == (4, 1)


def test_pytorchs_module_paths_and_device_queries():
    """torch.utils.data, torch.nn.functional, torch.cuda and torch.accelerator under
    minigen's name, so that a PyTorch program runs with only its imports changed."""
    assert importlib.import_module("minigen.utils.data") is minigen.data
    assert minigen.nn.functional.relu is minigen.functional.relu
    assert minigen.utils.data.DataLoader is minigen.data.DataLoader
    assert minigen.cuda.is_available() == minigen.accelerator.is_available()
    if minigen.cuda.is_available():
        assert minigen.accelerator.current_accelerator() == minigen.device("cuda")
        assert minigen.cuda.device_count() >= 1
    else:
        assert minigen.accelerator.current_accelerator() is None
        assert minigen.cuda.device_count() == minigen.accelerator.device_count() == 0
        minigen.cuda.manual_seed_all(0)  # (does nothing without a GPU, as in PyTorch)


def test_max_of_two_tensors_names_maximum():
    a, b = minigen.randn(3), minigen.randn(3)
    with pytest.raises(TypeError, match=r"minigen\.maximum\(a, b\)"):
        minigen.max(a, b)
    with pytest.raises(TypeError, match=r"minigen\.minimum\(a, b\)"):
        a.min(b)


@pytest.mark.parametrize("name", ["sum", "mean", "var", "std", "amax", "amin", "logsumexp",
                                  "argmax", "argmin", "prod", "all", "any", "max", "min",
                                  "cumsum", "softmax", "log_softmax"])
def test_numpy_names_axis_and_keepdims(device, name):
    """x.sum(axis=1, keepdims=True) works, as in PyTorch (which takes NumPy's names for dim
    and keepdim), as method and function; both spellings at once is refused."""
    x = minigen.tensor(np.arange(1.0, 13.0).reshape(3, 4) / 7, device=device)
    if name in ("all", "any"):
        x = x > 0.8
    keeps = name not in ("cumsum", "softmax", "log_softmax")
    extra = {"keepdims": True} if keeps else {}
    want = getattr(x, name)(dim=1, **({"keepdim": True} if keeps else {}))
    for got in (getattr(x, name)(axis=1, **extra), getattr(minigen, name)(x, axis=1, **extra)):
        for a, b in zip(want if isinstance(want, tuple) else (want,),
                        got if isinstance(got, tuple) else (got,)):
            np.testing.assert_array_equal(host(a), host(b))
    with pytest.raises(TypeError, match="not both"):
        getattr(x, name)(dim=1, axis=1)
