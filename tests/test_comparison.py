"""minigen.eq / ne / lt / le / gt / ge (and PyTorch's long aliases, and equal), and the same
as Tensor methods: the operators' bool tensors, outside the graph."""

from __future__ import annotations

import operator

import pytest

import minigen

PAIRS = [("eq", operator.eq), ("ne", operator.ne), ("lt", operator.lt), ("le", operator.le),
         ("gt", operator.gt), ("ge", operator.ge), ("greater", operator.gt),
         ("greater_equal", operator.ge), ("less", operator.lt), ("less_equal", operator.le),
         ("not_equal", operator.ne)]


@pytest.mark.parametrize("name, op", PAIRS)
def test_functions_are_the_operators(device, name, op):
    a = minigen.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    b = minigen.tensor([3.0, 2.0, 1.0], device=device)
    for other in (b, 2.0):
        got, want = getattr(minigen, name)(a, other), op(a, other)
        assert got.dtype == minigen.bool_ and got.tolist() == want.tolist()
        assert not got.requires_grad and got.device == a.device
    mine = a.detach()
    assert getattr(mine, name)(b).tolist() == op(a, b).tolist()


def test_integer_tensors_and_broadcasting(device):
    a = minigen.arange(6, device=device).reshape(2, 3)
    assert minigen.ge(a, minigen.tensor([0, 3, 5], device=device)).tolist() == [
        [True, False, False], [True, True, True]]
    assert minigen.eq(a, 4).tolist() == [[False, False, False], [False, True, False]]


def test_a_number_first_is_refused_with_the_fix():
    with pytest.raises(TypeError, match=r"minigen.lt takes a tensor first.*x < y"):
        minigen.lt(2, minigen.ones(2))


def test_equal(device):
    a = minigen.tensor([1, 2], device=device)
    assert minigen.equal(a, minigen.tensor([1, 2], device=device)) is True
    assert minigen.equal(a, minigen.tensor([1, 3], device=device)) is False
    assert minigen.equal(a, minigen.tensor([1, 2, 3], device=device)) is False
    assert minigen.equal(minigen.tensor([float("nan")]), minigen.tensor([float("nan")])) is False
    assert a.equal(minigen.tensor([1, 2], device=device)) is True
    with pytest.raises(TypeError, match=r"\(a == b\).all\(\)"):
        minigen.equal(a, 1)


def test_tensor_has_the_methods():
    a, b = minigen.tensor([1, 2, 3]), minigen.tensor([3, 2, 1])
    for name, op in PAIRS:
        assert getattr(a, name)(b).tolist() == op(a, b).tolist()
    assert a.equal(minigen.tensor([1, 2, 3]))
