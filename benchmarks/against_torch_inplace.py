"""Part of ``against_torch.py``: the in-place methods (``x += y``, ``x.add_(y)``...) against
PyTorch's: values and gradients through chains of them, the hand-written SGD step, and the
refusals both libraries make. (One deliberate difference, not compared: a named in-place
method on a slice, ``x[0].add_(1)``, writes through to ``x`` in PyTorch and is refused by
minigen, whose tensors never share memory.)"""

# ruff: noqa: B023  (each lambda made in a loop here is called at once, in its iteration)

from __future__ import annotations

from typing import Any

import numpy as np
from against_torch_harness import Record, forward_backward, normal, to_torch_dtype

import minigen
from minigen import nn

try:
    import torch
except ImportError:  # against_torch.main() says how to install it
    torch = None

# (name, how to apply it to x with the operand o; the same text works in both libraries)
STEPS = [
    ("+=", "x += o"), ("-=", "x -= o"), ("*=", "x *= o"), ("/=", "x /= o.abs() + 0.5"),
    ("add_ alpha", "x.add_(o, alpha=-0.3)"), ("sub_ alpha", "x.sub_(o, alpha=2.0)"),
    ("mul_", "x.mul_(o)"), ("div_", "x.div_(o * o + 1.0)"), ("clamp_", "x.clamp_(-0.5, 0.7)"),
    ("pow_", "x.pow_(2.0)"), ("neg_", "x.neg_()"), ("row +=", "x[0] += o[0]"),
    ("slice *=", "x[:, 1:] *= 1.5"), ("mask -=", "x[x > 0] -= 0.25"),
    ("copy_", "x.copy_(o * 3.0)"), ("fill_ 0-d", "x.fill_(o.sum())"),
]


def _chain(steps: list[str]) -> Any:
    """f(a, o): x = a * 1 (a non-leaf), then each step in place on x, then x * a (so the
    gradient to a runs through both the chain and the product)."""
    def fn(a: Any, o: Any) -> Any:
        x = a * 1.0
        alias = x
        for step in steps:
            exec(step, {}, {"x": x, "o": o})
        assert alias is x
        return x * a
    return fn


def check_inplace(rec: Record, rng: np.random.Generator, n: int) -> None:
    """Random chains of one to four in-place steps on a (rows, cols) tensor: the result and
    the gradients of both inputs; then a hand-written SGD step on a Linear layer."""
    check = "in-place methods"
    for _ in range(n):
        shape = (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
        picks = rng.choice(len(STEPS), size=int(rng.integers(1, 5)))
        steps = [STEPS[i][1] for i in picks]
        label = "; ".join(steps)
        forward_backward(rec, check, _chain(steps), _chain(steps),
                         [normal(rng, rec.dtype, *shape), normal(rng, rec.dtype, *shape)], rng,
                         label=label)
    # the first training loop a student writes
    rec.case(check)
    mine = nn.Linear(4, 3).to(rec.dtype)
    theirs = torch.nn.Linear(4, 3).to(to_torch_dtype(rec.dtype))
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in mine.state_dict().items()})
    x = normal(rng, rec.dtype, 5, 4)
    for lib, model in ((minigen, mine), (torch, theirs)):
        for _ in range(3):
            loss = (model(lib.tensor(x)) ** 2).mean()
            for p in model.parameters():
                p.grad = None
            loss.backward()
            with lib.no_grad():
                for p in model.parameters():
                    p -= 0.1 * p.grad
    for (name, p), q in zip(mine.named_parameters(), theirs.parameters()):
        rec.close(check, f"SGD by hand: {name}", p, q)
    # refused by both
    for what, code in (("a leaf that requires grad", "w = lib.ones(3, requires_grad=True)\n"
                                                        "w += 1.0"),
                       ("a result of another shape", "lib.zeros(3).add_(lib.ones(2, 3))"),
                       ("an int tensor given a float result", "lib.zeros(3, dtype=lib.int64)"
                                                              ".add_(0.5)")):
        rec.case(check)
        rec.same_refusal(check, what, lambda: exec(code, {"lib": minigen}),
                         lambda: exec(code, {"lib": torch}))


CHECKS = [check_inplace]
FLOAT64_ONLY: list[Any] = []
