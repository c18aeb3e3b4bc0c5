"""max_pool2d and avg_pool2d: forward (and indices) against PyTorch's CPU kernels transcribed as
plain loops, gradcheck in float64 and the float32 check, ties, NaN, sizes, layers and errors.

Every test runs on NumPy and on the strict device (and CuPy when present), with geometries drawn
by hypothesis per axis: kernel 1-4, stride 1-4 (so stride > kernel too), padding 0 to kernel // 2,
dilation 1-3 (max pooling), ceil_mode, inputs (N, C, H, W) or (C, H, W).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigen
from minigen.errors import DTypeError, ShapeError
from minigen.extras.nn_pooling import AvgPool2d, MaxPool2d
from minigen.extras.pooling import avg_pool2d, max_pool2d, pool2d_output_size
from tests.opcheck import check_op, host
from tests.profiles import examples

COVERED_OPS = {"MaxPool2d", "AvgPool2d"}
COVERED_FUNCTIONS = {"max_pool2d", "avg_pool2d", "pool2d_output_size"}


# ------------------------------------------------------------------ references


def reference_size(n, k, s, p, d, ceil_mode):
    """One axis: (n + 2p - d(k - 1) - 1) / s + 1 rounded down, or up in ceil mode but without
    a last window that would start in the right padding (at n + p or later)."""
    fraction = (n + 2 * p - d * (k - 1) - 1) / s
    out = (math.ceil(fraction) if ceil_mode else math.floor(fraction)) + 1
    return out - 1 if ceil_mode and (out - 1) * s - p >= n else out


def _real_range(o, k, s, p, d, n):
    """PyTorch's loop bounds for window o on one axis: its first tap at or past 0 (stepping
    by the dilation), up to the end of the window or of the input."""
    first = o * s - p
    while first < 0:
        first += d
    return range(first, min(o * s - p + d * (k - 1) + 1, n), d)


def reference_max_pool2d(x, k, s, p, d, ceil_mode):
    """PyTorch's CPU kernel as loops: per window, the real pixels in row-major order, a value
    taking over when strictly greater or NaN; the index starts at the window's first tap at or
    past row and column 0 (its first real pixel, if it has one; if not, its value is -inf)."""
    *lead, height, width = x.shape
    size = [reference_size(n, k[a], s[a], p[a], d[a], ceil_mode)
            for a, n in enumerate((height, width))]
    values = np.full((*lead, *size), -np.inf)
    index = np.zeros((*lead, *size), dtype=np.int64)
    for h in range(size[0]):
        for w in range(size[1]):
            rows = _real_range(h, k[0], s[0], p[0], d[0], height)
            cols = _real_range(w, k[1], s[1], p[1], d[1], width)
            best, where = values[..., h, w], index[..., h, w]  # views, filled in place
            where[...] = rows.start * width + cols.start
            for r in rows:
                for c in cols:
                    v = x[..., r, c]
                    take = (v > best) | np.isnan(v)
                    best[take], where[take] = v[take], r * width + c
    return values, index


def reference_avg_pool2d(x, k, s, p, ceil_mode, count_include_pad, divisor_override):
    """PyTorch's CPU kernel as loops: the window cut at the end of the padded input; its size
    then (with padding) or cut to the input (without) is the divisor."""
    *lead, height, width = x.shape
    size = [reference_size(n, k[a], s[a], p[a], 1, ceil_mode)
            for a, n in enumerate((height, width))]
    out = np.zeros((*lead, *size))
    for h in range(size[0]):
        for w in range(size[1]):
            h0, w0 = h * s[0] - p[0], w * s[1] - p[1]
            h1, w1 = min(h0 + k[0], height + p[0]), min(w0 + k[1], width + p[1])
            pool = (h1 - h0) * (w1 - w0)
            h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, height), min(w1, width)
            divisor = divisor_override or (pool if count_include_pad else (h1 - h0) * (w1 - w0))
            out[..., h, w] = x[..., h0:h1, w0:w1].sum(axis=(-2, -1)) / divisor
    return out


# ------------------------------------------------------------------ strategies


@st.composite
def geometries(draw, dilation=True, extra=3):
    """A pooling geometry that PyTorch accepts, with an input shape that leaves an output."""
    ceil_mode = draw(st.booleans())
    axes = []
    for _ in range(2):
        k, s = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        p, d = draw(st.integers(0, k // 2)), draw(st.integers(1, 3)) if dilation else 1
        smallest = max(1, d * (k - 1) + 1 - 2 * p)
        n = draw(st.integers(smallest, smallest + extra))
        assume(reference_size(n, k, s, p, d, ceil_mode) >= 1)
        axes.append((k, s, p, d, n))
    lead = draw(st.sampled_from([(1, 1), (2, 3), (1, 2), (3,)]))
    k, s, p, d, size = (tuple(a[i] for a in axes) for i in range(5))
    return {"kernel": k, "stride": s, "padding": p, "dilation": d, "ceil_mode": ceil_mode,
            "shape": lead + size}


def _tensor(a, device, requires_grad=False):
    return minigen.tensor(a, dtype=minigen.float64, device=device, requires_grad=requires_grad)


def _distinct(shape, rng):
    """Values 0.37 apart, shuffled: no ties (a tie makes the max non-differentiable)."""
    return rng.permutation(math.prod(shape)).reshape(shape) * 0.37 - 1.0


def _max_args(g):
    return g["kernel"], g["stride"], g["padding"], g["dilation"], g["ceil_mode"]


# ------------------------------------------------------------------ max pooling


@given(g=geometries(), seed=st.integers(0, 2**16), ties=st.booleans())
def test_max_pool2d_matches_reference(device, g, seed, ties):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(g["shape"])
    if ties:  # few distinct values: ties in most windows, which go to the first maximum
        x = np.round(x)
    xt = _tensor(x, device, requires_grad=True)
    values, indices = max_pool2d(xt, *_max_args(g), return_indices=True)
    want_values, want_indices = reference_max_pool2d(x, *_max_args(g))
    np.testing.assert_array_equal(host(values), want_values)
    np.testing.assert_array_equal(host(indices), want_indices)
    assert indices.dtype == minigen.int64 and not indices.requires_grad
    # the gradient goes to the pixel each index names (ties included); none from empty windows
    cotangent = rng.standard_normal(want_values.shape)
    values.backward(_tensor(cotangent, device))
    plane = x.shape[-2] * x.shape[-1]
    want_grad = np.zeros((*x.shape[:-2], plane))
    for lead in np.ndindex(*x.shape[:-2]):
        real = np.isfinite(want_values[lead])
        np.add.at(want_grad[lead], want_indices[lead][real], cotangent[lead][real])
    np.testing.assert_allclose(host(xt.grad), want_grad.reshape(x.shape), rtol=1e-12)


@settings(max_examples=examples(10))
@given(g=geometries(extra=2), seed=st.integers(0, 2**16))
def test_max_pool2d_gradcheck(device, g, seed):
    x = _distinct(g["shape"], np.random.default_rng(seed))
    assume(np.all(np.isfinite(reference_max_pool2d(x, *_max_args(g))[0])))  # no empty window
    check_op(lambda t: max_pool2d(t, *_max_args(g)), [_tensor(x, device, True)],
             lambda a: reference_max_pool2d(a, *_max_args(g))[0], "MaxPool2d", seed=seed)


def test_ties_go_to_the_first_maximum(device):
    """A window's first maximum in row-major order wins, as in PyTorch: it alone gets the
    gradient, and overlapping windows that it wins add up."""
    x = _tensor(np.array([[[[1.0, 2.0, 2.0],
                            [2.0, 0.0, 2.0]]]]), device, requires_grad=True)
    out, index = max_pool2d(x, 2, stride=1, return_indices=True)
    np.testing.assert_array_equal(host(index), [[[[1, 1]]]])  # both windows: pixel (0, 1)
    out.backward(minigen.ones_like(out))
    np.testing.assert_array_equal(host(x.grad), [[[[0.0, 2.0, 0.0], [0.0, 0.0, 0.0]]]])
    # padding (-inf) never wins; an all -inf window names its first real pixel, as PyTorch
    y, index = max_pool2d(_tensor(np.full((1, 3, 3), -np.inf), device), 2, 2, 1,
                          return_indices=True)
    assert np.all(host(y) == -np.inf)
    np.testing.assert_array_equal(host(index), [[[0, 1], [3, 4]]])


def test_a_window_of_padding_only(device):
    """Dilation can make a window that holds padding only (2x2 input, kernel 2, dilation 3,
    padding 1: taps at -1 and 2). It is -inf and gets no gradient; its index is PyTorch's,
    the first tap at or past row and column 0, which lies outside the image: 2 * 2 + 2 = 6.
    (PyTorch's backward writes there, out of bounds.)"""
    x = _tensor(np.arange(4.0).reshape(1, 1, 2, 2), device, requires_grad=True)
    out, index = max_pool2d(x, 2, stride=1, padding=1, dilation=3, return_indices=True)
    assert host(out).tolist() == [[[[-np.inf]]]] and host(index).tolist() == [[[[6]]]]
    out.backward(minigen.ones_like(out))
    np.testing.assert_array_equal(host(x.grad), np.zeros((1, 1, 2, 2)))


def test_nan_wins_its_window(device):
    """NaN propagates, as in PyTorch: the last NaN of a window wins it and gets its gradient."""
    a = np.zeros((1, 1, 3, 3))
    a[0, 0, 0, 0] = a[0, 0, 1, 1] = np.nan
    x = _tensor(a, device, requires_grad=True)
    out, index = max_pool2d(x, 3, return_indices=True)
    assert np.isnan(host(out)).all() and host(index).item() == 4
    out.backward(minigen.ones_like(out))
    np.testing.assert_array_equal(host(x.grad), [[[[0, 0, 0], [0, 1, 0], [0, 0, 0]]]])


# ------------------------------------------------------------------ average pooling


@given(g=geometries(dilation=False), seed=st.integers(0, 2**16),
       count_include_pad=st.booleans(), divisor_override=st.sampled_from([None, 3, -2]))
def test_avg_pool2d_matches_reference(device, g, seed, count_include_pad, divisor_override):
    x = np.random.default_rng(seed).standard_normal(g["shape"])
    args = (g["kernel"], g["stride"], g["padding"], g["ceil_mode"], count_include_pad,
            divisor_override)
    out = avg_pool2d(_tensor(x, device), *args)
    np.testing.assert_allclose(host(out), reference_avg_pool2d(x, *args), rtol=1e-12,
                               atol=1e-14)


@settings(max_examples=examples(10))
@given(g=geometries(dilation=False, extra=2), seed=st.integers(0, 2**16),
       count_include_pad=st.booleans(), divisor_override=st.sampled_from([None, 3]))
def test_avg_pool2d_gradcheck(device, g, seed, count_include_pad, divisor_override):
    x = np.random.default_rng(seed).standard_normal(g["shape"])
    args = (g["kernel"], g["stride"], g["padding"], g["ceil_mode"], count_include_pad,
            divisor_override)
    check_op(lambda t: avg_pool2d(t, *args), [_tensor(x, device, True)],
             lambda a: reference_avg_pool2d(a, *args), "AvgPool2d", seed=seed)


def test_avg_pool2d_divisors():
    """PyTorch's numbers: a 3x3 window with padding 1 on ones divides by 9 including the
    padding (4/9 in a corner), by the real pixels without; ceil mode's last window hangs past
    the padded input and divides by what remains of it (6x6, k=3, s=3, p=1: 1x2 corner)."""
    ones = minigen.ones(1, 1, 6, 6, dtype=minigen.float64)
    with_pad = host(avg_pool2d(ones, 3, 3, 1, ceil_mode=True))
    np.testing.assert_allclose(with_pad[0, 0, 0], [4 / 9, 6 / 9, 3 / 9])
    np.testing.assert_allclose(with_pad[0, 0, 2, 2], 1 / 4)  # one real pixel of 2x2
    np.testing.assert_array_equal(host(avg_pool2d(ones, 3, 3, 1, True, False)), 1.0)
    np.testing.assert_array_equal(host(avg_pool2d(ones, 2, divisor_override=1)), 4.0)


# ------------------------------------------------------------------ sizes and shapes


@given(g=geometries())
def test_output_size(g):
    k, s, p, d, ceil_mode = _max_args(g)
    want = tuple(reference_size(g["shape"][-2 + a], k[a], s[a], p[a], d[a], ceil_mode)
                 for a in (0, 1))
    assert pool2d_output_size(g["shape"][-2:], k, s, p, d, ceil_mode) == want
    assert max_pool2d(minigen.zeros(*g["shape"]), k, s, p, d, ceil_mode).shape[-2:] == want


def test_sizes_pytorch_gives():
    assert pool2d_output_size((28, 28), 2) == (14, 14)
    assert pool2d_output_size((5, 5), 2, 2, ceil_mode=True) == (3, 3)
    # ceil would give 3, but the third window would start in the right padding: 2
    assert pool2d_output_size((4, 4), 2, 3, 1, ceil_mode=True) == (2, 2)
    assert pool2d_output_size((7, 9), (3, 2), (2, 3), (1, 0), (2, 1)) == (3, 3)


def test_unbatched_and_strided_inputs(device):
    """(C, H, W) is one (1, C, H, W) image; a conv's batch-last output and a transposed view
    give the numbers of a contiguous array."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 7, 6))
    batched = max_pool2d(_tensor(x[None], device), 3, 2, 1)
    np.testing.assert_array_equal(host(max_pool2d(_tensor(x, device), 3, 2, 1)), host(batched)[0])
    np.testing.assert_array_equal(host(avg_pool2d(_tensor(x, device), 3, 2, 1)),
                                  host(avg_pool2d(_tensor(x[None], device), 3, 2, 1))[0])
    w = _tensor(rng.standard_normal((4, 3, 3, 3)), device)
    hidden = minigen.conv2d(_tensor(np.stack([x, x]), device), w, padding=1)  # batch-last
    plain = _tensor(host(hidden), device)
    for pool in (max_pool2d, avg_pool2d):
        np.testing.assert_array_equal(host(pool(hidden, 2)), host(pool(plain, 2)))
    flipped = rng.standard_normal((6, 7, 3, 2))
    view = _tensor(flipped, device).permute(3, 2, 1, 0)
    want = reference_max_pool2d(flipped.transpose(3, 2, 1, 0), (2, 2), (2, 2), (0, 0), (1, 1),
                                False)
    np.testing.assert_array_equal(host(max_pool2d(view, 2)), want[0])


# ------------------------------------------------------------------ layers


def test_layers():
    """The modules call the functions with their arguments, keep them as given and show them
    as PyTorch does; they have no parameters."""
    x = minigen.randn(2, 3, 7, 7)
    layer = MaxPool2d((2, 3), padding=1, ceil_mode=True, return_indices=True)
    values, index = layer(x)
    want = max_pool2d(x, (2, 3), None, 1, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(values.numpy(), want[0].numpy())
    np.testing.assert_array_equal(index.numpy(), want[1].numpy())
    assert repr(layer) == ("MaxPool2d(kernel_size=(2, 3), stride=(2, 3), padding=1, "
                           "dilation=1, ceil_mode=True)")
    assert repr(MaxPool2d(3, 2)) == ("MaxPool2d(kernel_size=3, stride=2, padding=0, dilation=1, "
                                     "ceil_mode=False)")
    avg = AvgPool2d(2, 1, 1, True, False, 3)
    np.testing.assert_array_equal(avg(x).numpy(), avg_pool2d(x, 2, 1, 1, True, False, 3).numpy())
    assert repr(avg) == "AvgPool2d(kernel_size=2, stride=1, padding=1)"
    assert layer.parameters() == [] and avg.state_dict() == {}
    with pytest.raises(ValueError, match="half the kernel"):
        MaxPool2d(2, padding=2)
    with pytest.raises(ValueError, match="divisor_override"):
        AvgPool2d(2, divisor_override=0)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize("call, error, match", [
    (lambda x: max_pool2d(x, 3, padding=2), ValueError, r"padding \(2, 2\) is more than half"),
    (lambda x: max_pool2d(x, 3, padding=2, dilation=2), ValueError, "half the kernel"),
    (lambda x: avg_pool2d(x, (4, 2), padding=(2, 2)), ValueError, "half the kernel"),
    (lambda x: max_pool2d(x, 6), ShapeError, r"5x5 gives an empty output 0x0"),
    (lambda x: max_pool2d(x, 3, dilation=3), ShapeError, "empty output"),
    (lambda x: max_pool2d(x, 0), ValueError, "kernel_size must be an int >= 1"),
    (lambda x: avg_pool2d(x, 2, stride=0), ValueError, "stride must be an int >= 1"),
    (lambda x: max_pool2d(x, 2, padding=-1), ValueError, "padding must be an int >= 0"),
    (lambda x: max_pool2d(x, 2, dilation=0), ValueError, "dilation must be an int >= 1"),
    (lambda x: max_pool2d(x, (2, 2, 2)), ValueError, "kernel_size"),
    (lambda x: avg_pool2d(x, 2, divisor_override=0), ValueError, "divisor_override"),
    (lambda x: avg_pool2d(x, 2, divisor_override=1.5), ValueError, "divisor_override"),
    (lambda x: max_pool2d(x[0, 0], 2), ShapeError, r"\(N, C, H, W\) or \(C, H, W\).*\(5, 5\)"),
    (lambda x: max_pool2d(x[None], 2), ShapeError, r"got \(1, 2, 3, 5, 5\)"),
    (lambda x: avg_pool2d(x[:, :0], 2), ShapeError, r"at least 1, got \(2, 0, 5, 5\)"),
    (lambda x: max_pool2d(x.long(), 2), DTypeError, "floating"),
])
def test_errors_name_the_problem(call, error, match):
    with pytest.raises(error, match=match):
        call(minigen.zeros(2, 3, 5, 5))


def test_empty_batch_is_allowed():
    """As in PyTorch, a batch of 0 images gives 0 outputs (channels, height and width may not
    be 0)."""
    x = minigen.zeros(0, 2, 5, 5, requires_grad=True)
    out = max_pool2d(x, 2) + avg_pool2d(x, 2)
    out.sum().backward()
    assert out.shape == (0, 2, 2, 2) and x.grad.shape == (0, 2, 5, 5)
