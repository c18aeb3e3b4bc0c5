"""batch_norm and dropout: gradcheck with a random cotangent, the running statistics, train vs
eval, the statistics of dropout's mask, and the errors. On NumPy, the strict device and CuPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigen
from minigen import backend
from minigen.errors import DTypeError, ShapeError
from minigen.gradcheck import GradcheckError
from minigen.ops.normalization import BatchNorm, batch_norm, dropout
from tests.opcheck import GRADCHECK, check_float32, normalization_terms
from tests.profiles import examples

COVERED_OPS = {"BatchNorm", "Dropout"}
COVERED_FUNCTIONS = {"batch_norm", "dropout"}

EPS = 1e-5
shapes = st.one_of(st.tuples(st.integers(2, 5), st.integers(1, 4)),
                   st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
                             st.integers(1, 3)).filter(lambda s: s[0] * s[2] * s[3] > 1))


def _tensor(host, device, requires_grad=False, dtype=minigen.float64):
    return minigen.tensor(host, dtype=dtype, device=device, requires_grad=requires_grad)


def _host(t):
    return backend.to_numpy(t.data)


def reference_batch_norm(x, mean, var, w, b):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    out = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + EPS)
    if w is not None:
        out = out * w.reshape(shape)
    return out if b is None else out + b.reshape(shape)


def _axes(x):
    return (0,) + tuple(range(2, x.ndim))


# ------------------------------------------------------------------ batch_norm


@given(shape=shapes, affine=st.booleans(), seed=st.integers(0, 2**16))
def test_batch_norm_train_forward_and_running_stats(device, shape, affine, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 3 + 1
    w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    rm0, rv0 = rng.standard_normal(shape[1]), rng.random(shape[1]) + 0.5
    rm, rv = _tensor(rm0, device), _tensor(rv0, device)
    out = batch_norm(_tensor(x, device), rm, rv, _tensor(w, device) if affine else None,
                     _tensor(b, device) if affine else None, training=True, momentum=0.3,
                     eps=EPS)
    mean, var = x.mean(axis=_axes(x)), x.var(axis=_axes(x))  # normalised by the BIASED var
    expected = reference_batch_norm(x, mean, var, w if affine else None, b if affine else None)
    np.testing.assert_allclose(_host(out), expected, rtol=1e-10, atol=1e-10)
    # running averages: r = (1 - momentum) r + momentum stat, with the UNBIASED variance
    np.testing.assert_allclose(_host(rm), 0.7 * rm0 + 0.3 * mean, rtol=1e-12)
    np.testing.assert_allclose(_host(rv), 0.7 * rv0 + 0.3 * x.var(axis=_axes(x), ddof=1),
                               rtol=1e-12)


@given(shape=shapes, seed=st.integers(0, 2**16))
def test_batch_norm_eval_uses_running_stats(device, shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    rm0, rv0 = rng.standard_normal(shape[1]), rng.random(shape[1]) + 0.5
    w, b = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    rm, rv = _tensor(rm0, device), _tensor(rv0, device)
    out = batch_norm(_tensor(x, device), rm, rv, _tensor(w, device), _tensor(b, device),
                     training=False)
    np.testing.assert_allclose(_host(out), reference_batch_norm(x, rm0, rv0, w, b),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(_host(rm), rm0)  # eval leaves the running stats alone
    np.testing.assert_array_equal(_host(rv), rv0)


@settings(max_examples=examples(15))
@given(shape=shapes, training=st.booleans(), affine=st.booleans(), seed=st.integers(0, 2**16))
def test_batch_norm_gradcheck(device, shape, training, affine, seed):
    """float64 gradients against finite differences (to 1e-6 relative), then float32
    gradients against float64's (tests.opcheck.check_float32), on the same inputs rounded to
    float32 (running statistics included: they are float32 in the float32 pass)."""
    rng = np.random.default_rng(seed)
    x = _tensor(rng.standard_normal(shape), device, True)
    inputs = [x]
    if affine:
        inputs += [_tensor(rng.standard_normal(shape[1]), device, True),
                   _tensor(rng.standard_normal(shape[1]), device, True)]
    rm0 = rng.standard_normal(shape[1]).astype(np.float32).astype(np.float64)
    rv0 = (rng.random(shape[1]) + 0.5).astype(np.float32).astype(np.float64)

    def fn(x, *affine_params):  # fresh running statistics in x's dtype at each call
        rm, rv = (_tensor(a, device, dtype=x.dtype) for a in (rm0, rv0))
        return batch_norm(x, rm, rv, *affine_params, training=training)

    def reference(h, w=None, b=None):
        mean, var = (h.mean(axis=_axes(h)), h.var(axis=_axes(h))) if training else (rm0, rv0)
        return reference_batch_norm(h, mean, var, w, b)

    def terms(h, *args):  # what the float32 backward subtracts (see check_float32)
        *params, v = args
        shape1 = (1, -1) + (1,) * (h.ndim - 2)
        w = params[0].reshape(shape1) if params else 1.0
        if training:
            for_x, for_w = normalization_terms(h, v, w, _axes(h), EPS)
        else:  # x_hat = (x - running_mean) / sqrt(running_var + eps): that difference
            s = np.sqrt(rv0.reshape(shape1) + EPS)
            for_x, for_w = None, np.abs(v) * (np.abs(h) + np.abs(rm0.reshape(shape1))) / s
        return [for_x] + ([np.sum(for_w, axis=_axes(h)), None] if params else [])

    assert minigen.gradcheck(fn, *inputs, **{**GRADCHECK, "seed": seed})
    out = fn(*inputs)
    assert out.grad_fn == "BatchNorm"
    check_float32(fn, inputs, reference, seed=seed, grad_terms=terms)


def test_batch_norm_gradcheck_of_sum_cannot_see_a_zero_gradient(device, monkeypatch):
    """In training, the rows of batch_norm(x) have mean 0 whatever x is, so sum(batch_norm(x))
    is constant and its gradient is 0: a check through sum() passes a backward that returns
    zeros. The random-cotangent gradcheck catches it."""
    rng = np.random.default_rng(0)
    x = _tensor(rng.standard_normal((6, 3)), device, True)

    def fn(x):
        return batch_norm(x, None, None, training=True)

    fn(x).sum().backward()
    assert np.abs(_host(x.grad)).max() < 1e-12  # the true gradient of the sum: zero
    assert minigen.gradcheck(fn, x)  # the correct op passes the real check

    def zero_input_grad(ctx, grad_out):
        _, grad_w, grad_b = original(ctx, grad_out)
        return grad_out * 0.0, grad_w, grad_b

    original = BatchNorm.backward
    monkeypatch.setattr(BatchNorm, "backward", staticmethod(zero_input_grad))
    assert minigen.gradcheck(lambda x: fn(x).sum(), x)  # the broken op passes a sum() check
    with pytest.raises(GradcheckError):
        minigen.gradcheck(fn, x)  # ... and fails the random-cotangent one


def test_batch_norm_float32_and_batch_last_layout(device):
    """float32 in, float32 out and in every gradient; a conv output (batch-last memory) gives
    the same numbers as a contiguous array."""
    x = minigen.randn(4, 3, 5, 5, device=device)
    w = minigen.randn(2, 3, 3, 3, device=device, requires_grad=True)
    h = minigen.conv2d(x, w, padding=1)  # a (N, C, H, W) view of (C, H, W, N) memory
    gamma = minigen.ones(2, device=device, requires_grad=True)
    beta = minigen.zeros(2, device=device, requires_grad=True)
    out = batch_norm(h, minigen.zeros(2, device=device), minigen.ones(2, device=device), gamma,
                     beta, training=True)
    out.backward(minigen.randn(*out.shape, device=device))
    assert out.dtype == minigen.float32
    assert all(t.grad.dtype == minigen.float32 for t in (w, gamma, beta))
    hh = _host(h).astype(np.float64)
    expected = reference_batch_norm(hh, hh.mean(axis=(0, 2, 3)), hh.var(axis=(0, 2, 3)), None,
                                    None)
    np.testing.assert_allclose(_host(out), expected, rtol=1e-4, atol=1e-4)


@settings(max_examples=examples(25))
@given(shape=shapes, training=st.booleans(), affine=st.booleans(),
       layouts=st.sampled_from(["first/last", "last/first", "last/last"]),
       seed=st.integers(0, 2**16))
def test_batch_norm_same_numbers_in_every_memory_layout(device, shape, training, affine,
                                                          layouts, seed):
    """The gradcheck above feeds contiguous (N, C, ...) arrays. Conv layers leave their outputs
    batch-last, (C, ..., N) in memory, where batch_norm takes its per-channel sums as rows (see
    _channel_dot): for any mix of layouts of input and gradient, the output and every gradient
    equal those of the contiguous arrays."""
    rng = np.random.default_rng(seed)
    xp = backend.namespace(_tensor(0.0, device).data)
    order = tuple(range(1, len(shape))) + (0,)  # (C, ..., N)
    back = (len(shape) - 1,) + tuple(range(len(shape) - 1))

    def layout(host, kind):
        t = _tensor(np.ascontiguousarray(np.transpose(host, order)), device)
        data = xp.permute_dims(t.data, back) if kind == "last" else _tensor(host, device).data
        return minigen.Tensor._make(data)

    x_host, g_host = rng.standard_normal(shape), rng.standard_normal(shape)
    w_host, b_host = rng.standard_normal(shape[1]), rng.standard_normal(shape[1])
    results = []
    for x_kind, g_kind in (("first", "first"), tuple(layouts.split("/"))):
        x = layout(x_host, x_kind).requires_grad_(True)
        params = [_tensor(w_host, device, True), _tensor(b_host, device, True)] if affine else []
        rm, rv = _tensor(np.zeros(shape[1]), device), _tensor(np.ones(shape[1]) * 2, device)
        out = batch_norm(x, rm, rv, *params, training=training)
        out.backward(layout(g_host, g_kind))
        results.append([_host(out), _host(x.grad)] + [_host(p.grad) for p in params])
    for contiguous, other in zip(*results):
        np.testing.assert_allclose(other, contiguous, rtol=1e-10, atol=1e-12)


def test_batch_norm_errors():
    x = minigen.randn(8, 3)
    with pytest.raises(ShapeError, match=r"expected input of shape \(N, C\)"):
        batch_norm(minigen.randn(8), None, None, training=True)
    with pytest.raises(ShapeError, match=r"running_mean of shape \(4,\), expected \(3,\)"):
        batch_norm(x, minigen.zeros(4), minigen.ones(3), training=True)
    with pytest.raises(ShapeError, match=r"weight of shape \(2,\)"):
        batch_norm(x, None, None, minigen.ones(2), training=True)
    with pytest.raises(ShapeError, match="more than 1 value per channel"):
        batch_norm(minigen.randn(1, 3), None, None, training=True)
    with pytest.raises(ShapeError, match="eval mode"):
        batch_norm(x, None, None, training=False)
    with pytest.raises(DTypeError, match="float64"):
        batch_norm(x, minigen.zeros(3, dtype=minigen.float64), minigen.ones(3), training=True)


# ------------------------------------------------------------------ dropout


@settings(max_examples=examples(10))
@given(shape=st.one_of(st.tuples(st.integers(1, 4), st.integers(1, 5)),
                       st.tuples(*[st.integers(1, 3)] * 4)),
       p=st.floats(0.05, 0.9), seed=st.integers(0, 2**16))
def test_dropout_gradcheck(device, shape, p, seed):
    x = _tensor(np.random.default_rng(seed).standard_normal(shape), device, True)

    def fn(x):
        minigen.manual_seed(seed)  # the same mask on every call
        return dropout(x, p)

    assert minigen.gradcheck(fn, x, **{**GRADCHECK, "seed": seed})
    assert fn(x).grad_fn == "Dropout"
    # float32 draws its own mask: the gradient is v / (1 - p) where it kept x, else 0
    x32 = _tensor(_host(x), device, True, dtype=minigen.float32)
    out = fn(x32)
    kept = _host(out) != 0  # (no value of x is 0)
    v = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    out.backward(_tensor(v, device, dtype=minigen.float32))
    assert x32.grad.dtype == minigen.float32
    scale = 1 / (1 - float(np.float32(p)))
    np.testing.assert_allclose(_host(out), np.where(kept, _host(x32) * scale, 0.0), rtol=4e-7)
    np.testing.assert_allclose(_host(x32.grad), np.where(kept, v * scale, 0.0), rtol=4e-7)


@pytest.mark.parametrize("shape", [(100_000,), (40, 10, 10, 25)])  # 4-D: drawn batch-last
@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_keeps_about_1_minus_p_and_the_mean(device, p, shape):
    n = int(np.prod(shape))
    y = _host(dropout(minigen.ones(*shape, device=device), p))
    kept = y != 0
    assert set(np.unique(y)) <= {0.0, np.float32(1 / (1 - p))}
    tolerance = 5 * np.sqrt(p * (1 - p) / n)  # five standard deviations of the kept fraction
    assert abs(kept.mean() - (1 - p)) < tolerance
    assert abs(y.mean() - 1.0) < tolerance / (1 - p)  # inverted dropout preserves the mean
    assert y.dtype == np.float32


def test_dropout_modes_and_errors(device):
    x = minigen.randn(50, 4, device=device, requires_grad=True)
    assert dropout(x, 0.5, training=False) is x
    assert dropout(x, 0.0) is x
    y = dropout(x, 1.0)
    assert not np.any(_host(y))
    y.backward(minigen.ones(50, 4, device=device))
    assert not np.any(_host(x.grad))
    minigen.manual_seed(3)
    a = _host(dropout(x, 0.5))
    minigen.manual_seed(3)
    np.testing.assert_array_equal(_host(dropout(x, 0.5)), a)  # seeded: repeatable
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            dropout(x, bad)


def test_dropout_and_batch_norm_keep_a_conv_outputs_layout():
    """Conv layers return (N, C, H, W) views of (C, H, W, N) memory; dropout and batch norm
    must not transpose that back (each transpose is a slow copy the next conv would undo)."""
    h = minigen.conv2d(minigen.randn(8, 3, 6, 6), minigen.randn(4, 3, 3, 3), padding=1)
    batch_last = h.data.strides
    assert np.argsort(batch_last)[0] == 0  # the batch axis is the innermost in memory
    assert dropout(h, 0.5).data.strides == batch_last
    out = batch_norm(h, None, None, minigen.ones(4), minigen.zeros(4), training=True)
    assert out.data.strides == batch_last
