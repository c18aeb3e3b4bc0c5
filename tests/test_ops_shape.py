"""Property tests of the shape and indexing ops: each routes values (forward) and gradients
(backward) without arithmetic, so the NumPy reference is exact and gradcheck is too.

Where an op leaves the shape unchanged (``reshape`` to the same shape, ``squeeze`` of nothing)
minigen returns the input itself, as a no-op; those examples check ``op=None``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigen
from minigen.testing import strategies as mst
from tests.opcheck import check_op, host, index_like_pytorch

COVERED_OPS = {"Reshape", "Permute", "Expand", "GetItem", "Take", "Cat", "Stack", "Pad"}
COVERED_FUNCTIONS = {"reshape", "permute", "transpose", "flatten", "unsqueeze", "squeeze",
                     "expand", "getitem", "cat", "stack", "pad"}


def _signed(draw, axis: int, ndim: int) -> int:
    """``axis`` written as it is or counted from the end (negative), as the test draws."""
    return axis - ndim if draw(st.booleans()) else axis


@st.composite
def target_shapes(draw, size: int):
    """A shape of 0 to 3 dimensions with ``size`` elements, maybe with one -1."""
    candidates = [()] if size == 1 else []
    divisors = [d for d in range(1, size + 1) if size % d == 0]
    candidates += [(size,)] + [(d, size // d) for d in divisors]
    candidates += [(d, e, size // (d * e)) for d in divisors for e in divisors
                   if size % (d * e) == 0]
    shape = list(draw(st.sampled_from(candidates)))
    if shape and draw(st.booleans()):
        shape[draw(st.integers(0, len(shape) - 1))] = -1
    return tuple(shape)


@given(data=st.data())
def test_reshape(device, data):
    x = data.draw(mst.tensors(device=device), label="x")
    shape = data.draw(target_shapes(x.numel()), label="shape")
    expected = np.reshape(host(x), shape).shape
    op = None if expected == x.shape else "Reshape"
    check_op(lambda t: minigen.reshape(t, shape), [x], lambda h: np.reshape(h, shape), op)
    check_op(lambda t: t.reshape(*shape), [x], lambda h: np.reshape(h, shape), op)


@given(data=st.data())
def test_permute(device, data):
    x = data.draw(mst.tensors(device=device), label="x")
    order = data.draw(st.permutations(range(x.ndim)), label="order")
    dims = tuple(_signed(data.draw, d, x.ndim) for d in order)
    check_op(lambda t: minigen.permute(t, dims), [x], lambda h: np.transpose(h, order),
             "Permute")


@given(data=st.data())
def test_transpose(device, data):
    x = data.draw(mst.tensors(shape=mst.shapes(min_dims=1), device=device), label="x")
    d0, d1 = (data.draw(st.integers(-x.ndim, x.ndim - 1), label=f"dim{i}") for i in (0, 1))
    check_op(lambda t: minigen.transpose(t, d0, d1), [x], lambda h: np.swapaxes(h, d0, d1),
             "Permute")


@given(data=st.data())
def test_flatten(device, data):
    x = data.draw(mst.tensors(device=device), label="x")
    n = max(x.ndim, 1)
    start, end = (data.draw(st.integers(-n, n - 1), label=k) for k in ("start", "end"))
    assume(start % n <= end % n)
    s, e = start % n, end % n
    expected_shape = x.shape[:s] + (math.prod(x.shape[s:e + 1]),) + x.shape[e + 1:]
    op = None if expected_shape == x.shape else "Reshape"
    check_op(lambda t: minigen.flatten(t, start, end), [x],
             lambda h: np.reshape(h, expected_shape), op)


@given(data=st.data())
def test_unsqueeze(device, data):
    x = data.draw(mst.tensors(device=device), label="x")
    dim = data.draw(st.integers(-x.ndim - 1, x.ndim), label="dim")
    check_op(lambda t: minigen.unsqueeze(t, dim), [x], lambda h: np.expand_dims(h, dim),
             "Reshape")


@given(data=st.data())
def test_squeeze(device, data):
    x = data.draw(mst.tensors(shape=mst.shapes(max_side=2), device=device), label="x")
    # A 0-d tensor takes dim 0 or -1, as in PyTorch.
    dim = data.draw(st.none() | st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1), label="dim")
    # PyTorch's rule: squeeze(dim) removes dim only if its size is 1, and is otherwise a no-op.
    keep = [i for i, n in enumerate(x.shape)
            if n != 1 or (dim is not None and i != dim % max(x.ndim, 1))]
    shape = tuple(x.shape[i] for i in keep)
    check_op(lambda t: minigen.squeeze(t, dim), [x], lambda h: np.reshape(h, shape),
             None if shape == x.shape else "Reshape")


@given(data=st.data())
def test_expand(device, data):
    target = data.draw(mst.shapes(), label="target")
    lead = data.draw(st.integers(0, len(target)), label="missing leading dims")
    source = tuple(n if data.draw(st.booleans()) else 1 for n in target[lead:])
    x = data.draw(mst.tensors(source, device=device), label="x")
    # -1 keeps a dimension of the source as it is (only where the source has one).
    shape = tuple(-1 if i >= lead and data.draw(st.booleans()) else n
                  for i, n in enumerate(target))
    expected = tuple(source[i - lead] if n == -1 else n for i, n in enumerate(shape))
    check_op(lambda t: minigen.expand(t, shape), [x], lambda h: np.broadcast_to(h, expected),
             "Expand")
    check_op(lambda t: t.expand(*shape), [x], lambda h: np.broadcast_to(h, expected), "Expand")


@given(data=st.data())
def test_getitem_basic(device, data):
    """Ints (negative too), slices (any step, empty ones too), None and Ellipsis."""
    x = data.draw(mst.tensors(device=device), label="x")
    key = data.draw(hnp.basic_indices(x.shape, allow_newaxis=True), label="key")
    check_op(lambda t: t[key], [x], lambda h: h[key], "GetItem")


@given(data=st.data())
def test_getitem_slices_past_the_ends(device, data):
    """Slice ends beyond the dimension clamp, as in NumPy and PyTorch (x[0:500] of 300 rows:
    a batch loop's last batch). The array API leaves them unspecified; array-api-strict
    refuses them, so minigen clamps them itself."""
    x = data.draw(mst.tensors(shape=mst.shapes(min_dims=1), device=device), label="x")
    ends = st.none() | st.integers(-2 * x.shape[0] - 2, 2 * x.shape[0] + 2)
    step = data.draw(st.none() | st.integers(-3, 3).filter(bool), label="step")
    key = slice(data.draw(ends, label="start"), data.draw(ends, label="stop"), step)
    check_op(lambda t: t[key, ...], [x], lambda h: h[key, ...], "GetItem")


@given(data=st.data())
def test_getitem_integer_array(device, data):
    """``x[idx]`` and ``x[:, idx]``: a gather; repeated indices add their gradients up."""
    x = data.draw(mst.tensors(shape=mst.shapes(min_dims=1), device=device), label="x")
    axis = data.draw(st.integers(0, x.ndim - 1), label="axis")
    n = x.shape[axis]
    index = data.draw(st.lists(st.integers(-n, n - 1), max_size=5), label="index")
    if data.draw(st.booleans(), label="index as a tensor"):
        idx = minigen.tensor(index, dtype=minigen.int64, device=device)
    else:
        idx = index
    key = (slice(None),) * axis + (idx,)
    check_op(lambda t: t[key], [x],
             lambda h: np.take(h, np.asarray(index, dtype=np.int64), axis=axis), "Take")


@given(data=st.data())
def test_getitem_boolean_mask(device, data):
    """``x[mask]`` and ``x[:, mask]``: a boolean mask over one or more dims keeps the
    elements where it is True, those dims merged into one (NumPy's and PyTorch's rule)."""
    x = data.draw(mst.tensors(shape=mst.shapes(min_dims=1), device=device), label="x")
    axis = data.draw(st.integers(0, x.ndim - 1), label="axis")
    k = data.draw(st.integers(1, x.ndim - axis), label="mask dims")
    mask = data.draw(hnp.arrays(np.bool_, x.shape[axis:axis + k]), label="mask")
    key = (slice(None),) * axis + (minigen.tensor(mask, device=device),)
    check_op(lambda t: t[key], [x], lambda h: h[(slice(None),) * axis + (mask,)], "Take")


@st.composite
def advanced_keys(draw, shape: tuple[int, ...]):
    """A key mixing slices, ints and index arrays of mutually broadcastable shapes (or one
    boolean mask among ints and slices), maybe with its trailing ':' left out, and the same
    key for NumPy."""
    with_mask = draw(st.booleans(), label="with a mask")
    kinds = [draw(st.sampled_from(["slice", "int"] if with_mask else ["slice", "int", "array"]))
             for _ in shape]
    if with_mask:
        start = draw(st.integers(0, len(shape) - 1), label="mask start")
        span = draw(st.integers(1, len(shape) - start), label="mask dims")
        kinds[start:start + span] = ["mask"] + [None] * (span - 1)
    elif "array" not in kinds:
        kinds[draw(st.integers(0, len(shape) - 1))] = "array"
    count = kinds.count("array")
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=count, max_dims=2, max_side=3)
                  ).input_shapes if count else ()
    key, arrays = [], iter(shapes)
    for axis, kind in enumerate(kinds):
        n = shape[axis]
        if kind == "slice":
            key.append(draw(st.slices(n)))
        elif kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
        elif kind == "array":
            key.append(draw(hnp.arrays(np.int64, next(arrays), elements=st.integers(-n, n - 1))))
        elif kind == "mask":
            key.append(draw(hnp.arrays(np.bool_, shape[axis:axis + span])))
    while key and isinstance(key[-1], slice) and key[-1] == slice(None):
        key.pop()  # NumPy's shorter keys: the rest is ':'
    return tuple(key)


@given(data=st.data())
def test_getitem_advanced(device, data):
    """Several index arrays (broadcast together), ints and slices between them, a mask among
    ints: PyTorch's result (:func:`index_like_pytorch`: the ints pick first, then the arrays'
    dims go where the first stood if they are next to each other, else first), and the
    scatter-add gradient. Composed of GetItem, Take, Permute and
    Reshape, so the output comes from one of them."""
    x = data.draw(mst.tensors(shape=mst.shapes(min_dims=1), device=device), label="x")
    key = data.draw(advanced_keys(x.shape), label="key")
    try:
        want = index_like_pytorch(host(x), key)
    except IndexError:  # a mask whose True count does not broadcast with the ints: refused
        with pytest.raises(IndexError):
            x[_on(key, device)]
        return
    assume(want.size)  # (empty results: no gradient to check)
    as_lists = data.draw(st.booleans(), label="arrays as lists")
    mkey = tuple(k.tolist() if as_lists and isinstance(k, np.ndarray) else k for k in key)
    mkey = _on(mkey, device)
    op = x[mkey].grad_fn
    assert op in {"GetItem", "Take", "Permute", "Reshape"}
    check_op(lambda t: t[mkey], [x], lambda h: index_like_pytorch(h, key), op)


def _on(key: tuple, device) -> tuple:
    """``key`` with its NumPy arrays as tensors on ``device``."""
    return tuple(minigen.tensor(k, device=device) if isinstance(k, np.ndarray) else k
                 for k in key)


def test_getitem_picks_one_element_per_row(device):
    """What a student writes for a negative log-likelihood: logp[arange(n), labels]."""
    logp = minigen.tensor([[0.1, 0.2, 0.7], [0.5, 0.4, 0.1]], dtype="float64", device=device,
                          requires_grad=True)
    labels = minigen.tensor([2, 0], device=device)
    picked = logp[minigen.arange(2, device=device), labels]
    assert host(picked).tolist() == [0.7, 0.5]
    picked.sum().backward()
    np.testing.assert_array_equal(host(logp.grad), [[0, 0, 1], [1, 0, 0]])
    assert logp[range(2), [2, 0]].shape == (2,)
    with pytest.raises(IndexError, match="cannot be broadcast"):
        logp[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError, match="out of range for dimension 1 of size 3"):
        logp[[0, 1], [0, 3]]
    with pytest.raises(IndexError, match="None"):
        logp[None, [0, 1], [0, 1]]
    with pytest.raises(IndexError, match="rectangular"):
        logp[[[0, 1], [1]]]


def test_ints_pick_before_index_arrays_as_in_pytorch(device):
    """PyTorch's rule, where NumPy's differs: x[0, :, idx] drops dim 0 first, so the index
    dims stay where idx stood: (3, 2), not NumPy's (2, 3). A 0-d index tensor is an int."""
    x = minigen.arange(24, dtype="float64", device=device).reshape(2, 3, 4)
    got = x[0, :, [1, 3]]
    assert got.shape == (3, 2)
    np.testing.assert_array_equal(host(got), np.arange(24.0).reshape(2, 3, 4)[0][:, [1, 3]])
    assert x[minigen.tensor(1, device=device), :, [0]].shape == (3, 1)
    assert x[[0, 1], 0, [1, 2]].shape == (2,)       # still next to each other: in place
    assert x[[0, 1], :, [1, 2]].shape == (2, 3)     # apart: first


