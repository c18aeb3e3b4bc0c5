"""What the graded tests share: hypothesis settings, input strategies, NumPy helpers, and
:func:`check_backward`, a gradient check of ONE op that needs no other exercise.

``minigen.gradcheck`` checks a function through the engine's backward pass, which is itself
exercise 1: in a workspace where that is blank, it could check nothing else. So an op's
exercise is checked here on the op alone, as the engine would run it: ``forward(ctx, ...)``
on float64 NumPy arrays, then ``backward(ctx, v)`` with a random cotangent ``v``, its
gradients summed over broadcast axes (as ``autograd._unbroadcast`` does, in NumPy here), each
compared with the central difference of ``<v, forward(x)>``, element by element, at
``minigen.gradcheck``'s settings of the library's own op tests (step 1e-6, rtol 1e-6,
atol 1e-8, plus the difference's own rounding). The message names the worst element and
both values, as ``minigen.gradcheck``'s does.

These files run in a child process whose ``import minigen`` is the workspace's copy; they
are not part of that copy (the child loads them from the library), so a test cannot be
edited in a workspace.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigen import backend
from minigen.autograd import Context

EPS, RTOL, ATOL, FD_ROUNDING = 1e-6, 1e-6, 1e-8, 16.0
UNIT = float(np.finfo(np.float64).eps) / 2


class GradeError(AssertionError):
    """A graded check failed; the message says what, in the student's terms."""


class Skip(Exception):
    """A check that cannot run here (a missing optional package); the message says why."""


class Unwritten(BaseException):
    """An exercise's NotImplementedError, carried straight out of hypothesis (which would
    spend seconds shrinking an example that fails whatever it holds)."""

    def __init__(self, error: NotImplementedError):
        super().__init__(str(error))
        self.error = error


def graded(max_examples: int) -> Any:
    """Decorates a ``@given`` test: derandomized (every run draws the same examples, so a
    check fails every time or never), no example database written anywhere, no deadline, the
    first failure only; a blank's NotImplementedError stops it at once (:class:`Unwritten`).
    """
    config = settings(max_examples=max_examples, derandomize=True, database=None,
                      deadline=None, print_blob=False, report_multiple_bugs=False,
                      phases=[Phase.explicit, Phase.generate, Phase.shrink],
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

    def decorate(test: Any) -> Any:
        test = config(test)
        inner = test.hypothesis.inner_test  # (hypothesis's hook for wrapping the body)

        @functools.wraps(inner)
        def body(*args: Any, **kwargs: Any) -> Any:
            try:
                return inner(*args, **kwargs)
            except NotImplementedError as error:
                if str(error).startswith("exercise "):
                    raise Unwritten(error) from error
                raise

        test.hypothesis.inner_test = body
        return test

    return decorate


def floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def arrays(shape: Any, low: float = -3.0, high: float = 3.0,
           away_from_zero: float = 0.0) -> st.SearchStrategy[np.ndarray]:
    """float64 arrays of ``shape`` with values in [low, high], none within ``away_from_zero``
    of 0 (a sign drawn separately)."""
    if away_from_zero:
        magnitude = floats(away_from_zero, high)
        elements = st.tuples(st.sampled_from([-1.0, 1.0]), magnitude).map(lambda t: t[0] * t[1])
    else:
        elements = floats(low, high)
    return hnp.arrays(np.float64, shape, elements=elements)


def shapes(min_dims: int = 1, max_dims: int = 3, max_side: int = 4) -> st.SearchStrategy:
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1,
                            max_side=max_side)


def broadcast_pair(max_dims: int = 3) -> st.SearchStrategy[tuple]:
    """Two shapes that broadcast together: ((3, 1), (2, 1, 4)), ((4,), (4,))..."""
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=max_dims,
                                             min_side=1, max_side=3).map(
        lambda b: tuple(b.input_shapes))


