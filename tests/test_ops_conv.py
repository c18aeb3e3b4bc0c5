"""conv2d and conv_transpose2d: forward against a plain loop over output pixels and kernel taps,
gradcheck of input, weight and bias, the adjoint identity, the size formulas and the errors.

Every test runs on NumPy and on the strict device (and CuPy when present), with geometries drawn
by hypothesis: stride 1-3, padding 0-2, dilation 1-2, kernel 1-5, channels 1-4, batch 1-2.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigen
from minigen import backend
from minigen.errors import ShapeError
from minigen.ops.conv import conv2d, conv_transpose2d
from minigen.ops.conv_geometry import (
    conv2d_output_size,
    conv_transpose2d_output_padding,
    conv_transpose2d_output_size,
)
from tests.opcheck import GRADCHECK, check_float32
from tests.profiles import examples

COVERED_OPS = {"Conv2d", "ConvTranspose2d"}
COVERED_FUNCTIONS = {"conv2d", "conv_transpose2d", "conv2d_output_size",
                     "conv_transpose2d_output_size", "conv_transpose2d_output_padding"}


# ------------------------------------------------------------------ references


def reference_conv2d(x, w, b, stride, padding, dilation):
    """The definition, one output pixel and one kernel tap at a time (s stride, d dilation):
    out[n, o, h, w] = sum_{c, i, j} xpad[n, c, h s + i d, w s + j d] W[o, c, i, j]."""
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    n, _, height, width = x.shape
    c_out, _, kh, kw = w.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    h_out = (height + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    w_out = (width + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    out = np.zeros((n, c_out, h_out, w_out))
    for h in range(h_out):
        for v in range(w_out):
            for i in range(kh):
                for j in range(kw):
                    pixel = xpad[:, :, h * sh + i * dh, v * sw + j * dw]  # (N, C_in)
                    out[:, :, h, v] += pixel @ w[:, :, i, j].T
    return out if b is None else out + b[None, :, None, None]


def reference_conv_transpose2d(x, w, b, stride, padding, output_padding, dilation):
    """Each input pixel scatters x[n, :, h, w] @ W[:, :, i, j] to output pixel
    (h*s + i*d - p, w*s + j*d - p); output_padding adds rows/columns at the end."""
    (sh, sw), (ph, pw), (oh, ow), (dh, dw) = stride, padding, output_padding, dilation
    n, _, height, width = x.shape
    _, c_out, kh, kw = w.shape
    h_out = (height - 1) * sh - 2 * ph + dh * (kh - 1) + oh + 1
    w_out = (width - 1) * sw - 2 * pw + dw * (kw - 1) + ow + 1
    big = np.zeros((n, c_out, h_out + 2 * ph, w_out + 2 * pw))
    for h in range(height):
        for v in range(width):
            for i in range(kh):
                for j in range(kw):
                    big[:, :, h * sh + i * dh, v * sw + j * dw] += x[:, :, h, v] @ w[:, :, i, j]
    out = big[:, :, ph:ph + h_out, pw:pw + w_out]
    return out if b is None else out + b[None, :, None, None]


# ------------------------------------------------------------------ strategies


@st.composite
def geometries(draw, max_channels=4, extra=3):
    """A conv geometry (per axis: kernel, stride, padding, dilation, an input size that leaves
    an output of at least one pixel) and the channel and batch counts."""
    g = {"n": draw(st.integers(1, 2)), "c_in": draw(st.integers(1, max_channels)),
         "c_out": draw(st.integers(1, max_channels))}
    axes = []
    for _ in range(2):
        k, s = draw(st.integers(1, 5)), draw(st.integers(1, 3))
        p, d = draw(st.integers(0, 2)), draw(st.integers(1, 2))
        smallest = max(1, d * (k - 1) + 1 - 2 * p)
        axes.append((k, s, p, d, draw(st.integers(smallest, smallest + extra))))
    g["kernel"], g["stride"], g["padding"], g["dilation"], g["size"] = (
        tuple(a[i] for a in axes) for i in range(5))
    return g


def _tensor(host, device, requires_grad=False):
    return minigen.tensor(host, dtype=minigen.float64, device=device, requires_grad=requires_grad)


def _conv_inputs(g, rng, transposed=False):
    x = rng.standard_normal((g["n"], g["c_in"]) + g["size"])
    w_shape = (g["c_in"], g["c_out"]) if transposed else (g["c_out"], g["c_in"])
    w = rng.standard_normal(w_shape + g["kernel"])
    b = rng.standard_normal(g["c_out"])
    return x, w, b


def _valid_output_padding(g, data):
    """An output_padding PyTorch accepts (below the stride or below the dilation) that leaves
    the transposed convolution a non-empty output."""
    op = tuple(data.draw(st.integers(0, max(s, d) - 1))
               for s, d in zip(g["stride"], g["dilation"]))
    assume(min(conv_transpose2d_output_size(g["size"], g["kernel"], g["stride"], g["padding"],
                                            op, g["dilation"])) >= 1)
    return op


def _host(t):
    return backend.to_numpy(t.data)


# ------------------------------------------------------------------ forward


@given(g=geometries(), with_bias=st.booleans(), seed=st.integers(0, 2**16))
def test_conv2d_matches_reference(device, g, with_bias, seed):
    x, w, b = _conv_inputs(g, np.random.default_rng(seed))
    b = b if with_bias else None
    out = conv2d(_tensor(x, device), _tensor(w, device), None if b is None else _tensor(b, device),
                 g["stride"], g["padding"], g["dilation"])
    expected = reference_conv2d(x, w, b, g["stride"], g["padding"], g["dilation"])
    assert out.shape == expected.shape
    np.testing.assert_allclose(_host(out), expected, rtol=1e-10, atol=1e-12)


@given(g=geometries(), with_bias=st.booleans(), seed=st.integers(0, 2**16), data=st.data())
def test_conv_transpose2d_matches_reference(device, g, with_bias, seed, data):
    x, w, b = _conv_inputs(g, np.random.default_rng(seed), transposed=True)
    b = b if with_bias else None
    op = _valid_output_padding(g, data)
    out = conv_transpose2d(_tensor(x, device), _tensor(w, device),
                           None if b is None else _tensor(b, device),
                           g["stride"], g["padding"], op, dilation=g["dilation"])
    expected = reference_conv_transpose2d(x, w, b, g["stride"], g["padding"], op, g["dilation"])
    assert out.shape == expected.shape
    np.testing.assert_allclose(_host(out), expected, rtol=1e-10, atol=1e-12)


@given(seed=st.integers(0, 2**16))
def test_chained_layers_and_strided_inputs(device, seed):
    """A conv's output is a view with batch-last memory; feeding it (and a transposed view of a
    plain array) to the next layer gives the same numbers as contiguous inputs."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 5, 6, 2)).transpose(3, 0, 1, 2)  # (2, 3, 5, 6), not contiguous
    w1, w2 = rng.standard_normal((4, 3, 3, 3)), rng.standard_normal((4, 2, 2, 2))
    hidden = conv2d(_tensor(x, device), _tensor(w1, device), padding=1)
    out = conv_transpose2d(hidden * 2.0, _tensor(w2, device), stride=2)
    h_ref = reference_conv2d(x, w1, None, (1, 1), (1, 1), (1, 1))
    expected = reference_conv_transpose2d(2.0 * h_ref, w2, None, (2, 2), (0, 0), (0, 0), (1, 1))
    np.testing.assert_allclose(_host(out), expected, rtol=1e-10, atol=1e-12)


