"""Part of ``against_torch.py``: the creation functions, comparisons, grad modes and
``random_split`` against PyTorch.

eye, linspace, logspace, empty, full_like and the other ``*_like`` functions: values (to
rounding), shapes and dtypes, default and given; randint, randint_like and randperm: dtypes,
shapes and ranges (the numbers themselves come from another generator, so they are compared by
what they must be, not one by one); eq/ne/lt/le/gt/ge and equal: the same booleans;
set_grad_enabled, no_grad, enable_grad and inference_mode: the same mode after the same
sequence of calls, context managers and decorators; random_split: the same split sizes for
counts and fractions (PyTorch's rounding rule), and refusals of the same lengths; the
refusals of bad arguments (low >= high, a negative size, no steps...).
"""

# ruff: noqa: B023  (each lambda made in a loop here is called at once, in its iteration)

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from against_torch_harness import Record

import minigen
from minigen.data import random_split

try:
    import torch
    import torch.utils.data as tdata
except ImportError:  # against_torch.main() says how to install it
    torch = None


def _dtype_name(t: Any) -> str:
    return str(t.dtype).replace("torch.", "").replace("minigen.", "")


def _same_dtype(rec: Record, check: str, what: str, mine: Any, theirs: Any) -> None:
    rec.expect(check, _dtype_name(mine) == _dtype_name(theirs),
               f"{what}: dtype {_dtype_name(mine)} against PyTorch's {_dtype_name(theirs)}")


def check_creation(rec: Record, rng: np.random.Generator, n: int) -> None:
    """eye, linspace, logspace, empty, full_like, *_like: values, shapes, dtypes (the pass's
    dtype given, and the defaults)."""
    check = "creation functions"
    dt, tdt = rec.dtype, getattr(torch, rec.dtype)
    for _ in range(n):
        a, b = (int(v) for v in rng.integers(0, 7, size=2))
        start, end = (float(v) for v in rng.normal(0, 10, size=2))
        steps = int(rng.integers(0, 40))
        cases = [
            (f"eye({a})", lambda m: m.eye(a), lambda: torch.eye(a)),
            (f"eye({a}, {b}, {dt})", lambda m: m.eye(a, b, dtype=dt),
             lambda: torch.eye(a, b, dtype=tdt)),
            (f"eye({a}, int64)", lambda m: m.eye(a, dtype="int64"),
             lambda: torch.eye(a, dtype=torch.int64)),
            (f"linspace({start:.3}, {end:.3}, {steps})", lambda m: m.linspace(start, end, steps),
             lambda: torch.linspace(start, end, steps)),
            (f"linspace(..., {dt})", lambda m: m.linspace(start, end, steps, dtype=dt),
             lambda: torch.linspace(start, end, steps, dtype=tdt)),
            (f"logspace({start / 10:.3}, {end / 10:.3}, {steps}, {dt})",
             lambda m: m.logspace(start / 10, end / 10, steps, dtype=dt),
             lambda: torch.logspace(start / 10, end / 10, steps, dtype=tdt)),
            (f"logspace(base=2, {dt})",
             lambda m: m.logspace(start / 10, end / 10, steps, base=2.0, dtype=dt),
             lambda: torch.logspace(start / 10, end / 10, steps, base=2.0, dtype=tdt)),
            (f"full_like(int64, {start:.3})",
             lambda m: m.full_like(m.zeros(a, b, dtype="int64"), start),
             lambda: torch.full_like(torch.zeros(a, b, dtype=torch.int64), start)),
            (f"full_like({dt}, {start:.3})", lambda m: m.full_like(m.zeros(a, dtype=dt), start),
             lambda: torch.full_like(torch.zeros(a, dtype=tdt), start)),
            (f"zeros_like/ones_like({dt})",
             lambda m: m.ones_like(m.zeros_like(m.zeros(b, a, dtype=dt))),
             lambda: torch.ones_like(torch.zeros_like(torch.zeros(b, a, dtype=tdt)))),
        ]
        for what, mine, theirs in cases:
            ours, peer = mine(minigen), theirs()
            if _dtype_name(peer) != dt and _dtype_name(peer) == "float32":
                continue  # the default dtype, float32: compared in the float32 pass
            rec.case(check)
            rec.close(check, what, ours, peer)
            _same_dtype(rec, check, what, ours, peer)
        for what, mine, theirs in [
            (f"empty({a}, {b})", lambda m: m.empty(a, b), lambda: torch.empty(a, b)),
            (f"empty(({a}, {b}), {dt})", lambda m: m.empty((a, b), dtype=dt),
             lambda: torch.empty((a, b), dtype=tdt)),
            (f"rand_like({dt})", lambda m: m.rand_like(m.zeros(a, b, dtype=dt)),
             lambda: torch.rand_like(torch.zeros(a, b, dtype=tdt))),
            (f"randn_like({dt})", lambda m: m.randn_like(m.zeros(a, dtype=dt)),
             lambda: torch.randn_like(torch.zeros(a, dtype=tdt))),
        ]:  # values differ (uninitialised, random): shape and dtype only
            rec.case(check)
            ours, peer = mine(minigen), theirs()
            rec.expect(check, tuple(ours.shape) == tuple(peer.shape),
                       f"{what}: shape {ours.shape} against {tuple(peer.shape)}")
            _same_dtype(rec, check, what, ours, peer)


