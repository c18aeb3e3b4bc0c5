"""The comparison machinery of ``against_torch.py``: a results table (:class:`Record`) and
the one routine every numeric check goes through (:func:`forward_backward`): the same inputs
into minigen and PyTorch, the outputs compared, one random cotangent back through both, the
gradients compared."""

from __future__ import annotations

from typing import Any

import numpy as np

import minigen

try:
    import torch
except ImportError:  # against_torch.main() says how to install it
    torch = None

TOLERANCE = {"float64": 1e-10, "float32": 2e-4}  # largest scaled error that passes


# ------------------------------------------------------------------ recording results


def as_numpy(t: Any) -> np.ndarray:
    """A minigen or torch tensor (or a number) as a NumPy array."""
    if hasattr(t, "detach"):
        t = t.detach()
    return np.asarray(t.numpy() if hasattr(t, "numpy") else t)


class Record:
    """The results table: for each (check, dtype) the number of cases, the largest absolute
    and scaled errors (see :meth:`close`), and every failure's message."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}
        self.dtype = "float64"  # the pass being run; rows are per dtype
        self.loose: dict[tuple[str, str], float] = {}  # (check, dtype): its own tolerance

    def row(self, check: str) -> dict[str, Any]:
        key = (check, self.dtype)
        new = {"cases": 0, "abs": 0.0, "scaled": 0.0, "tol": self.tolerance(check),
               "failures": []}
        return self.rows.setdefault(key, new)

    def tolerance(self, check: str) -> float:
        return self.loose.get((check, self.dtype), TOLERANCE[self.dtype])

    def case(self, check: str) -> None:
        self.row(check)["cases"] += 1

    def expect(self, check: str, ok: bool, message: str) -> None:
        if not ok:
            self.row(check)["failures"].append(message)

    def close(self, check: str, what: str, mine: Any, theirs: Any,
              tol: float | None = None) -> None:
        """minigen's ``mine`` against PyTorch's ``theirs``: same shape, the same infinities
        and NaNs, and a scaled error max |mine - theirs| / max(1, max |theirs|) within ``tol``.

        Why not divide by max |theirs| alone: where the exact value is 0 or tiny but comes out
        of a cancellation of O(1) terms (batch norm's input gradient with 2 values per
        channel, which is exactly 0; softmax's gradient when it saturates), both libraries
        return rounding noise, and noise over noise is no measure of either."""
        if mine is None or theirs is None:
            self.expect(check, mine is None and theirs is None,
                        f"{what}: one gradient is None, the other is not")
            return
        a, b = as_numpy(mine).astype(np.float64), as_numpy(theirs).astype(np.float64)
        if a.shape != b.shape:
            self.expect(check, False, f"{what}: shape {a.shape} against PyTorch's {b.shape}")
            return
        finite = np.isfinite(b)
        same_special = np.array_equal(np.isfinite(a), finite) and np.array_equal(
            a[~finite], b[~finite], equal_nan=True)
        self.expect(check, same_special, f"{what}: infinities or NaNs differ")
        err = float(np.max(np.abs(a - b)[finite], initial=0.0))
        scale = float(np.max(np.abs(b[finite]), initial=0.0))
        scaled = err / max(scale, 1.0)
        row = self.row(check)
        row["abs"], row["scaled"] = max(row["abs"], err), max(row["scaled"], scaled)
        tol = self.tolerance(check) if tol is None else tol
        self.expect(check, scaled <= tol, f"{what}: scaled error {scaled:.2e} > {tol:.0e}")

    def same_refusal(self, check: str, what: str, mine: Any, theirs: Any) -> Any:
        """Run two zero-argument callables; both must succeed or both raise. Returns the pair
        of results (None for a refusal)."""
        results = []
        for fn in (mine, theirs):
            try:
                results.append(fn())
            except (ValueError, RuntimeError, TypeError, IndexError):
                results.append(None)
        refused = [r is None for r in results]
        self.expect(check, refused[0] == refused[1],
                    f"{what}: minigen {'refuses' if refused[0] else 'accepts'}, PyTorch "
                    f"{'refuses' if refused[1] else 'accepts'}")
        return results


def to_torch_dtype(dtype: str) -> Any:
    return {"float64": torch.float64, "float32": torch.float32}[dtype]


def forward_backward(rec: Record, check: str, mine: Any, theirs: Any, inputs: list,
                     rng: np.random.Generator, params: list = (), grads: Any = None,
                     label: str = "", truth: Any = None) -> None:
    """Call ``mine`` (minigen) and ``theirs`` (PyTorch) on the same input arrays, compare the
    outputs, back-propagate one random cotangent through both, and compare the gradients of
    the inputs (those with ``grads[i]`` true, all by default) and of ``params``, a list of
    (name, minigen tensor, torch tensor). ``label`` names the case in failures.

    ``truth``: (PyTorch's function in float64, its parameters in ``params``' order). Then
    minigen's float32 results are judged against PyTorch's float64 ones on the same inputs
    and cotangent, not against PyTorch's float32 ones, which can be the farther from the
    truth (see ``check_models``)."""
    grads = [True] * len(inputs) if grads is None else grads
    ours = [minigen.tensor(a, requires_grad=g) for a, g in zip(inputs, grads)]
    peer = [torch.tensor(a, requires_grad=g) for a, g in zip(inputs, grads)]
    out, out_t = mine(*ours), theirs(*peer)
    rec.case(check)
    label = f"{label}: " if label else ""
    cotangent = np.asarray(rng.standard_normal(tuple(out_t.shape)), dtype=inputs[0].dtype)
    out_t.backward(torch.from_numpy(cotangent))
    judge_params = [b for _, _, b in params]
    if truth is not None:  # the same arrays, widened: float32 values are float64 values
        peer = [torch.tensor(a.astype(np.float64), requires_grad=g)
                for a, g in zip(inputs, grads)]
        out_t, judge_params = truth[0](*peer), truth[1]
        out_t.backward(torch.from_numpy(cotangent.astype(np.float64)))
    rec.close(check, f"{label}output", out, out_t)
    out.backward(minigen.tensor(cotangent))
    for i, (a, b) in enumerate(zip(ours, peer)):
        if grads[i]:
            rec.close(check, f"{label}grad of input {i}", a.grad, b.grad)
    for (name, a, _), b in zip(params, judge_params):
        rec.close(check, f"{label}grad of {name}", a.grad, b.grad)


def copy_into_torch(mine: Any, theirs: Any) -> None:
    """Load minigen's state_dict into the torch module: the key names must agree."""
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in mine.state_dict().items()})


