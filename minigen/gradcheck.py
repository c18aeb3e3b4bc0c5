"""Check analytic gradients against central finite differences.

The check contracts the output with a RANDOM cotangent ``v`` and compares, for each input x,

    analytic:   J^T v              (one backward pass)
    numerical:  ( <v, f(x + eps e_i)> - <v, f(x - eps e_i)> ) / (2 eps)   for each element i

Why a random ``v`` and not ``f(x).sum()``: summing hides whole classes of bugs. Softmax rows and
batch-norm outputs always sum to a constant, so the gradient of their sum is zero, and a
backward that returned zeros would pass.

``mode="full"`` perturbs every element (cost: two forward passes per element).
``mode="directional"`` compares <v, J u> with <J^T v, u> for a few random directions u: a
cheap check for big inputs.

How accurate the numerical side is. A central difference with step h is off by its truncation,
about ``h**2 / 6 * |f3|`` (f3 the third derivative: 1e-13 relative at h = 1e-6 for the smooth
functions of moderate size that tests use), and by the rounding of the two forward passes:
each <v, f> is computed to within a few units of the last place (u = 2**-53) of
``S = sum_j |v_j f_j|``, so their difference divided by 2h is off by about ``u * S / h``,
1e-10 * S at h = 1e-6. The step is the one float64 arithmetic really takes, ``(x + h) - x``
(exact for |x| >= h), not h: at |x| = 1e3 the two differ by up to 1e-7 relative.
``fd_rounding=c`` adds ``c * u * (S+ + S-) / (2h)`` per element to the tolerance, so that a
tight ``rtol`` (1e-6, say) can be asked for without failing elements whose gradient is small
next to the sum it comes from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigen import backend
from minigen.autograd import no_grad
from minigen.errors import DTypeError, MinigenError
from minigen.tensor import Tensor


class GradcheckError(MinigenError, AssertionError):
    """Analytic and numerical gradients disagree (the message shows where and by how much)."""


def _device_array(host: np.ndarray, like: Any) -> Any:
    return backend.asarray(host, backend.dtype_of(like), backend.device_of(like))


def _contract(fn: Callable[..., Tensor], inputs: Sequence[Any],
              v: Any) -> tuple[float, float]:
    """(<v, fn(*inputs)>, sum |v * fn(*inputs)|) as Python floats, without recording a graph.
    The second is the scale of the first's rounding error."""
    with no_grad():
        out = fn(*inputs)
    xp = backend.namespace(out.data)
    terms = out.data * v
    return float(xp.sum(terms)), float(xp.sum(xp.abs(terms)))


