"""Exercise 8: BinaryCrossEntropyWithLogits, forward and backward without pos_weight
(minigen/ops/losses.py), on the op alone: values at logits up to +-1000 against a stable
NumPy reference, gradients against finite differences."""

import numpy as np
from exercise_grading import (
    GradeError,
    arrays,
    check_backward,
    check_close,
    check_float32,
    check_strict,
    graded,
    run_backward,
    shapes,
)
from hypothesis import given
from hypothesis import strategies as st

from minigen.ops.losses import BinaryCrossEntropyWithLogits as BCE

REDUCTIONS = ["none", "mean", "sum"]


def reference(x, y):
    """-[y log s(x) + (1 - y) log(1 - s(x))] = log(1 + e^x) - x y, with NumPy's logaddexp."""
    return np.logaddexp(0.0, x) - x * y


@st.composite
def wide(draw, shape):
    """Logits of every size from 1e-3 to 1e3, either sign (each decade as likely)."""
    exponents = draw(arrays(shape, -3.0, 3.0))
    signs = draw(hnp_signs(shape))
    return signs * 10.0**exponents


def hnp_signs(shape):
    from hypothesis.extra import numpy as hnp

    return hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0]))


@graded(30)
@given(shape=shapes(), data=st.data())
def test_values_far_from_zero(shape, data):
    """The loss per element at logits up to +-1000: finite, and within rounding of
    log(1 + e^x) - x y (the naive log(sigmoid(x)) is log 0 = -inf out there)."""
    x = data.draw(wide(shape))
    y = data.draw(arrays(shape, 0.0, 1.0))
    out, _, _ = run_backward(BCE, (x, y, None, "none"), needs=(True, False, False, False))
    got, want = np.asarray(out, dtype=np.float64), reference(x, y)
    if got.shape != want.shape:
        raise GradeError(f"the loss with reduction='none' has shape {got.shape}, expected the "
                         f"input's {want.shape}")
    error = np.abs(got - want) / (1e-12 * (1.0 + np.abs(x)))
    if not np.all(error <= 1.0):
        k = tuple(int(i) for i in np.unravel_index(int(np.nanargmax(np.nan_to_num(
            error, nan=np.inf))), shape))
        raise GradeError(f"the loss at logit {x[k]:.6g}, target {y[k]:.4g} is {got[k]:.10g}, "
                         f"expected {want[k]:.10g} (log(1 + e^x) - x y): compute it without "
                         "log(sigmoid(x)), which is log 0 for large |x|")


@graded(20)
@given(shape=shapes(), reduction=st.sampled_from(REDUCTIONS), data=st.data())
def test_reductions(shape, reduction, data):
    """reduction='mean' averages the elements' losses, 'sum' adds them, 'none' keeps them."""
    x, y = data.draw(arrays(shape, -6.0, 6.0)), data.draw(arrays(shape, 0.0, 1.0))
    out, _, _ = run_backward(BCE, (x, y, None, reduction), needs=(True, False, False, False))
    want = {"none": np.asarray, "mean": np.mean, "sum": np.sum}[reduction](reference(x, y))
    check_close(f"the loss with reduction={reduction!r}", out, np.asarray(want))


@graded(25)
@given(shape=shapes(), reduction=st.sampled_from(REDUCTIONS), target_grad=st.booleans(),
       data=st.data())
def test_gradients(shape, reduction, target_grad, data):
    """The backward against finite differences: the logits' gradient, and the target's when
    it needs one, for each reduction."""
    x, y = data.draw(arrays(shape, -6.0, 6.0)), data.draw(arrays(shape, 0.0, 1.0))
    check_backward(BCE, (x, y, None, reduction), needs=(True, target_grad, False, False),
                   seed=data.draw(st.integers(0, 2**32 - 1)))


def test_gradient_far_from_zero():
    """d loss / d x = sigmoid(x) - y at logits up to +-1000: finite and right."""
    x = np.array([-1000.0, -40.0, -3.0, 0.0, 2.0, 40.0, 1000.0])
    y = np.array([1.0, 0.0, 0.3, 1.0, 0.0, 1.0, 0.0])
    _, v, (grad, *_) = run_backward(BCE, (x, y, None, "none"),
                                    needs=(True, False, False, False), seed=2)
    check_close("the logits' gradient (sigmoid(x) - y, times the incoming gradient)", grad,
                v * (0.5 * (1.0 + np.tanh(x / 2)) - y), rtol=1e-9, atol=1e-15)


def test_float32_and_strict():
    """float32 stays float32, and the op runs on array-api-strict too."""
    x, y = np.linspace(-30, 30, 6).reshape(2, 3), np.linspace(0, 1, 6).reshape(2, 3)
    for reduction in REDUCTIONS:
        check_float32(BCE, (x, y, None, reduction))
        check_strict(BCE, (x, y, None, reduction))
