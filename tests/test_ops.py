"""Property tests of the elementwise ops, casts, device moves and reductions.

Each test draws shapes (broadcasting where the op broadcasts) and values in the op's domain,
then :func:`tests.opcheck.check_op` compares the forward with NumPy in float64, gradchecks
every input, and checks that float32 stays float32. Every test runs on each array kind of the
``device`` fixture (NumPy, array-api-strict, CuPy when present).
"""

from __future__ import annotations

import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigen
from minigen import backend
from minigen.testing import strategies as mst
from tests.opcheck import check_forward, check_op, host

# log1p has its pole at -1: the same 0.1 margin as `positive` has from log's pole at 0.
ABOVE_MINUS_ONE = mst.interval(-0.9, 3.0, "above_minus_one")

UNARY = {  # name: (function, NumPy reference, domain, Function class)
    "neg": (minigen.neg, np.negative, mst.real, "Neg"),
    "exp": (minigen.exp, np.exp, mst.real, "Exp"),
    "log": (minigen.log, np.log, mst.positive, "Log"),
    "log1p": (minigen.log1p, np.log1p, ABOVE_MINUS_ONE, "Log1p"),
    "sqrt": (minigen.sqrt, np.sqrt, mst.positive, "Sqrt"),
    "abs": (minigen.abs, np.abs, mst.away_from_kinks, "Abs"),
}

BINARY = {  # name: (function, operator, NumPy reference, domain of a, domain of b, class)
    "add": (minigen.add, operator.add, np.add, mst.real, mst.real, "Add"),
    "sub": (minigen.sub, operator.sub, np.subtract, mst.real, mst.real, "Sub"),
    "mul": (minigen.mul, operator.mul, np.multiply, mst.real, mst.real, "Mul"),
    "div": (minigen.div, operator.truediv, np.divide, mst.real, mst.positive, "Div"),
    "pow": (minigen.pow, operator.pow, np.power, mst.positive, mst.real, "Pow"),
}

COVERED_OPS = {op for *_, op in UNARY.values()} | {op for *_, op in BINARY.values()} | {
    "Maximum", "Minimum", "Where", "Clamp", "AsType", "ToDevice",
    "Sum", "Mean", "Max", "MaxAlongDim", "Var", "Std", "LogSumExp",
}
COVERED_FUNCTIONS = set(UNARY) | set(BINARY) | {
    "maximum", "minimum", "where", "clamp", "astype", "to_device",
    "sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std",
    "logsumexp", "remainder", "floor_divide",
    "logical_and", "logical_or", "logical_xor", "logical_not",
}


# ------------------------------------------------------------------------- elementwise


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary(device, name, data):
    fn, reference, domain, op = UNARY[name]
    x = data.draw(mst.tensors(device=device, elements=domain), label="x")
    check_op(fn, [x], reference, op)


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_broadcasting(device, name, data):
    fn, _, reference, domain_a, domain_b, op = BINARY[name]
    shape_a, shape_b = data.draw(mst.broadcastable_shapes(2), label="shapes")
    # Either input may be a constant: the backward must skip it and still get the other right.
    grads = data.draw(st.sampled_from([(True, True), (True, False), (False, True)]),
                      label="requires_grad")
    a = data.draw(mst.tensors(shape_a, device=device, elements=domain_a,
                              requires_grad=grads[0]), label="a")
    b = data.draw(mst.tensors(shape_b, device=device, elements=domain_b,
                              requires_grad=grads[1]), label="b")
    check_op(fn, [a, b], reference, op)


@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary_with_python_number(device, name, data):
    """``x + 2.0`` and ``2.0 + x``: the operators, reaching __radd__ and friends."""
    _, op_fn, reference, domain_a, domain_b, op = BINARY[name]
    number_left = data.draw(st.booleans(), label="number on the left")
    domain_t, domain_n = (domain_b, domain_a) if number_left else (domain_a, domain_b)
    if name == "pow" and not number_left:  # x ** k: integer powers of any real base
        domain_t, number = mst.real, data.draw(st.sampled_from([2, 3]), label="k")
    else:
        # held in float32 (the float32 pass rounds it there): both passes see one number
        number = float(np.float32(data.draw(domain_n.elements(), label="number")))
    x = data.draw(mst.tensors(device=device, elements=domain_t), label="x")
    if number_left:
        check_op(lambda t: op_fn(number, t), [x], lambda h: reference(number, h), op)
    else:
        check_op(lambda t: op_fn(t, number), [x], lambda h: reference(h, number), op)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@given(data=st.data())
