"""PyTorch's other creation functions: randint, randperm, eye, linspace, logspace, empty and the
``*_like`` ones: their shapes, dtypes, values, refusals, and that the random ones draw from the
seeded per-device generator (``manual_seed``) on every device."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen


def test_randint_forms_and_dtype(device):
    a = minigen.randint(10, (3, 4), device=device)
    b = minigen.randint(-3, 3, (50,), device=device)
    c = minigen.randint(high=5, size=(2,), device=device)
    d = minigen.randint(2, high=4, size=[6])
    assert a.shape == (3, 4) and a.dtype == minigen.int64 and a.device == minigen.device(device)
    assert 0 <= a.numpy().min() and a.numpy().max() < 10
    assert b.numpy().min() >= -3 and b.numpy().max() < 3 and len(set(b.tolist())) == 6
    assert c.shape == (2,) and set(d.tolist()) <= {2, 3}
    f = minigen.randint(5, (4,), dtype="float32", device=device)
    assert f.dtype == minigen.float32 and all(v == int(v) for v in f.tolist())
    assert not a.requires_grad and a.grad is None


@given(st.integers(-2**40, 2**40), st.integers(1, 2**40))
def test_randint_stays_in_its_range(low, width):
    x = minigen.randint(low, low + width, (64,)).numpy()
    assert x.min() >= low and x.max() < low + width


def test_randint_covers_every_value_evenly():
    counts = np.bincount(minigen.randint(7, (70_000,)).numpy(), minlength=7)
    assert counts.min() > 9_500 and counts.max() < 10_500


def test_random_ones_follow_manual_seed_on_every_device(device):
    draws = []
    for _ in range(2):
        minigen.manual_seed(3)
        draws.append([minigen.randint(100, (5,), device=device).tolist(),
                      minigen.randperm(7, device=device).tolist(),
                      minigen.randint_like(minigen.zeros(4, device=device), 9).tolist()])
    assert draws[0] == draws[1]
    minigen.manual_seed(4)
    assert minigen.randint(100, (5,), device=device).tolist() != draws[0][0]


def test_strict_draws_the_cpus_numbers():
    minigen.manual_seed(1)
    cpu = minigen.randint(0, 1000, (8,)).tolist()
    minigen.manual_seed(1)
    assert minigen.randint(0, 1000, (8,), device="strict").tolist() == cpu


def test_a_generator_of_its_own():
    gen = minigen.backend.Generator(minigen.device("cpu"), 5)
    first = minigen.randperm(10, generator=gen).tolist()
    gen.manual_seed(5)
    assert minigen.randint(0, 10, (3,), generator=gen) is not None
    gen.manual_seed(5)
    assert minigen.randperm(10, generator=gen).tolist() == first


def test_randint_refusals_name_the_fix():
    with pytest.raises(TypeError, match=r"missing size.*randint\(10, \(3,\)\)"):
        minigen.randint(10)
    with pytest.raises(TypeError, match=r"size must be a tuple of ints, e\.g\. \(3,\)"):
        minigen.randint(5, 3)
    with pytest.raises(ValueError, match="low < high"):
        minigen.randint(5, 5, (2,))
    with pytest.raises(TypeError, match="missing high"):
        minigen.randint(low=2, size=(4,))
    with pytest.raises(TypeError, match="high must be an int"):
        minigen.randint(2.5, (3,))
    with pytest.raises(minigen.DTypeError, match="only floating tensors can require grad"):
        minigen.randint(5, (2,), requires_grad=True)


def test_randperm_is_a_permutation(device):
    for n in (0, 1, 17):
        p = minigen.randperm(n, device=device)
        assert p.dtype == minigen.int64 and sorted(p.tolist()) == list(range(n))
    assert minigen.randperm(4, dtype="int32").dtype == minigen.int32
    with pytest.raises(ValueError, match="n must be an integer >= 0"):
        minigen.randperm(-1)


def test_randint_like_takes_the_tensors_shape_dtype_device(device):
    x = minigen.zeros(2, 3, dtype="int32", device=device)
    y = minigen.randint_like(x, 5)
    z = minigen.randint_like(x, 2, 5, dtype="float64")
    assert y.shape == (2, 3) and y.dtype == minigen.int32 and y.device == x.device
    assert z.dtype == minigen.float64 and set(z.tolist()[0]) <= {2.0, 3.0, 4.0}


def test_eye(device):
    assert minigen.eye(3, device=device).tolist() == np.eye(3).tolist()
    e = minigen.eye(2, 4, dtype="int64", device=device)
    assert e.dtype == minigen.int64 and e.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0]]
    assert minigen.eye(2).dtype == minigen.float32 and minigen.eye(3, 0).shape == (3, 0)
    assert minigen.eye(2, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match="n must be an integer >= 0"):
        minigen.eye(-1)


def test_linspace_and_logspace(device):
    x = minigen.linspace(0, 1, 5, device=device)
    assert x.dtype == minigen.float32 and x.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert x.device == minigen.device(device)
    assert minigen.linspace(-10, 0, 4, dtype="int64").tolist() == [-10, -6, -3, 0]  # truncated
    assert minigen.linspace(3, 7, 1).tolist() == [3.0] and minigen.linspace(0, 1, 0).shape == (0,)
    np.testing.assert_allclose(minigen.logspace(-3, 0, 4, device=device).numpy(),
                               [1e-3, 1e-2, 1e-1, 1], rtol=1e-6)
    assert minigen.logspace(0, 3, 4, base=2, dtype="float64").tolist() == [1, 2, 4, 8]
    with pytest.raises(TypeError):
        minigen.linspace(0, 1)  # no default steps, as in PyTorch 2
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        minigen.linspace(0, 1, 2.5)


def test_empty_is_zeros(device):
    for e in (minigen.empty(2, 3, device=device), minigen.empty((2, 3), device=device)):
        assert e.shape == (2, 3) and e.dtype == minigen.float32 and e.tolist() == [[0.0] * 3] * 2
    assert minigen.empty(4, dtype="int64").dtype == minigen.int64


def test_like_functions_take_device_and_requires_grad(device):
    x = minigen.zeros(2, 2, dtype="int64")
    f = minigen.full_like(x, 2.7)
    assert f.dtype == minigen.int64 and f.tolist() == [[2, 2], [2, 2]]  # as PyTorch: truncated
    assert minigen.full_like(x, 1.5, dtype="float32", device=device).device == minigen.device(
        device)
    y = minigen.zeros(3)
    for fn in (minigen.rand_like, minigen.randn_like, minigen.zeros_like, minigen.ones_like):
        t = fn(y, device=device, requires_grad=True)
        assert t.requires_grad and t.device == minigen.device(device) and t.shape == (3,)


def test_random_floats_refuse_integer_dtypes_with_the_fix():
    with pytest.raises(minigen.DTypeError, match=r"randint"):
        minigen.rand(2, dtype="int64")
    with pytest.raises(minigen.DTypeError, match=r"randint"):
        minigen.randn_like(minigen.zeros(2, dtype="int64"))
