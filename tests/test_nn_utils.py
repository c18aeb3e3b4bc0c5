"""nn.utils.clip_grad_norm_ and clip_grad_value_ against their formulas in NumPy."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigen
from minigen import nn

GRADS = st.lists(hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=3),
                            elements=st.floats(-100, 100)), min_size=1, max_size=3)


@given(grads=GRADS, max_norm=st.sampled_from([0.5, 1.0, 50.0]),
       norm_type=st.sampled_from([1.0, 2.0, 3.0, math.inf]))
def test_clip_grad_norm(grads, max_norm, norm_type):
    params = [minigen.zeros(*g.shape, dtype="float64", requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = minigen.tensor(g)
    flat = np.concatenate([g.reshape(-1) for g in grads])
    total = np.abs(flat).max() if math.isinf(norm_type) else np.sum(np.abs(flat) ** norm_type) ** (
        1 / norm_type)
    returned = nn.utils.clip_grad_norm_(params, max_norm, norm_type)
    assert returned.item() == pytest.approx(total, rel=1e-12, abs=1e-12)
    scale = min(1.0, max_norm / (total + 1e-6))
    for p, g in zip(params, grads):
        np.testing.assert_allclose(p.grad.numpy(), g * scale, rtol=1e-12, atol=1e-300)


@given(grads=GRADS, clip=st.sampled_from([0.1, 1.0, 30.0]))
def test_clip_grad_value(grads, clip):
    params = [minigen.zeros(*g.shape, dtype="float64", requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = minigen.tensor(g)
    nn.utils.clip_grad_value_(params, clip)
    for p, g in zip(params, grads):
        np.testing.assert_array_equal(p.grad.numpy(), np.clip(g, -clip, clip))


def test_parameters_without_gradients_and_bad_arguments():
    p = minigen.zeros(2, requires_grad=True)  # no .grad yet
    assert nn.utils.clip_grad_norm_([p], 1.0).item() == 0.0 and p.grad is None
    with pytest.raises(ValueError, match="max_norm and norm_type must be positive"):
        nn.utils.clip_grad_norm_([p], 0.0)
    with pytest.raises(ValueError, match="clip_value must be positive"):
        nn.utils.clip_grad_value_([p], -1)
