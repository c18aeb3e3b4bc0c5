"""minigen.backend: devices, dtypes, namespaces, host<->device moves, the shims, the generators."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigen
from minigen import backend
from minigen.extras import _arrays

HAS_CUPY = importlib.util.find_spec("cupy") is not None

# ------------------------------------------------------------------------- devices


def test_device_parsing():
    assert backend.device(None) == backend.device("cpu") == "cpu"
    strict = backend.device("strict")
    assert strict.type == "strict" and str(strict) == "strict:1" and strict == "strict:1"
    assert backend.device("strict:2") != strict
    assert backend.device(strict) is strict
    assert backend.device("cpu") != "strict" and backend.device("cpu") != "nonsense"


@pytest.mark.parametrize("spec, match", [("tpu", "unknown device type 'tpu'.*'cpu'"),
                                         ("cuda:x", "bad device index"),
                                         (3, "a device is a string")])
def test_bad_devices_are_named(spec, match):
    with pytest.raises(minigen.DeviceError, match=match):
        backend.device(spec)


@pytest.mark.skipif(HAS_CUPY, reason="CuPy is installed here")
def test_cuda_without_cupy_says_how_to_install_it():
    with pytest.raises(minigen.DeviceError, match=r"CuPy.*pip install 'minigen\[cuda\]'"):
        backend.device("cuda")
    assert not backend.cuda_is_available()
    with pytest.raises(minigen.DeviceError, match="CuPy"):
        minigen.zeros(2, device="cuda")


# ------------------------------------------------------------------------- dtypes


def test_dtype_parsing():
    assert backend.as_dtype("float32") is minigen.float32
    assert backend.as_dtype(np.float64) is minigen.float64
    assert backend.as_dtype("double") is minigen.float64
    assert backend.as_dtype(None) is backend.get_default_dtype()
    assert minigen.float32 == "float32" and minigen.float32.is_floating_point
    assert not minigen.int64.is_floating_point
    with pytest.raises(minigen.DTypeError, match="unknown dtype"):
        backend.as_dtype("float16")


def test_set_default_dtype():
    try:
        minigen.set_default_dtype("float64")
        assert minigen.zeros(2).dtype == minigen.float64
        assert minigen.tensor([1.0]).dtype == minigen.float64
    finally:
        minigen.set_default_dtype("float32")
    assert minigen.zeros(2).dtype == minigen.float32
    with pytest.raises(minigen.DTypeError, match="floating"):
        minigen.set_default_dtype("int64")


# ------------------------------------------------------------------------- arrays


def test_namespace_device_and_dtype_of_arrays(device):
    dev = backend.device(device)
    x = backend.asarray([1.0, 2.0], minigen.float32, dev)
    assert backend.namespace(x) is dev.xp or backend.namespace(x).__name__ == dev.xp.__name__
    assert backend.device_of(x) == dev
    assert backend.dtype_of(x) == minigen.float32
    assert backend.dtype_of(backend.asarray([1, 2], minigen.int64, dev)) == minigen.int64


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_moves_between_host_and_device_are_exact(dtype):
    host = np.arange(6).reshape(2, 3).astype(dtype)
    strict = backend.to_device(host, backend.device("strict"))
    assert backend.device_of(strict) == "strict" and backend.dtype_of(strict) == dtype
    back = backend.to_numpy(strict)
    assert isinstance(back, np.ndarray) and back.dtype == host.dtype
    np.testing.assert_array_equal(back, host)
    assert backend.to_device(host, backend.device("cpu")) is host  # no copy when in place


# ------------------------------------------------------------------------- shims


@given(data=st.data())
def test_scatter_add_adds_repeated_indices(device, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=4), label="shape")
    axis = data.draw(st.integers(0, len(shape) - 1), label="axis")
    index = data.draw(st.lists(st.integers(0, shape[axis] - 1), max_size=6), label="index")
    values = data.draw(hnp.arrays(np.float64, shape[:axis] + (len(index),) + shape[axis + 1:],
                                  elements=st.floats(-10, 10)), label="values")
    expected = np.zeros(shape)
    np.add.at(expected, (slice(None),) * axis + (np.asarray(index, dtype=np.int64),), values)
    dev = backend.device(device)
    out = _arrays.scatter_add(shape, axis, backend.asarray(index, minigen.int64, dev),
                              backend.asarray(values, minigen.float64, dev))
    assert backend.device_of(out) == dev and backend.dtype_of(out) == minigen.float64
    np.testing.assert_allclose(backend.to_numpy(out), expected, rtol=1e-12, atol=1e-12)


@given(data=st.data())
def test_pad_then_unpad_is_the_identity(device, data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3), label="shape")
    widths = tuple(data.draw(st.tuples(st.integers(0, 2), st.integers(0, 2)), label="width")
                   for _ in shape)
    values = np.arange(np.prod(shape), dtype=np.float32).reshape(shape)
    x = backend.asarray(values, minigen.float32, backend.device(device))
    padded = backend.pad(x, widths, value=-1.0)
    assert backend.dtype_of(padded) == minigen.float32
    np.testing.assert_array_equal(backend.to_numpy(padded),
                                  np.pad(values, widths, constant_values=-1.0))
    np.testing.assert_array_equal(backend.to_numpy(backend.unpad(padded, widths)), values)


# ------------------------------------------------------------------------- generators


def test_generators_give_the_asked_shape_dtype_and_device(device):
    gen = backend.Generator(backend.device(device), seed=5)
    for draw in (gen.normal, gen.uniform):
        for dtype in (minigen.float32, minigen.float64):
            a = draw((3, 2), dtype)
            assert tuple(a.shape) == (3, 2) and backend.dtype_of(a) == dtype
            assert backend.device_of(a) == device
    perm = backend.to_numpy(gen.permutation(10))
    np.testing.assert_array_equal(np.sort(perm), np.arange(10))


def test_generator_state_resumes_exactly(device):
    gen = backend.Generator(backend.device(device), seed=7)
    gen.normal((4,), minigen.float32)
    state = gen.get_state()
    first = backend.to_numpy(gen.normal((5,), minigen.float32))
    gen.normal((100,), minigen.float32)
    gen.set_state(state)
    np.testing.assert_array_equal(backend.to_numpy(gen.normal((5,), minigen.float32)), first)


def test_a_restart_point_resumes_exactly_and_both_runs_go_on_alike(device):
    """The CUDA way of saving (a reseed from seed and counter), checked on every device."""
    dev = backend.device(device)
    going_on = backend.Generator(dev, seed=7, restart_on_save=True)
    going_on.normal((4,), minigen.float32)
    state = going_on.get_state()
    assert set(state) == {"restart"}
    after = backend.to_numpy(going_on.normal((5,), minigen.float32))
    resumed = backend.Generator(dev, seed=123, restart_on_save=True)  # any seed: set_state wins
    resumed.set_state(state)
    np.testing.assert_array_equal(backend.to_numpy(resumed.normal((5,), minigen.float32)), after)
    fresh = backend.to_numpy(backend.Generator(dev, seed=7).normal((5,), minigen.float32))
    assert not np.array_equal(after, fresh)  # a restart is a new stream, not the seed's again


def test_states_cross_between_the_two_kinds_of_generator(device):
    dev = backend.device(device)
    plain, restarting = backend.Generator(dev, 3), backend.Generator(dev, 3, restart_on_save=True)
    restart_point = restarting.get_state()
    plain.set_state(restart_point)  # a run saved on CUDA, resumed on the CPU
    np.testing.assert_array_equal(backend.to_numpy(plain.uniform((6,), minigen.float64)),
                                  backend.to_numpy(restarting.uniform((6,), minigen.float64)))
    cpu_state = backend.Generator(dev, 3).get_state()
    a, b = (backend.Generator(dev, s, restart_on_save=True) for s in (8, 9))
    a.set_state(cpu_state)  # a run saved on the CPU, resumed on CUDA: repeatable
    b.set_state(cpu_state)
    np.testing.assert_array_equal(backend.to_numpy(a.normal((6,), minigen.float64)),
                                  backend.to_numpy(b.normal((6,), minigen.float64)))
    with pytest.raises(ValueError, match="not a generator state"):
        a.set_state({"epoch": 3})


def test_seeded_generators_repeat_and_differ_by_seed(device):
    dev = backend.device(device)
    a = backend.Generator(dev, seed=1).normal((6,), minigen.float64)
    b = backend.Generator(dev, seed=1).normal((6,), minigen.float64)
    c = backend.Generator(dev, seed=2).normal((6,), minigen.float64)
    np.testing.assert_array_equal(backend.to_numpy(a), backend.to_numpy(b))
    assert not np.array_equal(backend.to_numpy(a), backend.to_numpy(c))


def test_keep_freed_memory_takes_effect_on_glibc() -> None:
    """minigen asks glibc to keep freed blocks (see backend.keep_freed_memory); elsewhere the
    call is a no-op that says so."""
    import platform

    took = minigen.backend.keep_freed_memory(True)
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert took
    else:
        assert took is False
