"""Behaviours the other tests did not pin down, found by mutation testing.

``python benchmarks/mutation.py --name mutation_baseline`` ran mutmut over the backward
methods, the losses and the optimizers with the tests of ``[tool.mutmut]`` (pyproject.toml);
each test here kills mutants that survived that run (benchmarks/results/mutation.md says which
test kills which mutant, and why each remaining survivor is equivalent). Every test checks a
behaviour: a gradient against finite differences or a NumPy reference, an update against
PyTorch's rule written out (tests/test_optim.py), an error that must or must not be raised.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen
from minigen import functional as F
from minigen import nn, optim
from minigen.errors import DTypeError, ShapeError
from minigen.models import discriminator_loss
from minigen.testing import strategies as mst
from tests.opcheck import check_op, reduced_terms
from tests.test_ops_nn import TARGETS, _sigmoid
from tests.test_optim import adam_reference, sgd_reference


def _leaf(values, device: str = "cpu", dtype=minigen.float64) -> minigen.Tensor:
    return minigen.tensor(np.asarray(values, dtype=np.float64), dtype=dtype,
                          device=device).requires_grad_(True)


# ------------------------------------------------------------------------- backward methods


def test_abs_gradient_is_zero_at_zero(device) -> None:
    """d|x|/dx = sign(x), and 0 at x = 0 (PyTorch's subgradient), exactly."""
    x = _leaf([-2.0, 0.0, 3.0, 0.0], device)
    v = np.array([0.5, 1.5, -2.0, -1.0])
    minigen.abs(x).backward(minigen.tensor(v, dtype=minigen.float64, device=device))
    np.testing.assert_array_equal(x.grad.numpy(), np.sign([-2.0, 0.0, 3.0, 0.0]) * v)


@given(data=st.data())
def test_leaky_relu_gradient_for_slopes_between_one_and_two(device, data):
    """The derivative is 1 where x > 0 and the slope elsewhere for slopes above 1 too (the
    op's shortcut max([x > 0], slope) holds only for slopes in [0, 1])."""
    slope = data.draw(st.sampled_from([1.5, 2.0]), label="negative_slope")
    x = data.draw(mst.tensors(device=device, elements=mst.away_from_kinks), label="x")
    check_op(lambda t: minigen.leaky_relu(t, slope), [x],
             lambda h: np.where(h > 0, h, slope * h), "LeakyReLU")


# ----------------------------------------------------------------------------------- losses


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@given(data=st.data())
def test_bce_with_logits_pos_weight_without_weight(device, reduction, data):
    """pos_weight alone (no weight): -[pw y log s(x) + (1 - y) log(1 - s(x))], and the
    gradients of input, target and pos_weight."""
    shape = data.draw(mst.shapes(min_dims=1), label="shape")
    x = data.draw(mst.tensors(shape, device=device), label="input")
    y = data.draw(mst.tensors(shape, device=device, elements=TARGETS), label="target")
    pw = data.draw(mst.tensors(shape[-1:], device=device, elements=mst.positive), label="pw")

    def reference(a, b, pos_weight):
        loss = -(pos_weight * b * -np.logaddexp(0.0, -a) + (1 - b) * -np.logaddexp(0.0, a))
        return {"none": loss, "mean": np.mean(loss), "sum": np.sum(loss)}[reduction]

    def fn(a, b, pos_weight):
        return minigen.binary_cross_entropy_with_logits(a, b, reduction=reduction,
                                                        pos_weight=pos_weight)

    def terms(a, b, pos_weight, v):  # as in test_ops_nn's weight-and-pos_weight test, w = 1
        sp_neg = np.logaddexp(0.0, -a)
        full = np.broadcast_shapes(a.shape, b.shape)
        scale = np.abs(v) / (math.prod(full) if reduction == "mean" else 1)
        sizes = ((1 + (pos_weight + 1) * b) * _sigmoid(a) + pos_weight * b,
                 (pos_weight + 1) * sp_neg + np.abs(a), b * sp_neg)
        return [reduced_terms(np.broadcast_to(scale * t, full), h.shape, True)
                for t, h in zip(sizes, (a, b, pos_weight))]

    check_op(fn, [x, y, pw], reference, "BinaryCrossEntropyWithLogits", grad_terms=terms)


def test_bce_with_logits_takes_a_number_as_weight() -> None:
    x = minigen.tensor([0.5, -1.0, 2.0], dtype="float64")
    y = minigen.tensor([1.0, 0.0, 0.3], dtype="float64")
    plain = minigen.binary_cross_entropy_with_logits(x, y, reduction="none")
    scaled = minigen.binary_cross_entropy_with_logits(x, y, 2.5, reduction="none")
    np.testing.assert_allclose(scaled.numpy(), 2.5 * plain.numpy(), rtol=1e-15)


def _bce(*args, **kwargs):
    return minigen.binary_cross_entropy_with_logits(*args, **kwargs)


def _t(*shape, dtype="float32"):
    return minigen.zeros(*shape, dtype=dtype)


BCE = "binary_cross_entropy_with_logits"
# (call, error, the message's start): each loss's errors name the function the user called,
# and the argument at fault
LOSS_ERRORS = {
    "bce integer input": (lambda: _bce(minigen.tensor([1, 2]), _t(2)), DTypeError,
                          f"{BCE} needs a floating tensor"),
    "bce target of another shape": (lambda: _bce(_t(3), _t(4)), ShapeError,
                                    rf"{BCE}: shapes \(3,\), \(4,\) do not broadcast"),
    "bce weight of another shape": (lambda: _bce(_t(3), _t(3), _t(4)), ShapeError,
                                    rf"{BCE}: shapes \(3,\), \(4,\) do not broadcast"),
    "bce weight wider than the input": (lambda: _bce(_t(3), _t(3), _t(2, 3)), ShapeError,
                                        rf"{BCE}: weight of shape \(2, 3\) does not"),
    "bce pos_weight wider than the input": (
        lambda: _bce(_t(3), _t(3), pos_weight=_t(2, 3)), ShapeError,
        rf"{BCE}: pos_weight of shape \(2, 3\) does not"),
    "bce pos_weight wider, with a weight": (
        lambda: _bce(_t(3), _t(3), _t(3), pos_weight=_t(2, 3)), ShapeError,
        rf"{BCE}: pos_weight of shape \(2, 3\) does not"),
    "mse integer input": (lambda: F.mse_loss(minigen.tensor([1, 2]), _t(2)), DTypeError,
                          "mse_loss needs a floating tensor"),
    "gaussian_kl integer mu": (lambda: F.gaussian_kl(minigen.tensor([[1, 2]]), _t(1, 2)),
                               DTypeError, "gaussian_kl needs a floating tensor"),
    "gaussian_kl integer logvar": (lambda: F.gaussian_kl(_t(1, 2), minigen.tensor([[1, 2]])),
                                   DTypeError, "gaussian_kl needs a floating tensor"),
    "gaussian_kl shapes that do not broadcast": (
        lambda: F.gaussian_kl(_t(2, 3), _t(2, 4)), ShapeError,
        r"gaussian_kl: shapes \(2, 3\), \(2, 4\) do not broadcast"),
}


@pytest.mark.parametrize("case", sorted(LOSS_ERRORS))
def test_loss_errors_name_the_function_and_the_argument(case) -> None:
    call, error, start = LOSS_ERRORS[case]
    with pytest.raises(error, match="^" + start):
        call()


@pytest.mark.parametrize("name", ["bce", "mse", "gaussian_kl"])
def test_losses_of_empty_batches(name) -> None:
    """An empty batch sums to 0 and has no elements with reduction='none'; its mean has no
    value, and is refused (PyTorch would return NaN)."""
    if name == "gaussian_kl":  # rows of 3 latents each, none of them
        def loss(reduction):
            return F.gaussian_kl(_t(0, 3), _t(0, 3), reduction=reduction)
        empty = (0,)
    else:
        fn = _bce if name == "bce" else F.mse_loss

        def loss(reduction):
            return fn(_t(0, 2), _t(0, 2), reduction=reduction)
        empty = (0, 2)
    assert loss("sum").item() == 0.0
    assert loss("none").shape == empty
    with pytest.raises(ShapeError, match="the mean over an empty"):
        loss("mean")


def test_gaussian_kl_mean_is_over_the_rows_of_every_leading_axis() -> None:
    """The mean is over the rows (every axis but the last): (2, 0, 3) has no rows, so no
    mean; a single row of no latents, shape (0,), has KL 0, and its mean is 0."""
    with pytest.raises(ShapeError, match="the mean over an empty batch"):
        F.gaussian_kl(_t(2, 0, 3), _t(2, 0, 3), reduction="mean")
    assert F.gaussian_kl(_t(0), _t(0), reduction="mean").item() == 0.0


def test_discriminator_loss_default_label_is_one() -> None:
    """Without real_label, real samples are labelled 1 (no smoothing):
    -mean log s(real) - mean log(1 - s(fake))."""
    real = np.array([[2.0], [-0.5], [0.1]])
    fake = np.array([[-1.0], [0.3], [3.0]])
    loss = discriminator_loss(minigen.tensor(real, dtype="float64"),
                              minigen.tensor(fake, dtype="float64"))
    want = np.mean(np.logaddexp(0.0, -real)) + np.mean(np.logaddexp(0.0, fake))
    assert loss.item() == pytest.approx(want, rel=1e-14)


# ------------------------------------------------------------------------------- optimizers


def _sgd_path(init, grads, **kwargs):
    params = [nn.Parameter(minigen.tensor(v.copy())) for v in init]
    opt = optim.SGD(params, **kwargs)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = minigen.tensor(g)
        opt.step()
    return [p.detach().numpy() for p in params]


@pytest.mark.parametrize("kwargs", [
    dict(lr=0.1, weight_decay=1.0),  # a weight decay of exactly 1 is applied too
    dict(lr=0.1, momentum=1.0),  # so is a momentum of exactly 1
    dict(lr=0.1, momentum=1.0, dampening=0.5, weight_decay=1.0),
])
def test_sgd_hyperparameters_of_one_follow_the_rule(kwargs) -> None:
    rng = np.random.default_rng(5)
    init = [rng.standard_normal((3, 2)).astype(np.float32)]
    grads = [[rng.standard_normal((3, 2)).astype(np.float32)] for _ in range(4)]
    for got, want in zip(_sgd_path(init, grads, **kwargs), sgd_reference(init, grads, **kwargs)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_sgd_momentum_buffer_is_a_copy_of_the_first_gradient() -> None:
    """Two steps on one gradient, kept (no zero_grad): the buffer starts as a COPY of it, so
    scaling the buffer in place at the second step leaves p.grad as it was."""
    p = nn.Parameter(minigen.tensor([1.0, -2.0, 0.5]))
    p.grad = minigen.tensor([0.5, 1.0, -4.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    opt.step()
    np.testing.assert_array_equal(p.grad.numpy(), np.float32([0.5, 1.0, -4.0]))
    g = np.float32([0.5, 1.0, -4.0])
    want = sgd_reference([np.float32([1.0, -2.0, 0.5])], [[g], [g]], lr=0.1, momentum=0.9)
    np.testing.assert_allclose(p.detach().numpy(), want[0], rtol=1e-6)


def test_sgd_default_learning_rate_is_pytorchs() -> None:
    """PyTorch's SGD defaults to lr=1e-3: one step moves each weight by 1e-3 * g."""
    p = nn.Parameter(minigen.tensor([1.0, -1.0], dtype="float64"))
    p.grad = minigen.tensor([2.0, 4.0], dtype="float64")
    opt = optim.SGD([p])
    assert opt.param_groups[0]["lr"] == 1e-3
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [1.0 - 2e-3, -1.0 - 4e-3], rtol=1e-12)


@pytest.mark.parametrize("name", ["lr", "momentum", "weight_decay"])
def test_sgd_refuses_each_negative_hyperparameter_alone(name) -> None:
    p = nn.Parameter(minigen.ones(2))
    with pytest.raises(ValueError, match=name):
        optim.SGD([p], **{"lr": 0.1, name: -0.5})


def test_sgd_accepts_a_learning_rate_of_zero() -> None:
    """lr=0 is allowed (as in PyTorch): the weights stay, the momentum buffer still fills."""
    p = nn.Parameter(minigen.tensor([1.0, 2.0]))
    p.grad = minigen.tensor([3.0, -1.0])
    opt = optim.SGD([p], lr=0.0, momentum=0.9)
    opt.step()
    np.testing.assert_array_equal(p.detach().numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(opt.state[id(p)]["momentum_buffer"], [3.0, -1.0])


def _adam_path(init, grads, **kwargs):
    params = [nn.Parameter(minigen.tensor(v.copy())) for v in init]
    opt = optim.Adam(params, **kwargs)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = minigen.tensor(g)
        opt.step()
    return [p.detach().numpy() for p in params], opt


def test_adam_defaults_are_pytorchs() -> None:
    """lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay, no AMSGrad: on gradients that
    shrink (where AMSGrad's largest second moment would differ) the path is Adam's."""
    init = [np.float32([1.0, -2.0, 0.5])]
    grads = [[np.float32([4.0, -2.0, 1.0]) * 0.5**k] for k in range(6)]
    got, opt = _adam_path(init, grads)
    group = opt.param_groups[0]
    assert (group["lr"], group["betas"], group["eps"], group["weight_decay"],
            group["amsgrad"]) == (1e-3, (0.9, 0.999), 1e-8, 0.0, False)
    want = adam_reference(init, grads, lr=1e-3)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)


@pytest.mark.parametrize("eps", [0.5, 2.0])
def test_adam_adds_eps_to_the_denominator(eps) -> None:
    """p -= lr m_hat / (sqrt(v_hat) + eps): with an eps as large as sqrt(v_hat), its sign
    shows."""
    rng = np.random.default_rng(7)
    init = [rng.standard_normal(4).astype(np.float32)]
    grads = [[rng.standard_normal(4).astype(np.float32)] for _ in range(3)]
    got, _ = _adam_path(init, grads, lr=0.1, eps=eps)
    want = adam_reference(init, grads, lr=0.1, eps=eps)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["lr", "eps", "weight_decay"])
def test_adam_refuses_each_negative_hyperparameter_alone(name) -> None:
    p = nn.Parameter(minigen.ones(2))
    with pytest.raises(ValueError, match=f"{name}=-0.5"):
        optim.Adam([p], **{name: -0.5})


def test_adam_accepts_betas_of_zero() -> None:
    """betas in [0, 1), as PyTorch: with both 0, m = g and v = g**2, so each step is
    lr g / (|g| + eps)."""
    init = [np.float32([1.0, -1.0])]
    grads = [[np.float32([0.5, -3.0])], [np.float32([-2.0, 1.0])]]
    got, _ = _adam_path(init, grads, lr=0.1, betas=(0.0, 0.0))
    want = adam_reference(init, grads, lr=0.1, betas=(0.0, 0.0))
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    np.testing.assert_allclose(got[0], [1.0 - 0.1 + 0.1, -1.0 + 0.1 - 0.1], atol=1e-6)
