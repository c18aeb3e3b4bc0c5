"""Property tests of GELU (exact and tanh), ELU, SiLU, layer_norm, and the L1 and smooth L1
losses: values against NumPy references, float64 gradcheck and the float32 check, on every
device; then the erf behind the exact GELU, edge values and refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigen
from minigen import nn
from minigen.errors import DTypeError, ShapeError
from minigen.extras import _erf
from minigen.testing import strategies as mst
from tests.opcheck import check_op, elementwise_terms, host, normalization_terms
from tests.profiles import examples

COVERED_OPS = {"GELU", "ELU", "SiLU", "LayerNorm", "L1Loss", "SmoothL1Loss"}
COVERED_FUNCTIONS = {"gelu", "elu", "silu", "layer_norm", "l1_loss", "smooth_l1_loss"}

_erf_host = np.vectorize(math.erf, otypes=[np.float64])


def gelu_reference(h, approximate="none"):
    h = np.asarray(h, dtype=np.float64)
    if approximate == "tanh":
        return 0.5 * h * (1 + np.tanh(math.sqrt(2 / math.pi) * (h + 0.044715 * h**3)))
    return 0.5 * h * (1 + _erf_host(h / math.sqrt(2)))


def gelu_terms(h, approximate="none"):
    """What GELU's float32 backward subtracts (tests.opcheck.check_float32), per unit of
    cotangent. Exact: Phi(x) + x phi(x), with Phi = (1 + erf(x / sqrt 2)) / 2 below
    |x / sqrt 2| = 2 (a cancellation of size 1 for negative x) and erfc past it (relative
    accuracy, but exp(-x^2 / 2) magnifies the rounding of x^2 / 2, as in phi). Tanh form:
    0.5 (1 + t) + 0.5 x (1 - t^2) beta (1 + 3 k x^2)."""
    h = np.asarray(h, dtype=np.float64)
    if approximate == "tanh":
        beta, kappa = math.sqrt(2 / math.pi), 0.044715
        t = np.tanh(beta * (h + kappa * h**3))
        return 0.5 * (1 + np.abs(t)) + 0.5 * np.abs(h) * (1 + t * t) * beta * (
            1 + 3 * kappa * h * h)
    z = np.abs(h) / math.sqrt(2)
    phi = np.exp(-h * h / 2) / math.sqrt(2 * math.pi) * (1 + z * z)
    cdf = np.where(z <= _erf.SPLIT, 0.5 * (1 + np.abs(_erf_host(h / math.sqrt(2)))),
                   gelu_reference(h) / np.where(h == 0, 1, h) * (1 + z * z))
    return cdf + np.abs(h) * phi


def _reduce(loss, reduction):
    return {"none": loss, "sum": np.sum(loss), "mean": np.mean(loss)}[reduction]


# ------------------------------------------------------------------------- activations


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@given(data=st.data())
def test_gelu(device, approximate, data):
    x = data.draw(mst.tensors(device=device, elements=mst.interval(-6.0, 6.0)), label="x")
    check_op(lambda t: minigen.gelu(t, approximate=approximate), [x],
             lambda h: gelu_reference(h, approximate), "GELU",
             grad_terms=elementwise_terms(lambda h: gelu_terms(h, approximate)))


@given(data=st.data())
def test_elu(device, data):
    alpha = data.draw(st.sampled_from([1.0, 0.5, 2.0, -0.3]), label="alpha")
    x = data.draw(mst.tensors(device=device, elements=mst.away_from_kinks), label="x")
    check_op(lambda t: minigen.elu(t, alpha), [x],
             lambda h: np.where(h > 0, h, alpha * np.expm1(h)), "ELU")


@given(data=st.data())
def test_silu(device, data):
    x = data.draw(mst.tensors(device=device, elements=mst.interval(-8.0, 8.0)), label="x")
    def sizes(h):  # s (1 + x (1 - s)): 1 - s cancels as s nears 1
        s = np.exp(-np.logaddexp(0.0, -h))
        return s * (1 + np.abs(h) * (1 + s))

    check_op(minigen.silu, [x], lambda h: h / (1 + np.exp(-h)), "SiLU",
             grad_terms=elementwise_terms(sizes))


def test_erf_to_float64_accuracy():
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2 within 4e-16 of math.erf's everywhere, and the
    tail Phi(-x) = erfc(x / sqrt 2) / 2 to a few ulp relative (math.erfc)."""
    x = np.concatenate([np.linspace(-9.0, 9.0, 4001), [0.0, 1e-300, -1e-8, 2.0 * math.sqrt(2)]])
    want = 0.5 * (1 + _erf_host(x / math.sqrt(2)))
    np.testing.assert_allclose(_erf.normal_cdf(x), want, rtol=0, atol=4e-16)
    a = np.linspace(2.001, 26.0, 2000)
    tail = np.array([math.erfc(v) for v in a])
    np.testing.assert_allclose(_erf.half_erfc_of_abs(a) * 2, tail, rtol=4e-15)
    x32 = np.linspace(-6, 6, 1001).astype(np.float32)
    out = _erf.normal_cdf(x32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, 0.5 * (1 + _erf_host(x32 / math.sqrt(2))), atol=2e-7)


