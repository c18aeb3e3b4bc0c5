"""Part of ``against_torch.py``: the reordering, running and rounding ops against PyTorch.

flip, roll, repeat, index_select, cumsum, prod (zeros among the values), sort / argsort /
topk (values, gradients and indices; normal values, so no ties), norm (p = 1, 2, 3, 0.5, 0,
-1, inf, -inf over any dims; 'fro' and 'nuc' over any dims too, refusals compared with the
harness's ``same_refusal``), sign / round / floor / ceil (values with halves, to
check rounding half to even; gradients all 0), reciprocal and rsqrt: random shapes and
arguments, values and gradients through the harness's ``forward_backward``.
"""

# ruff: noqa: B023  (each lambda made in a loop here is called at once, in its iteration)

from __future__ import annotations

import math
from typing import Any

import numpy as np
from against_torch_harness import Record, forward_backward, normal, random_shape

import minigen
import minigen.ops as O

try:
    import torch
except ImportError:  # against_torch.main() says how to install it
    torch = None


def _dims(rng: np.random.Generator, ndim: int) -> tuple[int, ...]:
    k = int(rng.integers(1, ndim + 1))
    return tuple(int(d) - ndim * int(rng.random() < 0.3)
                 for d in rng.choice(ndim, size=k, replace=False))


def check_reordering(rec: Record, rng: np.random.Generator, n: int) -> None:
    """flip, roll, repeat, index_select, cumsum and prod, functions and methods."""
    for _ in range(n):
        shape = random_shape(rng, 1, 3)
        nd = len(shape)
        x = normal(rng, rec.dtype, *shape)
        dims = _dims(rng, nd)
        forward_backward(rec, "flip", lambda t: t.flip(dims), lambda t: t.flip(dims), [x],
                         rng, label=f"{shape} {dims}")
        shifts = tuple(int(s) for s in rng.integers(-6, 7, size=len(dims)))
        forward_backward(rec, "roll", lambda t: O.roll(t, shifts, dims),
                         lambda t: torch.roll(t, shifts, dims), [x], rng,
                         label=f"{shape} {shifts} {dims}")
        forward_backward(rec, "roll", lambda t: t.roll(shifts[0]),
                         lambda t: t.roll(shifts[0]), [x], rng, label=f"{shape} {shifts[0]}")
        sizes = tuple(int(s) for s in rng.integers(0, 4, size=nd + int(rng.integers(0, 3))))
        forward_backward(rec, "repeat", lambda t: t.repeat(*sizes), lambda t: t.repeat(*sizes),
                         [x], rng, label=f"{shape} {sizes}")
        dim = int(rng.integers(-nd, nd))
        index = rng.integers(0, shape[dim], size=int(rng.integers(0, 6)))
        forward_backward(rec, "index_select",
                         lambda t: t.index_select(dim, minigen.tensor(index)),
                         lambda t: t.index_select(dim, torch.tensor(index)), [x], rng,
                         label=f"{shape} {dim} {index}")
        forward_backward(rec, "cumsum", lambda t: O.cumsum(t, dim),
                         lambda t: torch.cumsum(t, dim), [x], rng, label=f"{shape} {dim}")
        z = np.where(rng.random(shape) < 0.15, 0, x).astype(x.dtype)  # zeros: one, or more
        keep = bool(rng.random() < 0.5)
        forward_backward(rec, "prod", lambda t: t.prod(dim, keep),
                         lambda t: t.prod(dim, keep), [z], rng, label=f"{shape} {dim} {keep}")
        small = np.where(rng.random(shape) < 0.15, 0, rng.uniform(0.5, 1.5, size=shape))
        forward_backward(rec, "prod", lambda t: O.prod(t), lambda t: torch.prod(t),
                         [small.astype(x.dtype)], rng, label=f"{shape} all")