def check_random_integers(rec: Record, rng: np.random.Generator, n: int) -> None:
    """randint (both forms, keywords, dtypes), randint_like, randperm: shapes, dtypes, ranges;
    every value of a small range drawn."""
    check = "randint, randperm"
    for _ in range(n):
        low = int(rng.integers(-50, 50))
        high = low + int(rng.integers(1, 20))
        size = tuple(int(v) for v in rng.integers(1, 6, size=int(rng.integers(1, 3))))
        cases = [
            (f"randint({high - low}, {size})", (high - low, size), {}, 0, high - low),
            (f"randint({low}, {high}, {size})", (low, high, size), {}, low, high),
            (f"randint(high={high - low}, size={size})", (),
             dict(high=high - low, size=size), 0, high - low),
            (f"randint({low}, {high}, {size}, float32)", (low, high, size),
             dict(dtype="float32"), low, high),
        ]
        for what, args, kwargs, lo, hi in cases:
            rec.case(check)
            tkw = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
            ours, peer = minigen.randint(*args, **kwargs), torch.randint(*args, **tkw)
            _same_dtype(rec, check, what, ours, peer)
            values = ours.numpy()
            rec.expect(check, ours.shape == tuple(peer.shape) and values.min() >= lo
                       and values.max() < hi, f"{what}: shape {ours.shape}, values "
                       f"{values.min()}..{values.max()}, outside [{lo}, {hi})")
        for x, tx in [(minigen.zeros(*size, dtype="int32"), torch.zeros(size, dtype=torch.int32)),
                      (minigen.zeros(*size), torch.zeros(size))]:
            rec.case(check)
            ours, peer = minigen.randint_like(x, low, high), torch.randint_like(tx, low, high)
            _same_dtype(rec, check, "randint_like", ours, peer)
            rec.expect(check, ours.shape == tuple(peer.shape)
                       and low <= ours.numpy().min() and ours.numpy().max() < high,
                       f"randint_like({low}, {high}): out of range or shape")
        m = int(rng.integers(0, 30))
        rec.case(check)
        ours, peer = minigen.randperm(m), torch.randperm(m)
        _same_dtype(rec, check, f"randperm({m})", ours, peer)
        rec.expect(check, sorted(ours.tolist()) == sorted(peer.tolist()),
                   f"randperm({m}) is not a permutation of 0..{m - 1}")
    rec.case(check)
    drawn = set(minigen.randint(3, 8, (2000,)).tolist())
    rec.expect(check, drawn == set(torch.randint(3, 8, (2000,)).tolist()) == {3, 4, 5, 6, 7},
               f"randint(3, 8): drew {sorted(drawn)}")