def _extreme_reference(name, x):
    """(value, its terms, slope, its terms) of each activation, stably in float64: Phi from
    erfc (1 + erf(-7) is 0 in float64), sigmoids as exp(-softplus), the tanh form's 1 + tanh z
    as 2 s(2z). The terms: what minigen's formula adds up (relative accuracy where nothing
    cancels; the tanh form's 0.5 x (1 + tanh z) is exact to |x| only, as PyTorch's)."""
    s = lambda t: np.exp(-np.logaddexp(0.0, -t))  # noqa: E731
    with np.errstate(over="ignore", invalid="ignore"):  # x^3 at 1e30: tanh is +-1 there
        if name == "gelu":
            cdf = np.array([math.erfc(-t / math.sqrt(2)) / 2 for t in x])
            pdf = np.exp(-x * x / 2) / math.sqrt(2 * math.pi)
            slope = cdf + np.where(pdf == 0, 0.0, x * pdf)
            # exp(-x^2 / 2) in the tail magnifies the rounding of x^2 / 2 (as in gelu_terms)
            return x * cdf, np.abs(x * cdf) * (1 + x * x / 2), slope, gelu_terms(x)
        if name == "tanh":
            beta, kappa = math.sqrt(2 / math.pi), 0.044715
            z = beta * (x + kappa * x**3)
            dz = beta * (1 + 3 * kappa * x * x)
            slope = s(2 * z) + np.where(s(-2 * z) == 0, 0.0, 2 * x * s(2 * z) * s(-2 * z) * dz)
            return x * s(2 * z), np.abs(x), slope, np.nan_to_num(gelu_terms(x, "tanh"))
    if name == "elu":  # alpha 1
        value = np.where(x > 0, x, np.expm1(np.minimum(x, 0)))
        slope = np.where(x > 0, 1.0, np.exp(np.minimum(x, 0)))
        return value, np.abs(value), slope, slope
    slope = s(x) * (1 + x * s(-x))  # silu: s (1 + x (1 - s))
    return x * s(x), np.abs(x * s(x)), slope, s(x) * (1 + np.abs(x) * (1 + s(x)))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_activations_at_extreme_inputs(device, dtype):
    """PyTorch's values: gelu(-inf) and silu(-inf) are NaN (-inf * 0), elu(-inf) = -alpha;
    large negative inputs give -0 without overflow; gradients finite off +-inf."""
    x = minigen.tensor([-1e30, -60.0, -10.0, 0.0, 10.0, 60.0, 1e30], dtype=dtype,
                       device=device, requires_grad=True)
    for name, fn in (("gelu", minigen.gelu), ("tanh", lambda t: minigen.gelu(t, "tanh")),
                     ("elu", minigen.elu), ("silu", minigen.silu)):
        x.grad = None
        out = fn(x)
        assert out.dtype == x.dtype
        values = host(out)
        want, terms, slope, slope_terms = _extreme_reference(name, host(x).astype(np.float64))
        eps, tiny = np.finfo(dtype).eps, np.finfo(dtype).tiny
        assert np.all(np.abs(values - want) <= 8 * eps * terms + tiny), (name, values, want)
        out.sum().backward()
        # the tanh form's slope has 0 * x^2 = 0 * inf in float32 at +-1e30: NaN in PyTorch too
        finite = slice(1, -1) if (name, dtype) == ("tanh", "float32") else slice(None)
        grad = host(x.grad)[finite]
        assert np.all(np.abs(grad - slope[finite]) <= 8 * eps * slope_terms[finite] + tiny), (
            name, grad, slope[finite])
    special = minigen.tensor([-math.inf, math.inf, math.nan], dtype=dtype, device=device)
    assert np.isnan(host(minigen.gelu(special))[[0, 2]]).all()
    assert host(minigen.elu(special, 2.0)).tolist()[:2] == [-2.0, math.inf]