def gradcheck(fn: Callable[..., Tensor], *inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, mode: str = "full", n_directions: int = 3,
              seed: int = 0, fd_rounding: float = 0.0) -> bool:
    """Compare the gradients of ``fn(*inputs)`` with finite differences; True or raise.

    Parameters
    ----------
    fn : callable
        Takes ``inputs`` and returns a Tensor (of any shape).
    *inputs : Tensor or anything
        The tensors with ``requires_grad=True`` are checked; they must be float64 (float32's
        rounding error at eps=1e-6 would swamp the comparison).
    eps, atol, rtol : float
        Step and tolerances (PyTorch's defaults): passes where
        ``|analytic - numerical| <= atol + rtol * |numerical| + rounding``.
    mode : "full" or "directional"
    seed : int
        Seeds the cotangent and the directions, so a failure repeats.
    fd_rounding : float
        ``rounding`` above is ``fd_rounding * u * (S+ + S-) / (2 h)``, u = 2**-53 and
        ``S+-`` the sums ``sum_j |v_j f_j(x +- h)|``: the finite difference's own rounding
        error, in units of its estimate (see the module's docstring). Default 0 (none), so
        the defaults stay PyTorch's; the library's op tests ask for ``rtol=1e-6`` with a
        small ``fd_rounding`` (``tests/opcheck.py``).

    Raises
    ------
    GradcheckError
        Naming the op that produced the output, the input, the worst element and both values.

    Examples
    --------
    >>> x = minigen.randn(3, 4, dtype=minigen.float64, requires_grad=True)
    >>> minigen.gradcheck(lambda t: (t * t).tanh(), x)
    True
    """
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True, so nothing is checked")
    for i in checked:
        if inputs[i].dtype != backend.float64:
            raise DTypeError(f"gradcheck: input {i} is {inputs[i].dtype}; finite differences "
                             "need float64 (use .double() or dtype=minigen.float64)")
    if mode not in ("full", "directional"):
        raise ValueError(f"gradcheck: mode must be 'full' or 'directional', got {mode!r}")
    rng = np.random.default_rng(seed)
    unit = float(np.finfo(np.float64).eps) / 2  # u: float64's unit roundoff, 2**-53

    for i in checked:
        inputs[i].grad = None
    out = fn(*inputs)
    if not isinstance(out, Tensor) or not out.requires_grad:
        raise GradcheckError("gradcheck: fn's output does not depend on any checked input")
    op = out.grad_fn
    v = _device_array(rng.standard_normal(out.shape), out.data)
    out.backward(v)
    analytic = {}
    for i in checked:
        grad = inputs[i].grad
        if grad is not None and grad.shape != inputs[i].shape:
            raise GradcheckError(f"gradcheck: the gradient of input {i} has shape {grad.shape}, "
                                 f"the input {inputs[i].shape} (op {op})")
        host = np.zeros(inputs[i].shape) if grad is None else backend.to_numpy(grad.data)
        analytic[i] = np.asarray(host, dtype=np.float64)

    plain = [Tensor._make(t.data) if isinstance(t, Tensor) else t for t in inputs]

    def shifted(i: int, step: np.ndarray) -> list[Any]:
        moved = list(plain)
        moved[i] = Tensor._make(inputs[i].data + _device_array(step, inputs[i].data))
        return moved

    if mode == "directional":
        directions = {}
        for _ in range(n_directions):
            for i in checked:
                directions[i] = rng.standard_normal(inputs[i].shape)
            numeric = rounding = 0.0
            for i in checked:  # <v, J u> = sum_i <v, J_i u_i>
                plus, s_plus = _contract(fn, shifted(i, eps * directions[i]), v)
                minus, s_minus = _contract(fn, shifted(i, -eps * directions[i]), v)
                numeric += (plus - minus) / (2 * eps)
                rounding += fd_rounding * unit * (s_plus + s_minus) / (2 * eps)
            exact = sum(float(np.sum(analytic[i] * directions[i])) for i in checked)
            if abs(exact - numeric) > atol + rtol * abs(numeric) + rounding:
                raise GradcheckError(
                    f"gradcheck failed for {op} (directional): <J^T v, u> = {exact:.8g} but "
                    f"finite differences give <v, J u> = {numeric:.8g} "
                    f"(atol={atol}, rtol={rtol}, eps={eps})")
        return True

    for i in checked:
        shape = inputs[i].shape
        x = np.asarray(backend.to_numpy(inputs[i].data), dtype=np.float64).reshape(-1)
        numeric, rounding = np.zeros(shape), np.zeros(shape)
        for flat in range(int(np.prod(shape))):
            # the steps float64 really takes: x + h rounds, (x + h) - x does not (|x| >= h)
            up, down = (x[flat] + eps) - x[flat], x[flat] - (x[flat] - eps)
            if up + down == 0:
                raise GradcheckError(
                    f"gradcheck: eps={eps} is below half the spacing of float64 numbers at "
                    f"input {i}'s value {x[flat]:.6g}: x + eps == x. Pass a larger eps")
            step = np.zeros(shape)
            step.reshape(-1)[flat] = up
            plus, s_plus = _contract(fn, shifted(i, step), v)
            step.reshape(-1)[flat] = -down
            minus, s_minus = _contract(fn, shifted(i, step), v)
            numeric.reshape(-1)[flat] = (plus - minus) / (up + down)
            rounding.reshape(-1)[flat] = fd_rounding * unit * (s_plus + s_minus) / (up + down)
        error = np.abs(analytic[i] - numeric) - (atol + rtol * np.abs(numeric) + rounding)
        if error.size and error.max() > 0:
            worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(error)), shape))
            raise GradcheckError(
                f"gradcheck failed for {op}: input {i} (shape {shape}), worst element {worst}: "
                f"analytic {analytic[i][worst]:.8g}, numerical {numeric[worst]:.8g} "
                f"(atol={atol}, rtol={rtol}, eps={eps}); "
                f"{int((error > 0).sum())} of {error.size} elements out of tolerance")
    return True