def test_maximum_minimum(device, name, data):
    fn, reference = getattr(minigen, name), getattr(np, name)
    shape_a, shape_b = data.draw(mst.broadcastable_shapes(2), label="shapes")
    # One distinct array split in two: no value of a equals any value of b (no ties).
    size = int(np.prod(shape_a, dtype=int) + np.prod(shape_b, dtype=int))
    both = data.draw(mst.distinct.arrays((size,)), label="values")
    split = int(np.prod(shape_a, dtype=int))
    a = _from_host(both[:split].reshape(shape_a), device)
    b = _from_host(both[split:].reshape(shape_b), device)
    check_op(fn, [a, b], reference, name.capitalize())


def _from_host(array, device, requires_grad=True):
    t = minigen.Tensor._make(backend.asarray(array, minigen.float64, minigen.device(device)))
    return t.requires_grad_(True) if requires_grad else t


def test_maximum_ties_share_the_gradient_evenly(device):
    a = minigen.tensor([1.0, 2.0, 3.0], dtype="float64", device=device, requires_grad=True)
    b = minigen.tensor([3.0, 2.0, 1.0], dtype="float64", device=device, requires_grad=True)
    minigen.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(host(a.grad), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(host(b.grad), [1.0, 0.5, 0.0])


@given(data=st.data())
def test_where(device, data):
    shapes = data.draw(mst.broadcastable_shapes(3), label="shapes")
    condition = data.draw(hnp.arrays(np.bool_, shapes[0]), label="condition")
    cond = minigen.Tensor._make(backend.asarray(condition, minigen.bool_,
                                                minigen.device(device)))
    a = data.draw(mst.tensors(shapes[1], device=device), label="a")
    if data.draw(st.booleans(), label="b is a number"):
        number = data.draw(mst.real.elements(), label="b")
        check_op(lambda c, t: minigen.where(c, t, number), [cond, a],
                 lambda c, h: np.where(c, h, number), "Where")
    else:
        b = data.draw(mst.tensors(shapes[2], device=device), label="b")
        check_op(minigen.where, [cond, a, b], np.where, "Where")


@given(data=st.data())
def test_clamp(device, data):
    low = data.draw(st.one_of(st.none(), st.floats(-2.0, 1.0)), label="min")
    high = data.draw(st.one_of(st.none() if low is not None else st.nothing(),
                               st.floats(-1.0, 2.0).filter(lambda h: low is None or h > low)),
                     label="max")
    kinks = tuple(v for v in (low, high) if v is not None)
    x = data.draw(mst.tensors(device=device, elements=mst.away_from(*kinks)), label="x")
    check_op(lambda t: minigen.clamp(t, low, high), [x], lambda h: np.clip(h, low, high),
             "Clamp")


@given(x=st.data())
def test_astype(device, x):
    t = x.draw(mst.tensors(device=device), label="x")
    # float64 -> float64 is an identity with gradient 1: finite differences can check it.
    check_op(lambda u: minigen.astype(u, minigen.float64), [t], lambda h: h, "AsType",
             float32=False)
    # float64 -> float32 cannot be finite-differenced at eps = 1e-6 (float32 rounds at 6e-8
    # relative), but its vector-Jacobian product is exact: the cotangent cast back to float64.
    t.grad = None
    out = minigen.astype(t, "float32")
    assert out.dtype == minigen.float32 and out.grad_fn == "AsType"
    # Exact, except that a GPU flushes float32 subnormals (below 1.2e-38) to zero, where
    # NumPy keeps them (seen on an H100: 3.06e-40 became 0).
    tiny = float(np.finfo(np.float32).tiny) if device == "cuda" else 0.0
    check_forward(out, host(t).astype(np.float32), 0, tiny)
    v = host(t).astype(np.float32) + np.float32(0.5)
    out.backward(backend.asarray(v, minigen.float32, minigen.device(device)))
    assert t.grad.dtype == minigen.float64
    np.testing.assert_array_equal(host(t.grad), v.astype(np.float64))


@given(data=st.data())
def test_to_device(device, data):
    other = "strict" if device == "cpu" else "cpu"
    x = data.draw(mst.tensors(device=device), label="x")
    check_op(lambda t: minigen.to_device(t, other), [x], lambda h: h, "ToDevice",
             out_device=other)
    assert x.grad.device == x.device  # the gradient came back to where x lives


# ------------------------------------------------------------------------- reductions


@st.composite
def dims(draw, ndim: int, allow_none: bool = True):
    """None (all), one axis, or a tuple of distinct axes, each maybe written negative."""
    kinds = (["none"] if allow_none else []) + (["int", "tuple"] if ndim else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None
    axes = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    axes = [a - ndim if draw(st.booleans()) else a for a in axes]
    return axes[0] if kind == "int" else tuple(axes)


def _spread(v, shape, dim, keepdim):
    """A reduction's cotangent v back on the input's shape (each group's value everywhere)."""
    axes = tuple(range(len(shape))) if dim is None else tuple(
        a % len(shape) for a in ((dim,) if isinstance(dim, int) else dim))
    v = np.asarray(v) if keepdim else np.expand_dims(v, axes)
    return np.broadcast_to(v, shape), axes


def _centred_terms(h, v, dim, keepdim, correction, std):
    """var's backward is 2 v (x - mean) / d, std's v (x - mean) / (d std): x - mean cancels by
    design (tests.opcheck.check_float32). Its float32 error is about u A, A = |x| + sum |x|
    (the mean's sum rounds too); std's divisor, sqrt(sum (x - mean)^2 / d), is then off by
    u sum |x - mean| A / (d std^2), relative."""
    size, axes = _spread(np.abs(v), h.shape, dim, keepdim)
    d = _count(h.shape, dim) - correction
    c = h - np.mean(h, axis=axes, keepdims=True)
    a = np.abs(h) + np.sum(np.abs(h), axis=axes, keepdims=True)
    if not std:
        return [2 * size * a / d]
    sd = np.sqrt(np.sum(c * c, axis=axes, keepdims=True) / d)
    relative = np.sum(np.abs(c) * a, axis=axes, keepdims=True) / (d * sd**2)
    return [size * (a + np.abs(c) * relative) / (d * sd)]


def _count(shape, dim):
    if dim is None:
        return int(np.prod(shape, dtype=int))
    axes = (dim,) if isinstance(dim, int) else dim
    return int(np.prod([shape[a] for a in axes], dtype=int))


REDUCTIONS = {  # name: (NumPy reference, domain, Function class)
    "sum": (np.sum, mst.real, "Sum"),
    "mean": (np.mean, mst.real, "Mean"),
    "amax": (np.max, mst.distinct, "Max"),
    "amin": (np.min, mst.distinct, "Max"),  # amin is Max with the sign flipped
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_reduction(device, name, data):
    reference, domain, op = REDUCTIONS[name]
    x = data.draw(mst.tensors(device=device, elements=domain), label="x")
    dim = data.draw(dims(x.ndim), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    check_op(lambda t: getattr(minigen, name)(t, dim, keepdim), [x],
             lambda h: reference(h, axis=dim, keepdims=keepdim), op)


def test_amax_ties_share_the_gradient_evenly(device):
    x = minigen.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], dtype="float64", device=device,
                       requires_grad=True)
    x.amax(dim=1).sum().backward()
    np.testing.assert_allclose(host(x.grad), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data())
def test_max_over_one_dim(device, name, data):
    """max(x, dim) and min(x, dim) are PyTorch's pairs (values, indices); over all dims
    (dim=None) the value alone."""
    x = data.draw(mst.tensors(shape=mst.shapes(min_dims=1), device=device,
                              elements=mst.distinct), label="x")
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    reference, arg = (np.max, np.argmax) if name == "max" else (np.min, np.argmin)
    fn = getattr(minigen, name)
    check_op(lambda t: fn(t, dim, keepdim).values, [x],
             lambda h: reference(h, axis=dim, keepdims=keepdim), "MaxAlongDim")
    values, indices = fn(x, dim, keepdim=keepdim)
    assert indices.dtype == minigen.int64
    np.testing.assert_array_equal(host(indices), arg(host(x), axis=dim, keepdims=keepdim))
    np.testing.assert_array_equal(host(fn(x)), reference(host(x)))


def test_max_over_a_dim_gives_a_tie_to_its_first_element(device):
    """PyTorch's max(dim) returns ONE index per row, the first of a tie, and the gradient
    goes to that element alone (amax shares it: the test above)."""
    x = minigen.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], dtype="float64", device=device,
                       requires_grad=True)
    values, indices = x.max(dim=1)
    assert host(indices).tolist() == [1, 0]
    assert x.max(1)[0].shape == x.max(1).values.shape == (2,)  # a named pair
    values.sum().backward()
    np.testing.assert_array_equal(host(x.grad), [[0, 1, 0], [1, 0, 0]])


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(data=st.data())
def test_argmax(device, name, data):
    x = data.draw(mst.tensors(shape=mst.shapes(min_dims=1), device=device), label="x")
    dim = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    got = getattr(minigen, name)(x, dim, keepdim)
    want = getattr(np, name)(host(x), axis=dim, keepdims=keepdim)
    assert got.dtype == minigen.int64 and not got.requires_grad
    np.testing.assert_array_equal(host(got), want)
    assert host(getattr(x, name)(dim, keepdim=keepdim)).tolist() == want.tolist()


