"""minigen.gradcheck: it passes correct gradients and catches wrong ones, with a useful message.

The central test here is the one that shows WHY the cotangent is random: a softmax-like op
whose backward returns zeros passes a check of ``f(x).sum()`` but fails ours.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import minigen
from minigen import Function, backend
from minigen.gradcheck import GradcheckError
from tests.opcheck import GRADCHECK, check_float32, example_seed, host


def leaf(shape, device="cpu", seed=0):
    values = np.random.default_rng(seed).standard_normal(shape)
    return minigen.tensor(values, dtype="float64", device=device, requires_grad=True)


class ScaledSquare(Function):
    """x^2, with a backward multiplied by ``factor`` (1 is correct; anything else a bug)."""

    factor = 1.0

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_arrays
        return grad_out * 2 * x * ScaledSquare.factor


@pytest.fixture
def wrong_by(request):
    ScaledSquare.factor = request.param
    yield request.param
    ScaledSquare.factor = 1.0


def test_a_correct_gradient_passes_in_both_modes(device):
    x, y = leaf((3, 4), device), leaf((4,), device, seed=1)
    for mode in ("full", "directional"):
        assert minigen.gradcheck(lambda a, b: (a * b).tanh() / (1.0 + b * b), x, y, mode=mode)
        assert minigen.gradcheck(ScaledSquare.apply, x, mode=mode)


@pytest.mark.parametrize("wrong_by", [1.1], indirect=True)
def test_a_wrong_gradient_fails_in_full_mode_naming_op_index_and_values(device, wrong_by):
    x = leaf((2, 3), device)
    with pytest.raises(GradcheckError) as error:
        minigen.gradcheck(ScaledSquare.apply, x)
    message = str(error.value)
    assert "ScaledSquare" in message
    match = re.search(r"worst element \((\d+), (\d+)\): analytic (\S+), numerical (\S+) ",
                      message)
    assert match, message
    # The named element's two values are the true gradient J^T v at that element, one of
    # them scaled by the bug: so their ratio is the factor.
    analytic, numerical = float(match[3]), float(match[4])
    assert analytic == pytest.approx(wrong_by * numerical, rel=1e-4)
    assert "atol" in message and "rtol" in message


@pytest.mark.parametrize("wrong_by", [1.1], indirect=True)
def test_a_wrong_gradient_fails_in_directional_mode(device, wrong_by):
    x = leaf((2, 3), device)
    with pytest.raises(GradcheckError, match=r"ScaledSquare \(directional\).*= (\S+) .*= (\S+)"):
        minigen.gradcheck(ScaledSquare.apply, x, mode="directional")


class WrongAtOneElement(Function):
    """2x, except that the backward forgets the gradient of element (1, 2)."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, grad_out):
        xp = backend.namespace(grad_out)
        mask = xp.ones_like(grad_out)
        mask[1, 2] = 0.0
        return 2 * grad_out * mask


def test_the_worst_element_is_the_wrong_one(device):
    with pytest.raises(GradcheckError, match=r"worst element \(1, 2\).*1 of 12 elements"):
        minigen.gradcheck(WrongAtOneElement.apply, leaf((3, 4), device))


@pytest.mark.parametrize("wrong_by", [1 + 1e-5], indirect=True)
def test_the_tolerances_are_the_ones_given(wrong_by):
    x = leaf((3,))
    assert minigen.gradcheck(ScaledSquare.apply, x)  # 1e-5 relative: inside rtol = 1e-3
    with pytest.raises(GradcheckError):
        minigen.gradcheck(ScaledSquare.apply, x, rtol=1e-7, atol=0.0)


class SoftmaxWithZeroBackward(Function):
    """softmax over the last axis with a WRONG backward that returns zeros.

    Each output row sums to 1 whatever the input, so the gradient of ``out.sum()`` really is
    zero, and a check that differentiates the sum cannot see the bug.
    """

    @staticmethod
    def forward(ctx, x):
        xp = backend.namespace(x)
        e = xp.exp(x - xp.max(x, axis=-1, keepdims=True))
        return e / xp.sum(e, axis=-1, keepdims=True)

    @staticmethod
    def backward(ctx, grad_out):
        return backend.namespace(grad_out).zeros_like(grad_out)


def sum_based_check(fn, x, eps=1e-6, atol=1e-5, rtol=1e-3):
    """The check we do NOT do: compare d sum(f(x)) / dx with finite differences of the sum."""
    x.grad = None
    fn(x).sum().backward()
    analytic = host(x.grad)
    numerical = np.zeros(x.shape)
    base = host(x.detach())
    for i in np.ndindex(*x.shape):
        step = np.zeros(x.shape)
        step[i] = eps
        plus = fn(minigen.tensor(base + step, dtype="float64", device=x.device)).sum().item()
        minus = fn(minigen.tensor(base - step, dtype="float64", device=x.device)).sum().item()
        numerical[i] = (plus - minus) / (2 * eps)
    return bool(np.all(np.abs(analytic - numerical) <= atol + rtol * np.abs(numerical)))


