"""Exercise 2: Mul.backward and Div.backward (minigen/ops/arithmetic.py), on the ops alone."""

from exercise_grading import (
    arrays,
    broadcast_pair,
    check_backward,
    check_float32,
    check_strict,
    floats,
    graded,
)
from hypothesis import given
from hypothesis import strategies as st

from minigen.ops.arithmetic import Div, Mul


@graded(25)
@given(shapes=broadcast_pair(), data=st.data())
def test_mul_gradients(shapes, data):
    """Mul.backward against finite differences, operands of shapes that broadcast."""
    a, b = data.draw(arrays(shapes[0])), data.draw(arrays(shapes[1]))
    check_backward(Mul, (a, b), seed=data.draw(st.integers(0, 2**32 - 1)))


@graded(25)
@given(shapes=broadcast_pair(), data=st.data())
def test_div_gradients(shapes, data):
    """Div.backward against finite differences; divisors kept away from 0."""
    a = data.draw(arrays(shapes[0]))
    b = data.draw(arrays(shapes[1], high=3.0, away_from_zero=0.5))
    check_backward(Div, (a, b), seed=data.draw(st.integers(0, 2**32 - 1)))


@graded(10)
@given(a=arrays((2, 3)), number=floats(0.5, 3.0))
def test_a_number_operand(a, number):
    """x * 2.5, x / 2.5, 2.5 / x: a Python number needs no gradient (needs_input_grad)."""
    check_backward(Mul, (a, number), needs=(True, False))
    check_backward(Div, (a, number), needs=(True, False))
    check_backward(Div, (number, a * 0.5 + 4.0), needs=(False, True))


def test_float32_and_strict():
    """float32 stays float32, and the ops run on array-api-strict too."""
    import numpy as np

    a, b = np.linspace(-2, 2, 6).reshape(2, 3), np.linspace(0.5, 3, 3)
    for op in (Mul, Div):
        check_float32(op, (a, b))
        check_strict(op, (a, b))
