"""The Tensor: creation functions, seeding, moves between devices, conversions, repr."""

from __future__ import annotations

import numpy as np
import pytest

import minigen
from tests.opcheck import host

# ------------------------------------------------------------------------- creation


@pytest.mark.parametrize("make", [minigen.zeros, minigen.ones, minigen.randn, minigen.rand])
def test_creation_takes_varargs_or_a_tuple_and_defaults_to_float32(device, make):
    a, b = make(2, 3, device=device), make((2, 3), device=device)
    assert a.shape == b.shape == (2, 3)
    assert a.dtype == b.dtype == minigen.float32
    assert a.device == minigen.device(device)
    assert not a.requires_grad and a.is_leaf
    assert make(4, dtype="float64", device=device).dtype == minigen.float64
    assert make(2, device=device, requires_grad=True).requires_grad


def test_creation_values(device):
    np.testing.assert_array_equal(host(minigen.zeros(2, 2, device=device)), np.zeros((2, 2)))
    np.testing.assert_array_equal(host(minigen.ones(3, device=device)), np.ones(3))
    full = minigen.full((2,), 7.5, device=device)
    assert full.dtype == minigen.float32
    np.testing.assert_array_equal(host(full), [7.5, 7.5])
    u = host(minigen.rand(1000, device=device))
    assert u.min() >= 0.0 and u.max() < 1.0


def test_tensor_infers_float32_for_floats_and_int64_for_ints(device):
    assert minigen.tensor([1.0, 2.0], device=device).dtype == minigen.float32
    assert minigen.tensor([[1, 2], [3, 4]], device=device).dtype == minigen.int64
    assert minigen.tensor([1, 2.5], device=device).dtype == minigen.float32  # any float
    assert minigen.tensor(3.0, device=device).shape == ()
    assert minigen.tensor(np.zeros(2, np.float64), device=device).dtype == minigen.float64
    assert minigen.tensor(np.float64(2.0), device=device).dtype == minigen.float64  # a scalar too
    assert minigen.tensor([1, 2], dtype="float64", device=device).dtype == minigen.float64
    assert minigen.Tensor([1.0, 2.0]).dtype == minigen.float32


def test_arange_dtypes(device):
    ints = minigen.arange(5, device=device)
    assert ints.dtype == minigen.int64
    np.testing.assert_array_equal(host(ints), np.arange(5))
    floats = minigen.arange(0.0, 1.0, 0.25, device=device)
    assert floats.dtype == minigen.float32
    np.testing.assert_allclose(host(floats), [0, 0.25, 0.5, 0.75])


def test_like_functions_keep_dtype_and_device(device):
    t = minigen.zeros(2, 3, dtype="float64", device=device)
    for like in (minigen.zeros_like(t), minigen.ones_like(t), minigen.randn_like(t),
                 minigen.rand_like(t), minigen.full_like(t, 2.0)):
        assert (like.shape, like.dtype, like.device) == (t.shape, t.dtype, t.device)


def test_manual_seed_repeats_random_draws_exactly(device):
    minigen.manual_seed(123)
    a, u = minigen.randn(4, 5, device=device), minigen.rand(3, device=device)
    minigen.manual_seed(123)
    b, v = minigen.randn(4, 5, device=device), minigen.rand(3, device=device)
    np.testing.assert_array_equal(host(a), host(b))
    np.testing.assert_array_equal(host(u), host(v))
    minigen.manual_seed(124)
    assert not np.array_equal(host(minigen.randn(4, 5, device=device)), host(a))


# ------------------------------------------------------------------------- moves and casts


def test_to_device_round_trip_keeps_values_and_gradient():
    x = minigen.tensor([1.0, -2.0, 3.0], dtype="float64", requires_grad=True)
    on_strict = x.to("strict")
    assert on_strict.device == minigen.device("strict") and on_strict.grad_fn == "ToDevice"
    y = (on_strict * on_strict).to("cpu")
    assert y.device == minigen.device("cpu")
    np.testing.assert_array_equal(host(y), host(x.detach()) ** 2)
    y.sum().backward()
    assert x.grad.device == minigen.device("cpu")
    np.testing.assert_allclose(host(x.grad), 2 * host(x.detach()))
    assert x.to("cpu") is x  # already there: no copy, no graph node


def test_is_cuda_says_whether_the_tensor_is_on_a_cuda_gpu(device):
    x = minigen.zeros(2, device=device)
    assert x.is_cuda is (device == "cuda")