def test_float32_stays_float32(device):
    x = minigen.randn(2, 3, 8, 8, device=device, requires_grad=True)
    w = minigen.randn(4, 3, 3, 3, device=device, requires_grad=True)
    wt = minigen.randn(4, 2, 4, 4, device=device, requires_grad=True)
    b = minigen.zeros(2, device=device, requires_grad=True)
    out = conv_transpose2d(conv2d(x, w, stride=2, padding=1), wt, b, stride=2, padding=1)
    out.sum().backward()
    assert out.dtype == minigen.float32
    assert all(t.grad.dtype == minigen.float32 for t in (x, w, wt, b))


# ------------------------------------------------------------------ gradients


@settings(max_examples=examples(10))
@given(g=geometries(max_channels=3, extra=2), with_bias=st.booleans(),
       seed=st.integers(0, 2**16))
def test_conv2d_gradcheck(device, g, with_bias, seed):
    """float64 gradients against finite differences (to 1e-6 relative), then float32
    gradients against float64's (tests.opcheck.check_float32), each with its own random
    cotangent from the drawn seed."""
    x, w, b = _conv_inputs(g, np.random.default_rng(seed))
    inputs = [_tensor(x, device, True), _tensor(w, device, True)]
    if with_bias:
        inputs.append(_tensor(b, device, True))

    def fn(*args):
        return conv2d(*args, stride=g["stride"], padding=g["padding"], dilation=g["dilation"])

    def reference(x, w, b=None):
        return reference_conv2d(x, w, b, g["stride"], g["padding"], g["dilation"])

    assert minigen.gradcheck(fn, *inputs, **{**GRADCHECK, "seed": seed})
    check_float32(fn, inputs, reference, seed=seed)


