"""Property tests of the reordering and running ops (flip, roll, repeat, index_select, cumsum,
prod, sort, argsort, topk, norm) and the steps (sign, round, floor, ceil, reciprocal, rsqrt),
against NumPy, with float64 gradcheck and the float32 check on every device."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigen
from minigen.errors import DTypeError, ShapeError
from minigen.testing import strategies as mst
from tests.opcheck import check_op, host

COVERED_OPS = {"Flip", "Roll", "Cumsum", "Prod", "Rounding", "NuclearNorm", "Norm2"}
COVERED_FUNCTIONS = {"flip", "roll", "repeat", "index_select", "cumsum", "prod", "sign",
                     "round", "floor", "ceil", "reciprocal", "rsqrt", "norm", "sort",
                     "argsort", "topk"}


def _x(data, device, min_dims=1, elements=mst.real):
    return data.draw(mst.tensors(shape=mst.shapes(min_dims=min_dims), device=device,
                                 elements=elements), label="x")


def _distinct(data, device, min_dims=1):
    """A tensor of well-separated values (no ties for sort/topk/max to break)."""
    shape = data.draw(mst.shapes(min_dims=min_dims), label="shape")
    a = data.draw(mst.distinct.arrays(shape), label="values")
    return minigen.tensor(a, device=device).requires_grad_(True)


@given(data=st.data())
def test_flip(device, data):
    x = _x(data, device, min_dims=0)
    dims = data.draw(st.lists(st.integers(-x.ndim, x.ndim - 1), unique_by=lambda d: d % x.ndim,
                              max_size=x.ndim) if x.ndim else st.just([]), label="dims")
    axes = tuple(d % x.ndim for d in dims)
    check_op(lambda t: t.flip(dims), [x], lambda h: np.flip(h, axis=axes) if axes else h,
             "Flip")


@given(data=st.data())
def test_roll(device, data):
    x = _x(data, device)
    if data.draw(st.booleans(), label="flattened"):
        shift = data.draw(st.integers(-7, 7), label="shift")
        check_op(lambda t: minigen.roll(t, shift), [x], lambda h: np.roll(h, shift), "Roll")
        return
    dims = data.draw(st.lists(st.integers(-x.ndim, x.ndim - 1), min_size=1, max_size=3),
                     label="dims")
    shifts = data.draw(st.lists(st.integers(-7, 7), min_size=len(dims), max_size=len(dims)),
                       label="shifts")
    check_op(lambda t: t.roll(tuple(shifts), tuple(dims)), [x],
             lambda h: np.roll(h, shifts, axis=dims), "Roll")


@given(data=st.data())
def test_repeat(device, data):
    x = _x(data, device, min_dims=0)
    extra = data.draw(st.integers(0, 2), label="new dims")
    sizes = data.draw(st.lists(st.integers(0, 3), min_size=x.ndim + extra,
                               max_size=x.ndim + extra), label="sizes")
    out = x.repeat(*sizes)
    check_op(lambda t: t.repeat(sizes), [x], lambda h: np.tile(h, sizes), out.grad_fn)


@given(data=st.data())
def test_index_select(device, data):
    x = _x(data, device)
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1), label="dim")
    index = data.draw(hnp.arrays(np.int64, st.integers(0, 5),
                                 elements=st.integers(0, x.shape[dim] - 1)), label="index")
    idx = minigen.tensor(index, device=device)
    out = minigen.index_select(x, dim, idx)
    check_op(lambda t: t.index_select(dim, idx), [x], lambda h: np.take(h, index, axis=dim),
             out.grad_fn)


@given(data=st.data())
def test_cumsum(device, data):
    x = _x(data, device)
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1), label="dim")
    check_op(lambda t: t.cumsum(dim), [x], lambda h: np.cumsum(h, axis=dim), "Cumsum")


@given(data=st.data())
def test_prod(device, data):
    """Zeros included (one and several in a product): the gradient must not divide by them."""
    x = _x(data, device, min_dims=0, elements=st.sampled_from([0.0, 0.5, -1.5, 2.0, 1.25,
                                                               -0.75]))
    dim = data.draw(st.none() | st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1), label="dim")
    keep = data.draw(st.booleans(), label="keepdim")
    if dim is None:
        check_op(lambda t: t.prod(), [x], lambda h: np.prod(h), "Prod")
    elif x.ndim:
        check_op(lambda t: t.prod(dim, keep), [x],
                 lambda h: np.prod(h, axis=dim, keepdims=keep), "Prod")


def test_prod_gradient_at_zeros():
    x = minigen.tensor([[2.0, 0.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 3.0]], requires_grad=True)
    x.prod(1).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [[0, 6, 0], [0, 0, 0], [6, 3, 2]])


_STEP_VALUES = st.builds(lambda n, f: n + f, st.integers(-4, 4),
                         st.sampled_from([0.2, 0.35, 0.65, 0.8]))


@pytest.mark.parametrize("name", ["sign", "round", "floor", "ceil"])
@given(data=st.data())
def test_steps(device, name, data):
    """Values as NumPy's; gradient 0 (checked numerically away from the steps)."""
    x = _x(data, device, min_dims=0, elements=_STEP_VALUES)
    check_op(lambda t: getattr(t, name)(), [x], getattr(np, name), "Rounding")
    x.grad = None
    getattr(minigen, name)(x).sum().backward()
    assert not host(x.grad).any()


