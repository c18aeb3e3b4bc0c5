"""Grad modes: whether ops record a graph (``no_grad``, ``enable_grad``, ``set_grad_enabled``,
``inference_mode``) and check for NaN/Inf (``detect_anomaly``). Two module-level switches that
:mod:`minigen.autograd` reads on every op.
"""

from __future__ import annotations

import functools
import inspect

grad_enabled = True
anomaly_enabled = False


def _decorate(make_mode, fn):
    """``fn`` run inside a fresh ``make_mode()`` context on every call (for a generator
    function: around each step it takes, so the caller's code between two ``yield``s runs
    in the caller's own mode, as in PyTorch)."""
    if inspect.isgeneratorfunction(fn):
        @functools.wraps(fn)
        def generator_wrapper(*args, **kwargs):
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

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with make_mode():
            return fn(*args, **kwargs)

    return wrapper


class no_grad:
    """Context manager and decorator that records no graph: for evaluation and updates.

    ``with minigen.no_grad(): ...``, ``@minigen.no_grad()`` and, as in PyTorch 2, the bare
    ``@minigen.no_grad`` on a function all work.
    """

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        if not callable(orig_func):
            raise TypeError(f"{cls.__name__}() takes no argument, or decorates a function; got "
                            f"{orig_func!r:.60}")
        return cls()(orig_func)  # bare @no_grad on a function

    def __init__(self, orig_func=None) -> None:
        pass

    def __enter__(self) -> None:
        global grad_enabled
        self._prev, grad_enabled = grad_enabled, False

    def __exit__(self, *exc: object) -> None:
        global grad_enabled
        grad_enabled = self._prev

    def clone(self):
        """A fresh one, entered on each call of a decorated function."""
        return self.__class__()

    def __call__(self, fn):  # used as @no_grad()
        return _decorate(self.clone, fn)


class enable_grad(no_grad):
    """Record the graph again inside a ``no_grad`` block (a context manager, ``@enable_grad()``
    or ``@enable_grad``)."""

    def __enter__(self) -> None:
        global grad_enabled
        self._prev, grad_enabled = grad_enabled, True


class inference_mode(no_grad):
    """minigen's ``inference_mode`` IS ``no_grad`` under another name, for code written for
    PyTorch: ``with minigen.inference_mode(): ...``, ``@minigen.inference_mode()`` or the bare
    ``@minigen.inference_mode``. ``inference_mode(False)`` records again, as ``enable_grad``
    (PyTorch's does too, even inside ``no_grad``).

    PyTorch's is a stricter and faster no_grad: tensors made inside are "inference tensors",
    which autograd refuses later. minigen makes no such tensors: what is made inside is an
    ordinary tensor without a graph, as under ``no_grad``.
    """

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            self = object.__new__(cls)
            self.mode = mode
            return self
        return super().__new__(cls, mode)  # bare @inference_mode on a function

    def __init__(self, mode=True) -> None:
        pass

    def __enter__(self) -> None:
        global grad_enabled
        self._prev, grad_enabled = grad_enabled, not self.mode

    def clone(self):
        return self.__class__(self.mode)


class set_grad_enabled:
    """Switch recording on (``True``) or off (``False``), as PyTorch's: as a function call it
    sets the mode for good (``minigen.set_grad_enabled(False)``); as a context manager
    (``with minigen.set_grad_enabled(is_train): ...``) or a decorator it sets it inside only."""

    def __init__(self, mode: bool) -> None:
        global grad_enabled
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled takes True or False, got {type(mode).__name__} "
                            f"{mode!r:.40} (as in PyTorch): write bool(...) around it")
        self.mode = mode
        self._prev, grad_enabled = grad_enabled, mode  # (already set: a plain call)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: object) -> None:
        global grad_enabled
        grad_enabled = self._prev

    def clone(self) -> set_grad_enabled:
        return self.__class__(self.mode)

    def __call__(self, fn):  # @set_grad_enabled(False): undo the call's switch, decorate
        global grad_enabled
        grad_enabled = self._prev
        return _decorate(self.clone, fn)


def is_grad_enabled() -> bool:
    return grad_enabled


class detect_anomaly:
    """Check every op's output and every gradient for NaN/Inf, and raise at the first one.

    Use as a context manager (``with minigen.detect_anomaly(): ...``) or switch it on for good
    with ``minigen.set_detect_anomaly(True)``. The error names the op, its input shapes and the
    line of your code that created it. It slows everything down: use it to debug.
    """

    def __init__(self, enabled: bool = True):
        self.enabled = enabled

    def __enter__(self) -> None:
        global anomaly_enabled
        self._prev, anomaly_enabled = anomaly_enabled, self.enabled

    def __exit__(self, *exc: object) -> None:
        global anomaly_enabled
        anomaly_enabled = self._prev


def set_detect_anomaly(enabled: bool) -> None:
    global anomaly_enabled
    anomaly_enabled = bool(enabled)