@settings(max_examples=examples(10))
@given(g=geometries(max_channels=3, extra=2), with_bias=st.booleans(),
       seed=st.integers(0, 2**16), data=st.data())
def test_conv_transpose2d_gradcheck(device, g, with_bias, seed, data):
    x, w, b = _conv_inputs(g, np.random.default_rng(seed), transposed=True)
    op = _valid_output_padding(g, data)
    inputs = [_tensor(x, device, True), _tensor(w, device, True)]
    if with_bias:
        inputs.append(_tensor(b, device, True))

    def fn(*args):
        return conv_transpose2d(*args, stride=g["stride"], padding=g["padding"],
                                output_padding=op, dilation=g["dilation"])

    def reference(x, w, b=None):
        return reference_conv_transpose2d(x, w, b, g["stride"], g["padding"], op,
                                          g["dilation"])

    assert minigen.gradcheck(fn, *inputs, **{**GRADCHECK, "seed": seed})
    check_float32(fn, inputs, reference, seed=seed)


@given(g=geometries(), seed=st.integers(0, 2**16))
def test_adjoint_identity(device, g, seed):
    """<conv2d(x, W), y> == <x, conv_transpose2d(y, W)>: the two are each other's transpose,
    with output_padding chosen so that conv_transpose2d gives back x's size."""
    rng = np.random.default_rng(seed)
    x, w, _ = _conv_inputs(g, rng)
    out_size = conv2d_output_size(g["size"], g["kernel"], g["stride"], g["padding"],
                                  g["dilation"])
    y = rng.standard_normal((g["n"], g["c_out"]) + out_size)
    op = conv_transpose2d_output_padding(out_size, g["size"], g["kernel"], g["stride"],
                                         g["padding"], g["dilation"])
    xt, wt, yt = _tensor(x, device), _tensor(w, device), _tensor(y, device)
    left = float((conv2d(xt, wt, None, g["stride"], g["padding"], g["dilation"]) * yt).sum())
    back = conv_transpose2d(yt, wt, None, g["stride"], g["padding"], op,
                            dilation=g["dilation"])
    assert back.shape == x.shape
    right = float((xt * back).sum())
    assert abs(left - right) <= 1e-10 * (1 + abs(left))
    # ... and in float32 to float32's precision
    x32, w32, y32 = (minigen.tensor(a, dtype=minigen.float32, device=device) for a in (x, w, y))
    left32 = float((conv2d(x32, w32, None, g["stride"], g["padding"], g["dilation"]) * y32)
                   .sum())
    right32 = float((x32 * conv_transpose2d(y32, w32, None, g["stride"], g["padding"], op,
                                            dilation=g["dilation"])).sum())
    scale = float(np.abs(x).sum() * np.abs(w).sum() * np.abs(y).max())
    assert abs(left32 - right32) <= 1e-5 * scale


# ------------------------------------------------------------------ sizes


