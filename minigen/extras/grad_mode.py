"""More grad modes, as PyTorch's: ``set_grad_enabled`` and ``inference_mode``, and the
decorators of generator functions (``@no_grad()`` on a ``def`` that ``yield``s). They switch
the core's ``minigen.autograd.grad_enabled``, the flag every op reads."""

from __future__ import annotations

import functools
from typing import Any

from minigen import autograd
from minigen.autograd import no_grad


def generator(mode: Any, fn: Any) -> Any:
    """``fn`` (a generator function) run in a fresh ``type(mode)`` context around each step
    it takes, so the caller's code between two ``yield``s runs in the caller's own mode, as
    in PyTorch."""
    make_mode = mode.clone if hasattr(mode, "clone") else type(mode)

    @functools.wraps(fn)
    def generator_wrapper(*args: Any, **kwargs: Any) -> Any:
        with make_mode():
            gen = fn(*args, **kwargs)
        try:
            with make_mode():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with make_mode():
                        gen.close()
                    raise
                except BaseException as e:
                    with make_mode():
                        response = gen.throw(e)
                else:
                    with make_mode():
                        response = gen.send(request)
        except StopIteration as stop:
            return stop.value

    return generator_wrapper


class inference_mode(no_grad):
    """minigen's ``inference_mode`` IS ``no_grad`` under another name, for code written for
    PyTorch: ``with minigen.inference_mode(): ...``, ``@minigen.inference_mode()`` or the bare
    ``@minigen.inference_mode``. ``inference_mode(False)`` records again, as ``enable_grad``
    (PyTorch's does too, even inside ``no_grad``).

    PyTorch's is a stricter and faster no_grad: tensors made inside are "inference tensors",
    which autograd refuses later. minigen makes no such tensors: what is made inside is an
    ordinary tensor without a graph, as under ``no_grad``.
    """

    def __new__(cls, mode: Any = True) -> Any:
        if isinstance(mode, bool):
            self = object.__new__(cls)
            self.mode = not mode
            return self
        return super().__new__(cls, mode)  # the bare @inference_mode on a function

    def __init__(self, mode: Any = True) -> None:
        pass

    def clone(self) -> inference_mode:
        return inference_mode(not self.mode)

    def __call__(self, func: Any) -> Any:
        return _decorate(self, func)


class set_grad_enabled:
    """Switch recording on (``True``) or off (``False``), as PyTorch's: as a function call it
    sets the mode for good (``minigen.set_grad_enabled(False)``); as a context manager
    (``with minigen.set_grad_enabled(is_train): ...``) or a decorator it sets it inside only."""

    def __init__(self, mode: bool) -> None:
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled takes True or False, got {type(mode).__name__} "
                            f"{mode!r:.40} (as in PyTorch): write bool(...) around it")
        self.mode = mode
        self.previous, autograd.grad_enabled = autograd.grad_enabled, mode  # (a plain call)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        autograd.grad_enabled = self.previous

    def clone(self) -> set_grad_enabled:
        return set_grad_enabled(self.mode)

    def __call__(self, fn: Any) -> Any:  # @set_grad_enabled(False): undo the call, decorate
        autograd.grad_enabled = self.previous
        return _decorate(self, fn)


def _decorate(mode: Any, fn: Any) -> Any:
    """``fn`` run in a fresh copy of ``mode`` on every call (or every step of a generator)."""
    import inspect

    if inspect.isgeneratorfunction(fn):
        return generator(mode, fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with mode.clone():
            return fn(*args, **kwargs)

    return wrapper
