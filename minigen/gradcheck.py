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


def _contract(fn: Callable[..., Tensor], inputs: Sequence[Any], v: Any) -> float:
    """<v, fn(*inputs)> as a Python float, computed without recording a graph."""
    with no_grad():
        out = fn(*inputs)
    xp = backend.namespace(out.data)
    return float(xp.sum(out.data * v))


def gradcheck(fn: Callable[..., Tensor], *inputs: Any, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, mode: str = "full", n_directions: int = 3,
              seed: int = 0) -> bool:
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
        ``|analytic - numerical| <= atol + rtol * |numerical|``.
    mode : "full" or "directional"
    seed : int
        Seeds the cotangent and the directions, so a failure repeats.

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
            numeric = 0.0
            for i in checked:  # <v, J u> = sum_i <v, J_i u_i>
                plus = _contract(fn, shifted(i, eps * directions[i]), v)
                minus = _contract(fn, shifted(i, -eps * directions[i]), v)
                numeric += (plus - minus) / (2 * eps)
            exact = sum(float(np.sum(analytic[i] * directions[i])) for i in checked)
            if abs(exact - numeric) > atol + rtol * abs(numeric):
                raise GradcheckError(
                    f"gradcheck failed for {op} (directional): <J^T v, u> = {exact:.8g} but "
                    f"finite differences give <v, J u> = {numeric:.8g} "
                    f"(atol={atol}, rtol={rtol}, eps={eps})")
        return True

    for i in checked:
        shape = inputs[i].shape
        numeric = np.zeros(shape)
        for flat in range(int(np.prod(shape))):
            step = np.zeros(shape)
            step.reshape(-1)[flat] = eps
            plus = _contract(fn, shifted(i, step), v)
            minus = _contract(fn, shifted(i, -step), v)
            numeric.reshape(-1)[flat] = (plus - minus) / (2 * eps)
        error = np.abs(analytic[i] - numeric) - (atol + rtol * np.abs(numeric))
        if error.size and error.max() > 0:
            worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(error)), shape))
            raise GradcheckError(
                f"gradcheck failed for {op}: input {i} (shape {shape}), worst element {worst}: "
                f"analytic {analytic[i][worst]:.8g}, numerical {numeric[worst]:.8g} "
                f"(atol={atol}, rtol={rtol}, eps={eps}); "
                f"{int((error > 0).sum())} of {error.size} elements out of tolerance")
    return True
