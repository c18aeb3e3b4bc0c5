"""Exercise 5: MatMul.backward and Linear.backward (minigen/ops/linalg.py), on the ops alone."""

import numpy as np
from exercise_grading import (
    arrays,
    broadcast_pair,
    check_backward,
    check_float32,
    check_strict,
    graded,
)
from hypothesis import given
from hypothesis import strategies as st

from minigen.ops.linalg import Linear, MatMul

sizes = st.integers(1, 3)


@graded(25)
@given(batch=broadcast_pair(max_dims=2), n=sizes, k=sizes, m=sizes, data=st.data())
def test_matmul_gradients(batch, n, k, m, data):
    """MatMul.backward against finite differences: (..., n, k) @ (..., k, m), the batch
    dimensions broadcasting (a (3, 1, 2, 2) times a (4, 2, 2), say)."""
    a = data.draw(arrays(batch[0] + (n, k)))
    b = data.draw(arrays(batch[1] + (k, m)))
    check_backward(MatMul, (a, b), seed=data.draw(st.integers(0, 2**32 - 1)))


@graded(15)
@given(batch=st.sampled_from([(), (2,), (3, 1)]), k=sizes, m=sizes,
       case=st.sampled_from(["vector @ matrix", "matrix @ vector", "vector @ vector"]),
       data=st.data())
def test_matmul_with_vectors(batch, k, m, case, data):
    """A 1-D operand is a vector: (k,) @ (..., k, m) and (..., m, k) @ (k,) and (k,) @ (k,);
    its gradient has its own shape, (k,)."""
    left, right = {"vector @ matrix": ((k,), batch + (k, m)),
                   "matrix @ vector": (batch + (m, k), (k,)),
                   "vector @ vector": ((k,), (k,))}[case]
    a, b = data.draw(arrays(left)), data.draw(arrays(right))
    check_backward(MatMul, (a, b), seed=data.draw(st.integers(0, 2**32 - 1)))


@graded(25)
@given(lead=st.sampled_from([(), (1,), (4,), (2, 3)]), n_in=sizes, n_out=sizes,
       data=st.data())
def test_linear_gradients(lead, n_in, n_out, data):
    """Linear.backward against finite differences: x (..., in) -> x W^T + b, any number of
    leading dimensions, with a bias and without (each example both ways: drawn, the two
    choices would not meet every shape)."""
    x = data.draw(arrays(lead + (n_in,)))
    w = data.draw(arrays((n_out, n_in)))
    b = data.draw(arrays((n_out,)))
    seed = data.draw(st.integers(0, 2**32 - 1))
    check_backward(Linear, (x, w, b), seed=seed)
    check_backward(Linear, (x, w, None), seed=seed)


def test_float32_and_strict():
    """float32 stays float32, and the ops run on array-api-strict too."""
    a = np.linspace(-1, 1, 12).reshape(2, 2, 3)
    b = np.linspace(-2, 1, 6).reshape(3, 2)
    for op, args in [(MatMul, (a, b)), (MatMul, (a[0, 0], b)),
                     (Linear, (a, b.T.copy(), np.array([0.5, -0.5])))]:
        check_float32(op, args)
        check_strict(op, args)
