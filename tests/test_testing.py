"""minigen.testing.strategies draws what it promises (the op tests rely on it)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigen
from minigen import backend
from minigen.testing import strategies as mst
from tests.profiles import examples


@given(shapes=mst.broadcastable_shapes(3))
def test_broadcastable_shapes_broadcast(shapes):
    assert len(shapes) == 3
    np.broadcast_shapes(*shapes)  # raises if they do not


@given(shape=mst.shapes(min_dims=1, max_dims=2, min_side=2, max_side=3))
def test_shapes_respect_their_bounds(shape):
    assert 1 <= len(shape) <= 2 and all(2 <= n <= 3 for n in shape)


@given(data=st.data())
def test_tensors_have_the_asked_shape_dtype_device_and_grad(device, data):
    shape = data.draw(mst.shapes(), label="shape")
    dtype = data.draw(st.sampled_from(["float32", "float64"]), label="dtype")
    t = data.draw(mst.tensors(shape, dtype=dtype, device=device, requires_grad=False))
    assert (t.shape, t.dtype, t.device) == (shape, dtype, minigen.device(device))
    assert not t.requires_grad
    values = backend.to_numpy(t.data)  # in `real`'s [-3, 3]: the strided layout's NaNs unseen
    assert ((values >= -3) & (values <= 3)).all(), values


@settings(max_examples=examples(50))
@given(data=st.data())
def test_non_contiguous_layouts_are_really_non_contiguous(data):
    t = data.draw(mst.tensors(shape=mst.shapes(min_dims=1, min_side=2), contiguous=False))
    assert not t.data.flags.c_contiguous
    c = data.draw(mst.tensors(contiguous=True))
    assert c.data.flags.c_contiguous


def test_a_layout_needs_an_axis_longer_than_one():
    @given(mst.tensors((1, 1), contiguous=False))
    def draw(t):
        pass

    with pytest.raises(ValueError, match="non-contiguous"):
        draw()


@settings(max_examples=examples(50))
@given(data=st.data())
def test_domains_keep_their_margins(data):
    lo = data.draw(st.floats(-2, 0), label="lo")
    hi = data.draw(st.floats(0.5, 2), label="hi")
    cases = [(mst.away_from_kinks, (0.0,), 0.01), (mst.away_from(lo, hi), (lo, hi), 0.01)]
    for domain, points, margin in cases:
        x = data.draw(domain.arrays((4, 3)))
        assert ((x >= -3) & (x <= 3)).all()
        for p in points:
            assert (np.abs(x - p) >= margin - 1e-12).all()
    assert (data.draw(mst.positive.arrays((5,))) >= 0.1).all()
    p = data.draw(mst.unit_interval_open.arrays((5,)))
    assert ((p >= 0.01) & (p <= 0.99)).all()


@settings(max_examples=examples(50))
@given(data=st.data())
def test_distinct_values_are_apart(data):
    shape = data.draw(mst.shapes(), label="shape")
    x = data.draw(mst.distinct.arrays(shape)).ravel()
    gaps = np.abs(x[:, None] - x[None, :]) + np.eye(x.size)
    assert x.size < 2 or gaps.min() >= 0.05 - 1e-12


@settings(max_examples=examples(50))
@given(data=st.data())
def test_magnitude_domains_stay_in_range(data):
    for domain, limit in ((mst.wide, 1e3), (mst.exp_safe("float64"), 705.0),
                          (mst.exp_safe("float32"), 84.0), (mst.magnitudes(5.0), 5.0)):
        x = data.draw(domain.arrays((6,)))
        assert (np.abs(x) <= limit).all(), (domain, x)


def test_wide_spreads_over_every_decade():
    """Magnitudes drawn on a log scale: each decade from 1e-3 to 1e3 turns up, and both
    signs; a uniform draw from [-1e3, 1e3] would leave the decades below 1 nearly empty."""
    seen = []

    @settings(max_examples=200, derandomize=True, database=None)
    @given(mst.wide.elements())
    def draw(x):
        seen.append(x)

    draw()
    size = np.abs(np.array(seen))
    decades = {int(np.floor(np.log10(v))) for v in size if v > 0}
    assert decades >= {-3, -2, -1, 0, 1, 2}, decades
    assert min(seen) < -1 and max(seen) > 1


def test_exp_safe_keeps_exp_and_its_gradient_finite():
    for dtype in ("float32", "float64"):
        limit = mst.exp_safe(dtype).high
        info = np.finfo(dtype)
        assert np.exp(limit) * 100 < info.max  # a cotangent up to 100 times e^x: finite
        assert np.exp(-limit) > info.tiny  # and e^-x a normal number


def test_examples_scale_with_the_profile():
    """examples(n) is n under the everyday profiles, 10 n under thorough: a hard-coded
    max_examples=n would stay n under every profile."""
    from tests import profiles

    base = settings.default.max_examples / profiles.BASE_EXAMPLES
    assert examples(10) == round(10 * base)
    assert settings.get_profile("thorough").max_examples == 10 * profiles.BASE_EXAMPLES
    assert settings.get_profile("dev").derandomize and settings.get_profile("ci").derandomize
    assert not settings.get_profile("thorough").derandomize
    assert not settings.get_profile("random").derandomize