def test_getitem_with_a_comparison(device):
    x = minigen.tensor([[1.0, -2.0], [-3.0, 4.0]], dtype="float64", device=device,
                       requires_grad=True)
    kept = x[x > 0]
    assert host(kept).tolist() == [1.0, 4.0]
    (kept * minigen.tensor([10.0, 20.0], dtype="float64", device=device)).sum().backward()
    np.testing.assert_array_equal(host(x.grad), [[10.0, 0.0], [0.0, 20.0]])
    with pytest.raises(IndexError, match="boolean mask of shape"):
        x[minigen.tensor([True, False, True], device=device)]


def test_getitem_repeated_indices_accumulate(device):
    x = minigen.tensor([1.0, 2.0, 3.0], dtype="float64", device=device, requires_grad=True)
    x[[2, 0, 2, 2]].sum().backward()
    np.testing.assert_array_equal(host(x.grad), [1.0, 0.0, 3.0])


def test_an_index_array_with_more_parts_than_dimensions_is_refused():
    """Found by the fuzzer: x[[], :] on a 1-D tensor (NumPy: too many indices)."""
    with pytest.raises(IndexError, match="too many indices"):
        minigen.zeros(0)[[], :]
    with pytest.raises(IndexError, match="too many indices"):
        minigen.zeros(3)[:, [0]]


