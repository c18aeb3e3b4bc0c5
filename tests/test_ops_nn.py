"""Property tests of the ops a network is made of: matmul and linear, the activations, softmax
and log_softmax, and the losses (each reduction)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen
from minigen.errors import ShapeError
from minigen.testing import strategies as mst
from tests.opcheck import check_op, elementwise_terms, host, reduced_terms

ACTIVATIONS = {  # name: (function, NumPy reference, domain, Function class)
    "relu": (minigen.relu, lambda h: np.maximum(h, 0.0), mst.away_from_kinks, "ReLU"),
    "sigmoid": (minigen.sigmoid, lambda h: 1 / (1 + np.exp(-h)), mst.real, "Sigmoid"),
    "tanh": (minigen.tanh, np.tanh, mst.real, "Tanh"),
    "softplus": (minigen.softplus, lambda h: np.logaddexp(0.0, h), mst.real, "Softplus"),
    "log_sigmoid": (minigen.log_sigmoid, lambda h: -np.logaddexp(0.0, -h), mst.real,
                    "LogSigmoid"),
}
TARGETS = mst.interval(0.0, 1.0, "targets")  # BCE targets: labels 0 and 1, or soft ones


def _sigmoid(h):
    return np.exp(-np.logaddexp(0.0, -h))


# The backwards that subtract by design (tests.opcheck.check_float32): per unit of cotangent,
# the sum of the absolute terms of the derivative, where it is far from the derivative itself:
# s' = s - s^2 (s near 1) and tanh' = 1 - y^2 (|y| near 1).
CANCELLING = {
    "sigmoid": lambda h: _sigmoid(h) * (1 + _sigmoid(h)),
    "tanh": lambda h: 1 + np.tanh(h) ** 2,
}

LOSSES = {  # name: (elementwise NumPy reference, domain of the input, Function class)
    "binary_cross_entropy": (lambda p, y: -(y * np.log(p) + (1 - y) * np.log1p(-p)),
                             mst.unit_interval_open, "BinaryCrossEntropy"),
    "binary_cross_entropy_with_logits": (
        lambda x, y: np.logaddexp(0.0, x) - x * y, mst.real, "BinaryCrossEntropyWithLogits"),
    "mse_loss": (lambda a, b: (a - b) ** 2, mst.real, "MSELoss"),
}
LOSS_TERMS = {  # name: the terms of d/dinput and d/dtarget, as for CANCELLING
    # (p - y) / (p (1 - p)) and log(1 - p) - log(p)
    "binary_cross_entropy": (lambda p, y: (p + y) / (p * (1 - p)),
                             lambda p, y: np.abs(np.log1p(-p)) + np.abs(np.log(p))),
    # s(x) - y and -x
    "binary_cross_entropy_with_logits": (lambda x, y: _sigmoid(x) + y, lambda x, y: x),
    "mse_loss": (lambda a, b: 2 * (a - b), lambda a, b: 2 * (a - b)),  # (for the copies)
}

COVERED_OPS = {op for *_, op in ACTIVATIONS.values()} | {op for *_, op in LOSSES.values()} | {
    "MatMul", "Linear", "LeakyReLU", "Softmax", "LogSoftmax", "GaussianKL"}
COVERED_FUNCTIONS = set(ACTIVATIONS) | set(LOSSES) | {
    "matmul", "linear", "leaky_relu", "softmax", "log_softmax", "gaussian_kl"}


# ------------------------------------------------------------------------- matmul, linear


@st.composite
def matmul_shapes(draw):
    """Vectors, matrices, and stacks of matrices whose batch dimensions broadcast."""
    n, k, m = (draw(st.integers(1, 3), label=s) for s in "nkm")
    batch_a, batch_b = draw(mst.broadcastable_shapes(2, max_dims=2, max_side=3), label="batch")
    shape_a = (k,) if draw(st.booleans(), label="a is a vector") else batch_a + (n, k)
    shape_b = (k,) if draw(st.booleans(), label="b is a vector") else batch_b + (k, m)
    return shape_a, shape_b


@given(data=st.data())
def test_matmul(device, data):
    shape_a, shape_b = data.draw(matmul_shapes(), label="shapes")
    grads = data.draw(st.sampled_from([(True, True), (True, False), (False, True)]),
                      label="requires_grad")
    a = data.draw(mst.tensors(shape_a, device=device, requires_grad=grads[0]), label="a")
    b = data.draw(mst.tensors(shape_b, device=device, requires_grad=grads[1]), label="b")
    check_op(minigen.matmul, [a, b], np.matmul, "MatMul")
    check_op(lambda s, t: s @ t, [a, b], np.matmul, "MatMul")


@given(data=st.data())
def test_linear(device, data):
    n_in, n_out = (data.draw(st.integers(1, 3), label=s) for s in ("in", "out"))
    lead = data.draw(mst.shapes(max_dims=2, max_side=3), label="leading dims")
    # The first layer's input needs no gradient; the weight always does.
    x = data.draw(mst.tensors(lead + (n_in,), device=device,
                              requires_grad=data.draw(st.booleans(), label="x grad")), label="x")
    weight = data.draw(mst.tensors((n_out, n_in), device=device), label="weight")
    if data.draw(st.booleans(), label="with bias"):
        bias = data.draw(mst.tensors((n_out,), device=device), label="bias")
        check_op(minigen.linear, [x, weight, bias], lambda h, w, b: h @ w.T + b, "Linear")
    else:
        check_op(minigen.linear, [x, weight], lambda h, w: h @ w.T, "Linear")


# ------------------------------------------------------------------------- activations


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@given(data=st.data())
def test_activation(device, name, data):
    fn, reference, domain, op = ACTIVATIONS[name]
    x = data.draw(mst.tensors(device=device, elements=domain), label="x")
    terms = CANCELLING.get(name)
    check_op(fn, [x], reference, op, grad_terms=terms and elementwise_terms(terms))


@given(data=st.data())
def test_leaky_relu(device, data):
    # the usual slopes, and ones that are no longer "leaky": 0 (ReLU), negative, above 1
    slope = data.draw(st.sampled_from([0.01, 0.2, 0.0, -0.5, 3.0]), label="negative_slope")
    x = data.draw(mst.tensors(device=device, elements=mst.away_from_kinks), label="x")
    check_op(lambda t: minigen.leaky_relu(t, slope), [x],
             lambda h: np.where(h > 0, h, slope * h), "LeakyReLU")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["sigmoid", "softplus", "log_sigmoid", "tanh"])
def test_activation_is_finite_at_extreme_inputs(device, name, dtype):
    """The stable forms never overflow: no inf or NaN in value or gradient at +-1000, and
    both equal stably computed references (the gradients: to a few ulps of the slope's
    scale, 1; e^-60 and e^-1000 underflow to 0 in float32)."""
    fn, reference, *_ = ACTIVATIONS[name]
    values = [-1000.0, -60.0, 0.0, 60.0, 1000.0]
    x = minigen.tensor(values, dtype=dtype, device=device, requires_grad=True)
    out = fn(x)
    with np.errstate(over="ignore"):  # the reference itself may overflow to the right limit
        expected = reference(np.asarray(values))
    np.testing.assert_allclose(host(out), expected, rtol=1e-6)
    out.sum().backward()
    h = np.asarray(values)
    slope = {"sigmoid": _sigmoid(h) * _sigmoid(-h), "softplus": _sigmoid(h),
             "log_sigmoid": _sigmoid(-h),  # tanh' = 4 e^-2|x| / (1 + e^-2|x|)^2, no overflow
             "tanh": 4 * np.exp(-2 * np.abs(h)) / (1 + np.exp(-2 * np.abs(h))) ** 2}
    np.testing.assert_allclose(host(x.grad), slope[name], rtol=8 * np.finfo(dtype).eps,
                               atol=8 * np.finfo(dtype).eps)


def _log_softmax(h, dim):
    shifted = h - np.max(h, axis=dim, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax(device, name, data):
    x = data.draw(mst.tensors(shape=mst.shapes(min_dims=1), device=device), label="x")
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1), label="dim")
    reference = _log_softmax if name == "log_softmax" else (
        lambda h, d: np.exp(_log_softmax(h, d)))

    def terms(h, v):  # s (v - sum s v) and v - s sum v: the sizes of what they subtract
        s, size = np.exp(_log_softmax(h, dim)), np.abs(v)
        if name == "softmax":
            return [s * (size + np.sum(s * size, axis=dim, keepdims=True))]
        return [size + s * np.sum(size, axis=dim, keepdims=True)]

    check_op(lambda t: getattr(minigen, name)(t, dim), [x], lambda h: reference(h, dim),
             "LogSoftmax" if name == "log_softmax" else "Softmax", grad_terms=terms)


# ------------------------------------------------------------------------- losses


def _reduce(loss, reduction):
    return {"none": loss, "sum": np.sum(loss), "mean": np.mean(loss)}[reduction]


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", sorted(LOSSES))
@given(data=st.data())
def test_loss(device, name, reduction, data):
    elementwise, domain, op = LOSSES[name]
    # the target broadcasts to the input's shape (never the reverse: see the next test)
    shape_a, shape_target = data.draw(mst.broadcastable_shapes(2), label="shapes")
    shape_in = np.broadcast_shapes(shape_a, shape_target)
    x = data.draw(mst.tensors(shape_in, device=device, elements=domain), label="input")
    target = data.draw(mst.tensors(shape_target, device=device,
                                   elements=mst.real if name == "mse_loss" else TARGETS,
                                   requires_grad=data.draw(st.booleans())), label="target")
    fn = getattr(minigen, name)
    check_op(lambda a, b: fn(a, b, reduction=reduction), [x, target],
             lambda a, b: _reduce(elementwise(a, b), reduction), op,
             grad_terms=elementwise_terms(*LOSS_TERMS[name], reduction=reduction))


@given(data=st.data())
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gaussian_kl(device, reduction, data):
    """The fused KL( N(mu, e^logvar) || N(0, I) ), per row over the last axis; one of mu
    and logvar may broadcast to the other's shape (a shared log-variance, say)."""
    shape_a, shape_b = data.draw(mst.broadcastable_shapes(2, min_dims=1), label="shapes")
    shape_mu, shape_lv = np.broadcast_shapes(shape_a, shape_b), shape_b
    if data.draw(st.booleans(), label="mu is the smaller"):
        shape_mu, shape_lv = shape_lv, shape_mu
    grads = data.draw(st.sampled_from([(True, True), (True, False), (False, True)]),
                      label="requires_grad")
    mu = data.draw(mst.tensors(shape_mu, device=device, requires_grad=grads[0]), label="mu")
    logvar = data.draw(mst.tensors(shape_lv, device=device, requires_grad=grads[1]),
                       label="logvar")

    def reference(m, lv):
        per_row = 0.5 * (m * m + np.exp(lv) - lv - 1.0).sum(axis=-1)
        return _reduce(per_row, reduction)

    def terms(m, lv, v):  # d/dlogvar = (e^logvar - 1) / 2 subtracts
        full = np.broadcast_shapes(m.shape, lv.shape)
        size = np.abs(v)[..., None] / (math.prod(full[:-1]) if reduction == "mean" else 1)
        return [reduced_terms(np.broadcast_to(size * np.abs(m), full), m.shape, True),
                reduced_terms(np.broadcast_to(size * (np.exp(lv) + 1) / 2, full), lv.shape,
                              True)]

    check_op(lambda m, lv: minigen.gaussian_kl(m, lv, reduction=reduction), [mu, logvar],
             reference, "GaussianKL", grad_terms=terms)


