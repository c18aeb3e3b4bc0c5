"""Fuzz: every public op, and every layer's forward, with hostile inputs.

Inputs are empty (a dimension of size 0), have size-1 dimensions, 0-d, huge (1e30), tiny
(1e-30), NaN and infinite values, integer and boolean dtypes, float64 mixed with float32, and
wrong ranks, shapes, dims, keys and keyword arguments. Each call must end in one of two ways:

* it computes a result of the right shape and dtype (float32 in, float32 out), equal to NumPy's
  where NumPy defines one (NaN in, NaN out is fine), and its backward gives each input a
  gradient of the input's shape;
* it raises one of minigen's errors (:class:`minigen.MinigenError`), or a ValueError, TypeError
  or IndexError raised BY MINIGEN ON PURPOSE (a ``raise`` statement in minigen's code).

Never an error from inside NumPy or the engine (a bare broadcasting message, an AttributeError,
a ZeroDivisionError), and never a RuntimeWarning: warnings are errors here. Where NumPy refuses
an input, minigen must refuse it too.
"""

from __future__ import annotations

import math
import os
import traceback
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen
from minigen import nn, ops
from minigen.errors import MinigenError
from minigen.extras import nn_pooling as pooling_layers
from minigen.extras import pooling
from minigen.nn import functional as F
from tests.opcheck import index_like_pytorch

NAN, INF = float("nan"), float("inf")
VALUES = [0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e30, -1e30, 1e-30, -1e-30, NAN, INF, -INF]
DTYPES = ["float32", "float32", "float32", "float64", "int64", "bool"]
JUNK = ["a", 1.5, None, True, (0, "x"), [1.0]]  # values no argument should accept


# --------------------------------------------------------------------------- the verdict


def check_deliberate(e: BaseException) -> None:
    """Pass for minigen's errors and for errors raised by a ``raise`` in minigen's code."""
    assert str(e), f"{type(e).__name__} without a message"
    if isinstance(e, MinigenError):
        return
    frame = traceback.extract_tb(e.__traceback__)[-1]
    in_minigen = f"{os.sep}minigen{os.sep}" in frame.filename
    deliberate = (isinstance(e, (ValueError, TypeError, IndexError)) and in_minigen
                  and (frame.line or "").lstrip().startswith("raise "))
    assert deliberate, (f"{type(e).__name__} from {frame.filename}:{frame.lineno} "
                        f"({frame.line!r}): {e}")