def test_steps_at_edges():
    a = np.array([-2.5, -1.5, -0.5, 0.0, 0.5, 1.5, 2.5, -0.0, np.nan, np.inf, -np.inf])
    x = minigen.tensor(a)
    for name in ("sign", "round", "floor", "ceil"):
        np.testing.assert_array_equal(host(getattr(x, name)()), getattr(np, name)(a))
    i = minigen.tensor([-3, 0, 2])
    assert i.sign().tolist() == [-1, 0, 1] and i.floor().dtype == minigen.int64


@pytest.mark.parametrize("name", ["reciprocal", "rsqrt"])
@given(data=st.data())
def test_reciprocal_and_rsqrt(device, name, data):
    elements = mst.away_from(0.0, margin=0.2) if name == "reciprocal" else \
        mst.interval(0.2, 5.0)
    x = _x(data, device, min_dims=0, elements=elements)
    out = getattr(x, name)()
    check_op(lambda t: getattr(minigen, name)(t), [x],
             lambda h: 1 / h if name == "reciprocal" else 1 / np.sqrt(h), out.grad_fn)


@pytest.mark.parametrize("p", [1, 2, 3, 0.5, 0, -1, -0.5, math.inf, -math.inf, "fro", None])
@given(data=st.data())
def test_norm(device, p, data):
    """The vector norms over any dims (None or (): all), as torch.norm; 'fro' over three or
    more dims is refused (PyTorch's matrix norm needs two), see test_norm_refusals."""
    shape = data.draw(mst.shapes(min_dims=0), label="shape")
    a = data.draw(mst.distinct.arrays(shape), label="values")
    ranks = np.argsort(np.argsort(a, axis=None)).reshape(shape)
    a = 0.5 + 0.1 * ranks + 0.01 * np.tanh(a)  # magnitudes away from 0, none tied (inf)
    a = a * data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 1.0])),
                      label="signs")
    x = minigen.tensor(a, device=device).requires_grad_(True)
    dim = data.draw(st.none() | st.just(()) | st.lists(
        st.integers(0, max(x.ndim, 1) - 1), unique=True, min_size=1).map(tuple), label="dim")
    if x.ndim == 0 and dim:
        dim = None
    if p == "fro" and dim is not None and len(dim) > 2:
        dim = dim[:2]
    keep = data.draw(st.booleans(), label="keepdim")
    q = 2 if p in ("fro", None) else p
    axis = dim or None  # () is all dims, as in PyTorch

    def reference(h):
        m = np.abs(h)
        if q == math.inf:
            return np.max(m, axis=axis, keepdims=keep)
        if q == -math.inf:
            return np.min(m, axis=axis, keepdims=keep)
        if q == 0:
            return np.sum(m != 0, axis=axis, keepdims=keep).astype(h.dtype)
        return np.sum(m ** q, axis=axis, keepdims=keep) ** (1 / q)

    out = x.norm(p, dim, keep)
    check_op(lambda t: minigen.norm(t, p, dim, keep), [x], reference, out.grad_fn)