def test_gaussian_kl_refuses_mu_and_logvar_that_widen_each_other(device):
    """mu (N, 1) and logvar (N,) would broadcast to (N, N): N latents per row, silently."""
    mu, logvar = minigen.zeros(4, 1, device=device), minigen.zeros(4, device=device)
    with pytest.raises(ShapeError, match=r"mu \(4, 1\) and logvar \(4,\) would broadcast to "
                                         r"\(4, 4\).*logvar.reshape\(4, 1\)"):
        minigen.gaussian_kl(mu, logvar)
    shared = minigen.gaussian_kl(minigen.zeros(4, 3, device=device),
                                 minigen.zeros(3, device=device), reduction="none")
    assert shared.shape == (4,)  # a shared log-variance broadcasts to mu's shape


def test_binary_cross_entropy_clamps_each_log_at_minus_100(device):
    """PyTorch's rule: p = 0 or 1 gives a loss of 100 per element, not inf."""
    p = minigen.tensor([0.0, 1.0, 0.0, 1.0], dtype="float64", device=device,
                       requires_grad=True)
    y = minigen.tensor([1.0, 0.0, 0.0, 1.0], dtype="float64", device=device)
    loss = minigen.binary_cross_entropy(p, y, reduction="none")
    np.testing.assert_allclose(host(loss), [100.0, 100.0, 0.0, 0.0])
    loss.sum().backward()
    floor = float(np.float32(1e-12))  # (p - y) / max(p (1 - p), floor): finite, and exact
    np.testing.assert_array_equal(host(p.grad), [-1 / floor, 1 / floor, 0.0, 0.0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bce_with_logits_is_stable_at_extreme_logits(device, dtype):
    x = minigen.tensor([-1000.0, -100.0, 100.0, 1000.0], dtype=dtype, device=device,
                       requires_grad=True)
    y = minigen.tensor([1.0, 0.0, 1.0, 0.0], dtype=dtype, device=device)
    loss = minigen.binary_cross_entropy_with_logits(x, y, reduction="none")
    np.testing.assert_allclose(host(loss), [1000.0, 0.0, 0.0, 1000.0], atol=1e-30)
    loss.sum().backward()
    # sigmoid(x) - y: -1, e^-100, -e^-100 and 1, all to within float32's subnormals
    np.testing.assert_allclose(host(x.grad), [-1.0, 0.0, 0.0, 1.0], atol=1e-40)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_a_target_that_would_widen_the_input_is_refused(device, name):
    """D's output (N, 1) against labels (N,) would broadcast to an (N, N) loss: a number,
    silently wrong. The target may broadcast to the input (a scalar, a shared row), only."""
    fn = getattr(minigen, name)
    p = minigen.full((4, 1), 0.5, device=device)
    with pytest.raises(ShapeError, match=r"input \(4, 1\) and target \(4,\) would broadcast "
                                         r"to \(4, 4\)"):
        fn(p, minigen.full((4,), 1.0, device=device))
    assert fn(p, 1.0).shape == ()  # a scalar label for the whole batch
    assert fn(p, minigen.full((1, 1), 1.0, device=device), reduction="none").shape == (4, 1)


def test_binary_cross_entropy_refuses_inputs_that_are_not_probabilities(device):
    """PyTorch raises too: the log of a negative 'probability' would be a silent NaN."""
    logits = minigen.tensor([[-2.0], [0.5]], device=device)
    with pytest.raises(ValueError, match=r"probability in \[0, 1\], got values in "
                                         r"\[-2, 0.5\].*binary_cross_entropy_with_logits"):
        minigen.binary_cross_entropy(logits, minigen.ones(2, 1, device=device))


def test_loss_rejects_an_unknown_reduction():
    with pytest.raises(ValueError, match="reduction"):
        minigen.mse_loss(minigen.zeros(2), minigen.zeros(2), reduction="avg")


# ------------------------------------------------------------------------- PyTorch's options


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@given(data=st.data())
def test_bce_with_logits_weight_and_pos_weight(device, reduction, data):
    """``weight`` scales each element's loss, ``pos_weight`` (per class, the last axis) the
    positive term: -[pw y log s(x) + (1 - y) log(1 - s(x))] * w. Gradients of all four."""
    shape = data.draw(mst.shapes(min_dims=1), label="shape")
    x = data.draw(mst.tensors(shape, device=device), label="input")
    y = data.draw(mst.tensors(shape, device=device, elements=TARGETS), label="target")
    w = data.draw(mst.tensors(shape[-1:], device=device, elements=mst.positive), label="w")
    pw = data.draw(mst.tensors(shape[-1:], device=device, elements=mst.positive), label="pw")

    def reference(a, b, weight, pos_weight):
        log_s, log_1ms = -np.logaddexp(0.0, -a), -np.logaddexp(0.0, a)
        return _reduce(-(pos_weight * b * log_s + (1 - b) * log_1ms) * weight, reduction)

    def fn(a, b, weight, pos_weight):
        return minigen.binary_cross_entropy_with_logits(a, b, weight, reduction=reduction,
                                                        pos_weight=pos_weight)

    def sizes(a, b, weight, pos_weight):  # what each derivative subtracts, as for CANCELLING
        sp_pos, sp_neg = np.logaddexp(0.0, a), np.logaddexp(0.0, -a)
        return (  # d/dx = w ((1 + (pw - 1) y) s(x) - pw y): s(x) near pw y / (1 + ...)
            weight * ((1 + (pos_weight + 1) * b) * _sigmoid(a) + pos_weight * b),
            weight * ((pos_weight + 1) * sp_neg + np.abs(a)),  # w ((pw - 1) sp(-x) - x)
            (1 - b) * np.abs(a) + (1 + (pos_weight + 1) * b) * sp_neg + sp_pos,  # the loss
            weight * b * sp_neg)  # w y sp(-x)

    def terms(a, b, weight, pos_weight, v):
        full = np.broadcast_shapes(a.shape, b.shape)
        scale = np.abs(v) / (math.prod(full) if reduction == "mean" else 1)
        return [reduced_terms(np.broadcast_to(scale * t, full), h.shape, True)
                for t, h in zip(sizes(a, b, weight, pos_weight), (a, b, weight, pos_weight))]

    op = "Sum" if reduction == "sum" else "Mean" if reduction == "mean" else "Mul"
    check_op(fn, [x, y, w, pw], reference, op, grad_terms=terms)


def test_bce_weight_and_pos_weight_by_hand(device):
    """At x = 0 every log-probability is log(1/2): the loss is log 2 times the weights."""
    x = minigen.zeros(2, 2, dtype="float64", device=device, requires_grad=True)
    y = minigen.tensor([[1.0, 0.0], [1.0, 1.0]], dtype="float64", device=device)
    w = minigen.tensor([2.0, 1.0], dtype="float64", device=device)
    pw = minigen.tensor([3.0, 5.0], dtype="float64", device=device)
    loss = minigen.binary_cross_entropy_with_logits(x, y, w, reduction="none", pos_weight=pw)
    np.testing.assert_allclose(host(loss), np.log(2) * np.array([[6.0, 1.0], [6.0, 5.0]]))
    loss.sum().backward()  # d/dx = w ((1 + (pw - 1) y) s(x) - pw y), s(0) = 1/2
    np.testing.assert_allclose(host(x.grad), [[2 * (1.5 - 3), 0.5], [2 * (1.5 - 3), 2.5 - 5]])
    p = minigen.full((2, 2), 0.5, dtype="float64", device=device)
    bce = minigen.binary_cross_entropy(p, y, w, reduction="mean")
    assert bce.item() == pytest.approx(np.log(2) * 6 / 4)  # the mean over elements
    with pytest.raises(TypeError, match="reduction='sum'"):
        minigen.binary_cross_entropy(p, y, "sum")  # the third argument is the weight


def test_bce_gradient_floor_is_pytorchs_float32_1e_12(device):
    """At p = 0 the gradient (p - y) / max(p (1 - p), floor) uses PyTorch's floor: 1e-12
    held as a float32, 9.99999996e-13, not float64's 1e-12."""
    p = minigen.tensor([0.0, 1.0], dtype="float64", device=device, requires_grad=True)
    y = minigen.tensor([0.5, 0.5], dtype="float64", device=device)
    minigen.binary_cross_entropy(p, y, reduction="sum").backward()
    floor = float(np.float32(1e-12))
    np.testing.assert_array_equal(host(p.grad), [-0.5 / floor, 0.5 / floor])


def test_softplus_beta_and_threshold(device):
    """log(1 + e^(beta x)) / beta, and x itself past the threshold (PyTorch's defaults: beta
    1, threshold 20), where the slope is exactly 1."""
    x = minigen.tensor([-1.0, 0.0, 1.0, 3.0, 21.0], dtype="float64", device=device,
                       requires_grad=True)
    y = minigen.softplus(x, beta=2.0, threshold=5.0)
    expected = [np.log1p(np.exp(-2.0)) / 2, np.log(2) / 2, np.log1p(np.exp(2.0)) / 2, 3.0,
                21.0]  # beta x = 6 and 42 are past the threshold: x itself
    np.testing.assert_allclose(host(y), expected, rtol=1e-15)
    y.sum().backward()
    np.testing.assert_allclose(host(x.grad), [1 / (1 + np.exp(2.0)), 0.5,
                                              1 / (1 + np.exp(-2.0)), 1.0, 1.0], rtol=1e-15)
    z = minigen.tensor([21.0], dtype="float64", device=device, requires_grad=True)
    minigen.softplus(z).sum().backward()
    assert host(minigen.softplus(z)).tolist() == [21.0] and host(z.grad).tolist() == [1.0]