@given(data=st.data())
def test_var(device, data):
    x = data.draw(mst.tensors(device=device), label="x")
    dim = data.draw(dims(x.ndim), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    # The unbiased variance of one value divides by zero: it needs more values than that.
    correction = data.draw(st.sampled_from([c for c in (0, 1) if c < _count(x.shape, dim)]),
                           label="correction")
    check_op(lambda t: minigen.var(t, dim, keepdim=keepdim, correction=correction), [x],
             lambda h: np.var(h, axis=dim, keepdims=keepdim, ddof=correction), "Var",
             grad_terms=lambda h, v: _centred_terms(h, v, dim, keepdim, correction, False))


@given(data=st.data())
def test_std(device, data):
    # distinct values: the standard deviation is then > 0, where sqrt is smooth
    x = data.draw(mst.tensors(device=device, elements=mst.distinct), label="x")
    dim = data.draw(dims(x.ndim), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    correction = data.draw(st.sampled_from([c for c in (0, 1) if c < _count(x.shape, dim)]),
                           label="correction")
    if _count(x.shape, dim) < 2:
        return  # one value: a deviation of 0, the kink of sqrt (the next test)
    check_op(lambda t: minigen.std(t, dim, keepdim=keepdim, correction=correction), [x],
             lambda h: np.std(h, axis=dim, keepdims=keepdim, ddof=correction), "Std",
             grad_terms=lambda h, v: _centred_terms(h, v, dim, keepdim, correction, True))


def test_std_of_equal_values_has_gradient_zero(device):
    """PyTorch's choice at the kink of sqrt: 0, not 0 * inf = NaN."""
    x = minigen.full((2, 3), 2.0, dtype="float64", device=device, requires_grad=True)
    x.std(dim=1).sum().backward()
    np.testing.assert_array_equal(host(x.grad), np.zeros((2, 3)))


def test_var_and_std_take_pytorchs_arguments(device):
    """Unbiased by default; PyTorch's second positional argument is ``unbiased`` (not
    keepdim), and ``correction`` is keyword-only."""
    x = minigen.tensor([[1.0, 2.0, 4.0], [0.0, 0.0, 3.0]], dtype="float64", device=device)
    np.testing.assert_allclose(host(x.var(1)), [7 / 3, 3.0])
    assert x.var(1, True).shape == (2,)  # unbiased=True, not keepdim
    np.testing.assert_allclose(host(x.var(1, False)), [14 / 9, 2.0])
    assert x.var(1, False, True).shape == (2, 1)
    np.testing.assert_allclose(host(x.std(1, unbiased=False) ** 2), [14 / 9, 2.0])
    np.testing.assert_allclose(host(minigen.var(x, correction=0)), np.var(host(x)))
    with pytest.raises(TypeError, match="not both"):
        x.var(1, True, correction=1)


def _logsumexp(h, dim, keepdim):
    top = np.max(h, axis=dim, keepdims=True)
    out = np.log(np.sum(np.exp(h - top), axis=dim, keepdims=True)) + top
    return out if keepdim else np.squeeze(out, axis=dim)


@given(data=st.data())
def test_logsumexp(device, data):
    x = data.draw(mst.tensors(shape=mst.shapes(min_dims=1), device=device), label="x")
    dim = data.draw(dims(x.ndim, allow_none=False), label="dim")
    keepdim = data.draw(st.booleans(), label="keepdim")
    check_op(lambda t: minigen.logsumexp(t, dim, keepdim), [x],
             lambda h: _logsumexp(h, dim, keepdim), "LogSumExp")


def test_logsumexp_does_not_overflow(device):
    x = minigen.tensor([[1000.0, 1000.0], [-1000.0, -1000.0]], dtype="float64", device=device)
    np.testing.assert_allclose(host(minigen.logsumexp(x, 1)), [1000 + np.log(2),
                                                              -1000 + np.log(2)])


@given(a=hnp.arrays(st.sampled_from([np.int64, np.float64]), mst.shapes(),
                    elements=st.integers(-20, 20)),
       b=st.integers(-7, 7).filter(bool), data=st.data())
def test_remainder_and_floor_divide(device, a, b, data):
    """% and // as Python's (and PyTorch's): the remainder takes the divisor's sign, the
    quotient rounds down; the divisor a number or a tensor, on either side. No gradient: a
    tensor that asks for one is refused."""
    x = minigen.tensor(a, device=device)
    divisor = b if data.draw(st.booleans(), label="a number") else minigen.tensor(
        np.full(a.shape[-1:], b, dtype=a.dtype), device=device)
    expected = np.broadcast_to(np.full(a.shape[-1:], b, dtype=a.dtype), a.shape)
    np.testing.assert_array_equal(host(x % divisor), np.remainder(a, expected))
    np.testing.assert_array_equal(host(x // divisor), np.floor_divide(a, expected))
    np.testing.assert_array_equal(host(minigen.remainder(17, x + 30)), np.remainder(17, a + 30))
    assert (x % divisor).dtype == x.dtype
    if a.dtype == np.float64:
        with pytest.raises(minigen.GraphError, match="no gradient"):
            x.requires_grad_(True) // divisor
    else:
        with pytest.raises(ValueError, match="by zero"):
            x % 0


@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
@given(data=st.data())
def test_mask_logic_matches_numpy(device, name, data):
    """``a & b``, ``a | b``, ``a ^ b`` (and ``~a``) of boolean masks, with broadcasting and
    Python bools, against NumPy; outside the graph, and a float tensor is refused."""
    shape_a, shape_b = data.draw(mst.broadcastable_shapes(max_dims=3), label="shapes")
    a = data.draw(hnp.arrays(np.bool_, shape_a), label="a")
    b = data.draw(hnp.arrays(np.bool_, shape_b), label="b")
    fn = getattr(minigen, name)
    got = fn(minigen.tensor(a, device=device), minigen.tensor(b, device=device))
    assert got.dtype == minigen.bool_ and not got.requires_grad
    np.testing.assert_array_equal(host(got), getattr(np, name)(a, b))
    np.testing.assert_array_equal(host(fn(minigen.tensor(a, device=device), True)),
                                  getattr(np, name)(a, True))
    np.testing.assert_array_equal(host(minigen.logical_not(minigen.tensor(a, device=device))),
                                  ~a)
    with pytest.raises(minigen.DTypeError, match="boolean"):
        fn(minigen.tensor(a, device=device).float(), minigen.tensor(b, device=device))
