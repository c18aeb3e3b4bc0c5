"""Part of ``against_torch.py``: GELU (exact and tanh), ELU, SiLU, LayerNorm and the L1 and
smooth L1 losses against PyTorch.

Values and gradients under a random cotangent of F.gelu / F.elu / F.silu over normal inputs
(scaled up to reach the tails, with the edges -inf, inf, NaN, +-1e30 compared forward),
F.layer_norm over random shapes, normalised dims, eps and affine parameters, nn.LayerNorm
(weights copied across, defaults and repr), F.l1_loss / F.smooth_l1_loss in each reduction
and beta, and the modules' reprs and defaults; then refusals.

Deliberate differences, not compared: a target that would widen the input (PyTorch warns and
broadcasts; minigen refuses, as for mse_loss); a negative eps in layer_norm (PyTorch gives NaN;
minigen refuses, as batch_norm does); F.l1_loss's ``weight`` and the deprecated
``size_average`` / ``reduce`` arguments (minigen has neither, as for mse_loss).
"""

# ruff: noqa: B023  (each lambda made in a loop here is called at once, in its iteration)

from __future__ import annotations

import copy

import numpy as np
from against_torch_harness import (
    Record,
    compare_module,
    forward_backward,
    normal,
    random_shape,
    randomise,
)

import minigen
import minigen.functional as F
from minigen import nn

try:
    import torch
    import torch.nn as tnn
    import torch.nn.functional as tF
except ImportError:  # against_torch.main() says how to install it
    torch = None


def check_activations(rec: Record, rng: np.random.Generator, n: int) -> None:
    """The functions (every argument), the modules' repr and defaults, the edge values."""
    cases = [("F.gelu", lambda m: F.gelu(m), lambda t: tF.gelu(t)),
             ("F.gelu tanh", lambda m: F.gelu(m, approximate="tanh"),
              lambda t: tF.gelu(t, approximate="tanh")),
             ("F.silu", F.silu, tF.silu)]
    for _ in range(n):
        alpha = float(rng.choice([1.0, 0.5, 2.0, -0.3]))
        for name, mine, theirs in cases + [("F.elu", lambda m: F.elu(m, alpha),
                                            lambda t: tF.elu(t, alpha))]:
            shape = random_shape(rng, 1, 3)
            x = normal(rng, rec.dtype, *shape, scale=float(rng.choice([1.0, 4.0])))
            forward_backward(rec, name, mine, theirs, [x], rng, label=f"{x.shape}")
    edges = np.array([-np.inf, np.inf, np.nan, -1e30, 1e30, -40.0, -9.0, 0.0, 5.0],
                     dtype=rec.dtype)
    for name, mine, theirs in cases + [("F.elu", lambda m: F.elu(m, 2.0),
                                        lambda t: tF.elu(t, 2.0))]:
        # judged against PyTorch in float64, cast: its float32 vector kernel for GELU gives
        # NaN at +inf and -0 at -9 on AVX-512 machines (2.13; its scalar path gives inf)
        truth = theirs(torch.tensor(edges, dtype=torch.float64)).to(torch.tensor(edges).dtype)
        rec.close(name, "edge values", mine(minigen.tensor(edges)), truth)
    for mine, peer in ((nn.GELU(), tnn.GELU()), (nn.GELU("tanh"), tnn.GELU("tanh")),
                       (nn.ELU(), tnn.ELU()), (nn.ELU(0.5, True), tnn.ELU(0.5, True)),
                       (nn.SiLU(), tnn.SiLU()), (nn.SiLU(True), tnn.SiLU(True))):
        check = f"nn.{type(mine).__name__}"
        rec.expect(check, repr(mine) == repr(peer), f"{mine!r} against {peer!r}")
        if not getattr(peer, "inplace", False):  # PyTorch's in-place one refuses a leaf
            compare_module(rec, check, mine, peer, normal(rng, rec.dtype, 3, 4, scale=3.0),
                           rng)
    rec.same_refusal("F.gelu", "approximate='erf'",
                     lambda: F.gelu(minigen.zeros(2), approximate="erf"),
                     lambda: tF.gelu(torch.zeros(2), approximate="erf"))