def test_a_random_cotangent_catches_what_a_sum_misses(device):
    x = leaf((3, 4), device)
    assert sum_based_check(SoftmaxWithZeroBackward.apply, x)  # the bug slips through...
    with pytest.raises(GradcheckError, match="SoftmaxWithZeroBackward"):  # ... but not here
        minigen.gradcheck(SoftmaxWithZeroBackward.apply, x)
    with pytest.raises(GradcheckError, match="SoftmaxWithZeroBackward"):
        minigen.gradcheck(SoftmaxWithZeroBackward.apply, x, mode="directional")
    assert minigen.gradcheck(lambda t: minigen.softmax(t, -1), x)  # the real one passes


def test_gradcheck_refuses_float32():
    x = minigen.randn(3, requires_grad=True)
    with pytest.raises(minigen.DTypeError, match="float64"):
        minigen.gradcheck(minigen.tanh, x)


def test_gradcheck_refuses_nonsense():
    x = leaf((3,))
    with pytest.raises(ValueError, match="requires_grad"):
        minigen.gradcheck(minigen.tanh, x.detach())
    with pytest.raises(ValueError, match="mode"):
        minigen.gradcheck(minigen.tanh, x, mode="fast")
    with pytest.raises(GradcheckError, match="does not depend"):
        minigen.gradcheck(lambda t: minigen.zeros(3, dtype="float64"), x)


def test_inputs_without_requires_grad_are_held_fixed(device):
    x, c = leaf((2, 3), device), leaf((3,), device, seed=1).detach()
    assert minigen.gradcheck(lambda a, b: a * b, x, c)
    assert c.grad is None


# ----------------------------------------------------------------- the op tests' settings


@pytest.mark.parametrize("wrong_by", [1.001], indirect=True)
def test_a_backward_0_1_percent_off_fails_at_the_op_tests_tolerances(device, wrong_by):
    """PyTorch's rtol of 1e-3 passes a backward 0.1 % off; the op tests' 1e-6 does not."""
    x = leaf((2, 3), device)
    assert minigen.gradcheck(ScaledSquare.apply, x)
    with pytest.raises(GradcheckError, match="ScaledSquare"):
        minigen.gradcheck(ScaledSquare.apply, x, **GRADCHECK)


def test_the_op_tests_tolerances_pass_correct_gradients(device):
    x = leaf((3, 4), device)
    assert minigen.gradcheck(ScaledSquare.apply, x, **GRADCHECK)
    assert minigen.gradcheck(lambda t: (t * t).tanh().exp(), x, **GRADCHECK)


def test_fd_rounding_allows_for_the_rounding_of_large_outputs():
    """x + 1e6: each <v, f(x +- h)> rounds at 1e6 * 2**-53 = 1e-10, so the difference / 2h is
    off by about 1e-4, far past rtol = 1e-6 but within fd_rounding's estimate of it."""
    x = leaf((4,))
    with pytest.raises(GradcheckError):
        minigen.gradcheck(lambda t: t + 1e6, x, rtol=1e-6, atol=0.0)
    assert minigen.gradcheck(lambda t: t + 1e6, x, rtol=1e-6, atol=0.0, fd_rounding=16)


def test_the_step_is_the_one_float64_takes():
    """Near x = 1e6, x +- 1e-6 round to steps that add up to 2e-6 (1 + 7.6e-6).
    (x - 1e6)^2 is small and exact to a rounding there (x - 1e6 is exact), and its third
    derivative is 0: dividing by the steps really taken gives its derivative to 1e-9, where
    dividing by 2h would be 7.6e-6 off. A step below float64's spacing at x is refused."""
    x = minigen.tensor([1e6 + 0.1, 1e6 - 0.3], dtype="float64", requires_grad=True)
    assert minigen.gradcheck(lambda t: (t - 1e6) ** 2, x, rtol=1e-9, atol=0.0)
    huge = minigen.tensor([2.0**40], dtype="float64", requires_grad=True)
    with pytest.raises(GradcheckError, match="spacing"):
        minigen.gradcheck(lambda t: t * 2.0, huge)


class TimesTwoOffInFloat32(Function):
    """2x, with a float32 backward 1 % off (conv2d's weight gradient once was)."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out * (2.02 if str(grad_out.dtype).endswith("float32") else 2.0)


def test_the_float32_check_catches_a_backward_1_percent_off_in_float32_only(device):
    x = leaf((2, 3), device)
    assert minigen.gradcheck(TimesTwoOffInFloat32.apply, x, **GRADCHECK)  # float64 is right
    with pytest.raises(AssertionError, match="float32 gradient of input 0 off"):
        check_float32(TimesTwoOffInFloat32.apply, [x], lambda h: 2 * h, seed=1)
    check_float32(lambda t: 2 * t, [x], lambda h: 2 * h, seed=1)


def test_each_example_gets_its_own_cotangent():
    """The seed comes from the inputs' values, not from the output's shape: two 0-d inputs
    give two different cotangents (a test may pass its own seed instead)."""
    a, b = (minigen.tensor(value, dtype="float64") for value in (1.0, 2.0))
    assert example_seed([a]) != example_seed([b])
    assert example_seed([a]) == example_seed([minigen.tensor(1.0, dtype="float64")])
