"""pad (constant, reflect, replicate; negative pads crop), interpolate (nearest, linear,
bilinear, align_corners) and adaptive_avg_pool2d: forward against NumPy references written as
plain loops or np.pad, gradcheck in float64 and the float32 check on every device, the layers,
and the refusals. (against_torch_resample.py compares all of them with PyTorch itself.)"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen
from minigen import nn
from minigen.errors import DTypeError, ShapeError
from minigen.extras.padding import pad
from minigen.extras.resample import adaptive_avg_pool2d, interpolate
from tests.opcheck import check_op, host

COVERED_OPS = {"Pad", "Take", "Add", "MatMul"}  # all four are compositions of these
COVERED_FUNCTIONS = {"pad", "interpolate", "adaptive_avg_pool2d"}


def _tensor(a, device, requires_grad=False):
    return minigen.tensor(a, dtype=minigen.float64, device=device, requires_grad=requires_grad)


# ------------------------------------------------------------------ references


def reference_pad(x, pads, mode, value=0.0):
    """np.pad by the positive pads (constant, 'reflect' or 'edge'), then crop the negative."""
    widths = [(0, 0)] * x.ndim
    for i in range(len(pads) // 2):
        widths[x.ndim - 1 - i] = (pads[2 * i], pads[2 * i + 1])
    grow = [(max(a, 0), max(b, 0)) for a, b in widths]
    kw = {"constant_values": value} if mode == "constant" else {}
    out = np.pad(x, grow, mode={"replicate": "edge"}.get(mode, mode), **kw)
    return out[tuple(slice(max(-a, 0), out.shape[i] - max(-b, 0))
                     for i, (a, b) in enumerate(widths))]


def _nearest_rule(n, out, scale, one_d, float64=True):
    """PyTorch 2.13's nearest source indices on CPU (its forward), all ``out`` of them:
    ``j * step`` with ``step = 1 / scale`` (given a scale factor) or ``n / out``, floored, at
    most ``n - 1``. 2-D: in float32, and ``j`` for an unchanged size, ``j // 2`` for a doubled
    one. 1-D: no such shortcut (3 * 1.3 -> 3 reads 0, 0, 1), in float64 for a float64 input,
    rounded to float32. Checked against torch on sizes 1..40 and 78 scales, by scale factor and
    by size, in both dtypes, 1-D and 2-D."""
    j = np.arange(out)
    if not one_d and out == n:
        return j
    if not one_d and out == 2 * n:
        return j // 2
    if one_d and float64:
        real = (j * (1.0 / scale if scale else n / out)).astype(np.float32)
    else:
        step = np.float32(1.0 / scale) if scale else np.float32(n) / np.float32(out)
        real = j.astype(np.float32) * step
    return np.minimum(np.floor(real).astype(np.int64), n - 1)


def _linear_source(j, n, out, scale, align_corners):
    if align_corners:
        x = j * (n - 1) / (out - 1) if out > 1 else 0.0
    else:
        x = max((j + 0.5) * (1.0 / scale if scale else n / out) - 0.5, 0.0)
    i0 = min(int(math.floor(x)), n - 1)
    return i0, min(i0 + 1, n - 1), min(max(x - i0, 0.0), 1.0)


def reference_interpolate(x, sizes, scales, mode, align_corners):
    """One axis after the other, one output position at a time."""
    one_d = x.ndim == 3
    for a, (out, scale) in enumerate(zip(sizes, scales)):
        axis, n = 2 + a, x.shape[2 + a]
        if mode != "nearest" and out == n:
            continue  # PyTorch copies a (bi)linear axis of unchanged size, whatever the scale
        nearest = _nearest_rule(n, out, scale, one_d)
        cols = []
        for j in range(out):
            if mode == "nearest":
                cols.append(np.take(x, nearest[j], axis=axis))
            else:
                i0, i1, t = _linear_source(j, n, out, scale, align_corners)
                cols.append((1 - t) * np.take(x, i0, axis=axis) + t * np.take(x, i1, axis=axis))
        x = np.stack(cols, axis=axis)
    return x


def reference_adaptive(x, out):
    h, w = x.shape[-2:]
    result = np.zeros(x.shape[:-2] + tuple(out))
    for i in range(out[0]):
        for j in range(out[1]):
            r0, r1 = i * h // out[0], -(-(i + 1) * h // out[0])
            c0, c1 = j * w // out[1], -(-(j + 1) * w // out[1])
            result[..., i, j] = x[..., r0:r1, c0:c1].mean(axis=(-2, -1))
    return result


# ------------------------------------------------------------------ pad


@st.composite
def pad_cases(draw):
    mode = draw(st.sampled_from(["constant", "reflect", "replicate"]))
    dims = draw(st.sampled_from([1, 2]))
    ndim = draw(st.sampled_from([dims + 1, dims + 2] if mode != "constant" else [1, 2, 3, 4]))
    dims = min(dims, ndim)
    shape = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    pads = []
    for d in range(dims):
        n = shape[-1 - d]
        low = -(n - 1) if mode != "constant" else -n
        high = n - 1 if mode == "reflect" else 3
        while True:
            a, b = draw(st.integers(low, high)), draw(st.integers(low, high))
            if n + a + b >= 1:
                break
        pads += [a, b]
    return mode, shape, tuple(pads), draw(st.sampled_from([0.0, -1.5]))


@given(case=pad_cases(), seed=st.integers(0, 2**16))
def test_pad_matches_numpy(device, case, seed):
    mode, shape, pads, value = case
    x = np.random.default_rng(seed).standard_normal(shape)
    kw = {"value": value} if mode == "constant" else {}
    op = "Take" if mode != "constant" or all(p <= 0 for p in pads) else "Pad"
    if all(p == 0 for p in pads):
        op = "Clone"
    check_op(lambda t: pad(t, pads, mode, **kw), [_tensor(x, device, True)],
             lambda h: reference_pad(h, pads, mode, value), op, seed=seed)


def test_pad_examples(device):
    x = _tensor(np.arange(5.0).reshape(1, 1, 5), device, requires_grad=True)
    assert host(pad(x, (3, -2), "reflect")).tolist() == [[[3, 2, 1, 0, 1, 2]]]
    assert host(pad(x, (-2, 3), "replicate")).tolist() == [[[2, 3, 4, 4, 4, 4]]]
    assert host(pad(x, (-1, 2), value=7)).tolist() == [[[1, 2, 3, 4, 7, 7]]]
    out = pad(x, (0, 3), "replicate")  # the edge is read 4 times: 4 gradients
    out.backward(minigen.ones_like(out))
    assert host(x.grad).tolist() == [[[1, 1, 1, 1, 4]]]
    assert pad(minigen.zeros(0, 2, 3, 3), (1, 1, 2, 2), "reflect").shape == (0, 2, 7, 5)
    assert pad(minigen.zeros(2, 3), (1, 2)).shape == (2, 6)


# ------------------------------------------------------------------ interpolate


@st.composite
def interpolate_cases(draw):
    mode = draw(st.sampled_from(["nearest", "nearest", "linear", "bilinear"]))
    ndim = {"linear": 3, "bilinear": 4}.get(mode) or draw(st.sampled_from([3, 4]))
    lead = draw(st.sampled_from([(1, 1), (2, 3)]))
    spatial = tuple(draw(st.integers(1, 5)) for _ in range(ndim - 2))
    if draw(st.booleans()):
        sizes, scales = [draw(st.integers(1, 9)) for _ in spatial], [None] * len(spatial)
        arg = {"size": tuple(sizes) if draw(st.booleans()) else sizes[0]}
        if isinstance(arg["size"], int):
            sizes = [sizes[0]] * len(spatial)
    else:
        scale = draw(st.sampled_from([2, 3, 0.5, 1.5, 2.5, 0.7, 1.0, 4, 1.3, 1.7, 2.01, 0.99]))
        scales = [float(scale)] * len(spatial)
        sizes = [math.floor(n * scale) for n in spatial]
        arg = {"scale_factor": scale}
        if min(sizes) < 1:
            spatial = tuple(max(n, 2) * 2 for n in spatial)
            sizes = [math.floor(n * scale) for n in spatial]
    align = draw(st.sampled_from([None, False, True])) if mode != "nearest" else None
    return mode, lead + spatial, arg, sizes, scales, align


@given(case=interpolate_cases(), seed=st.integers(0, 2**16))
def test_interpolate_matches_reference(device, case, seed):
    mode, shape, arg, sizes, scales, align = case
    x = np.random.default_rng(seed).standard_normal(shape)

    def fn(t):
        return interpolate(t, mode=mode, align_corners=align, **arg)

    def terms(h, v):
        """A linear mode's weights, t and 1 - t, come from source positions of up to the
        input's size n, rounded there in float32: each is off by about u (n + 1), so input i's
        gradient by that times sum |v_j| over the outputs j that read it (tests.opcheck)."""
        if mode == "nearest":
            return [None]
        plane = h.shape[2:]
        units = np.eye(math.prod(plane)).reshape((-1, 1) + plane)  # one input pixel each
        reads = reference_interpolate(units, sizes, scales, mode, bool(align))[:, 0] != 0
        spatial = tuple(range(2, v.ndim))
        touched = np.tensordot(np.abs(v), reads, axes=(spatial, tuple(range(1, v.ndim - 1))))
        return [(max(plane) + 1) * touched.reshape(h.shape)]

    check_op(fn, [_tensor(x, device, True)],
             lambda h: reference_interpolate(h, sizes, scales, mode, bool(align)),
             "Take" if mode == "nearest" else "Clone" if sizes == list(shape[2:]) else "Add",
             seed=seed, grad_terms=terms)


def test_interpolate_examples(device):
    x = _tensor(np.arange(6.0).reshape(1, 1, 2, 3), device, requires_grad=True)
    up = interpolate(x, scale_factor=2)  # nearest, integer factor: each pixel repeated 2x2
    np.testing.assert_array_equal(host(up)[0, 0], np.repeat(np.repeat(host(x)[0, 0], 2, 0), 2,
                                                            1))
    up.backward(minigen.ones_like(up))
    np.testing.assert_array_equal(host(x.grad), 4.0)
    # PyTorch's rule: with a scale factor, positions use 1 / scale, not in / out
    y = _tensor(np.arange(5.0).reshape(1, 1, 5), device)
    assert host(interpolate(y, scale_factor=1.5)).tolist() == [[[0, 0, 1, 2, 2, 3, 4]]]
    assert host(interpolate(y, size=7)).tolist() == [[[0, 0, 1, 2, 2, 3, 4]]]
    corners = interpolate(_tensor([[[0.0, 3.0]]], device), size=4, mode="linear",
                          align_corners=True)
    np.testing.assert_allclose(host(corners), [[[0, 1, 2, 3]]])
    np.testing.assert_allclose(host(interpolate(_tensor([[[0.0, 4.0]]], device), size=4,
                                                mode="linear")), [[[0, 1, 3, 4]]])


NEAREST_SCALES = [1.3, 1.7, 2.01, 1.999, 0.99, 1.01, 0.7, 0.3, 1 / 3, 2 / 3, 1.5, 2.5, 2.0, 1.0]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("one_d", [True, False])
def test_nearest_index_rule(device, dtype, one_d):
    """Every (size, scale) in sizes 1..40 x NEAREST_SCALES, by scale factor and by the output
    size it gives, 1-D and along each axis in 2-D: minigen reads the inputs the rule names."""
    for scale in NEAREST_SCALES:
        for n in range(1, 41):
            out = math.floor(n * scale)
            if out < 1:
                continue
            want = {s: _nearest_rule(n, out, s, one_d, dtype == "float64").tolist()
                    for s in (scale, None)}
            for shape, axis in ([((1, 1, n), -1)] if one_d else
                                [((1, 1, n, 1), -2), ((1, 1, 1, n), -1)]):
                x = minigen.tensor(np.arange(n, dtype=dtype).reshape(shape), device=device)
                size = tuple(out if m == n and i == len(shape) + axis else m
                             for i, m in enumerate(shape))[2:]
                kept = 1.0
                factors = tuple(scale if i == len(shape) + axis else kept
                                for i in range(2, len(shape)))
                for arg, s in (({"scale_factor": factors}, scale), ({"size": size}, None)):
                    got = np.moveaxis(host(interpolate(x, **arg)), axis, -1).reshape(-1)
                    assert got.astype(np.int64).tolist() == want[s], (n, shape, arg, dtype)
    y = minigen.tensor(np.arange(3.0).reshape(1, 1, 3), device=device, requires_grad=True)
    up = nn.Upsample(scale_factor=1.3)(y)
    assert host(up).tolist() == [[[0, 0, 1]]] == host(interpolate(y, scale_factor=1.3)).tolist()
    up.backward(minigen.tensor([[[1.0, 10.0, 100.0]]], device=device))
    assert host(y.grad).tolist() == [[[11, 100, 0]]]  # the forward's gradient (not PyTorch's)
    # in 2-D an unchanged size is copied (PyTorch's nearest_idx), whatever the factor
    z = minigen.tensor(np.arange(3.0).reshape(1, 1, 1, 3), device=device)
    assert host(interpolate(z, scale_factor=1.3)).tolist() == [[[[0, 1, 2]]]]


# ------------------------------------------------------------------ adaptive average pooling


@given(shape=st.sampled_from([(1, 1), (2, 3), (3,)]), h=st.integers(1, 7), w=st.integers(1, 7),
       oh=st.integers(1, 8), ow=st.one_of(st.none(), st.integers(1, 8)),
       seed=st.integers(0, 2**16))
def test_adaptive_avg_pool2d_matches_reference(device, shape, h, w, oh, ow, seed):
    x = np.random.default_rng(seed).standard_normal(shape + (h, w))
    out = (oh, w if ow is None else ow)
    check_op(lambda t: adaptive_avg_pool2d(t, (oh, ow)), [_tensor(x, device, True)],
             lambda a: reference_adaptive(a, out), "MatMul", seed=seed)


def test_adaptive_global_pool(device):
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 4))
    got = adaptive_avg_pool2d(_tensor(x, device), 1)
    np.testing.assert_allclose(host(got), x.mean(axis=(2, 3), keepdims=True), rtol=1e-12)
    pooled = adaptive_avg_pool2d(_tensor(x[:, :, :4], device), 2)  # 4x4 -> 2x2: avg_pool2d(2)
    np.testing.assert_allclose(host(pooled), host(minigen.avg_pool2d(_tensor(x[:, :, :4],
                                                                           device), 2)))


# ------------------------------------------------------------------ layers


def test_layers():
    x = minigen.randn(2, 3, 4, 5)
    up = nn.Upsample(scale_factor=2)
    np.testing.assert_array_equal(up(x).numpy(), interpolate(x, scale_factor=2).numpy())
    assert repr(up) == "Upsample(scale_factor=2.0, mode='nearest')"
    assert repr(nn.Upsample(size=(3, 4), mode="bilinear", align_corners=True)) == \
        "Upsample(size=(3, 4), mode='bilinear')"
    assert repr(nn.Upsample(scale_factor=(2, 3))) == \
        "Upsample(scale_factor=(2.0, 3.0), mode='nearest')"
    assert nn.Upsample(size=3, mode="bilinear")(x).shape == (2, 3, 3, 3)
    assert repr(nn.ZeroPad2d(2)) == "ZeroPad2d((2, 2, 2, 2))"
    assert repr(nn.ConstantPad2d((1, 2, 3, 4), 3.5)) == \
        "ConstantPad2d(padding=(1, 2, 3, 4), value=3.5)"
    assert repr(nn.ReflectionPad2d(1)) == "ReflectionPad2d((1, 1, 1, 1))"
    assert repr(nn.ReplicationPad2d((1, 0, 2, 0))) == "ReplicationPad2d((1, 0, 2, 0))"
    assert nn.ZeroPad2d((1, 2, 3, 4))(x).shape == (2, 3, 11, 8)
    np.testing.assert_array_equal(nn.ConstantPad2d(1, 2.0)(x).numpy()[0, 0, 0], 2.0)
    np.testing.assert_array_equal(nn.ReflectionPad2d(1)(x).numpy(),
                                  pad(x, (1, 1, 1, 1), "reflect").numpy())
    assert nn.ReplicationPad2d(3)(x).shape == (2, 3, 10, 11)
    pool = nn.AdaptiveAvgPool2d((2, None))
    assert repr(pool) == "AdaptiveAvgPool2d(output_size=(2, None))" and pool(x).shape == \
        (2, 3, 2, 5)
    assert repr(nn.AdaptiveAvgPool2d(1)) == "AdaptiveAvgPool2d(output_size=1)"
    g = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(3, 2, 3, padding=1))
    assert g(x).shape == (2, 2, 8, 10) and all(m.parameters() == [] for m in (up, pool))


# ------------------------------------------------------------------ errors


X = minigen.zeros(2, 3, 4, 5)


@pytest.mark.parametrize("call, error, match", [
    (lambda: pad(X, (1, 2, 3)), ValueError, "even"),
    (lambda: pad(X, (1,) * 10), ValueError, "10 ints pad 5 dimensions.*has 4"),
    (lambda: pad(X, (1.0, 2)), TypeError, "tuple of ints"),
    (lambda: pad(X, (-3, -3)), ShapeError, "size 5 padded by \\(-3, -3\\).*-1"),
    (lambda: pad(X, (1, 2), "circular"), ValueError, "circular"),
    (lambda: pad(X, (1, 2), "reflect"), ShapeError, "2 pads for a 2-D or 3-D"),
    (lambda: pad(X[0, 0], (1, 1, 1, 1), "replicate"), ShapeError, "4 for a 3-D"),
    (lambda: pad(X, (1, 5, 0, 0), "reflect"), ValueError, r"less than.*\(1, 5\).*size 5"),
    (lambda: pad(X, (0, 0, 4, 0), "reflect"), ValueError, "less than"),
    (lambda: pad(X, (-5, 0, 0, 0), "replicate"), ShapeError, "size 0"),
    (lambda: pad(X, (1, 1), "reflect", value=1.0), ValueError, "takes no value"),
    (lambda: pad(X[:, :0], (1, 1, 1, 1), "reflect"), ShapeError, "at least 1"),
    (lambda: pad(X.long(), (1, 1), value=0.5), DTypeError, "0.5.*int64"),
    (lambda: interpolate(X, size=3, scale_factor=2), ValueError, "only one of"),
    (lambda: interpolate(X), ValueError, "either size or scale_factor"),
    (lambda: interpolate(X, size=(3,)), ValueError, "one size per spatial"),
    (lambda: interpolate(X, scale_factor=(2, 2, 2)), ValueError, "scale_factor"),
    (lambda: interpolate(X, size=(3, 0)), ShapeError, r"output \(3, 0\)"),
    (lambda: interpolate(X, scale_factor=0.1), ShapeError, r"output \(0, 0\)"),
    (lambda: interpolate(X, scale_factor=-1.0), ValueError, "positive and finite"),
    (lambda: pad(X, (-6, 1)), ShapeError, "cropping 6 first"),
    (lambda: interpolate(X, size=3.0), TypeError, "size must be an int"),
    (lambda: interpolate(X, size=3, align_corners=True), ValueError, "align_corners"),
    (lambda: interpolate(X[0], size=3, mode="bilinear"), ShapeError, "3-D.*4-D"),
    (lambda: interpolate(X, size=3, mode="linear"), ShapeError, "4-D.*3-D"),
    (lambda: interpolate(X, size=3, mode="bicubic"), ValueError, "bicubic"),
    (lambda: interpolate(X[0, 0], size=3), ShapeError, "got 2-D"),
    (lambda: interpolate(X.long(), size=3), DTypeError, "floating"),
    (lambda: interpolate(X[:, :0], size=3), ShapeError, "no channels"),
    (lambda: adaptive_avg_pool2d(X, (1, 2, 3)), ValueError, "output_size"),
    (lambda: adaptive_avg_pool2d(X, -1), ValueError, ">= 0"),
    (lambda: adaptive_avg_pool2d(X, 2.0), ValueError, "output_size"),
    (lambda: adaptive_avg_pool2d(X[0, 0], 2), ShapeError, r"\(4, 5\)"),
    (lambda: adaptive_avg_pool2d(X[:, :, :0], 2), ShapeError, "at least 1"),
    (lambda: adaptive_avg_pool2d(X.long(), 2), DTypeError, "floating"),
    (lambda: nn.AdaptiveAvgPool2d((1, 2, 3)), ValueError, "output_size"),
    (lambda: nn.Upsample(size=3, mode="area"), ValueError, "area"),
    (lambda: nn.ZeroPad2d(1.5), TypeError, "padding"),
])
def test_errors_name_the_problem(call, error, match):
    with pytest.raises(error, match=match):
        call()
