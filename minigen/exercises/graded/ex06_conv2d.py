"""Exercise 6: Conv2d.forward (by im2col) and Conv2d.backward (minigen/ops/conv.py), on the
op alone: its values against the definition written as loops in NumPy, its gradients
against finite differences."""

import numpy as np
from exercise_grading import (
    arrays,
    check_backward,
    check_close,
    check_float32,
    check_strict,
    graded,
    run_backward,
)
from hypothesis import given
from hypothesis import strategies as st

from minigen.ops.conv import Conv2d


def conv2d_by_loops(x, w, b, stride, padding, dilation):
    """out[n, o, i, j] = sum_{c,u,v} w[o, c, u, v] xpad[n, c, i s + u d, j s + v d] + b[o]."""
    (s0, s1), (p0, p1), (d0, d1) = stride, padding, dilation
    n, _, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    xpad = np.pad(x, ((0, 0), (0, 0), (p0, p0), (p1, p1)))
    h_out = (h + 2 * p0 - d0 * (kh - 1) - 1) // s0 + 1
    w_out = (wd + 2 * p1 - d1 * (kw - 1) - 1) // s1 + 1
    out = np.zeros((n, c_out, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            patch = xpad[:, :, i * s0:i * s0 + d0 * (kh - 1) + 1:d0,
                         j * s1:j * s1 + d1 * (kw - 1) + 1:d1]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    return out if b is None else out + b[None, :, None, None]


@st.composite
def convolutions(draw, max_side=5):
    """(x, w, b, stride, padding, dilation) with an output of at least one pixel."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    side = [draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), max(max_side, d * (k - 1) + 1)))
            for k, p, d in zip(kernel, padding, dilation)]
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    x = draw(arrays((n, c_in, *side)))
    w = draw(arrays((c_out, c_in, *kernel)))
    b = draw(arrays((c_out,))) if draw(st.booleans()) else None
    return x, w, b, stride, padding, dilation


@graded(30)
@given(conv=convolutions())
def test_forward_values(conv):
    """Conv2d.forward against the definition, loops over output pixels in NumPy: any
    kernel, stride, padding and dilation, with and without a bias."""
    x, w, b, stride, padding, dilation = conv
    out, _, _ = run_backward(Conv2d, conv)
    check_close(f"Conv2d.forward (x {x.shape}, weight {w.shape}, stride {stride}, padding "
                f"{padding}, dilation {dilation})", out, conv2d_by_loops(*conv))


@graded(15)
@given(conv=convolutions(max_side=4), seed=st.integers(0, 2**32 - 1))
def test_gradients(conv, seed):
    """Conv2d.backward against finite differences: the gradients of x, the weight and the
    bias."""
    check_backward(Conv2d, conv, seed=seed)


def test_float32_and_strict():
    """float32 stays float32, and the op runs on array-api-strict too."""
    x = np.linspace(-1, 1, 2 * 2 * 5 * 4).reshape(2, 2, 5, 4)
    w = np.linspace(-1, 2, 3 * 2 * 3 * 2).reshape(3, 2, 3, 2)
    conv = (x, w, np.array([0.1, -0.2, 0.3]), (2, 1), (1, 1), (1, 2))
    check_float32(Conv2d, conv)
    check_strict(Conv2d, conv)