def test_activation_refusals():
    x = minigen.zeros(3)
    with pytest.raises(ValueError, match="approximate must be one of"):
        minigen.gelu(x, approximate="erf")
    with pytest.raises(TypeError, match="alpha must be a number"):
        minigen.elu(x, alpha="1")
    with pytest.raises(DTypeError, match="floating"):
        minigen.silu(minigen.tensor([1, 2]))


# ------------------------------------------------------------------------- layer_norm


@settings(max_examples=examples(20))
@given(data=st.data())
def test_layer_norm(device, data):
    shape = data.draw(mst.shapes(min_dims=1, max_dims=3, max_side=4), label="shape")
    k = data.draw(st.integers(1, len(shape)), label="normalised dims")
    norm_shape = shape[len(shape) - k:]
    affine = data.draw(st.sampled_from(["none", "weight", "both", "bias"]), label="affine")
    eps = data.draw(st.sampled_from([1e-5, 0.1]), label="eps")
    x = data.draw(mst.tensors(shape, device=device), label="x")
    inputs = [x]
    if affine != "none":
        inputs.append(data.draw(mst.tensors(norm_shape, device=device), label="weight")
                      if affine != "bias" else None)
    if affine in ("both", "bias"):
        inputs.append(data.draw(mst.tensors(norm_shape, device=device), label="bias"))
    axes = tuple(range(len(shape) - k, len(shape)))

    def reference(h, w=None, b=None):
        out = (h - h.mean(axis=axes, keepdims=True)) / np.sqrt(h.var(axis=axes, keepdims=True)
                                                               + eps)
        out = out if w is None else out * w
        return out if b is None else out + b

    def terms(h, *args):  # (g - mean g - x_hat mean(g x_hat)) / s cancels by design
        *params, v = args
        w = params[0] if affine in ("weight", "both") else 1.0
        for_x, for_w = normalization_terms(h, v, w, axes, eps)
        return [for_x, np.sum(for_w, axis=tuple(range(len(shape) - k))), None]

    check_op(lambda t, *p: minigen.layer_norm(t, norm_shape, *p, eps=eps), inputs, reference,
             "LayerNorm", grad_terms=terms)


def test_layer_norm_refusals(device):
    x = minigen.zeros(2, 3, device=device)
    with pytest.raises(TypeError, match=r"write \(3,\)"):
        minigen.layer_norm(x, 3)
    with pytest.raises(ShapeError, match=r"normalized_shape \(4,\) must be the input's "
                                         r"trailing dimensions.*\(2, 3\)"):
        minigen.layer_norm(x, (4,))
    with pytest.raises(ShapeError, match="at least one dimension"):
        minigen.layer_norm(x, ())
    with pytest.raises(ShapeError, match=r"weight of shape \(2,\), expected"):
        minigen.layer_norm(x, (3,), minigen.ones(2, device=device))
    with pytest.raises(DTypeError, match="weight is float64 but the input is float32"):
        minigen.layer_norm(x, (3,), minigen.ones(3, dtype="float64", device=device))
    with pytest.raises(ValueError, match="eps must be a number >= 0"):
        minigen.layer_norm(x, (3,), eps=-1.0)
    assert minigen.layer_norm(minigen.zeros(2, 0), (0,)).shape == (2, 0)


def test_layer_norm_module(device):
    ln = nn.LayerNorm(4).to(device)
    assert repr(ln) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert host(ln.weight).tolist() == [1.0] * 4 and host(ln.bias).tolist() == [0.0] * 4
    x = minigen.randn(2, 3, 4, device=device)
    y = ln(x)
    np.testing.assert_allclose(host(y).mean(-1), 0.0, atol=1e-6)
    np.testing.assert_allclose(host(y).var(-1), 1.0, rtol=1e-3)
    y.sum().backward()
    assert ln.weight.grad.shape == (4,) and ln.bias.grad.shape == (4,)
    assert sorted(ln.state_dict()) == ["bias", "weight"]
    assert sorted(nn.LayerNorm(4, bias=False).state_dict()) == ["weight"]
    bare = nn.LayerNorm([2, 4], eps=1e-6, elementwise_affine=False)
    assert bare.parameters() == [] and bare.normalized_shape == (2, 4)
    assert repr(bare) == "LayerNorm((2, 4), eps=1e-06, elementwise_affine=False, bias=False)"


# ------------------------------------------------------------------------- losses


