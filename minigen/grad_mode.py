"""Grad modes: whether ops record a graph (``no_grad``) and check for NaN/Inf
(``detect_anomaly``). Two module-level switches that :mod:`minigen.autograd` reads on every op.
"""

from __future__ import annotations

grad_enabled = True
anomaly_enabled = False


class no_grad:
    """Context manager (and decorator) that records no graph: for evaluation and updates."""

    def __enter__(self) -> None:
        global grad_enabled
        self._prev, grad_enabled = grad_enabled, False

    def __exit__(self, *exc: object) -> None:
        global grad_enabled
        grad_enabled = self._prev

    def __call__(self, fn):  # used as @no_grad()
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
        return wrapper


class enable_grad(no_grad):
    """Record the graph again inside a ``no_grad`` block."""

    def __enter__(self) -> None:
        global grad_enabled
        self._prev, grad_enabled = grad_enabled, True


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