def check_comparisons(rec: Record, rng: np.random.Generator, n: int) -> None:
    """eq, ne, lt, le, gt, ge (and the long aliases) as functions, and equal: the same
    booleans as PyTorch's, on rounded values (ties), against tensors and numbers."""
    check = "eq, ne, lt, le, gt, ge, equal"
    names = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
             "less_equal", "not_equal"]
    for _ in range(n):
        shape = tuple(int(v) for v in rng.integers(1, 5, size=2))
        a = np.round(rng.normal(0, 2, size=shape)).astype(rec.dtype)
        b = np.round(rng.normal(0, 2, size=shape[1:])).astype(rec.dtype)  # broadcast
        number = float(np.round(rng.normal(0, 2)))
        for name in names:
            for other, t_other in ((minigen.tensor(b), torch.tensor(b)), (number, number)):
                rec.case(check)
                ours = getattr(minigen, name)(minigen.tensor(a), other)
                peer = getattr(torch, name)(torch.tensor(a), t_other)
                rec.expect(check, ours.dtype == minigen.bool_ and np.array_equal(
                    ours.numpy(), peer.numpy()), f"{name} on {shape}: booleans differ")
        for c in (a, a.copy()[..., :1], np.where(rng.random(shape) < 0.2, a + 1, a)):
            rec.case(check)
            ours = minigen.equal(minigen.tensor(a), minigen.tensor(c))
            peer = torch.equal(torch.tensor(a), torch.tensor(c))
            rec.expect(check, ours is peer, f"equal: {ours} against PyTorch's {peer}")


def _grad_mode_script(lib: Any) -> list[bool]:
    """One sequence of grad-mode calls; the mode after each step."""
    seen = [lib.is_grad_enabled()]
    lib.set_grad_enabled(False)
    seen.append(lib.is_grad_enabled())
    with lib.set_grad_enabled(True):
        seen.append(lib.is_grad_enabled())
    seen.append(lib.is_grad_enabled())
    lib.set_grad_enabled(True)
    with lib.no_grad():
        seen.append(lib.is_grad_enabled())
        with lib.enable_grad():
            seen.append(lib.is_grad_enabled())
        with lib.inference_mode(False):
            seen.append(lib.is_grad_enabled())
    for decorator in (lib.no_grad, lib.no_grad(), lib.enable_grad, lib.inference_mode,
                      lib.inference_mode(), lib.set_grad_enabled(False)):
        @decorator
        def f() -> bool:
            return lib.is_grad_enabled()

        seen += [lib.is_grad_enabled(), f()]
        with lib.no_grad():
            seen.append(f())
    x = lib.ones(2, requires_grad=True)
    with lib.inference_mode():
        seen.append((x * 2).requires_grad)
    seen.append((x * 2).requires_grad)
    return seen


def check_grad_modes(rec: Record, rng: np.random.Generator, n: int) -> None:
    check = "grad modes"
    rec.case(check)
    ours, peer = _grad_mode_script(minigen), _grad_mode_script(torch)
    rec.expect(check, ours == peer, f"modes {ours} against PyTorch's {peer}")
    rec.case(check)
    theirs = rec.same_refusal(check, "set_grad_enabled(1)", lambda: minigen.set_grad_enabled(1),
                              lambda: torch.set_grad_enabled(1))
    rec.expect(check, theirs == [None, None], "set_grad_enabled(1) accepted")


def _refused(call: Any) -> bool:
    try:
        call()
    except (ValueError, TypeError):
        return True
    return False