@st.composite
def loss_inputs(draw, device, domain):
    """(input, target): the target broadcasts to the input; input - target is drawn from
    ``domain`` (away from L1's kink at 0)."""
    shape_a, shape_target = draw(mst.broadcastable_shapes(2), label="shapes")
    shape_in = np.broadcast_shapes(shape_a, shape_target)
    target = draw(mst.tensors(shape_target, device=device,
                              requires_grad=draw(st.booleans(), label="target grad")),
                  label="target")
    diff = draw(mst.tensors(shape_in, device=device, elements=domain), label="input - target")
    x = minigen.tensor(host(diff) + host(target), dtype="float64", device=device,
                       requires_grad=True)
    return x, target


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@given(data=st.data())
def test_l1_loss(device, reduction, data):
    x, target = data.draw(loss_inputs(device, mst.away_from_kinks))
    one = elementwise_terms(lambda a, b: 1.0, lambda a, b: 1.0, reduction=reduction)
    check_op(lambda a, b: minigen.l1_loss(a, b, reduction=reduction), [x, target],
             lambda a, b: _reduce(np.abs(a - b), reduction), "L1Loss", grad_terms=one)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@given(data=st.data())
def test_smooth_l1_loss(device, reduction, data):
    beta = data.draw(st.sampled_from([1.0, 0.5, 2.0]), label="beta")
    x, target = data.draw(loss_inputs(device, mst.real))

    def reference(a, b):
        d = np.abs(a - b)
        return _reduce(np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)

    def slope(a, b):  # (for the broadcast target's copies)
        return np.minimum(np.abs(a - b) / beta, 1.0)

    check_op(lambda a, b: minigen.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
             [x, target], reference, "SmoothL1Loss",
             grad_terms=elementwise_terms(slope, slope, reduction=reduction))


def test_smooth_l1_beta_zero_is_l1_and_gradients_at_the_kinks(device):
    a = minigen.tensor([0.0, 1.0, -1.0, 3.0], dtype="float64", device=device,
                       requires_grad=True)
    b = minigen.zeros(4, dtype="float64", device=device)
    zero = minigen.smooth_l1_loss(a, b, reduction="none", beta=0.0)
    assert zero.grad_fn == "L1Loss"
    assert host(zero).tolist() == [0.0, 1.0, 1.0, 3.0]
    minigen.smooth_l1_loss(a, b, reduction="sum", beta=1.0).backward()
    assert host(a.grad).tolist() == [0.0, 1.0, -1.0, 1.0]  # d / beta, clipped to [-1, 1]
    a.grad = None
    minigen.l1_loss(a, b, reduction="sum").backward()
    assert host(a.grad).tolist() == [0.0, 1.0, -1.0, 1.0]  # sign(d), 0 at d = 0


@pytest.mark.parametrize("name", ["l1_loss", "smooth_l1_loss"])
def test_loss_refusals(device, name):
    """As mse_loss: a target that would widen the input is refused, a scalar or a shared
    row broadcasts."""
    fn = getattr(minigen, name)
    p = minigen.full((4, 1), 0.5, device=device)
    with pytest.raises(ShapeError, match=r"input \(4, 1\) and target \(4,\) would broadcast "
                                         r"to \(4, 4\)"):
        fn(p, minigen.full((4,), 1.0, device=device))
    assert fn(p, 1.0).shape == ()
    assert fn(p, minigen.full((1, 1), 1.0, device=device), reduction="none").shape == (4, 1)
    with pytest.raises(ValueError, match="reduction"):
        fn(p, p, reduction="avg")
    with pytest.raises(ShapeError, match="mean over an empty input"):
        fn(minigen.zeros(0, device=device), minigen.zeros(0, device=device))
    if name == "smooth_l1_loss":
        with pytest.raises(ValueError, match="beta must be >= 0"):
            fn(p, p, beta=-1.0)


def test_loss_modules():
    assert repr(nn.L1Loss()) == "L1Loss()" and repr(nn.SmoothL1Loss(beta=0.5)) == (
        "SmoothL1Loss()")
    assert nn.SmoothL1Loss(beta=0.5).beta == 0.5 and nn.L1Loss("sum").reduction == "sum"
    x, y = minigen.tensor([0.0, 2.0]), minigen.tensor([0.25, 0.0])
    assert nn.SmoothL1Loss(beta=0.5)(x, y).item() == pytest.approx((0.0625 + 1.75) / 2)
    assert nn.L1Loss(reduction="sum")(x, y).item() == pytest.approx(2.25)
    with pytest.raises(ValueError, match="reduction"):
        nn.L1Loss(reduction="avg")
