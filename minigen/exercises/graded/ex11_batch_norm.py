"""Exercise 11: BatchNorm.backward (minigen/ops/normalization.py), on the op alone: its
gradients against finite differences of the (given) forward, in training and in eval mode."""

import numpy as np
from exercise_grading import arrays, check_backward, check_float32, check_strict, graded
from hypothesis import given
from hypothesis import strategies as st

import minigen
from minigen.ops.normalization import BatchNorm


@st.composite
def batches(draw):
    """x of shape (N, C) or (N, C, H, W), no channel's values all alike (a batch of one value
    per channel has no variance to normalise by)."""
    shape = draw(st.sampled_from([(2, 1), (3, 2), (5, 3), (2, 2, 1, 2), (1, 2, 2, 2),
                                  (3, 1, 2, 1), (2, 3, 2, 2)]))
    size = int(np.prod(shape))
    order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
    jitter = draw(arrays(shape, -0.1, 0.1))
    return (np.linspace(-2.0, 2.0, size)[order.astype(int)].reshape(shape) + jitter) * \
        draw(st.sampled_from([0.5, 1.0, 3.0]))


@graded(40)
@given(x=batches(), affine=st.booleans(), training=st.booleans(), data=st.data())
def test_gradients(x, affine, training, data):
    """BatchNorm.backward against finite differences: the gradients of x, the weight and the
    bias, in training (batch statistics, which depend on x) and eval mode (running ones)."""
    c = x.shape[1]
    weight = data.draw(arrays((c,), 0.5, 2.0)) if affine else None
    bias = data.draw(arrays((c,))) if affine else None
    if training:
        stats = {"running_mean": None, "running_var": None}
    else:
        stats = {"running_mean": minigen.tensor(data.draw(arrays((c,))), dtype=minigen.float64),
                 "running_var": minigen.tensor(data.draw(arrays((c,), 0.2, 3.0)),
                                               dtype=minigen.float64)}
    check_backward(BatchNorm, (x, weight, bias),
                   dict(stats, training=training, momentum=0.1, eps=1e-5),
                   seed=data.draw(st.integers(0, 2**32 - 1)))


def test_float32_and_strict():
    """float32 stays float32, and the op runs on array-api-strict too."""
    x = np.linspace(-2, 3, 2 * 3 * 2 * 2).reshape(2, 3, 2, 2) ** 2
    args = (x, np.array([1.0, 2.0, 0.5]), np.array([0.1, 0.0, -0.1]))
    kwargs = {"running_mean": None, "running_var": None, "training": True, "momentum": 0.1,
              "eps": 1e-5}
    check_float32(BatchNorm, args, kwargs)
    check_strict(BatchNorm, args, kwargs)