def compare_module(rec: Record, check: str, mine: Any, theirs: Any, x: np.ndarray,
                   rng: np.random.Generator, label: str = "", wide: Any = None) -> None:
    """One forward and backward of two modules holding the same weights. ``wide``: a
    float64 copy of ``theirs`` to judge float32 results by (see :func:`forward_backward`)."""
    copy_into_torch(mine, theirs)
    peer = dict(theirs.named_parameters())
    params = [(n, p, peer[n]) for n, p in mine.named_parameters()]
    truth = None
    if wide is not None:
        wide.load_state_dict({k: v.double() if v.is_floating_point() else v
                              for k, v in theirs.state_dict().items()})
        truth = (wide, [dict(wide.named_parameters())[n] for n, _, _ in params])
    forward_backward(rec, check, mine, theirs, [x], rng, params,
                     label=label or f"{mine!r} on {x.shape}", truth=truth)


def random_shape(rng: np.random.Generator, low: int = 1, high: int = 4) -> tuple[int, ...]:
    """``low`` to ``high`` dimensions, each of size 1 to 4."""
    return tuple(int(v) for v in rng.integers(1, 5, size=int(rng.integers(low, high + 1))))


def normal(rng: np.random.Generator, dtype: str, *shape: int, scale: float = 1.0) -> np.ndarray:
    return (rng.standard_normal(shape) * scale).astype(dtype)


def randomise(module: Any, rng: np.random.Generator) -> None:
    """Give every parameter random values (BatchNorm starts at weight 1, bias 0, which would
    leave the affine part untested)."""
    for p in module.parameters():
        p.data = minigen.tensor(normal(rng, p.dtype.name, *p.shape)).data