def test_to_dtype_casts_and_the_gradient_comes_back_in_the_original_dtype(device):
    x = minigen.tensor([1.5, 2.5], device=device, requires_grad=True)
    y = x.to(minigen.float64)
    assert y.dtype == minigen.float64 and x.double().dtype == minigen.float64
    (y * 3.0).sum().backward()
    assert x.grad.dtype == minigen.float32
    np.testing.assert_array_equal(host(x.grad), [3.0, 3.0])
    assert x.to("float32") is x


def test_numpy_refuses_a_tensor_that_requires_grad(device):
    x = minigen.ones(2, device=device, requires_grad=True)
    with pytest.raises(minigen.GraphError, match="detach"):
        x.numpy()
    values = x.detach().numpy()
    assert isinstance(values, np.ndarray)
    np.testing.assert_array_equal(values, [1.0, 1.0])


def test_numpy_shares_memory_on_the_cpu():
    x = minigen.zeros(3)
    x.numpy()[0] = 5.0
    assert x[0].item() == 5.0


def test_no_silent_conversion_of_device_tensors_to_numpy():
    with pytest.raises(minigen.DeviceError, match="explicitly"):
        np.asarray(minigen.ones(2, device="strict"))


def test_item(device):
    assert minigen.tensor([[2.5]], device=device).item() == 2.5
    assert isinstance(minigen.tensor(3, device=device).item(), int)
    assert float(minigen.tensor(1.5, device=device)) == 1.5
    with pytest.raises(ValueError, match=r"\(2,\)"):
        minigen.ones(2, device=device).item()


def test_repr():
    assert repr(minigen.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(minigen.tensor([1, 2])) == "tensor([1, 2])"
    x = minigen.tensor([1.0], dtype="float64", device="strict", requires_grad=True)
    assert repr(x) == "tensor([1.], dtype=minigen.float64, device='strict:1', requires_grad=True)"
    assert repr(x * 2.0).endswith("grad_fn=<Mul>)")


def test_detach_shares_data_and_leaves_the_graph():
    x = minigen.ones(2, requires_grad=True)
    y = (x * 2.0).detach()
    assert not y.requires_grad and y.is_leaf and y.grad_fn is None


# ------------------------------------------------------------------------- methods


def test_methods_match_functions(device):
    x = minigen.tensor(np.arange(6.0).reshape(2, 3), device=device)
    np.testing.assert_array_equal(host(x.T), host(x).T)
    np.testing.assert_array_equal(host(x.reshape(3, 2)), host(x.reshape((3, 2))))
    np.testing.assert_array_equal(host(x.permute(1, 0)), host(x.permute((1, 0))))
    np.testing.assert_array_equal(host(x.sum(1)), host(x).sum(1))
    np.testing.assert_array_equal(host(x.argmax(1)), [2, 2])
    assert x.argmax().item() == 5
    assert len(x) == 2 and x.size() == (2, 3) and x.size(1) == 3 and x.numel() == 6
    assert x.ndim == x.dim() == 2
    np.testing.assert_array_equal(host(x.pow(2)), host(x) ** 2)  # PyTorch's method names
    np.testing.assert_array_equal(host(x.neg()), -host(x))
    np.testing.assert_array_equal(host(x.clip(1.0, 4.0)), np.clip(host(x), 1.0, 4.0))


def test_comparisons_give_boolean_tensors_outside_the_graph(device):
    x = minigen.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    mask = x > 1.5
    assert mask.dtype == minigen.bool_ and not mask.requires_grad
    np.testing.assert_array_equal(host(mask), [False, True, True])
    np.testing.assert_array_equal(host(x == x), [True, True, True])


def test_pytorch_operators_abs_and_mask_logic(device):
    """abs(t), and &, |, ^, ~ on boolean masks, as in PyTorch; logic on floats is refused."""
    x = minigen.tensor([-1.5, 0.0, 2.0], device=device)
    np.testing.assert_array_equal(host(abs(x)), [1.5, 0.0, 2.0])
    a, b = x > -1.0, x < 1.0
    np.testing.assert_array_equal(host(a & b), [False, True, False])
    np.testing.assert_array_equal(host(a | b), [True, True, True])
    np.testing.assert_array_equal(host(a ^ b), [True, False, True])
    np.testing.assert_array_equal(host(~a), [True, False, False])
    with pytest.raises(minigen.DTypeError, match="boolean"):
        x & x
    assert x.unsqueeze(0).expand_as(minigen.zeros(4, 3)).shape == (4, 3)


def test_tensor_from_an_array_already_on_the_device() -> None:
    """No round trip through NumPy (which the strict device, like CuPy, refuses)."""
    on_device = minigen.zeros(3, device="strict").data
    t = minigen.tensor(on_device, device="strict")
    assert t.device == "strict" and t.dtype == minigen.float32
    assert minigen.tensor(on_device, dtype=minigen.float64, device="strict").dtype == "float64"