@given(g=geometries(), data=st.data())
def test_output_size_formulas(g, data):
    k, s, p, d, size = g["kernel"], g["stride"], g["padding"], g["dilation"], g["size"]
    out = conv2d_output_size(size, k, s, p, d)
    assert out == tuple((size[a] + 2 * p[a] - d[a] * (k[a] - 1) - 1) // s[a] + 1
                        for a in (0, 1))
    assert conv2d(minigen.zeros(1, 1, *size), minigen.zeros(1, 1, *k), None, s, p, d).shape[
        2:] == out
    # the output_padding helper inverts conv2d's size map
    assert conv_transpose2d_output_padding(out, size, k, s, p, d) == tuple(
        size[a] - conv_transpose2d_output_size(out, k, s, p, 0, d)[a] for a in (0, 1))
    op = _valid_output_padding(g, data)
    t_out = conv_transpose2d_output_size(size, k, s, p, op, d)
    assert t_out == tuple((size[a] - 1) * s[a] - 2 * p[a] + d[a] * (k[a] - 1) + op[a] + 1
                          for a in (0, 1))
    y = conv_transpose2d(minigen.zeros(1, 1, *size), minigen.zeros(1, 1, *k), None, s, p, op,
                         dilation=d)
    assert y.shape[2:] == t_out


def test_dcgan_sizes():
    assert conv2d_output_size((28, 28), 4, 2, 1) == (14, 14)
    assert conv2d_output_size((14, 14), 4, 2, 1) == (7, 7)
    assert conv_transpose2d_output_size((7, 7), 4, 2, 1) == (14, 14)
    assert conv_transpose2d_output_size((14, 14), 4, 2, 1) == (28, 28)
    # 13 and 14 both go to 7; output_padding picks which one comes back
    assert conv2d_output_size((13, 13), 3, 2, 1) == conv2d_output_size((14, 14), 3, 2, 1)
    assert conv_transpose2d_output_padding((7, 7), (14, 14), 3, 2, 1) == (1, 1)
    assert conv_transpose2d_output_padding((7, 7), (13, 13), 3, 2, 1) == (0, 0)


# ------------------------------------------------------------------ errors


def test_errors_name_the_shapes():
    w = minigen.zeros(64, 3, 4, 4)
    with pytest.raises(ShapeError, match=r"conv2d expected input of shape \(N, 3, H, W\), "
                                         r"got \(128, 784\)"):
        conv2d(minigen.zeros(128, 784), w)
    with pytest.raises(ShapeError, match=r"\(64, 3, 4, 4\) expects 3 input channels, the "
                                         r"input has 1"):
        conv2d(minigen.zeros(2, 1, 8, 8), w)
    with pytest.raises(ShapeError, match="weight of shape"):
        conv2d(minigen.zeros(2, 3, 8, 8), minigen.zeros(3, 4, 4))
    with pytest.raises(ShapeError, match="bias of shape"):
        conv2d(minigen.zeros(2, 3, 8, 8), w, minigen.zeros(3))
    with pytest.raises(ShapeError, match="kernel spans 7 pixels.*padded input has only 6"):
        conv2d(minigen.zeros(1, 3, 4, 4), minigen.zeros(1, 3, 4, 4), padding=1, dilation=2)
    with pytest.raises(ValueError, match="stride"):
        conv2d(minigen.zeros(1, 3, 8, 8), w, stride=0)
    with pytest.raises(minigen.DTypeError):
        conv2d(minigen.zeros(1, 3, 8, 8, dtype=minigen.int64), w)
    wt = minigen.zeros(128, 64, 4, 4)
    with pytest.raises(ShapeError, match=r"conv_transpose2d expected input of shape "
                                         r"\(N, 128, H, W\), got \(8, 64, 7, 7\)"):
        conv_transpose2d(minigen.zeros(8, 64, 7, 7), wt)
    with pytest.raises(ShapeError, match="output_padding.*conv_transpose2d_output_padding"):
        conv_transpose2d(minigen.zeros(8, 128, 7, 7), wt, stride=2, output_padding=2)
    with pytest.raises(ShapeError, match="empty output"):
        conv_transpose2d(minigen.zeros(1, 128, 1, 1), minigen.zeros(128, 1, 1, 1), padding=1)
    with pytest.raises(ShapeError, match=r"reaches 13..14"):
        conv_transpose2d_output_padding((7, 7), (16, 16), 3, stride=2, padding=1)


