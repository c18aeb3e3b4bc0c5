"""``detect_anomaly``: check every op's output and every gradient for NaN/Inf, and raise at
the first one, naming the op, its input shapes and the line of your code that made it. It
slows everything down: a debugging tool. The core's ops call :func:`check_output` and
:func:`check_gradient` while ``minigen.autograd.anomaly_enabled`` is set."""

from __future__ import annotations

import os
import traceback
from typing import Any

from minigen import autograd, backend
from minigen.errors import AnomalyError

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class detect_anomaly:
    """``with minigen.detect_anomaly(): ...``, or ``detect_anomaly(False)`` to switch it off
    for a block; ``minigen.set_detect_anomaly(True)`` switches it on for good."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled

    def __enter__(self) -> None:
        self.previous, autograd.anomaly_enabled = autograd.anomaly_enabled, self.enabled

    def __exit__(self, *exc: object) -> None:
        autograd.anomaly_enabled = self.previous


def set_detect_anomaly(enabled: bool) -> None:
    autograd.anomaly_enabled = bool(enabled)


def check_output(ctx: Any, args: tuple, out: Any) -> None:
    """Remember where ``ctx``'s op was made (for its gradient's check too), then check its
    output (also under no_grad: a NaN made there is just as wrong)."""
    ctx.anomaly_shapes = tuple(tuple(a.shape) for a in args if hasattr(a, "requires_grad"))
    ctx.trace = _creation_trace()
    _check_finite(out, "output", ctx)


def check_gradient(ctx: Any, grad: Any) -> None:
    _check_finite(grad, "gradient", ctx)


def _check_finite(array: Any, what: str, ctx: Any) -> None:
    xp = backend.namespace(array)
    if not backend.dtype_of(array).is_floating_point or bool(xp.all(xp.isfinite(array))):
        return
    kind = "NaN" if bool(xp.any(xp.isnan(array))) else "Inf"
    if hasattr(ctx, "trace"):
        shapes = ", ".join(str(s) for s in ctx.anomaly_shapes)
        where = "".join(traceback.format_list(ctx.trace)).rstrip()
    else:  # a graph recorded before detect_anomaly was switched on
        shapes = ", ".join(str(tuple(s)) for s in ctx.input_shapes if s is not None)
        where = "  (unknown: run the forward pass under detect_anomaly() too)"
    raise AnomalyError(f"{kind} found in the {what} of {ctx.name} (input shapes: {shapes}).\n"
                       f"The op was created here:\n{where}")


def _creation_trace() -> list[traceback.FrameSummary]:
    """Where an op is being created: from the innermost line of the user's code (the last
    frame outside minigen's package) down to the op's function, at most 10 frames."""
    frames = traceback.extract_stack()[:-3]  # without this module's two and apply
    while len(frames) > 1 and frames[-1].filename.startswith(_PACKAGE + "ops" + os.sep):
        frames.pop()  # and the op's own function (ops.linear...)
    outside = [i for i, f in enumerate(frames) if not f.filename.startswith(_PACKAGE)]
    frames = frames[outside[-1] if outside else 0:]
    return frames if len(frames) <= 10 else frames[:1] + frames[-9:]