def check_layer_norm(rec: Record, rng: np.random.Generator, n: int) -> None:
    for _ in range(n):
        shape = random_shape(rng, 1, 3)
        k = int(rng.integers(1, len(shape) + 1))
        norm = shape[len(shape) - k:]
        eps = float(rng.choice([1e-5, 1e-3, 0.5]))
        affine = ["none", "weight", "both"][int(rng.integers(3))]
        x = normal(rng, rec.dtype, *shape, scale=3.0)
        inputs = [x] + [normal(rng, rec.dtype, *norm) for _ in range(
            {"none": 0, "weight": 1, "both": 2}[affine])]
        peer_fn = lambda t, *p: tF.layer_norm(t, list(norm), *p, eps=eps)  # noqa: E731
        # float32 is judged against PyTorch's float64 (as the models are): on (3, 3, 2) over
        # (2,), PyTorch's float32 gradient was 4.5e-3 from the float64 one, minigen's 2.5e-5
        truth = (peer_fn, []) if rec.dtype == "float32" else None
        forward_backward(rec, "F.layer_norm",
                         lambda t, *p: F.layer_norm(t, norm, *p, eps=eps), peer_fn,
                         inputs, rng, label=f"{shape} over {norm}, eps={eps}, {affine}",
                         truth=truth)
        kwargs = dict(eps=eps, elementwise_affine=affine != "none", bias=affine == "both")
        arg = norm[0] if len(norm) == 1 and rng.random() < 0.5 else list(norm)
        mine, peer = nn.LayerNorm(arg, **kwargs), tnn.LayerNorm(arg, **kwargs).double()
        if rec.dtype == "float32":
            peer = peer.float()
        rec.expect("nn.LayerNorm", repr(mine) == repr(peer), f"{mine!r} against {peer!r}")
        rec.expect("nn.LayerNorm", sorted(mine.state_dict()) == sorted(peer.state_dict()),
                   f"state_dict keys {sorted(mine.state_dict())} against "
                   f"{sorted(peer.state_dict())}")
        for name, p in mine.named_parameters():  # defaults: ones and zeros, as PyTorch
            rec.close("nn.LayerNorm", f"initial {name}", p, dict(peer.named_parameters())[name])
        if rec.dtype == "float32":
            mine = mine.float()
        else:
            mine = mine.double()
        randomise(mine, rng)
        wide = copy.deepcopy(peer).double() if rec.dtype == "float32" else None
        compare_module(rec, "nn.LayerNorm", mine, peer, normal(rng, rec.dtype, *shape), rng,
                       wide=wide)
    x = minigen.zeros(2, 3)
    xt = torch.zeros(2, 3)
    for label, args in (("normalized_shape (4,)", ((4,),)), ("normalized_shape ()", ((),)),
                        ("weight (2,)", ((3,), "w2")), ("int normalized_shape", (3,))):
        def ours():
            a = [minigen.ones(2) if v == "w2" else v for v in args]
            return F.layer_norm(x, *a)

        def theirs():
            a = [torch.ones(2) if v == "w2" else v for v in args]
            return tF.layer_norm(xt, *a)

        rec.same_refusal("F.layer_norm", label, ours, theirs)


def check_regression_losses(rec: Record, rng: np.random.Generator, n: int) -> None:
    for _ in range(n):
        shape = random_shape(rng, 1, 3)
        target_shape = shape if rng.random() < 0.7 else shape[1:]
        x, y = normal(rng, rec.dtype, *shape), normal(rng, rec.dtype, *target_shape)
        # ties (x == y), L1's kink, compared too: both give the gradient 0 there
        if rng.random() < 0.3:
            x = np.broadcast_to(y, shape).copy()
            x[rng.random(shape) < 0.5] += 1.0
        beta = float(rng.choice([1.0, 0.5, 2.0, 0.0]))
        for reduction in ("mean", "sum", "none"):
            label = f"{shape} vs {target_shape}, {reduction}"
            forward_backward(rec, "F.l1_loss",
                             lambda a, b: F.l1_loss(a, b, reduction=reduction),
                             lambda a, b: tF.l1_loss(a, b.expand_as(a), reduction=reduction),
                             [x, y], rng, label=label)
            forward_backward(rec, "F.smooth_l1_loss",
                             lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction,
                                                           beta=beta),
                             lambda a, b: tF.smooth_l1_loss(a, b.expand_as(a),
                                                            reduction=reduction, beta=beta),
                             [x, y], rng, label=f"{label}, beta={beta}")
            for mine, peer in ((nn.L1Loss(reduction=reduction),
                                tnn.L1Loss(reduction=reduction)),
                               (nn.SmoothL1Loss(reduction=reduction, beta=beta),
                                tnn.SmoothL1Loss(reduction=reduction, beta=beta))):
                check = f"nn.{type(mine).__name__}"
                rec.case(check)
                # (minigen's loss reprs name a reduction other than 'mean'; PyTorch's none)
                rec.expect(check, (mine.reduction, getattr(mine, "beta", None)) == (
                    peer.reduction, getattr(peer, "beta", None)), "reduction or beta differs")
                rec.close(check, label, mine(minigen.tensor(x), minigen.tensor(y)),
                          peer(torch.tensor(x), torch.tensor(y).expand(shape)))
    rec.same_refusal("F.smooth_l1_loss", "beta=-1",
                     lambda: F.smooth_l1_loss(minigen.zeros(2), minigen.ones(2), beta=-1.0),
                     lambda: tF.smooth_l1_loss(torch.zeros(2), torch.ones(2), beta=-1.0))
    rec.same_refusal("F.l1_loss", "reduction='avg'",
                     lambda: F.l1_loss(minigen.zeros(2), minigen.ones(2), reduction="avg"),
                     lambda: tF.l1_loss(torch.zeros(2), torch.ones(2), reduction="avg"))


CHECKS = [check_activations, check_layer_norm, check_regression_losses]
FLOAT64_ONLY: list = []