@given(data=st.data())
def test_cat(device, data):
    base = data.draw(mst.shapes(min_dims=1), label="shape")
    axis = data.draw(st.integers(0, len(base) - 1), label="axis")
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3), label="sizes")
    parts = [data.draw(mst.tensors(base[:axis] + (k,) + base[axis + 1:], device=device),
                       label=f"part{i}") for i, k in enumerate(sizes)]
    dim = _signed(data.draw, axis, len(base))
    check_op(lambda *ts: minigen.cat(ts, dim), parts,
             lambda *hs: np.concatenate(hs, axis=dim), "Cat")


@given(data=st.data())
def test_stack(device, data):
    shape = data.draw(mst.shapes(), label="shape")
    count = data.draw(st.integers(1, 3), label="count")
    parts = [data.draw(mst.tensors(shape, device=device), label=f"part{i}")
             for i in range(count)]
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)), label="dim")
    check_op(lambda *ts: minigen.stack(ts, dim), parts, lambda *hs: np.stack(hs, axis=dim),
             "Stack")


@given(data=st.data())
def test_pad(device, data):
    x = data.draw(mst.tensors(shape=mst.shapes(min_dims=1), device=device), label="x")
    pairs = data.draw(st.integers(1, x.ndim), label="padded dims")
    pad = data.draw(st.lists(st.integers(0, 2), min_size=2 * pairs, max_size=2 * pairs),
                    label="pad")
    value = data.draw(st.sampled_from([0.0, -1.5]), label="value")
    # PyTorch's order: the LAST dimension's (before, after) comes first.
    widths = [(0, 0)] * (x.ndim - pairs) + [(pad[2 * i], pad[2 * i + 1])
                                            for i in reversed(range(pairs))]
    check_op(lambda t: minigen.pad(t, pad, value), [x],
             lambda h: np.pad(h, widths, constant_values=value), "Pad")


@pytest.mark.parametrize("bad", [lambda x: x.reshape(5), lambda x: x.expand(3, 3),
                                 lambda x: minigen.cat([x, x.T], 0),
                                 lambda x: minigen.stack([x, x.T]),
                                 lambda x: minigen.pad(x, (1,))])
def test_shape_errors_name_the_shapes(bad):
    x = minigen.zeros(2, 3)
    with pytest.raises(minigen.ShapeError, match=r"\(2, 3\)|\(1,\)"):
        bad(x)
