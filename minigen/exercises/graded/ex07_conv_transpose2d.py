"""Exercise 7: ConvTranspose2d.forward and .backward (minigen/ops/conv.py), on the op alone:
its values against the definition (each input pixel stamps the kernel on the output) and
against the adjoint identity with conv2d, its gradients against finite differences."""

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

from minigen.ops.conv import ConvTranspose2d


def stamps(x, w, b, stride, padding, output_padding, dilation):
    """Each input pixel (i, j) adds x[n, c, i, j] * w[c, o] at (i s + u d, j s + v d) of the
    output before cropping ``padding`` from each side."""
    (s0, s1), (p0, p1), (d0, d1) = stride, padding, dilation
    n, _, h, wd = x.shape
    _, c_out, kh, kw = w.shape
    h_out = (h - 1) * s0 - 2 * p0 + d0 * (kh - 1) + output_padding[0] + 1
    w_out = (wd - 1) * s1 - 2 * p1 + d1 * (kw - 1) + output_padding[1] + 1
    full = np.zeros((n, c_out, h_out + 2 * p0, w_out + 2 * p1))
    for i in range(h):
        for j in range(wd):
            for u in range(kh):
                for v in range(kw):
                    full[:, :, i * s0 + u * d0, j * s1 + v * d1] += x[:, :, i, j] @ w[:, :, u, v]
    out = full[:, :, p0:p0 + h_out, p1:p1 + w_out]
    return out if b is None else out + b[None, :, None, None]


def conv2d(y, w, stride, padding, dilation):
    """conv2d of y (N, C_out, H', W') by w (C_in, C_out, kH, kW), in NumPy."""
    (s0, s1), (p0, p1), (d0, d1) = stride, padding, dilation
    kh, kw = w.shape[2:]
    ypad = np.pad(y, ((0, 0), (0, 0), (p0, p0), (p1, p1)))
    h = (ypad.shape[2] - d0 * (kh - 1) - 1) // s0 + 1
    wd = (ypad.shape[3] - d1 * (kw - 1) - 1) // s1 + 1
    out = np.zeros((y.shape[0], w.shape[0], h, wd))
    for i in range(h):
        for j in range(wd):
            patch = ypad[:, :, i * s0:i * s0 + d0 * (kh - 1) + 1:d0,
                         j * s1:j * s1 + d1 * (kw - 1) + 1:d1]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    return out


@st.composite
def transposed(draw, max_side=4):
    """(x, w, b, stride, padding, output_padding, dilation), an output of at least 1 pixel."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    side = (draw(st.integers(1, max_side)), draw(st.integers(1, max_side)))
    padding = tuple(draw(st.integers(0, max(0, min(2, ((n - 1) * s + d * (k - 1) + o) // 2))))
                    for n, s, d, k, o in zip(side, stride, dilation, kernel, output_padding))
    n, c_in, c_out = draw(st.integers(1, 2)), draw(st.integers(1, 2)), draw(st.integers(1, 2))
    x = draw(arrays((n, c_in, *side)))
    w = draw(arrays((c_in, c_out, *kernel)))
    b = draw(arrays((c_out,))) if draw(st.booleans()) else None
    return x, w, b, stride, padding, output_padding, dilation


@graded(30)
@given(conv=transposed())
def test_forward_values(conv):
    """ConvTranspose2d.forward against the definition: every input pixel stamps the kernel,
    scaled by its value, stride pixels apart; padding crops; output_padding adds rows."""
    x, w, b, stride, padding, output_padding, dilation = conv
    out, _, _ = run_backward(ConvTranspose2d, conv)
    check_close(f"ConvTranspose2d.forward (x {x.shape}, weight {w.shape}, stride {stride}, "
                f"padding {padding}, output_padding {output_padding}, dilation {dilation})",
                out, stamps(*conv))


@graded(20)
@given(conv=transposed(), data=st.data())
def test_adjoint_of_conv2d(conv, data):
    """<conv_t(x), y> = <x, conv2d(y)> for every y: the transposed convolution is conv2d's
    adjoint (where conv2d maps the output's size back to the input's)."""
    x, w, _, stride, padding, output_padding, dilation = conv
    out, _, _ = run_backward(ConvTranspose2d, (x, w, None, *conv[3:]))
    y = data.draw(arrays(tuple(out.shape)))
    back = conv2d(y, w, stride, padding, dilation)
    if back.shape != x.shape:
        return  # (output_padding >= stride: conv2d maps that size elsewhere)
    check_close("<conv_transpose2d(x), y> against <x, conv2d(y)>",
                np.array(float(np.sum(np.asarray(out) * y))), np.array(float(np.sum(x * back))))


@graded(15)
@given(conv=transposed(max_side=3), seed=st.integers(0, 2**32 - 1))
def test_gradients(conv, seed):
    """ConvTranspose2d.backward against finite differences: x, the weight and the bias."""
    check_backward(ConvTranspose2d, conv, seed=seed)


def test_float32_and_strict():
    """float32 stays float32, and the op runs on array-api-strict too."""
    x = np.linspace(-1, 1, 2 * 2 * 3 * 4).reshape(2, 2, 3, 4)
    w = np.linspace(-1, 2, 2 * 3 * 3 * 2).reshape(2, 3, 3, 2)
    conv = (x, w, np.array([0.1, -0.2, 0.3]), (2, 1), (1, 0), (1, 0), (1, 2))
    check_float32(ConvTranspose2d, conv)
    check_strict(ConvTranspose2d, conv)