def check_sorting(rec: Record, rng: np.random.Generator, n: int) -> None:
    """sort, argsort, topk: values and their gradients, and the same int64 indices."""
    for _ in range(n):
        shape = random_shape(rng, 1, 3)
        nd = len(shape)
        x = normal(rng, rec.dtype, *shape)
        dim = int(rng.integers(-nd, nd))
        desc = bool(rng.random() < 0.5)
        label = f"{shape} dim={dim} descending={desc}"
        forward_backward(rec, "sort", lambda t: t.sort(dim, desc).values,
                         lambda t: t.sort(dim, desc).values, [x], rng, label=label)
        mine, theirs = O.sort(minigen.tensor(x), dim, desc), torch.sort(torch.tensor(x), dim, desc)
        rec.expect("sort", np.array_equal(mine.indices.numpy(), theirs.indices.numpy()) and
                   mine.indices.dtype.name == "int64", f"{label}: indices differ")
        rec.case("argsort")
        rec.expect("argsort", np.array_equal(
            minigen.tensor(x).argsort(dim, desc).numpy(),
            torch.tensor(x).argsort(dim, desc).numpy()), f"{label}: indices differ")
        k = int(rng.integers(0, shape[dim] + 1))
        largest = bool(rng.random() < 0.5)
        label = f"{shape} k={k} dim={dim} largest={largest}"
        forward_backward(rec, "topk", lambda t: t.topk(k, dim, largest).values,
                         lambda t: t.topk(k, dim, largest).values, [x], rng, label=label)
        mine = O.topk(minigen.tensor(x), k, dim, largest)
        theirs = torch.topk(torch.tensor(x), k, dim, largest)
        rec.expect("topk", np.array_equal(mine.indices.numpy(), theirs.indices.numpy()),
                   f"{label}: indices differ")


def check_norm_and_steps(rec: Record, rng: np.random.Generator, n: int) -> None:
    """norm over all, one or several dims, by PyTorch's rule: a number p (0, negative, inf
    included) over any dims; 'fro' over None, one or two dims (over three PyTorch and minigen
    refuse it); 'nuc' over exactly two. Refusals must agree (``same_refusal``); accepted
    cases compare values and gradients. The steps and reciprocals, values and gradients."""
    for _ in range(n):
        shape = random_shape(rng, 0, 3)
        nd = len(shape)
        x = normal(rng, rec.dtype, *shape)
        for p in (1, 2, 3, 0.5, 0, -1, math.inf, -math.inf, "fro", "nuc"):
            dim: Any = None if nd == 0 or rng.random() < 0.3 else (
                int(rng.integers(-nd, nd)) if rng.random() < 0.5 else _dims(rng, nd))
            keep = bool(rng.random() < 0.5)
            check, label = f"norm p={p}", f"{shape} dim={dim} keepdim={keep}"
            ours, theirs = rec.same_refusal(
                check, label, lambda: minigen.tensor(x).norm(p, dim, keep),
                lambda: torch.norm(torch.tensor(x), p, dim, keep))
            if ours is None or theirs is None:
                rec.case(check)
                continue
            # PyTorch's p=0 norm (a count) leaves no gradient; minigen's is 0: add a 0 to
            # give PyTorch's one
            forward_backward(rec, check, lambda t: t.norm(p, dim, keep),
                             lambda t: torch.norm(t, p, dim, keep) + (0 * t.sum() if p == 0
                                                                       else 0),
                             [x], rng, label=label)
        halves = (np.round(2 * x * 2) / 2).astype(x.dtype)  # multiples of 0.5: ties to round
        for name in ("sign", "round", "floor", "ceil"):
            forward_backward(rec, name, lambda t: getattr(t, name)(),
                             lambda t: getattr(t, name)(), [halves], rng, label=f"{shape}")
        forward_backward(rec, "reciprocal", lambda t: O.reciprocal(t),
                         lambda t: torch.reciprocal(t), [x], rng, label=f"{shape}")
        pos = (np.abs(x) + 0.1).astype(x.dtype)
        forward_backward(rec, "rsqrt", lambda t: t.rsqrt(), lambda t: t.rsqrt(), [pos], rng,
                         label=f"{shape}")


CHECKS = [check_reordering, check_sorting, check_norm_and_steps]