def test_gradients_come_back_in_the_memory_layout_of_their_input():
    """An elementwise op between a (N, C, H, W)-ordered and a (C, H, W, N)-ordered array costs
    NumPy a strided pass (10-15x a contiguous one), so the backward pass hands each gradient
    over in the layout of the tensor it belongs to (backend.in_layout), with the same values:
    a batch-last input of Linear (a conv layer's flattened output) gets a batch-last gradient,
    a batch-first image into a conv layer a batch-first one."""
    rng = np.random.default_rng(0)
    # a batch-last (N, F) input, as a conv layer's flattened output is
    x = minigen.tensor(np.asfortranarray(rng.standard_normal((6, 5))), requires_grad=True)
    w = minigen.tensor(rng.standard_normal((3, 5)))
    minigen.linear(x, w).sum().backward()
    assert backend.batch_last(x.grad.data)
    np.testing.assert_allclose(x.grad.numpy(), np.ones((6, 3)) @ w.numpy())
    # batch-first images into both conv layers: batch-first gradients
    for conv, shape in ((minigen.conv2d, (4, 3, 3, 3)), (minigen.conv_transpose2d, (3, 4, 3, 3))):
        img = minigen.tensor(rng.standard_normal((2, 3, 5, 5)), requires_grad=True)
        conv(img, minigen.tensor(rng.standard_normal(shape)), stride=2, padding=1).sum().backward()
        assert img.grad.data.flags["C_CONTIGUOUS"], conv.__name__


# ------------------------------------------------------------------ PyTorch's signatures


def test_positional_arguments_in_pytorchs_order(device):
    """conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups,
    dilation): groups comes BEFORE dilation, as in PyTorch, so positional calls agree."""
    rng = np.random.default_rng(0)
    x, w = _tensor(rng.standard_normal((1, 2, 4, 4)), device), _tensor(
        rng.standard_normal((2, 3, 3, 3)), device)
    by_position = conv_transpose2d(x, w, None, 2, 1, 1, 1, 2)
    by_name = conv_transpose2d(x, w, stride=2, padding=1, output_padding=1, dilation=2)
    np.testing.assert_array_equal(_host(by_position), _host(by_name))
    wc = _tensor(rng.standard_normal((3, 2, 3, 3)), device)
    np.testing.assert_array_equal(_host(conv2d(x, wc, None, 1, 2, 2, 1)),
                                  _host(conv2d(x, wc, padding=2, dilation=2)))
    with pytest.raises(NotImplementedError, match="groups"):
        conv_transpose2d(x, w, None, 2, 1, 1, 2)


def test_string_padding(device):
    """padding="valid" is no padding; "same" keeps the size (stride 1), an odd total
    d(k - 1) putting its extra row and column at the bottom and right, as PyTorch does."""
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 1, 5, 6)), rng.standard_normal((3, 1, 2, 4))
    same = conv2d(_tensor(x, device), _tensor(w, device), padding="same")
    assert same.shape == (2, 3, 5, 6)
    # kernel (2, 4): totals 1 and 3, so rows (0, 1) and columns (1, 2) of zeros
    padded = np.pad(x, ((0, 0), (0, 0), (0, 1), (1, 2)))
    np.testing.assert_allclose(_host(same), reference_conv2d(padded, w, None, (1, 1), (0, 0),
                                                             (1, 1)), rtol=1e-12)
    valid = conv2d(_tensor(x, device), _tensor(w, device), padding="valid")
    np.testing.assert_array_equal(_host(valid), _host(conv2d(_tensor(x, device),
                                                             _tensor(w, device))))
    with pytest.raises(ValueError, match="stride 1"):
        conv2d(_tensor(x, device), _tensor(w, device), stride=2, padding="same")
    layer = minigen.nn.Conv2d(1, 3, (2, 4), padding="same")
    assert layer.output_shape(5, 6) == (5, 6) and "padding=same" in repr(layer)
    assert layer(minigen.zeros(1, 1, 5, 6)).shape == (1, 3, 5, 6)
    with pytest.raises(ValueError, match="stride 1"):
        minigen.nn.Conv2d(1, 3, 3, stride=2, padding="same")
