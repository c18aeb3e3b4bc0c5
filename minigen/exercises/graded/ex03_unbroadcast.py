"""Exercise 3: autograd._unbroadcast, a gradient summed down to its input's shape."""

import numpy as np
from exercise_grading import GradeError, Skip, arrays, broadcast_pair, check_close, graded
from hypothesis import given
from hypothesis import strategies as st

from minigen import backend
from minigen.autograd import _unbroadcast
from minigen.errors import ShapeError


@graded(60)
@given(shapes=broadcast_pair(max_dims=4), data=st.data())
def test_sums_to_the_input_shape(shapes, data):
    """The gradient of the broadcast output, summed over the axes broadcasting added (new
    leading axes, and axes of size 1 stretched), to exactly the input's shape."""
    shape = shapes[0]
    out_shape = np.broadcast_shapes(*shapes)
    grad = data.draw(arrays(out_shape))
    want = grad.sum(axis=tuple(range(grad.ndim - len(shape)))) if grad.ndim > len(shape) \
        else grad
    ones = tuple(k for k, n in enumerate(shape) if n == 1 and want.shape[k] != 1)
    want = want.sum(axis=ones, keepdims=True) if ones else want
    what = f"_unbroadcast of a gradient {out_shape} to {shape}"
    try:
        got = _unbroadcast(grad, shape, "Mul")
    except ShapeError as error:  # (the student's own check, on the student's wrong sums)
        raise GradeError(f"{what} raised ShapeError, but this gradient does sum to {shape}: "
                         f"look at the axes summed and keepdims ({error})") from None
    check_close(what, got, want)


def test_keeps_the_dtype():
    """float32 in, float32 out."""
    got = _unbroadcast(np.ones((2, 3, 4), dtype=np.float32), (3, 1), "Mul")
    if got.dtype != np.float32:
        raise GradeError(f"_unbroadcast turned a float32 gradient into {got.dtype}")


def test_a_bad_gradient_is_named():
    """A gradient that cannot be summed to the input's shape raises ShapeError naming the op
    (it is a bug in that op's backward)."""
    for grad_shape, shape in [((3, 4), (2,)), ((2, 3), (3, 2)), ((5,), (2, 5))]:
        try:
            _unbroadcast(np.ones(grad_shape), shape, "Mul")
        except ShapeError as error:
            if "Mul" not in str(error):
                raise GradeError(f"the ShapeError for a gradient {grad_shape} and an input "
                                 f"{shape} does not name the op (Mul): {error}") from None
        except Exception as error:
            raise GradeError(f"_unbroadcast of a gradient {grad_shape} to {shape} raised "
                             f"{type(error).__name__} ({error}); raise minigen.ShapeError "
                             "naming the op") from None
        else:
            raise GradeError(f"_unbroadcast of a gradient {grad_shape} to {shape} returned "
                             "without a word: raise minigen.ShapeError naming the op")


def test_strict():
    """Runs on array-api-strict (the tests' stand-in for a GPU)."""
    try:
        dev = backend.device("strict")
    except Exception as error:
        raise Skip(f"needs array-api-strict ({error})") from None
    grad = np.arange(24.0).reshape(2, 3, 4)
    try:
        got = _unbroadcast(backend.asarray(grad, backend.float64, dev), (3, 1), "Mul")
    except Exception as error:
        raise GradeError(f"_unbroadcast fails on array-api-strict (the tests' stand-in for a "
                         f"GPU): {type(error).__name__}: {error}. Use xp = "
                         "backend.namespace(grad) and xp.sum, not numpy's") from None
    check_close("_unbroadcast on the strict device", got, grad.sum(axis=(0, 2))[:, None])
