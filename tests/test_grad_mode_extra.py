"""Grad modes as PyTorch 2 writes them: set_grad_enabled (a call, a context manager, a
decorator), no_grad and enable_grad as bare decorators too, inference_mode as no_grad."""

from __future__ import annotations

import pytest

import minigen


def _records() -> bool:
    x = minigen.ones(2, requires_grad=True)
    return (x * 2).requires_grad


@pytest.fixture(autouse=True)
def _grad_back_on():
    yield
    minigen.set_grad_enabled(True)  # (a failed test must not leave recording off)


def test_set_grad_enabled_as_a_call_sets_it_for_good():
    minigen.set_grad_enabled(False)
    assert not minigen.is_grad_enabled() and not _records()
    minigen.set_grad_enabled(True)
    assert minigen.is_grad_enabled() and _records()


@pytest.mark.parametrize("mode", [True, False])
def test_set_grad_enabled_as_a_context_manager_restores(mode):
    with minigen.no_grad():
        with minigen.set_grad_enabled(mode):
            assert minigen.is_grad_enabled() is mode and _records() is mode
        assert not minigen.is_grad_enabled()
    with minigen.set_grad_enabled(mode):
        assert _records() is mode
    assert minigen.is_grad_enabled()


def test_set_grad_enabled_as_a_decorator():
    @minigen.set_grad_enabled(False)
    def f():
        return minigen.is_grad_enabled()

    assert minigen.is_grad_enabled()  # decorating switched nothing
    assert f() is False and minigen.is_grad_enabled()


def test_set_grad_enabled_takes_a_bool():
    with pytest.raises(TypeError, match=r"True or False.*bool\(\.\.\.\)"):
        minigen.set_grad_enabled(1)
    assert minigen.is_grad_enabled()


@pytest.mark.parametrize("mode", ["no_grad", "inference_mode"])
def test_bare_and_called_decorators(mode):
    decorator = getattr(minigen, mode)

    @decorator
    def bare(x):
        """bare's doc"""
        return x * 2

    @decorator()
    def called(x):
        return x * 2

    x = minigen.ones(2, requires_grad=True)
    assert not bare(x).requires_grad and not called(x).requires_grad
    assert bare.__name__ == "bare" and bare.__doc__ == "bare's doc"
    assert (x * 2).requires_grad  # outside: recording
    with decorator():
        assert not _records()
    assert _records()


def test_enable_grad_bare_decorator_inside_no_grad():
    @minigen.enable_grad
    def inner():
        return _records()

    with minigen.no_grad():
        assert inner() is True and not _records()


def test_inference_mode_false_records_as_pytorchs_does():
    with minigen.inference_mode(False):
        assert _records()
    with minigen.no_grad():
        with minigen.inference_mode(False):
            assert _records()  # (as torch.inference_mode(False) inside torch.no_grad())
        assert not _records()


def test_a_decorated_generator_function_leaves_the_callers_mode_alone():
    @minigen.no_grad()
    def steps():
        for _ in range(2):
            received = yield minigen.is_grad_enabled()
            assert received == "sent"
        return "done"

    gen = steps()
    assert next(gen) is False and minigen.is_grad_enabled()  # between yields: the caller's
    assert gen.send("sent") is False and minigen.is_grad_enabled()
    with pytest.raises(StopIteration) as stop:
        gen.send("sent")
    assert stop.value.value == "done" and minigen.is_grad_enabled()


def test_no_grad_refuses_an_argument_that_is_not_a_function():
    with pytest.raises(TypeError, match="takes no argument"):
        minigen.no_grad(3)


def test_the_optimizer_and_init_still_use_no_grad():
    model = minigen.nn.Linear(2, 1)
    opt = minigen.optim.SGD(model.parameters(), lr=0.1)
    model(minigen.ones(1, 2)).sum().backward()
    opt.step()
    assert minigen.is_grad_enabled() and model.weight._ctx is None