def call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` and, if the result needs one, its backward. The result, or None
    when minigen refused the input with a deliberate error. Warnings fail the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            out = fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001  (the point: which exception, from where)
            check_deliberate(e)
            return None
        if isinstance(out, minigen.Tensor) and out.requires_grad:
            out.backward(minigen.ones_like(out))  # after a forward, backward must work
    inputs = [a for a in args if isinstance(a, minigen.Tensor)]
    inputs += [t for a in args if isinstance(a, (list, tuple)) for t in a
               if isinstance(t, minigen.Tensor)]
    for t in inputs:
        assert t.grad is None or t.grad.shape == t.shape, (t.grad.shape, t.shape)
    return out


def reference(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """NumPy's answer, or the exception NumPy raises."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return np.asarray(fn(*args, **kwargs))
        except Exception as e:  # noqa: BLE001
            return e


def agree(got: Any, want: Any, *tensors: Any, exact: bool = False) -> None:
    """minigen's result ``got`` (None: refused) against NumPy's ``want``."""
    if isinstance(want, Exception):
        assert got is None, f"NumPy refuses this ({want}) but minigen computed {got}"
        return
    if got is None:
        return
    assert isinstance(got, minigen.Tensor)
    assert got.shape == want.shape, (got.shape, want.shape)
    floats = {t.dtype.name for t in tensors if isinstance(t, minigen.Tensor)
              and t.dtype.is_floating_point}
    if got.dtype.is_floating_point:  # float32 stays float32; integers never become floats
        assert got.dtype.name in floats, f"{floats or 'no floats'} in, {got.dtype} out"
    if got.dtype.name in floats and want.dtype.kind == "f":
        got_np = minigen.backend.to_numpy(got.data)
        rtol = 0 if exact else (1e-5 if got.dtype == minigen.float32 else 1e-12)
        np.testing.assert_allclose(got_np, want.astype(got_np.dtype), rtol=rtol, atol=0,
                                   equal_nan=True)


# --------------------------------------------------------------------------- strategies


@st.composite
def arrays(draw: Any, shape: Any = None, dtypes: list[str] = DTYPES) -> np.ndarray:
    """A NumPy array: 0 to 3 dimensions of sizes 0 to 3, hostile values, any dtype."""
    if shape is None:
        shape = tuple(draw(st.lists(st.integers(0, 3), max_size=3)))
    dtype = draw(st.sampled_from(dtypes))
    n = math.prod(shape)
    if dtype == "bool":
        values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    elif dtype == "int64":
        values = draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n))
    else:
        values = draw(st.lists(st.sampled_from(VALUES), min_size=n, max_size=n))
    return np.asarray(values, dtype=np.float64 if dtype.startswith("f") else dtype
                      ).astype(dtype).reshape(shape)


def to_tensor(a: np.ndarray, device: str, grad: bool = True) -> minigen.Tensor:
    t = minigen.tensor(a, device=device)
    if grad and t.dtype.is_floating_point:
        t.requires_grad_(True)
    return t


def operand(draw: Any, device: str, shape: Any = None) -> tuple[Any, Any]:
    """(what minigen gets, what NumPy gets): mostly tensors, sometimes a Python number."""
    kind = draw(st.sampled_from(["tensor"] * 4 + ["float", "int"]))
    if kind == "float":
        v = draw(st.sampled_from(VALUES))
        return v, v  # a Python float: "weak" in NumPy too, float32 stays float32
    if kind == "int":
        v = draw(st.integers(-2, 2))
        return v, v
    a = draw(arrays(shape))
    return to_tensor(a, device), a


def dims(draw: Any, ndim: int) -> Any:
    """A dim argument: None, an int (in range or not), a tuple, or junk."""
    return draw(st.one_of(st.none(), st.integers(-ndim - 1, ndim),
                          st.lists(st.integers(-ndim, max(ndim - 1, 0)), min_size=1,
                                   max_size=2).map(tuple),
                          st.sampled_from(JUNK)))


def np_axes(dim: Any, ndim: int) -> Any:
    """``dim`` as NumPy's axis argument (PyTorch lets a 0-d tensor use dim 0 or -1)."""
    if ndim == 0 and all(d in (0, -1) for d in (dim if isinstance(dim, tuple) else (dim,))):
        return None
    return tuple(dim) if isinstance(dim, list) else dim


# --------------------------------------------------------------------------- elementwise


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -x.astype(np.float64)))


UNARY = {  # name: NumPy reference (None: shape only)
    "abs": np.abs, "exp": np.exp, "log": np.log, "log1p": np.log1p, "neg": np.negative,
    "sqrt": np.sqrt, "relu": lambda x: np.maximum(x, 0), "tanh": np.tanh,
    "sigmoid": _sigmoid, "softplus": lambda x: np.logaddexp(0.0, x.astype(np.float64)),
    "log_sigmoid": lambda x: -np.logaddexp(0.0, -x.astype(np.float64)),
    "leaky_relu": lambda x: np.where(x > 0, x, x * x.dtype.type(0.01)),
    "clone": np.copy, "isnan": np.isnan, "isfinite": np.isfinite,
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "silu": lambda x: x * _sigmoid(x),
}
BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
          "pow": np.power, "maximum": np.maximum, "minimum": np.minimum,
          "remainder": np.remainder, "floor_divide": np.floor_divide}
DEVICES = ["cpu", "strict"]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary(device: str, name: str, data: Any) -> None:
    a = data.draw(arrays())
    x = to_tensor(a, device)
    got = call(getattr(ops, name), x)
    want = reference(UNARY[name], a)
    if a.dtype.kind != "f":  # integer inputs: minigen may refuse (no silent float64)
        want = want if got is not None else None
    if want is not None:
        agree(got, want, x, exact=name in ("abs", "neg", "relu"))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(BINARY))
@given(data=st.data())
def test_binary(device: str, name: str, data: Any) -> None:
    (a, a_np), (b, b_np) = operand(data.draw, device), operand(data.draw, device)
    got = call(getattr(ops, name), a, b)
    want = reference(BINARY[name], a_np, b_np)
    tensors = [t for t in (a, b) if isinstance(t, minigen.Tensor)]
    if not tensors:  # two numbers: the first becomes a tensor of the default dtype
        assert got is None or got.shape == ()
        return
    mixed = len({t.dtype for t in tensors}) > 1 or not all(
        t.dtype.is_floating_point for t in tensors)
    if not isinstance(want, Exception) and (mixed or got is None):
        return  # dtype mixing: refusing is the rule; a result must keep its float dtype
    agree(got, want, *tensors, exact=True)


@given(data=st.data())
def test_where_and_clamp(data: Any) -> None:
    cond, a, b = data.draw(arrays()), data.draw(arrays()), data.draw(arrays())
    tc, ta, tb = (to_tensor(v, "cpu") for v in (cond, a, b))
    got = call(ops.where, tc, ta, tb)
    if cond.dtype == bool and a.dtype == b.dtype and a.dtype.kind == "f":
        agree(got, reference(np.where, cond, a, b), ta, tb, exact=True)
    else:
        assert got is None or cond.dtype == bool
    low, high = data.draw(st.sampled_from([None, -1.0, 0.0, 1e30, NAN, "a"])), \
        data.draw(st.sampled_from([None, 1.0, -1.0, INF, "a"]))
    got = call(ops.clamp, ta, low, high)
    if got is not None:
        assert got.shape == ta.shape and got.dtype == ta.dtype


# --------------------------------------------------------------------------- reductions


REDUCTIONS = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min,
              "amax": np.max, "amin": np.min,
              "var": lambda x, axis, keepdims: np.var(x, axis=axis, keepdims=keepdims, ddof=1),
              "std": lambda x, axis, keepdims: np.std(x, axis=axis, keepdims=keepdims, ddof=1),
              "logsumexp": None}


def values_of(name: str) -> Any:
    """The reduction ``name`` as (tensor, dim, keepdim) -> values: max and min over one dim
    give (values, indices), as PyTorch's."""
    fn = getattr(ops, name)

    def reduce(x: Any, dim: Any, keepdim: Any) -> Any:
        out = fn(x, dim, keepdim=keepdim)
        return out.values if isinstance(out, tuple) else out

    return reduce


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_reductions(device: str, name: str, data: Any) -> None:
    a = data.draw(arrays())
    x = to_tensor(a, device)
    dim, keepdim = dims(data.draw, a.ndim), data.draw(st.sampled_from([False, True, "yes"]))
    if name == "logsumexp":
        got = call(ops.logsumexp, x, dim, keepdim)
        if got is not None:
            want = reference(np.sum, np.zeros(a.shape), axis=np_axes(dim, a.ndim),
                             keepdims=keepdim)
            assert got.shape == want.shape
        return
    got = call(values_of(name), x, dim, keepdim)
    if got is None or a.dtype.kind != "f":
        return  # refused, or integers (whose mean and var minigen refuses)
    want = reference(REDUCTIONS[name], a, axis=np_axes(dim, a.ndim), keepdims=keepdim)
    agree(got, want, x)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(data=st.data())
def test_argmax(device: str, name: str, data: Any) -> None:
    a = data.draw(arrays())
    x = to_tensor(a, device)
    dim = data.draw(st.sampled_from([None, 0, -1, 5, (0,), "x"]))
    keepdim = data.draw(st.sampled_from([False, True, "yes"]))
    got = call(getattr(ops, name), x, dim, keepdim)
    want = reference(getattr(np, name), a, axis=dim, keepdims=keepdim)
    if got is not None and not isinstance(want, Exception):
        np.testing.assert_array_equal(minigen.backend.to_numpy(got.data), want)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(data=st.data())
def test_softmax(name: str, data: Any) -> None:
    a = data.draw(arrays())
    x = to_tensor(a, "cpu")
    dim = dims(data.draw, a.ndim)
    got = call(getattr(ops, name), x, dim)
    if got is not None:
        assert got.shape == x.shape and got.dtype == x.dtype
        finite = np.isfinite(a).all() and (np.abs(a) < 1e3).all()
        if finite and a.size and type(dim) is int and -max(a.ndim, 1) <= dim < max(a.ndim, 1):
            h = a.astype(np.float64).reshape(a.shape or (1,))  # a 0-d input: one row of one
            shifted = h - h.max(axis=dim, keepdims=True)
            want = shifted - np.log(np.exp(shifted).sum(axis=dim, keepdims=True))
            want = (np.exp(want) if name == "softmax" else want).reshape(a.shape)
            np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------- shapes


def shape_args(draw: Any, shape: tuple[int, ...]) -> tuple[Any, ...]:
    """A shape argument near ``shape``: a permutation of it, -1 somewhere, a bad size."""
    sizes = list(shape)
    choice = draw(st.sampled_from(["same", "perm", "minus1", "wrong", "junk", "flat"]))
    if choice == "perm":
        sizes = draw(st.permutations(sizes))
    elif choice == "minus1" and sizes:
        sizes[draw(st.integers(0, len(sizes) - 1))] = -1
    elif choice == "wrong":
        sizes = draw(st.lists(st.integers(-2, 4), max_size=3))
    elif choice == "junk":
        sizes = sizes + [draw(st.sampled_from(JUNK))]
    elif choice == "flat":
        sizes = [-1]
    return tuple(sizes)


@given(data=st.data())
def test_shape_ops(data: Any) -> None:
    a = data.draw(arrays(dtypes=["float32"]))
    x, nd = to_tensor(a, "cpu"), a.ndim
    new = shape_args(data.draw, a.shape)
    d0, d1 = dims(data.draw, nd), dims(data.draw, nd)
    cases = [
        (ops.reshape, (x, new), lambda: np.reshape(a, new)),
        (ops.permute, (x, new), lambda: np.transpose(a, new)),
        (ops.transpose, (x, d0, d1), lambda: np.swapaxes(a, d0, d1)),
        (ops.unsqueeze, (x, d0), lambda: np.expand_dims(a, d0)),
        (ops.squeeze, (x, d0), None),
        (ops.expand, (x, new), None),
        (ops.flatten, (x, 0 if d0 is None else d0, -1 if d1 is None else d1), None),
        (ops.pad, (x, new), None),
    ]
    for fn, args, ref in cases:
        got = call(fn, *args)
        if ref is not None and got is not None:
            want = reference(ref)
            if not isinstance(want, Exception):  # (minigen's rules may be stricter)
                agree(got, want, x, exact=True)
        if ref is not None and isinstance(reference(ref), Exception) and nd:
            assert got is None, f"{fn.__name__}{args[1:]} on {a.shape}: NumPy refuses"


@st.composite
def index_keys(draw: Any, ndim: int) -> Any:
    part = st.one_of(st.integers(-4, 4), st.none(), st.just(Ellipsis),
                     st.builds(slice, st.one_of(st.none(), st.integers(-4, 4)),
                               st.one_of(st.none(), st.integers(-4, 4)),
                               st.one_of(st.none(), st.integers(-2, 2))),
                     st.lists(st.integers(-4, 4), max_size=3), st.sampled_from(JUNK))
    parts = draw(st.lists(part, max_size=ndim + 1))
    return parts[0] if len(parts) == 1 and draw(st.booleans()) else tuple(parts)


@given(data=st.data())
def test_getitem(data: Any) -> None:
    a = data.draw(arrays(dtypes=["float32"]))
    x = to_tensor(a, "cpu")
    key = data.draw(index_keys(a.ndim))
    got = call(ops.getitem, x, key)
    want = reference(lambda: index_like_pytorch(a, key))  # NumPy's, ints first
    if isinstance(want, Exception):
        assert got is None, f"a[{key!r}] of shape {a.shape}: NumPy refuses, minigen computed"
    elif got is not None:
        agree(got, want, x, exact=True)


@given(data=st.data())
def test_setitem(data: Any) -> None:
    """x[key] = value with hostile keys (as reading takes them) and values (any dtype and
    shape, numbers, junk): a deliberate refusal that leaves x as it was, or NumPy's result
    (for keys without index lists, which NumPy and PyTorch order alike)."""
    a = data.draw(arrays(dtypes=["float32", "float32", "int64"]))
    x = to_tensor(a, "cpu", grad=False)
    before = x.data
    key = data.draw(index_keys(a.ndim))
    value = data.draw(st.one_of(st.sampled_from(VALUES + [1, True, "a", None]),
                                arrays(dtypes=["float32", "float64", "int64", "bool"])))
    given_value = to_tensor(value, "cpu", grad=False) if isinstance(value, np.ndarray) else value
    call(ops.setitem, x, key, given_value)
    if x.data is before:  # refused (or nothing to do): x is unchanged
        np.testing.assert_array_equal(x.numpy(), a)
        return
    parts = key if isinstance(key, tuple) else (key,)
    if any(isinstance(k, list) for k in parts):
        return  # (NumPy orders ints among index lists otherwise: see test_getitem)
    want = reference(lambda: _assigned(a, key, value))
    if not isinstance(want, Exception):  # (minigen may take what NumPy refuses, e.g. 1.0
        agree(x, want, x, exact=True)      # into an int array: NumPy casts, so does minigen)


INPLACE = {"add_": np.add, "sub_": np.subtract, "mul_": np.multiply, "div_": np.true_divide,
           "__iadd__": np.add, "__imul__": np.multiply, "__ipow__": np.power,
           "copy_": lambda a, b: np.broadcast_to(b, a.shape).astype(a.dtype),
           "fill_": lambda a, b: np.full_like(a, b), "clamp_": lambda a, b: np.clip(a, b, None)}


@pytest.mark.parametrize("name", sorted(INPLACE))
@given(data=st.data())
def test_inplace(name: str, data: Any) -> None:
    """x.add_(y), x += y...: hostile tensors and operands. Either a deliberate refusal that
    leaves x as it was, or x itself, with x's shape and dtype, holding NumPy's result."""
    a = data.draw(arrays(dtypes=["float32", "float32", "int64", "bool"]))
    x = to_tensor(a, "cpu", grad=False)
    before = x.data
    given_other, b = operand(data.draw, "cpu", a.shape if data.draw(st.booleans()) else None)
    if name in ("fill_", "clamp_") and not isinstance(given_other, (int, float)):
        given_other = b = data.draw(st.sampled_from(VALUES + [1, True]))
    got = call(getattr(x, name), given_other)
    if got is None or x.data is before:  # refused: x is unchanged
        np.testing.assert_array_equal(x.detach().numpy(), a)
        return
    assert got is x and x.shape == a.shape and x.dtype.name == str(a.dtype)
    want = reference(INPLACE[name], a, b)
    if not isinstance(want, Exception) and want.shape == a.shape:
        np.testing.assert_allclose(x.detach().numpy().astype(np.float64),
                                   want.astype(np.float64), rtol=1e-6, atol=0, equal_nan=True)


def _assigned(a: np.ndarray, key: Any, value: Any) -> np.ndarray:
    out = a.copy()
    out[key] = value
    return out


@pytest.mark.parametrize("name", ["split", "chunk", "unbind", "gather", "masked_fill", "all",
                                  "any"])
@given(data=st.data())
def test_selection_and_logic(name: str, data: Any) -> None:
    """Hostile tensors, dims, sizes, indices, masks and values: a result of the right kind,
    or a deliberate refusal."""
    a = data.draw(arrays())
    x = to_tensor(a, "cpu")
    dim = data.draw(st.one_of(st.integers(-3, 3), st.sampled_from(JUNK)))
    other = data.draw(st.one_of(st.integers(-1, 4), st.lists(st.integers(-1, 4), max_size=3),
                                st.sampled_from(JUNK)))
    if name in ("split", "chunk"):
        got = call(getattr(ops, name), x, other, dim)
    elif name == "unbind":
        got = call(ops.unbind, x, dim)
    elif name == "gather":
        index = to_tensor(data.draw(arrays(dtypes=["int64", "int64", "float32", "bool"])),
                          "cpu", grad=False)
        got = call(ops.gather, x, dim, index)
        assert got is None or got.shape == index.shape
    elif name == "masked_fill":
        mask = to_tensor(data.draw(arrays(dtypes=["bool", "bool", "int64"])), "cpu")
        got = call(ops.masked_fill, x, mask, data.draw(st.sampled_from(VALUES + JUNK)))
        assert got is None or got.shape == x.shape
    else:
        got = call(getattr(ops, name), x, dim, data.draw(st.booleans()))
        assert got is None or got.dtype == minigen.bool_
    if isinstance(got, tuple):
        assert all(isinstance(t, minigen.Tensor) and t.dtype == x.dtype for t in got)


ORDERING = ["flip", "roll", "repeat", "index_select", "cumsum", "prod", "sign", "round",
            "floor", "ceil", "reciprocal", "rsqrt", "norm", "sort", "argsort", "topk"]


@pytest.mark.parametrize("name", ORDERING)
@given(data=st.data())
def test_ordering(name: str, data: Any) -> None:
    """Hostile tensors, dims, shifts, sizes, indices, k and p: a result of the right kind, or
    a deliberate refusal."""
    x = to_tensor(data.draw(arrays()), "cpu")
    dim = data.draw(st.one_of(st.integers(-3, 3), st.sampled_from(JUNK)))
    other = data.draw(st.one_of(st.integers(-1, 4), st.lists(st.integers(-1, 4), max_size=3),
                                st.sampled_from(JUNK)))
    if name in ("flip", "cumsum", "argsort"):
        got = call(getattr(ops, name), x, dim)
    elif name in ("roll", "topk"):
        got = call(getattr(ops, name), x, other, dim)
    elif name == "repeat":
        got = call(ops.repeat, x, other if isinstance(other, list) else [other])
    elif name == "index_select":
        index = to_tensor(data.draw(arrays(dtypes=["int64", "int64", "float32", "bool"])),
                          "cpu", grad=False)
        got = call(ops.index_select, x, dim, index)
    elif name in ("prod", "sort"):
        got = call(getattr(ops, name), x, dim, data.draw(st.booleans()))
    elif name == "norm":
        p = data.draw(st.sampled_from([1, 2, 3, 0.5, math.inf, -math.inf, "fro", 0, -1, NAN,
                                       "nuc", *JUNK]))
        got = call(ops.norm, x, p, data.draw(st.sampled_from([None, 0, -1, (0, 1), 5, "a"])),
                   data.draw(st.booleans()))
    else:
        got = call(getattr(ops, name), x)
        assert got is None or got.shape == x.shape
    if isinstance(got, tuple):
        assert got[0].dtype == x.dtype and got[1].dtype == minigen.int64


@pytest.mark.parametrize("name", ["cat", "stack"])
@given(data=st.data())
def test_cat_and_stack(name: str, data: Any) -> None:
    arrs = data.draw(st.lists(arrays(dtypes=["float32", "float32", "float64", "int64"]),
                              max_size=3))
    tensors = [to_tensor(v, "cpu") for v in arrs]
    dim = data.draw(st.one_of(st.integers(-3, 3), st.sampled_from(JUNK)))
    got = call(getattr(ops, name), tensors, dim)
    if got is None:
        return
    want = reference(np.concatenate if name == "cat" else np.stack, arrs, axis=dim)
    agree(got, want, *tensors, exact=True)


# --------------------------------------------------------------------------- linear algebra


@given(data=st.data())
def test_matmul_and_linear(data: Any) -> None:
    a, b = data.draw(arrays()), data.draw(arrays())
    ta, tb = to_tensor(a, "cpu"), to_tensor(b, "cpu")
    got = call(ops.matmul, ta, tb)
    want = reference(np.matmul, a, b)
    if a.ndim == 0 or b.ndim == 0:  # NumPy refuses these too
        assert got is None
    elif got is not None or isinstance(want, Exception):
        agree(got, want, ta, tb)
    bias = data.draw(st.one_of(st.none(), arrays(dtypes=["float32"])))
    tbias = None if bias is None else to_tensor(bias, "cpu")
    got = call(ops.linear, ta, tb, tbias)
    if got is not None:
        assert got.shape == a.shape[:-1] + b.shape[:1]


LOSSES = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss", "l1_loss",
          "smooth_l1_loss"]


@pytest.mark.parametrize("name", LOSSES)
@given(data=st.data())
def test_losses(name: str, data: Any) -> None:
    a, b = data.draw(arrays()), data.draw(arrays())
    reduction = data.draw(st.sampled_from(["mean", "sum", "none", "avg", None]))
    ta, tb = to_tensor(a, "cpu"), to_tensor(b, "cpu")
    got = call(getattr(ops, name), ta, tb, reduction=reduction)
    want = reference(np.broadcast_shapes, a.shape, b.shape)
    if isinstance(want, Exception) or reduction not in ("mean", "sum", "none"):
        assert got is None
    elif got is not None:
        assert got.shape == (tuple(want) if reduction == "none" else ())
        assert got.dtype == ta.dtype


@given(data=st.data())
def test_gaussian_kl(data: Any) -> None:
    mu, logvar = data.draw(arrays()), data.draw(arrays())
    reduction = data.draw(st.sampled_from(["mean", "sum", "none", "avg", None]))
    got = call(ops.gaussian_kl, to_tensor(mu, "cpu"), to_tensor(logvar, "cpu"),
               reduction=reduction)
    want = reference(np.broadcast_shapes, mu.shape, logvar.shape)
    if (isinstance(want, Exception) or reduction not in ("mean", "sum", "none")
            or len(want) == 0):
        assert got is None
    elif got is not None:
        assert got.shape == (tuple(want)[:-1] if reduction == "none" else ())


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
@given(data=st.data())
def test_classification_losses(name: str, data: Any) -> None:
    """Hostile logits and labels (any dtype, rank, value; labels out of range, ignored, all
    ignored), weights of the wrong shape or dtype, junk arguments."""
    x = to_tensor(data.draw(arrays()), "cpu")
    target = to_tensor(data.draw(arrays()), "cpu", grad=False)
    weight = data.draw(st.sampled_from([None, "ok", "short", "f64", "junk"]))
    classes = x.shape[1] if x.ndim > 1 else (x.shape[0] if x.ndim else 1)
    weight = {"ok": minigen.ones(classes), "short": minigen.ones(classes + 1),
              "f64": minigen.ones(classes, dtype="float64"), "junk": "a"}.get(weight)
    kw = {"ignore_index": data.draw(st.sampled_from([-100, 0, 1, 1.5, "a"])),
          "reduction": data.draw(st.sampled_from(["mean", "sum", "none", "avg", None]))}
    if name == "cross_entropy":
        kw["label_smoothing"] = data.draw(st.sampled_from([0.0, 0.1, 1.0, -0.5, 2.0]))
    got = call(getattr(ops, name), x, target, weight, **kw)
    if got is not None:
        labels = (x.shape[:1] + x.shape[2:]) if x.ndim > 1 else ()
        assert got.shape == (labels if kw["reduction"] == "none" else ())
        assert got.dtype == x.dtype


@given(data=st.data())
def test_one_hot(data: Any) -> None:
    a = data.draw(arrays())
    classes = data.draw(st.sampled_from([-1, 0, 1, 4, -3, 2.5]))
    got = call(ops.one_hot, to_tensor(a, "cpu", grad=False), classes)
    if got is not None:
        assert got.shape[:-1] == a.shape and got.dtype == minigen.int64
        np.testing.assert_array_equal(got.numpy().argmax(-1), a)


# --------------------------------------------------------------------------- conv, norm


SMALL = st.integers(-1, 3)
PAIRS = st.one_of(SMALL, st.tuples(SMALL, SMALL), st.sampled_from(JUNK))


@pytest.mark.parametrize("transposed", [False, True])
@given(data=st.data())
def test_conv(transposed: bool, data: Any) -> None:
    n, c_in, c_out, h, w = (data.draw(st.integers(0, 2)) for _ in range(5))
    k = data.draw(st.integers(0, 3))
    x_shape = data.draw(st.sampled_from([(n, c_in, h, w), (c_in, h, w), (n, c_in, h, w, 1)]))
    w_shape = (c_in, c_out, k, k) if transposed else (c_out, c_in, k, k)
    x = to_tensor(data.draw(arrays(x_shape, dtypes=["float32", "float32", "float64"])), "cpu")
    weight = to_tensor(data.draw(arrays(w_shape, dtypes=["float32"])), "cpu")
    bias = data.draw(st.sampled_from([None, (c_out,), (c_out + 1,)]))
    bias = None if bias is None else to_tensor(np.ones(bias, np.float32), "cpu")
    kw = {name: data.draw(PAIRS) for name in ("stride", "padding", "dilation")}
    if transposed:
        kw["output_padding"] = data.draw(PAIRS)
        got = call(ops.conv_transpose2d, x, weight, bias, **kw)
        size = ops.conv_transpose2d_output_size
    else:
        got = call(ops.conv2d, x, weight, bias, **kw)
        size = ops.conv2d_output_size
    if got is not None:
        hw = size(x.shape[2:], (k, k), **kw)
        assert got.shape == (n, c_out, *hw) and got.dtype == x.dtype


@given(data=st.data())
def test_output_size_helpers(data: Any) -> None:
    size = data.draw(st.one_of(st.tuples(SMALL, SMALL), st.sampled_from(JUNK)))
    args = [data.draw(PAIRS) for _ in range(4)]
    for fn in (ops.conv2d_output_size, ops.conv_transpose2d_output_size):
        got = call(fn, size, *args)
        assert got is None or (len(got) == 2 and all(isinstance(v, int) for v in got))
    got = call(ops.conv_transpose2d_output_padding, size, size, *args[:3])
    assert got is None or len(got) == 2


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
@given(data=st.data())
def test_pooling(op: str, data: Any) -> None:
    n, c, h, w = (data.draw(st.integers(0, 3)) for _ in range(4))
    x_shape = data.draw(st.sampled_from([(n, c, h, w), (c, h, w), (n, c, h, w, 1), (h, w)]))
    x = to_tensor(data.draw(arrays(x_shape, dtypes=["float32", "float32", "float64", "int64"])),
                  "cpu")
    kw = {name: data.draw(st.one_of(PAIRS, st.none()) if name == "stride" else PAIRS)
          for name in ("kernel_size", "stride", "padding")}
    kw["ceil_mode"] = data.draw(st.booleans())
    if op == "max_pool2d":
        kw["dilation"] = data.draw(PAIRS)
        got = call(pooling.max_pool2d, x, **kw)
    else:
        kw["count_include_pad"] = data.draw(st.booleans())
        kw["divisor_override"] = data.draw(st.sampled_from([None, 1, -2, 0, 1.5, "a"]))
        got = call(pooling.avg_pool2d, x, **kw)
    if got is not None:
        size = pooling.pool2d_output_size(x.shape[-2:], kw["kernel_size"], kw["stride"],
                                          kw["padding"], kw.get("dilation", 1), kw["ceil_mode"])
        assert got.shape == (*x.shape[:-2], *size) and got.dtype == x.dtype


@given(data=st.data())
def test_resample_and_embedding(data: Any) -> None:
    """pad, interpolate, adaptive_avg_pool2d and embedding with hostile shapes, sizes and
    arguments: the shape PyTorch's rules give, or a deliberate refusal."""
    n, c, h, w = (data.draw(st.integers(0, 3)) for _ in range(4))
    x_shape = data.draw(st.sampled_from([(n, c, h, w), (c, h, w), (n, c, h, w, 1), (h, w)]))
    x = to_tensor(data.draw(arrays(x_shape, dtypes=["float32", "float32", "float64", "int64"])),
                  "cpu")
    pads = tuple(data.draw(st.lists(st.integers(-3, 3), max_size=5)))
    mode = data.draw(st.sampled_from(["constant", "reflect", "replicate", "circular", None]))
    got = call(F.pad, x, pads, mode, data.draw(st.sampled_from([None, 0.5, 1, "a"])))
    if got is not None:
        grown = [x.shape[-1 - i // 2] + pads[i] + pads[i + 1] for i in range(0, len(pads), 2)]
        assert got.shape[x.ndim - len(grown):] == tuple(reversed(grown))
    size = data.draw(st.one_of(st.none(), SMALL, st.tuples(SMALL, SMALL), st.sampled_from(JUNK)))
    scale = data.draw(st.sampled_from([None, 2, 0.5, 1.5, 0, -1, (2, 2), NAN, "a"]))
    kind = data.draw(st.sampled_from(["nearest", "bilinear", "linear", "area"]))
    align = data.draw(st.sampled_from([None, True, False]))
    got = call(ops.interpolate, x, size, scale, kind, align)
    if got is not None:
        assert got.shape[:2] == x.shape[:2] and got.dtype == x.dtype
    got = call(ops.adaptive_avg_pool2d, x, size)
    if got is not None:
        assert got.shape[:-2] == x.shape[:-2] and got.dtype == x.dtype
    index = to_tensor(data.draw(arrays(dtypes=["int64", "int64", "float32", "bool"])), "cpu")
    weight = to_tensor(data.draw(arrays(dtypes=["float32"])), "cpu")
    got = call(ops.embedding, index, weight, data.draw(st.sampled_from([None, 0, -1, 5])))
    if got is not None:
        assert got.shape == index.shape + weight.shape[1:] and got.dtype == weight.dtype


@given(data=st.data())
def test_batch_norm_and_dropout(data: Any) -> None:
    a = data.draw(arrays(dtypes=["float32", "float32", "float64", "int64"]))
    x = to_tensor(a, "cpu")
    c = data.draw(st.integers(0, 3))
    stats = data.draw(st.sampled_from([None, "ok", "f64"]))
    dt = np.float64 if stats == "f64" else np.float32
    rm = None if stats is None else minigen.tensor(np.zeros(c, dt))
    rv = None if stats is None else minigen.tensor(np.ones(c, dt))
    training = data.draw(st.booleans())
    momentum = data.draw(st.sampled_from([0.1, 0.0, 1.0, -0.5, "a", NAN]))
    eps = data.draw(st.sampled_from([1e-5, 0.0, -1.0, None]))
    got = call(ops.batch_norm, x, rm, rv, training=training, momentum=momentum, eps=eps)
    if got is not None:
        assert got.shape == x.shape and got.dtype == x.dtype
    p = data.draw(st.sampled_from([0.0, 0.3, 1.0, -0.1, 1.5, NAN, "a", None]))
    got = call(ops.dropout, x, p, training)
    if got is not None:
        assert got.shape == x.shape and got.dtype == x.dtype


@given(data=st.data())
def test_dtype_and_device_moves(data: Any) -> None:
    x = to_tensor(data.draw(arrays()), "cpu")
    target = data.draw(st.sampled_from(["float32", "float64", "int64", "float16", "gpu",
                                        "cuda:x", 3, None]))
    call(ops.astype, x, target)
    call(ops.to_device, x, target)


# --------------------------------------------------------------------------- layers


LAYERS = {
    "Linear": lambda: nn.Linear(3, 2), "Conv2d": lambda: nn.Conv2d(1, 2, 3, padding=1),
    "ConvTranspose2d": lambda: nn.ConvTranspose2d(2, 1, 4, stride=2, padding=1),
    "BatchNorm1d": lambda: nn.BatchNorm1d(3), "BatchNorm2d": lambda: nn.BatchNorm2d(2),
    "Dropout": lambda: nn.Dropout(0.5), "Flatten": nn.Flatten,
    "Unflatten": lambda: nn.Unflatten(1, (1, 3)), "ReLU": nn.ReLU,
    "LeakyReLU": lambda: nn.LeakyReLU(0.2), "Sigmoid": nn.Sigmoid, "Tanh": nn.Tanh,
    "Softplus": nn.Softplus, "Identity": nn.Identity, "LogSigmoid": nn.LogSigmoid,
    "Softmax": lambda: nn.Softmax(-1), "LogSoftmax": lambda: nn.LogSoftmax(1),
    "MaxPool2d": lambda: pooling_layers.MaxPool2d(2, padding=1, ceil_mode=True),
    "AvgPool2d": lambda: pooling_layers.AvgPool2d(2, 1, 1, count_include_pad=False),
    "Upsample": lambda: nn.Upsample(scale_factor=2), "ZeroPad2d": lambda: nn.ZeroPad2d(1),
    "ReflectionPad2d": lambda: nn.ReflectionPad2d(1),
    "AdaptiveAvgPool2d": lambda: nn.AdaptiveAvgPool2d((2, None)),
    "GELU": nn.GELU, "ELU": lambda: nn.ELU(0.5), "SiLU": nn.SiLU,
    "LayerNorm": lambda: nn.LayerNorm(3),
}
SHAPES = [(2, 3), (3,), (), (0, 3), (1, 3), (2, 1, 3, 3), (2, 2, 3, 3), (1, 2, 1, 1),
          (2, 3, 1), (0, 1, 3, 3)]


@pytest.mark.parametrize("name", sorted(LAYERS))
@given(data=st.data())
def test_layers(name: str, data: Any) -> None:
    layer = LAYERS[name]()
    if data.draw(st.booleans()):
        layer.eval()
    a = data.draw(arrays(data.draw(st.sampled_from(SHAPES)),
                         dtypes=["float32", "float32", "float64", "int64"]))
    x = to_tensor(a, "cpu")
    got = call(layer, x)
    if got is None:
        return
    assert got.dtype == x.dtype
    if name not in ("Linear", "Conv2d", "ConvTranspose2d", "Flatten", "Unflatten",
                    "MaxPool2d", "AvgPool2d", "Upsample", "ZeroPad2d", "ReflectionPad2d",
                    "AdaptiveAvgPool2d"):
        assert got.shape == x.shape
    for p in layer.parameters():
        assert p.grad is None or p.grad.shape == p.shape


@pytest.mark.parametrize("device", DEVICES)
@given(data=st.data())
def test_gelu(device: str, data: Any) -> None:
    """Both forms against NumPy (math.erf), to float32's accuracy of 1 - erf in the tail."""
    a = data.draw(arrays())
    x = to_tensor(a, device)
    approximate = data.draw(st.sampled_from(["none", "tanh", "erf", None]))
    got = call(ops.gelu, x, approximate=approximate)
    if approximate not in ("none", "tanh") or a.dtype.kind != "f":
        assert got is None
        return
    h = a.astype(np.float64)
    with np.errstate(all="ignore"):
        if approximate == "tanh":
            want = 0.5 * h * (1 + np.tanh(math.sqrt(2 / math.pi) * (h + 0.044715 * h**3)))
        else:
            want = 0.5 * h * (1 + np.vectorize(math.erf, otypes=[float])(h / math.sqrt(2)))
    assert got.shape == a.shape and got.dtype == x.dtype
    np.testing.assert_allclose(minigen.backend.to_numpy(got.data).astype(np.float64), want,
                               rtol=1e-4 if a.dtype == np.float32 else 1e-12, atol=1e-30,
                               equal_nan=True)


@given(data=st.data())
def test_layer_norm(data: Any) -> None:
    a = data.draw(arrays(dtypes=["float32", "float32", "float64", "int64"]))
    x = to_tensor(a, "cpu")
    shape = data.draw(st.one_of(st.just(a.shape[-1:]), st.just(a.shape), st.just(()),
                                st.just(3), st.just((3,)), st.sampled_from(JUNK)))
    w = data.draw(st.sampled_from([None, "ones", "f64"]))
    weight = None
    if w is not None and isinstance(shape, tuple) and all(isinstance(n, int) for n in shape):
        weight = minigen.ones(*shape, dtype="float64" if w == "f64" else "float32")
    eps = data.draw(st.sampled_from([1e-5, 0.0, -1.0, None]))
    got = call(ops.layer_norm, x, shape, weight, eps=eps)
    if got is not None:
        assert got.shape == x.shape and got.dtype == x.dtype


@given(data=st.data())
def test_similarity(data: Any) -> None:
    """normalize, cosine_similarity, kl_div (not 'mean': it warns, as PyTorch) and bmm on any
    arrays: refused deliberately, or the broadcast shape."""
    a, b = data.draw(arrays()), data.draw(arrays())
    ta, tb = to_tensor(a, "cpu"), to_tensor(b, "cpu")
    dim = data.draw(st.sampled_from([0, 1, -1, 5, None]))
    got = call(ops.normalize, ta, dim=dim)
    if got is not None:
        assert got.shape == a.shape and got.dtype == ta.dtype
    got = call(ops.cosine_similarity, ta, tb, dim=dim)
    want = reference(np.broadcast_shapes, a.shape, b.shape)
    if isinstance(want, Exception):
        assert got is None
    elif got is not None:
        assert got.shape == tuple(np.delete(np.asarray(tuple(want)), dim % len(want)))
    reduction = data.draw(st.sampled_from(["batchmean", "sum", "none", "avg", None]))
    got = call(ops.kl_div, ta, tb, reduction=reduction,
               log_target=data.draw(st.sampled_from([False, True, 1])))
    if isinstance(want, Exception) or reduction not in ("batchmean", "sum", "none"):
        assert got is None
    elif got is not None:
        assert got.shape == (tuple(want) if reduction == "none" else ())
    got = call(ops.bmm, ta, tb)
    if got is not None:
        assert a.ndim == b.ndim == 3 and got.shape == a.shape[:2] + b.shape[2:]


def test_every_public_op_is_fuzzed() -> None:
    fuzzed = (set(UNARY) | set(BINARY) | set(REDUCTIONS) | set(LOSSES) | {"argmax", "argmin",
        "where", "clamp", "softmax", "log_softmax", "reshape", "permute", "transpose",
        "unsqueeze", "squeeze", "expand", "flatten", "pad", "getitem", "cat", "stack",
        "matmul", "linear", "conv2d", "conv_transpose2d", "conv2d_output_size",
        "conv_transpose2d_output_size", "conv_transpose2d_output_padding", "batch_norm",
        "dropout", "astype", "to_device", "gaussian_kl", "max_pool2d", "avg_pool2d",
        "pool2d_output_size", "cross_entropy", "nll_loss", "one_hot", "setitem", "split",
        "chunk", "unbind", "gather", "masked_fill", "all", "any",
        "embedding", "interpolate", "adaptive_avg_pool2d", "inplace", "gelu", "layer_norm",
        "normalize", "cosine_similarity", "kl_div", "bmm", *ORDERING})
    assert set(ops.__all__) <= fuzzed, sorted(set(ops.__all__) - fuzzed)