def check_random_split(rec: Record, rng: np.random.Generator, n: int) -> None:
    """Split sizes for counts and fractions (PyTorch's rounding rule), partitions, and
    refusals of the same lengths."""
    check = "random_split"
    for _ in range(20 * n):
        size = int(rng.integers(0, 200))
        k = int(rng.integers(1, 5))
        kind = rng.integers(4)
        if kind == 0:  # counts that add up
            lengths: list[Any] = rng.multinomial(size, np.ones(k) / k).tolist()
        elif kind == 1:  # fractions, from weights (their float sum may round above 1)
            w = rng.integers(1, 10, size=k)
            lengths = (w / w.sum()).tolist()
        elif kind == 2:  # round decimal fractions, as people write them
            lengths = [round(v, 2) for v in rng.dirichlet(np.ones(k))]
        else:  # counts that do not add up, or fractions that do not
            lengths = (rng.multinomial(size, np.ones(k) / k)
                       + rng.integers(-1, 2, size=k)).tolist()
            if rng.random() < 0.5:
                lengths = [abs(v) / (size + 1) for v in lengths]
        rec.case(check)
        if any(v < 0 for v in lengths):  # deliberate: refused here; PyTorch checks only the
            rec.expect(check, _refused(lambda: random_split(range(size), lengths)),  # sum
                       f"{size} samples, negative lengths {lengths}: minigen accepts")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (empty splits warn, in both)
            ours, peer = rec.same_refusal(
                check, f"{size} samples, lengths {lengths}",
                lambda: random_split(range(size), lengths),
                lambda: tdata.random_split(range(size), lengths))
        if ours is None or peer is None:
            continue
        sizes, theirs = [len(p) for p in ours], [len(p) for p in peer]
        rec.expect(check, sizes == theirs, f"{size} samples, {lengths}: sizes {sizes} against "
                   f"PyTorch's {theirs}")
        every = sorted(int(p[i]) for p in ours for i in range(len(p)))
        rec.expect(check, every == list(range(size)), f"{size}, {lengths}: not a partition")


def check_refusals(rec: Record, rng: np.random.Generator, n: int) -> None:
    """Bad arguments refused where PyTorch refuses them, accepted where it accepts."""
    check = "creation refusals"
    cases = [
        ("randint(10)", lambda m: m.randint(10)),
        ("randint(5, 3)", lambda m: m.randint(5, 3)),
        ("randint(5, 5, (2,))", lambda m: m.randint(5, 5, (2,))),
        ("randint(6, 2, (2,))", lambda m: m.randint(6, 2, (2,))),
        ("randint(low=2, size=(3,))", lambda m: m.randint(low=2, size=(3,))),
        ("randint(0, 3, [2])", lambda m: m.randint(0, 3, [2])),
        ("randint(5, (2,), requires_grad=True)",
         lambda m: m.randint(5, (2,), requires_grad=True)),
        ("randperm(-1)", lambda m: m.randperm(-1)),
        ("randperm(0)", lambda m: m.randperm(0)),
        ("eye(-1)", lambda m: m.eye(-1)),
        ("eye(2, -1)", lambda m: m.eye(2, -1)),
        ("eye(0)", lambda m: m.eye(0)),
        ("linspace(0, 1)", lambda m: m.linspace(0, 1)),
        ("linspace(0, 1, -1)", lambda m: m.linspace(0, 1, -1)),
        ("linspace(0, 1, 0)", lambda m: m.linspace(0, 1, 0)),
        ("logspace(0, 1)", lambda m: m.logspace(0, 1)),
        ("rand_like(int64)", lambda m: m.rand_like(m.zeros(2, dtype=m.int64))),
        ("randn(2, dtype=int64)", lambda m: m.randn(2, dtype=m.int64)),
        ("eq(2, tensor)", lambda m: m.eq(2, m.ones(2))),
        ("randint_like(x, 3, 3)", lambda m: m.randint_like(m.zeros(2), 3, 3)),
    ]
    for what, fn in cases:
        rec.case(check)
        rec.same_refusal(check, what, lambda: fn(minigen), lambda: fn(torch))


CHECKS = [check_creation, check_comparisons]
FLOAT64_ONLY = [check_random_integers, check_grad_modes, check_random_split, check_refusals]
