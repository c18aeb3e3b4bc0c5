"""Part of ``against_torch.py``: F.normalize, F.cosine_similarity / nn.CosineSimilarity,
F.kl_div / nn.KLDivLoss (every reduction, 'batchmean' too, and ``log_target``) and
torch.bmm / Tensor.bmm against PyTorch: values and gradients over random shapes, dims and
arguments; then the refusals (bmm's ranks and sizes, unknown reductions, shapes that do not
broadcast).

Deliberate differences, not compared: at an exactly zero vector with p other than 1 and 2
(or, for cosine_similarity, a nonzero norm below ``eps``) the gradients differ (PyTorch
passes it through the clamp; minigen's ``norm`` gives NaN at 0 for those p; for p = 2 both
give the same, checked in tests/test_ops_ordering.py); kl_div's gradient in ``target``
where the target is 0 (PyTorch NaN, minigen 0). Random normal inputs never hit these.
PyTorch's deprecated ``reduction='elementwise_mean'`` (read as 'mean', with a warning) is
refused, as by minigen's other losses, and not drawn.
"""

# ruff: noqa: B023  (each lambda made in a loop here is called at once, in its iteration)

from __future__ import annotations

import warnings

import numpy as np
from against_torch_harness import Record, forward_backward, normal, random_shape

import minigen
import minigen.nn.functional as F
from minigen import nn

try:
    import torch
    import torch.nn as tnn
    import torch.nn.functional as tF
except ImportError:  # against_torch.main() says how to install it
    torch = None


def check_similarity(rec: Record, rng: np.random.Generator, n: int) -> None:
    for _ in range(n):
        shape = random_shape(rng, 1, 3)
        dim = int(rng.integers(-len(shape), len(shape)))
        p = [2.0, 1.0, 3.0][int(rng.integers(3))]
        label = f"{shape} dim={dim}"
        forward_backward(rec, "F.normalize", lambda t: F.normalize(t, p, dim),
                         lambda t: tF.normalize(t, p, dim),
                         [normal(rng, rec.dtype, *shape)], rng, label=f"{label} p={p}")
        shape2 = tuple(1 if rng.random() < 0.3 else s for s in shape[int(rng.integers(0, 2)):])
        shape2 = shape2 or shape
        x1, x2 = normal(rng, rec.dtype, *shape), normal(rng, rec.dtype, *shape2)
        forward_backward(rec, "F.cosine_similarity", lambda a, b: F.cosine_similarity(a, b, dim),
                         lambda a, b: tF.cosine_similarity(a, b, dim), [x1, x2], rng,
                         label=f"{shape} and {shape2} dim={dim}")
        mine, peer = nn.CosineSimilarity(dim, 1e-6), tnn.CosineSimilarity(dim, 1e-6)
        forward_backward(rec, "nn.CosineSimilarity", mine, peer, [x1, x2], rng, label=label)
        for reduction in ("none", "sum", "mean", "batchmean"):
            log_target = bool(rng.random() < 0.5)
            x = np.asarray(torch.log_softmax(torch.tensor(normal(rng, rec.dtype, *shape)),
                                             -1).numpy())
            t = normal(rng, rec.dtype, *shape)
            t = t if log_target else np.asarray(torch.softmax(torch.tensor(t), -1).numpy())
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # 'mean' warns in both
                forward_backward(rec, "F.kl_div",
                                 lambda a, b: F.kl_div(a, b, reduction, log_target),
                                 lambda a, b: tF.kl_div(a, b, reduction=reduction,
                                                        log_target=log_target),
                                 [x, t], rng, label=f"{shape} {reduction} {log_target}")
                forward_backward(rec, "nn.KLDivLoss", nn.KLDivLoss(reduction, log_target),
                                 tnn.KLDivLoss(reduction=reduction, log_target=log_target),
                                 [x, t], rng, label=f"{shape} {reduction} {log_target}")
        b, k, m, q = (int(v) for v in rng.integers(1, 5, size=4))
        forward_backward(rec, "bmm", minigen.bmm, torch.bmm,
                         [normal(rng, rec.dtype, b, k, m), normal(rng, rec.dtype, b, m, q)],
                         rng, label=f"({b}, {k}, {m}) @ ({b}, {m}, {q})")
        forward_backward(rec, "Tensor.bmm", lambda a, c: a.bmm(c), lambda a, c: a.bmm(c),
                         [normal(rng, rec.dtype, b, k, m), normal(rng, rec.dtype, b, m, q)],
                         rng, label=f"({b}, {k}, {m}) @ ({b}, {m}, {q})")


def check_similarity_refusals(rec: Record, rng: np.random.Generator, n: int) -> None:
    """bmm over random ranks and sizes, kl_div's reductions, shapes that may not broadcast:
    minigen refuses exactly where PyTorch does, and otherwise gives its shape."""
    check = "similarity refusals"
    for _ in range(10 * n):
        sa = tuple(int(s) for s in rng.integers(1, 4, size=int(rng.integers(1, 5))))
        sb = tuple(int(s) for s in rng.integers(1, 4, size=int(rng.integers(1, 5))))
        dim = int(rng.integers(-3, 3))
        reduction = ["mean", "sum", "none", "batchmean", "avg"][int(rng.integers(5))]
        cases = [("bmm", lambda a, b: minigen.bmm(a, b), torch.bmm),
                 ("cosine_similarity", lambda a, b: F.cosine_similarity(a, b, dim),
                  lambda a, b: tF.cosine_similarity(a, b, dim)),
                 ("normalize", lambda a, b: F.normalize(a, 2.0, dim),
                  lambda a, b: tF.normalize(a, 2.0, dim)),
                 ("kl_div", lambda a, b: F.kl_div(a, b, reduction),
                  lambda a, b: tF.kl_div(a, b, reduction=reduction))]
        for name, ours, theirs in cases:
            rec.case(check)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                got = rec.same_refusal(
                    check, f"{name} {sa} {sb} dim={dim} reduction={reduction}",
                    lambda: tuple(ours(minigen.zeros(*sa, dtype="float64"),
                                       minigen.ones(*sb, dtype="float64")).shape),
                    lambda: tuple(theirs(torch.zeros(sa, dtype=torch.float64),
                                         torch.ones(sb, dtype=torch.float64)).shape))
            rec.expect(check, got[0] == got[1], f"{name} {sa} {sb}: shape {got[0]} against "
                       f"{got[1]}")


CHECKS = [check_similarity]
FLOAT64_ONLY = [check_similarity_refusals]  # no arithmetic to compare: run once