def sum_to(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` summed over the axes that broadcasting added to ``shape`` (the engine's rule)."""
    lead = a.ndim - len(shape)
    a = a.sum(axis=tuple(range(lead))) if lead > 0 else a
    ones = tuple(k for k, n in enumerate(shape) if n == 1 and a.shape[k] != 1)
    return a.sum(axis=ones, keepdims=True) if ones else a


def worst(error: np.ndarray) -> tuple[int, ...]:
    return tuple(int(k) for k in np.unravel_index(int(np.argmax(error)), error.shape))


def check_close(what: str, got: Any, want: np.ndarray, rtol: float = 1e-9,
                atol: float = 1e-12) -> None:
    """``got`` (an array) equal to the NumPy reference ``want``, or a GradeError naming the
    worst element."""
    want = np.asarray(want)
    if not hasattr(got, "shape"):
        raise GradeError(f"{what}: got {type(got).__name__} {got!r:.60}, expected an array of "
                         f"shape {want.shape}")
    got = np.asarray(backend.to_numpy(got), dtype=np.float64)
    if got.shape != want.shape:
        raise GradeError(f"{what}: shape {got.shape}, expected {want.shape}")
    bad = ~np.isclose(got, want, rtol=rtol, atol=atol, equal_nan=False)
    if bad.any():
        k = worst(np.where(bad, np.abs(got - want) / (atol + rtol * np.abs(want)), -1.0))
        raise GradeError(f"{what}: element {k} is {got[k]:.10g}, expected {want[k]:.10g} "
                         f"(NumPy reference); {int(bad.sum())} of {bad.size} elements off")


def at(names: list[str], args: tuple, kwargs: dict | None = None) -> str:
    """', at a = [1.5, -2.], b = 0.5; training=False' for small inputs (the example a student
    can redo, on one line), and the options that are not arrays."""
    shown = [f"{name} = {np.array2string(np.asarray(a), precision=4, separator=', ')}"
             for name, a in zip(names, args) if isinstance(a, (np.ndarray, float, int))]
    small = all(np.size(a) <= 6 for a in args if isinstance(a, np.ndarray))
    text = f", at {', '.join(shown)}" if shown and small else ""
    options = [f"{k}={v!r}" for k, v in (kwargs or {}).items()
               if isinstance(v, (bool, int, float, str, tuple)) or v is None]
    text += f"; {', '.join(options)}" if options else ""
    return " ".join(text.split())  # (a matrix's rows on one line)


def _run(fn: type, args: tuple, kwargs: dict, needs: tuple[bool, ...]) -> tuple[Context, Any]:
    ctx = Context(fn.__name__)
    ctx.fn, ctx.needs_input_grad, ctx.batch_last = fn, needs, False
    ctx.input_shapes = tuple(getattr(a, "shape", None) for a in args)
    with backend.quiet_floating_point():
        out = fn.forward(ctx, *args, **kwargs)
    if not hasattr(out, "shape"):
        raise GradeError(f"{fn.__name__}.forward returned {type(out).__name__} {out!r:.60}, "
                         "not an array")
    return ctx, out


def _contract(fn: type, args: list, kwargs: dict, needs: tuple, v: np.ndarray) -> tuple:
    _, out = _run(fn, tuple(args), kwargs, needs)
    terms = np.asarray(backend.to_numpy(out), dtype=np.float64) * v
    return float(terms.sum()), float(np.abs(terms).sum())


def input_names(fn: type, n: int) -> list[str]:
    names = list(inspect.signature(fn.forward).parameters)[1:]  # after ctx
    return (names + [f"input {i}" for i in range(len(names), n)])[:n]


def run_backward(fn: type, args: tuple, kwargs: dict | None = None, *,
                 needs: tuple[bool, ...] | None = None, seed: int = 0) -> tuple:
    """forward, then backward with a random cotangent; (out, v, gradients as a tuple with one
    entry per input, None where not needed), after checking what backward returned."""
    kwargs = kwargs or {}
    needs = needs or tuple(isinstance(a, np.ndarray) for a in args)
    names = input_names(fn, len(args))
    ctx, out = _run(fn, args, kwargs, needs)
    v = np.random.default_rng(seed).standard_normal(out.shape)  # (a copy goes to backward)
    with backend.quiet_floating_point():
        grads = fn.backward(ctx, backend.asarray(v, backend.dtype_of(out),
                                                 backend.device_of(out)))
    grads = grads if isinstance(grads, tuple) else (grads,)
    op = f"{fn.__name__}.backward"
    last = max((i for i, need in enumerate(needs) if need), default=-1)
    if len(grads) <= last:  # (the engine pairs them with the inputs, so trailing Nones may go)
        raise GradeError(f"{op} returned {len(grads)} value(s), but {names[last]} (input "
                         f"{last + 1}) needs a gradient: return one per input of forward "
                         f"({', '.join(names)}), None for an input that needs none")
    grads = grads + (None,) * (len(args) - len(grads))
    out_grads = []
    for i, (g, name, arg) in enumerate(zip(grads, names, args)):
        if not needs[i]:
            out_grads.append(None)
            continue
        if g is None:
            raise GradeError(f"{op} returned None for {name}, which needs a gradient "
                             f"(ctx.needs_input_grad[{i}] is True)")
        if not hasattr(g, "shape") or type(g).__name__ == "Tensor":
            raise GradeError(f"{op} returned a {type(g).__name__} for {name}: return arrays "
                             "(the backward works on arrays, as forward does)")
        try:
            np.broadcast_shapes(tuple(g.shape), tuple(arg.shape))
            fits = len(g.shape) >= len(arg.shape)
        except ValueError:
            fits = False
        if not fits:
            raise GradeError(f"{op} returned a gradient of shape {tuple(g.shape)} for {name} "
                             f"of shape {tuple(arg.shape)}: it must have {name}'s shape (or "
                             "the broadcast output's, which the engine sums back)")
        out_grads.append(g)
    return out, v, tuple(out_grads)


def check_backward(fn: type, args: tuple, kwargs: dict | None = None, *,
                   needs: tuple[bool, ...] | None = None, seed: int = 0) -> None:
    """The gradients of ``fn`` (a Function class) at ``args`` (float64 NumPy arrays where a
    gradient is checked) against central differences, with a random cotangent; GradeError
    naming the op, the input, the worst element and both values."""
    kwargs = kwargs or {}
    needs = needs or tuple(isinstance(a, np.ndarray) for a in args)
    _, v, grads = run_backward(fn, args, kwargs, needs=needs, seed=seed)
    names = input_names(fn, len(args))
    for i, g in enumerate(grads):
        if g is None:
            continue
        x = args[i]
        analytic = sum_to(np.asarray(backend.to_numpy(g), dtype=np.float64), x.shape)
        numeric, rounding = np.zeros(x.shape), np.zeros(x.shape)
        for k in np.ndindex(*x.shape):
            up, down = (x[k] + EPS) - x[k], x[k] - (x[k] - EPS)
            moved = list(args)
            moved[i] = x.copy()
            moved[i][k] = x[k] + up
            plus, s_plus = _contract(fn, moved, kwargs, needs, v)
            moved[i][k] = x[k] - down
            minus, s_minus = _contract(fn, moved, kwargs, needs, v)
            numeric[k] = (plus - minus) / (up + down)
            rounding[k] = FD_ROUNDING * UNIT * (s_plus + s_minus) / (up + down)
        error = np.abs(analytic - numeric) - (ATOL + RTOL * np.abs(numeric) + rounding)
        error = np.where(np.isnan(analytic), np.inf, error)
        if error.size and error.max() > 0:
            k = worst(error)
            raise GradeError(
                f"{fn.__name__}.backward, the gradient of {names[i]} (shape {x.shape}): worst "
                f"element {k}: analytic {analytic[k]:.8g}, numerical {numeric[k]:.8g}; "
                f"{int((error > 0).sum())} of {error.size} elements out of tolerance"
                + at(names, args, kwargs))


def check_float32(fn: type, args: tuple, kwargs: dict | None = None) -> None:
    """float32 inputs give a float32 output and float32 gradients (no float64 made inside)."""
    args32 = tuple(a.astype(np.float32) if isinstance(a, np.ndarray) else a for a in args)
    out, _, grads = run_backward(fn, args32, kwargs)
    names = input_names(fn, len(args))
    if out.dtype != np.float32:
        raise GradeError(f"{fn.__name__}.forward made a {out.dtype} output from float32 "
                         "inputs: make new arrays with the input's dtype (xp.zeros(shape, "
                         "dtype=x.dtype)), never NumPy's float64 default")
    for g, name in zip(grads, names):
        if g is not None and g.dtype != np.float32:
            raise GradeError(f"{fn.__name__}.backward made a {g.dtype} gradient for {name} "
                             "from float32 inputs: keep the input's dtype")


def check_strict(fn: type, args: tuple, kwargs: dict | None = None) -> None:
    """The op runs on array-api-strict (the tests' stand-in for a GPU) and gives the same
    numbers as on NumPy."""
    try:
        dev = backend.device("strict")
    except Exception as error:  # array-api-strict not installed
        raise Skip(f"the strict-device check needs array-api-strict ({error})") from None
    strict = tuple(backend.asarray(a, backend.float64, dev) if isinstance(a, np.ndarray) else a
                   for a in args)
    needs = tuple(isinstance(a, np.ndarray) for a in args)
    cpu_out, _, cpu_grads = run_backward(fn, args, kwargs, needs=needs)
    try:
        out, _, grads = run_backward(fn, strict, kwargs, needs=needs)
        for got, want, what in [(out, cpu_out, "forward")] + [
                (g, h, "backward") for g, h in zip(grads, cpu_grads) if h is not None]:
            check_close(f"{fn.__name__}.{what} on the strict device", got,
                        backend.to_numpy(want))
    except GradeError:
        raise
    except Exception as error:
        raise GradeError(f"{fn.__name__} fails on array-api-strict (the tests' stand-in for a "
                         f"GPU): {type(error).__name__}: {error}. Write array code with xp = "
                         "backend.namespace(x) and its functions (xp.sum, xp.matmul...), not "
                         "numpy's, so that it also runs on CuPy") from None