def test_the_2_norm_of_a_zero_vector_has_gradient_0(device):
    """As PyTorch's: x / |x| is 0 / 0 there; NaN would spread through normalize and
    cosine_similarity into every weight. Other rows keep x / |x|."""
    x = minigen.tensor([[0.0, 0.0], [3.0, 4.0]], dtype="float64", device=device,
                       requires_grad=True)
    minigen.norm(x, 2, 1).sum().backward()
    np.testing.assert_allclose(host(x.grad), [[0.0, 0.0], [0.6, 0.8]])
    y = minigen.zeros(3, requires_grad=True, device=device)
    minigen.nn.functional.normalize(y, dim=0).sum().backward()
    # y / max(|y|, eps): the clamp holds the norm at eps = 1e-12, so the gradient is 1 / eps
    np.testing.assert_allclose(host(y.grad), np.full(3, 1 / np.float32(1e-12)), rtol=1e-6)


@given(data=st.data())
def test_norm_nuc(device, data):
    """p='nuc': the sum of the singular values over two dims (any two, either order), with
    gradient U @ Vh; matrices with distinct singular values well away from 0 (a diagonal of
    1, 2, 3... plus a small perturbation), so the gradient is defined."""
    batch = data.draw(mst.shapes(min_dims=0, max_dims=2), label="batch")
    rows, cols = data.draw(st.integers(1, 4), label="rows"), data.draw(st.integers(1, 4))
    small = 0.1 * np.tanh(data.draw(mst.distinct.arrays(batch + (rows, cols)), label="noise"))
    diag = np.zeros((rows, cols))
    diag[np.arange(min(rows, cols)), np.arange(min(rows, cols))] = np.arange(1, min(rows,
                                                                                  cols) + 1)
    nd = len(batch) + 2
    dims = data.draw(st.lists(st.integers(-nd, nd - 1), min_size=2, max_size=2, unique_by=
                              lambda d: d % nd), label="dims")
    a = np.moveaxis(small + diag, (-2, -1), [d % nd for d in dims])
    x = minigen.tensor(a, device=device).requires_grad_(True)
    keep = data.draw(st.booleans(), label="keepdim")
    call_dim = None if nd == 2 and data.draw(st.booleans(), label="dim None") and \
        [d % nd for d in dims] == [0, 1] else tuple(dims)

    def reference(h):
        s = np.linalg.svd(np.moveaxis(h, [d % nd for d in dims], (-2, -1)), compute_uv=False)
        out = np.sum(s, axis=-1)
        return np.expand_dims(out, tuple(sorted(d % nd for d in dims))) if keep else out

    def terms(h, v):
        """The gradient U @ Vh comes from an SVD, accurate to about k u |A| (k = the larger
        side) in the matrix: U @ Vh (the polar factor) moves by up to 2 / s_min times that."""
        axes = [d % nd for d in dims]
        s = np.linalg.svd(np.moveaxis(h, axes, (-2, -1)), compute_uv=False)
        condition = 2 * max(rows, cols) * s[..., 0] / s[..., -1]
        size = np.abs(v) if not keep else np.squeeze(np.abs(v), tuple(sorted(axes)))
        return [np.moveaxis(np.broadcast_to((size * condition)[..., None, None],
                                            batch + (rows, cols)), (-2, -1), axes)]

    out = x.norm("nuc", call_dim, keep)
    check_op(lambda t: minigen.norm(t, "nuc", call_dim, keep), [x], reference, out.grad_fn,
             grad_terms=terms)


