"""Exercise 4: the backward of Exp, Log (minigen/ops/elementwise.py), Sigmoid and Tanh
(minigen/ops/activations.py), on the ops alone."""

import numpy as np
from exercise_grading import (
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

from minigen.ops.activations import Sigmoid, Tanh
from minigen.ops.elementwise import Exp, Log

DOMAINS = {Exp: (-3.0, 3.0), Log: (0.05, 5.0), Sigmoid: (-6.0, 6.0), Tanh: (-4.0, 4.0)}


def _gradients(op):
    @graded(15)
    @given(shape=shapes(min_dims=0), data=st.data())
    def test(shape, data):
        x = data.draw(arrays(shape, *DOMAINS[op]))
        check_backward(op, (x,), seed=data.draw(st.integers(0, 2**32 - 1)))

    test.__doc__ = f"{op.__name__}.backward against finite differences"
    return test


test_exp = _gradients(Exp)
test_log = _gradients(Log)
test_sigmoid = _gradients(Sigmoid)
test_tanh = _gradients(Tanh)


def test_far_from_zero():
    """Sigmoid's and tanh's gradients at inputs up to +-1000: finite, and right."""
    x = np.array([-1000.0, -40.0, -5.0, -1e-3, 0.0, 1e-3, 5.0, 40.0, 1000.0])
    s = 0.5 * (1.0 + np.tanh(x / 2))  # sigmoid, stably
    for op, derivative in [(Sigmoid, s * (1 - s)), (Tanh, 1.0 - np.tanh(x) ** 2)]:
        _, v, (grad,) = run_backward(op, (x,), seed=1)
        check_close(f"{op.__name__}.backward at x = {x.tolist()}", grad, v * derivative,
                    rtol=1e-9, atol=1e-15)


def test_float32_and_strict():
    """float32 stays float32, and the ops run on array-api-strict too."""
    for op, (low, high) in DOMAINS.items():
        x = np.linspace(low, high, 6).reshape(2, 3)
        check_float32(op, (x,))
        check_strict(op, (x,))