def test_norm_refusals():
    """What PyTorch 2.13's torch.norm refuses, minigen refuses by name: 'fro' over three or
    more dims and 'nuc' over anything but two (both are PyTorch's matrix norm there), 'nuc'
    of a tensor under 2 dims, other strings, a negative p over no elements; and a NaN or bool
    p (which PyTorch takes: NaN gives NaN, True is 1)."""
    x = minigen.zeros(2, 3, 4)
    for dim in [(0, 1, 2), (2, -2, 0), [0, 1, 2]]:
        with pytest.raises(ShapeError, match="norm: p='fro' over 3 dims"):
            x.norm("fro", dim)
    for dim in [None, 0, (0,), (0, 1, 2), ()]:
        with pytest.raises(ShapeError, match="norm: p='nuc'"):
            x.norm("nuc", dim)
    with pytest.raises(ShapeError, match="twice"):
        x.norm("nuc", (1, -2))
    with pytest.raises(ShapeError, match="out of range"):
        x.norm("nuc", (0, 3))
    with pytest.raises(ShapeError, match="at least 2 dimensions"):
        minigen.zeros(3).norm("nuc")
    for p in ["bogus", "inf", math.nan, True]:
        with pytest.raises(ValueError, match="norm: p must be"):
            x.norm(p)
    with pytest.raises(ShapeError, match="no elements"):
        minigen.zeros(2, 0).norm(-1, 1)
    # accepted: 'fro' over none (all), one or two dims is the vector 2-norm, as in PyTorch
    a = np.arange(24.0).reshape(2, 3, 4) - 11.5
    y = minigen.tensor(a)
    for dim in [None, (), 1, (0, 2)]:
        np.testing.assert_allclose(y.norm("fro", dim).numpy(),
                                   np.sqrt(np.sum(a * a, axis=dim or None)))
    np.testing.assert_allclose(y.norm(0).numpy(), 24.0)  # the count of nonzeros
    np.testing.assert_allclose(minigen.zeros(2, 0).norm(2, 1).numpy(), [0.0, 0.0])
    np.testing.assert_allclose(y.norm("nuc", (2, 0)).numpy(), np.linalg.svd(
        np.moveaxis(a, (2, 0), (-2, -1)), compute_uv=False).sum(-1))


@pytest.mark.parametrize("descending", [False, True])
@given(data=st.data())
def test_sort_and_argsort(device, descending, data):
    x = _distinct(data, device)
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1), label="dim")
    order = np.argsort(host(x), axis=dim)
    if descending:
        order = np.flip(order, axis=dim)
    values, indices = x.sort(dim, descending=descending)
    np.testing.assert_array_equal(host(indices), order)
    np.testing.assert_array_equal(host(x.argsort(dim, descending)), order)
    assert indices.dtype == minigen.int64 and not indices.requires_grad
    check_op(lambda t: minigen.sort(t, dim, descending).values, [x],
             lambda h: np.take_along_axis(h, order, axis=dim), values.grad_fn)


@pytest.mark.parametrize("largest", [True, False])
@given(data=st.data())
def test_topk(device, largest, data):
    x = _distinct(data, device)
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1), label="dim")
    k = data.draw(st.integers(0, x.shape[dim]), label="k")
    order = np.argsort(-host(x) if largest else host(x), axis=dim)
    order = np.take(order, np.arange(k), axis=dim)
    values, indices = x.topk(k, dim, largest)
    np.testing.assert_array_equal(host(indices), order)
    check_op(lambda t: minigen.topk(t, k, dim, largest).values, [x],
             lambda h: np.take_along_axis(h, order, axis=dim), values.grad_fn)


def test_zero_dimensional_tensors():
    """PyTorch's answers for a 0-d tensor."""
    t = minigen.tensor(3.0)
    for values, indices in (t.sort(), t.topk(1)):
        assert values.shape == () and values.item() == 3.0 and indices.item() == 0
    assert t.argsort().shape == () and t.cumsum(0).item() == 3.0 and t.prod(0).item() == 3.0
    assert t.flip(0).item() == 3.0 and t.repeat(2, 2).shape == (2, 2)
    assert t.index_select(0, minigen.tensor(0)).shape == ()


def test_bad_input_is_named():
    x = minigen.zeros(3, 4)
    with pytest.raises(ShapeError, match="flip"):
        x.flip(0, 0)
    with pytest.raises(ShapeError, match="roll"):
        x.roll((1, 2), 0)
    with pytest.raises(ShapeError, match="repeat"):
        x.repeat(2)
    with pytest.raises(DTypeError, match="index_select"):
        x.index_select(0, minigen.tensor([0.0]))
    with pytest.raises(ShapeError, match="index_select"):
        x.index_select(0, minigen.tensor([[0]]))
    with pytest.raises(ShapeError, match="topk"):
        x.topk(5)
    with pytest.raises(ShapeError, match="cumsum"):
        x.cumsum(2)
    with pytest.raises(ValueError, match="norm"):
        x.norm("nuc", 0)
    with pytest.raises(DTypeError):
        minigen.tensor([1, 2]).reciprocal()
