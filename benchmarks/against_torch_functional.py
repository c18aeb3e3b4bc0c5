"""Part of ``against_torch.py``: the functions a model is written with, against PyTorch.

The activations, softmax, dropout and the losses, as modules and as functions; then the Tensor
methods and functions a PyTorch user writes every day. Each of those is ONE line of code, such
as ``"t.var(d, keepdim=k)"``, evaluated twice: with ``lib`` standing for minigen and the
tensors made by minigen, then with ``lib`` standing for torch and torch's tensors. The same line
must give the same values, dtype and gradients in both: names, argument orders and defaults
are what is checked, and a failure quotes the line.
"""

# ruff: noqa: B023  (each lambda made in a loop here is called at once, in its iteration)

from __future__ import annotations

from typing import Any

import numpy as np
from against_torch_harness import (
    Record,
    as_numpy,
    forward_backward,
    normal,
    random_shape,
    to_torch_dtype,
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

# ------------------------------------------------------------------ activations


def activation_input(rng: np.random.Generator, dtype: str) -> np.ndarray:
    """Random values at scales 1, 10 and 100, with some exact zeros (the kinks)."""
    shape = tuple(int(v) for v in rng.integers(1, 6, size=int(rng.integers(1, 4))))
    x = normal(rng, dtype, *shape, scale=float(rng.choice([1.0, 10.0, 100.0])))
    x[rng.random(shape) < 0.1] = 0.0
    return x


def check_activations(rec: Record, rng: np.random.Generator, n: int) -> None:
    """ReLU, LeakyReLU (slopes in and outside [0, 1]), Sigmoid, Tanh, Softplus (beta,
    threshold), LogSigmoid, Softmax and LogSoftmax, as modules and as functions."""
    for _ in range(n):
        slope = float(rng.choice([0.01, 0.2, 1.5, -0.3]))
        beta, threshold = float(rng.choice([1.0, 0.5, 2.0])), float(rng.choice([20.0, 5.0]))
        pairs = {
            "ReLU": (nn.ReLU(False), tnn.ReLU(False)),
            "LeakyReLU": (nn.LeakyReLU(slope, False), tnn.LeakyReLU(slope, False)),
            "Sigmoid": (nn.Sigmoid(), tnn.Sigmoid()),
            "Tanh": (nn.Tanh(), tnn.Tanh()),
            "Softplus": (nn.Softplus(beta, threshold), tnn.Softplus(beta, threshold)),
            "LogSigmoid": (nn.LogSigmoid(), tnn.LogSigmoid()),
            "Softmax": (nn.Softmax(-1), tnn.Softmax(-1)),
            "LogSoftmax": (nn.LogSoftmax(dim=0), tnn.LogSoftmax(dim=0)),
            "F.logsigmoid": (F.logsigmoid, tF.logsigmoid),
            "F.leaky_relu": (lambda t: F.leaky_relu(t, slope),
                             lambda t: tF.leaky_relu(t, slope)),
            "F.softplus": (lambda t: F.softplus(t, beta, threshold),
                           lambda t: tF.softplus(t, beta, threshold)),
        }
        for name, (mine, theirs) in pairs.items():
            x = activation_input(rng, rec.dtype)
            forward_backward(rec, "activations", mine, theirs, [x], rng, label=name)


def check_softmax(rec: Record, rng: np.random.Generator, n: int) -> None:
    """softmax and log_softmax over every dim (negative ones too), inputs up to +-1000."""
    for _ in range(n):
        x = activation_input(rng, rec.dtype) * float(rng.choice([1.0, 10.0]))
        dim = int(rng.integers(-x.ndim, x.ndim))
        forward_backward(rec, "softmax, log_softmax", lambda t: F.softmax(t, dim),
                         lambda t: tF.softmax(t, dim), [x], rng)
        forward_backward(rec, "softmax, log_softmax", lambda t: t.log_softmax(dim),
                         lambda t: t.log_softmax(dim), [x], rng)


def check_dropout(rec: Record, rng: np.random.Generator, n: int) -> None:
    """Dropout's train mode (kept values scaled by exactly 1/(1-p), as PyTorch's; the share of
    zeros within 5 standard errors of p; the gradient is the same mask), eval mode (the
    identity), p = 0 and p = 1, and the refusal of p outside [0, 1]."""
    check, size = "nn.Dropout", 20000
    minigen.manual_seed(int(rng.integers(1 << 30)))
    for p in (0.0, 0.1, 0.5, 0.9, 1.0):
        for shape in ((size,), (8, 5, 25, 20)):
            rec.case(check)
            x = minigen.ones(*shape, dtype=rec.dtype, requires_grad=True)
            layer = nn.Dropout(p)
            out = layer(x)
            theirs = tnn.Dropout(p)(torch.ones(*shape, dtype=to_torch_dtype(rec.dtype)))
            ours_kept = np.unique(as_numpy(out)[as_numpy(out) != 0])
            their_kept = np.unique(as_numpy(theirs)[as_numpy(theirs) != 0])
            rec.close(check, f"p={p}: kept value", ours_kept[:1], their_kept[:1])
            rec.expect(check, ours_kept.size <= 1, f"p={p}: kept values {ours_kept}")
            zeros = float(np.mean(as_numpy(out) == 0))
            spread = 5 * np.sqrt(p * (1 - p) / size) + 1e-12
            rec.expect(check, abs(zeros - p) <= spread, f"p={p}: {zeros:.4f} zeros")
            out.sum().backward()
            rec.close(check, f"p={p}: gradient is the mask", x.grad, out)
            layer.eval()
            rec.close(check, f"p={p}: eval is the identity", layer(x), np.ones(shape))
    for p in (-0.1, 1.5):
        rec.same_refusal(check, f"p={p}", lambda: nn.Dropout(p), lambda: tnn.Dropout(p))


# ------------------------------------------------------------------ losses


def loss_case(rng: np.random.Generator, dtype: str) -> dict[str, np.ndarray]:
    """Inputs for every loss on one random shape: probabilities with some exact 0s and 1s,
    logits with some at +-100, soft targets with some exact 0s and 1s, a weight that
    broadcasts from the last dimension or has the input's shape, a positive pos_weight."""
    shape = tuple(int(v) for v in rng.integers(1, 6, size=int(rng.integers(1, 4))))
    target = rng.random(shape)
    target[rng.random(shape) < 0.3] = rng.integers(0, 2)
    p, edges = rng.random(shape), rng.random(shape) < 0.2
    p_edges = np.where(edges, rng.integers(0, 2, size=shape).astype(float), p)
    logits = rng.standard_normal(shape) * 4
    logits[rng.random(shape) < 0.2] = 100.0 * rng.choice([-1.0, 1.0])
    weight_shape = shape if rng.random() < 0.5 else shape[-1:]
    arrays = dict(p=p, p_edges=p_edges, logits=logits, target=target,
                  other=rng.standard_normal(shape), weight=rng.random(weight_shape) * 2,
                  pos_weight=rng.random(shape[-1:]) * 3)
    return {k: v.astype(dtype) for k, v in arrays.items()}


def check_losses(rec: Record, rng: np.random.Generator, n: int) -> None:
    """mse_loss, binary_cross_entropy (with weight) and binary_cross_entropy_with_logits
    (with weight and pos_weight), every reduction, as functions and as nn.*Loss modules;
    gradients of the input and of the target."""
    for _ in range(n):
        a = loss_case(rng, rec.dtype)
        w, tw = minigen.tensor(a["weight"]), torch.from_numpy(a["weight"])
        pw, tpw = minigen.tensor(a["pos_weight"]), torch.from_numpy(a["pos_weight"])
        for r in ("mean", "sum", "none"):
            cases = [
                ("F.mse_loss", lambda x, y: F.mse_loss(x, y, reduction=r),
                 lambda x, y: tF.mse_loss(x, y, reduction=r), ("other", "target"), None),
                ("nn.MSELoss", nn.MSELoss(reduction=r), tnn.MSELoss(reduction=r),
                 ("other", "target"), None),
                ("F.binary_cross_entropy",
                 lambda x, y: F.binary_cross_entropy(x, y, w, reduction=r),
                 lambda x, y: tF.binary_cross_entropy(x, y, tw, reduction=r), ("p", "target"),
                 None),
                ("F.binary_cross_entropy", lambda x, y: F.binary_cross_entropy(x, y, reduction=r),
                 lambda x, y: tF.binary_cross_entropy(x, y, None, reduction=r),
                 ("p_edges", "target"), [True, False]),  # p = 0 or 1: see the docstring
                ("nn.BCELoss", nn.BCELoss(w, reduction=r), tnn.BCELoss(tw, reduction=r),
                 ("p", "target"), None),
                ("F.binary_cross_entropy_with_logits",
                 lambda x, y: F.binary_cross_entropy_with_logits(x, y, w, reduction=r,
                                                                 pos_weight=pw),
                 lambda x, y: tF.binary_cross_entropy_with_logits(x, y, tw, reduction=r,
                                                                  pos_weight=tpw),
                 ("logits", "target"), None),
                ("F.binary_cross_entropy_with_logits",
                 lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction=r),
                 lambda x, y: tF.binary_cross_entropy_with_logits(x, y, reduction=r),
                 ("logits", "target"), None),
                ("nn.BCEWithLogitsLoss", nn.BCEWithLogitsLoss(w, reduction=r, pos_weight=pw),
                 tnn.BCEWithLogitsLoss(tw, reduction=r, pos_weight=tpw),
                 ("logits", "target"), None),
            ]
            for check, mine, theirs, names, grads in cases:
                forward_backward(rec, check, mine, theirs, [a[k] for k in names], rng,
                                 grads=grads)


def check_classification(rec: Record, rng: np.random.Generator, n: int) -> None:
    """cross_entropy and nll_loss (integer labels over (N, C) and (N, C, d...), class weights,
    an ignored label, label smoothing; class-probability targets; the unbatched (C,) form),
    every reduction, as functions and as nn.CrossEntropyLoss / nn.NLLLoss; one_hot."""
    for _ in range(n):
        extra = tuple(int(v) for v in rng.integers(1, 4, size=int(rng.integers(0, 3))))
        size, classes = int(rng.integers(1, 5)), int(rng.integers(2, 6))
        x = normal(rng, rec.dtype, size, classes, *extra, scale=3)
        labels = rng.integers(0, classes, size=(size, *extra))
        ignore = int(rng.integers(0, classes))
        labels.flat[0] = (ignore + 1) % classes  # (one label counts: the mean has a value)
        probs = rng.random(x.shape).astype(rec.dtype)
        probs /= probs.sum(axis=1, keepdims=True)
        weight = (rng.random(classes) + 0.1).astype(rec.dtype)
        w, tw = minigen.tensor(weight), torch.from_numpy(weight)
        for r in ("mean", "sum", "none"):
            e = float(rng.choice([0.0, 0.1, 0.4]))
            labelled = [
                ("F.cross_entropy", lambda a, y: F.cross_entropy(a, y, reduction=r),
                 lambda a, y: tF.cross_entropy(a, y, reduction=r)),
                ("F.cross_entropy", lambda a, y: F.cross_entropy(
                    a, y, w, ignore, r, label_smoothing=e), lambda a, y: tF.cross_entropy(
                    a, y, tw, ignore_index=ignore, reduction=r, label_smoothing=e)),
                ("nn.CrossEntropyLoss", nn.CrossEntropyLoss(w, ignore, r, e),
                 tnn.CrossEntropyLoss(tw, ignore_index=ignore, reduction=r, label_smoothing=e)),
                ("F.nll_loss", lambda a, y: F.nll_loss(a, y, w, ignore, r),
                 lambda a, y: tF.nll_loss(a, y, tw, ignore_index=ignore, reduction=r)),
                ("nn.NLLLoss", nn.NLLLoss(reduction=r), tnn.NLLLoss(reduction=r)),
            ]
            for check, mine, theirs in labelled:
                forward_backward(rec, check, mine, theirs, [x, labels], rng,
                                 grads=[True, False])
            forward_backward(rec, "F.cross_entropy", lambda a, t: F.cross_entropy(
                a, t, w, reduction=r, label_smoothing=e), lambda a, t: tF.cross_entropy(
                a, t, tw, reduction=r, label_smoothing=e), [x, probs], rng, label="probs")
            forward_backward(rec, "F.cross_entropy", lambda a, y: F.cross_entropy(
                a, y, reduction=r), lambda a, y: tF.cross_entropy(a, y, reduction=r),
                [x.reshape(size, classes, -1)[0, :, 0], labels.reshape(-1)[0]], rng,
                grads=[True, False], label="unbatched")
        rec.case("F.one_hot")
        flat = labels.reshape(-1)
        rec.close("F.one_hot", "values", F.one_hot(minigen.tensor(flat), classes + 1),
                  tF.one_hot(torch.from_numpy(flat), classes + 1))


def check_gaussian_kl(rec: Record, rng: np.random.Generator, n: int) -> None:
    """F.gaussian_kl against torch.distributions' KL(N(mu, sigma^2) || N(0, 1)) summed over
    the last axis, every reduction; F.reparameterize statistically (the samples' mean and
    variance) and its gradients by their identities (dz/dmu = 1, dz/dlogvar = (z - mu) / 2)."""
    from torch.distributions import Normal, kl_divergence

    for _ in range(n):
        shape = random_shape(rng, 1, 3)
        mu, logvar = normal(rng, rec.dtype, *shape, scale=2), normal(rng, rec.dtype, *shape)
        for r in ("sum", "mean", "none"):
            def theirs(m: Any, lv: Any, r: str = r) -> Any:
                kl = kl_divergence(Normal(m, (0.5 * lv).exp()), Normal(0.0, 1.0)).sum(-1)
                return {"sum": kl.sum(), "mean": kl.mean(), "none": kl}[r]

            forward_backward(rec, "F.gaussian_kl", lambda m, lv: F.gaussian_kl(m, lv, r),
                             theirs, [mu, logvar], rng)
    check, size = "F.reparameterize", 200000
    minigen.manual_seed(int(rng.integers(1 << 30)))
    mu, logvar = normal(rng, rec.dtype, 4, scale=2), normal(rng, rec.dtype, 4)
    m = minigen.tensor(np.tile(mu, (size, 1)), requires_grad=True)
    lv = minigen.tensor(np.tile(logvar, (size, 1)), requires_grad=True)
    z = F.reparameterize(m, lv)
    z.sum().backward()
    rec.case(check)
    sample, var = as_numpy(z).astype(np.float64), np.exp(logvar.astype(np.float64))
    z_scores = (sample.mean(0) - mu) / np.sqrt(var / size)  # each ~ N(0, 1)
    rec.expect(check, np.abs(z_scores).max() < 5, f"sample means off by {z_scores} SE")
    ratio = sample.var(0) / var - 1  # each ~ N(0, 2 / size)
    rec.expect(check, np.abs(ratio).max() < 5 * np.sqrt(2 / size), f"variances off {ratio}")
    rec.close(check, "dz/dmu", m.grad, np.ones_like(sample))
    rec.close(check, "dz/dlogvar", lv.grad, (sample - np.tile(mu, (size, 1))) / 2)


# ------------------------------------------------------------------ Tensor methods


def run_line(line: str, lib: Any, tensors: dict[str, Any], names: dict[str, Any]) -> Any:
    """Evaluate ``line`` with ``lib``, the ``tensors`` and the other ``names`` (numbers,
    dims, index lists) it uses."""
    return eval(line, {"lib": lib, **names, **tensors})  # noqa: S307  (our own lines)


def same_code(rec: Record, check: str, lines: list[str], arrays: dict[str, np.ndarray],
              names: dict[str, Any], rng: np.random.Generator) -> None:
    """Each line in both libraries: the values, then the gradients of every tensor under a
    random cotangent (or the same error in both)."""
    keys = list(arrays)
    for line in lines:
        def in_library(lib: Any, line: str = line) -> Any:
            return lambda *t: run_line(line, lib, dict(zip(keys, t)), names)

        try:
            forward_backward(rec, check, in_library(minigen), in_library(torch),
                             list(arrays.values()), rng, label=line)
        except Exception as e:  # noqa: BLE001  (a failure of this line, reported with it)
            shapes = {k: a.shape for k, a in arrays.items()}
            rec.expect(check, False, f"{line} with {shapes}: {type(e).__name__}: {e}")


def same_values(rec: Record, check: str, lines: list[str], arrays: dict[str, np.ndarray],
                names: dict[str, Any]) -> None:
    """Each line in both libraries, with no gradient (indices, comparisons): the same values
    and the same dtype."""
    for line in lines:
        rec.case(check)
        try:
            ours = run_line(line, minigen, {k: minigen.tensor(a) for k, a in arrays.items()},
                            names)
            theirs = run_line(line, torch, {k: torch.tensor(a) for k, a in arrays.items()},
                              names)
        except Exception as e:  # noqa: BLE001
            rec.expect(check, False, f"{line}: {type(e).__name__}: {e}")
            continue
        rec.close(check, line, ours, theirs)
        rec.expect(check, ours.dtype.name == str(theirs.dtype).removeprefix("torch."),
                   f"{line}: dtype {ours.dtype} against {theirs.dtype}")


def distinct(rng: np.random.Generator, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """Values without ties (then max, min and their indices are unambiguous)."""
    return (rng.permutation(int(np.prod(shape))).reshape(shape) * 0.5 - 3).astype(dtype)


def check_reductions(rec: Record, rng: np.random.Generator, n: int) -> None:
    """sum, mean, var and std (unbiased by default, unbiased=False, correction=), max/min
    (over all, and over a dim: values AND indices), amax/amin, argmax/argmin, logsumexp;
    dims None, positive, negative and tuples; keepdim both ways."""
    check = "reductions"
    for _ in range(n):
        shape = random_shape(rng)
        x = distinct(rng, rec.dtype, shape)
        names = {"d": int(rng.integers(-len(shape), len(shape))), "k": bool(rng.random() < 0.5),
                 "dims": tuple({int(v) for v in rng.integers(0, len(shape), size=2)})}
        lines = ["t.sum()", "t.sum(d, keepdim=k)", "t.sum(dim=dims)", "lib.sum(t, d)",
                 "t.mean()", "t.mean(dims, keepdim=k)", "lib.mean(t, dim=d)",
                 "t.max()", "t.min()", "lib.max(t)", "t.max(d, keepdim=k)[0]",
                 "t.min(dim=d).values", "lib.max(t, d)[0]", "t.amax(dims, keepdim=k)",
                 "t.amin(dim=d)", "t.logsumexp(d, keepdim=k)"]
        if x.size > 1:
            lines += ["t.var()", "t.std()", "t.var(unbiased=False)", "lib.std(t)"]
        if shape[names["d"]] > 1:
            lines += ["t.var(d)", "t.var(d, keepdim=k)", "t.std(d, keepdim=k)",
                      "t.var(d, True)", "t.var(d, False, k)", "t.std(d, unbiased=False)",
                      "t.var(d, correction=0)", "lib.var(t, d)"]
        same_code(rec, check, lines, {"t": x}, names, rng)
        same_values(rec, check, ["t.max(d, keepdim=k)[1]", "t.min(d).indices", "t.argmax()",
                                 "t.argmax(d)", "t.argmax(dim=d, keepdim=k)", "t.argmin(d)",
                                 "lib.argmax(t, d)", "(t > 0).sum()"], {"t": x}, names)


MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                 ((5, 2, 3), (3, 4)), ((5, 2, 3), (3,)), ((3,), (5, 3, 4)),
                 ((5, 1, 2, 3), (4, 3, 2)), ((1, 2, 3), (5, 3, 4)), ((1, 1), (1, 1))]


def check_matmul(rec: Record, rng: np.random.Generator, n: int) -> None:
    """matmul (the @ operator and the function) with every kind of operand: vectors,
    matrices, batches that broadcast."""
    for a, b in MATMUL_SHAPES:
        arrays = {"s": normal(rng, rec.dtype, *a), "t": normal(rng, rec.dtype, *b)}
        same_code(rec, "matmul", ["s @ t", "lib.matmul(s, t)"], arrays, {}, rng)


def check_shapes(rec: Record, rng: np.random.Generator, n: int) -> None:
    """reshape, view, permute, transpose, .T, flatten, unsqueeze, squeeze, expand, cat and
    stack, with negative dims."""
    check = "shape ops"
    for _ in range(n):
        shape = random_shape(rng, 2, 4)
        nd = len(shape)
        d, e = (int(v) for v in rng.integers(-nd, nd, size=2))
        names = {"shape": shape, "d": d, "e": e, "first": min(d % nd, e % nd),
                 "last": max(d % nd, e % nd),
                 "perm": tuple(int(v) for v in rng.permutation(nd))}
        x, z = normal(rng, rec.dtype, *shape), normal(rng, rec.dtype, *shape)
        ones = normal(rng, rec.dtype, *(1 if rng.random() < 0.4 else s for s in shape))
        same_code(rec, check, ["t.reshape(-1, shape[-1])", "t.view(-1)", "t.reshape(shape[::-1])",
                               "t.permute(*perm)", "t.permute(perm)", "t.transpose(d, e)",
                               "t.flatten()", "t.flatten(1)", "t.flatten(first, last)",
                               "lib.flatten(t, 0, 1)", "t.unsqueeze(d)", "t.unsqueeze(-1)"],
                  {"t": x}, names, rng)
        same_code(rec, check, ["t.squeeze()", "t.squeeze(d)", "t.expand(*shape)",
                               "t.expand(2, *shape)", "t.expand_as(lib.zeros(shape))"],
                  {"t": ones}, names, rng)
        same_code(rec, check, ["lib.cat([s, t], d)", "lib.cat((s, t))",
                               "lib.stack([s, t], dim=d)", "lib.stack([s, t, s], -1)"],
                  {"s": x, "t": z}, names, rng)
    same_code(rec, check, ["t.T", "t.t()"], {"t": normal(rng, rec.dtype, 3, 4)}, {}, rng)


def check_selection(rec: Record, rng: np.random.Generator, n: int) -> None:
    """clone, split (a size and a list of sizes), chunk, unbind, gather, masked_fill and
    contiguous, with negative dims; isnan, isfinite, all and any (values and dtypes). Pieces
    are joined back into one tensor to compare (cat of each flattened)."""
    check = "selection"
    for _ in range(n):
        shape = random_shape(rng, 2, 4)
        d = int(rng.integers(-len(shape), len(shape)))
        first = int(rng.integers(0, shape[d] + 1))
        names = {"d": d, "sizes": [first, shape[d] - first], "k": int(rng.integers(1, 5)),
                 "gidx": rng.integers(0, shape[d], size=shape)}
        x = normal(rng, rec.dtype, *shape)
        same_code(rec, check, [
            "t.clone() * 2", "t.contiguous()", "t.masked_fill(t > 0, 0.5)",
            "lib.cat([p.reshape(-1) for p in t.split(k, d)])",
            "lib.cat([p.reshape(-1) for p in t.split(sizes, d)])",
            "lib.cat([p.reshape(-1) for p in t.chunk(k, d)])",
            "lib.cat([p.reshape(-1) for p in lib.unbind(t, d)])",
            "t.gather(d, lib.tensor(gidx))"], {"t": x}, names, rng)
        special = np.where(rng.random(shape) < 0.3, np.inf, x)
        special = np.where(rng.random(shape) < 0.3, np.nan, special).astype(rec.dtype)
        same_values(rec, check, ["t.isnan()", "t.isfinite()", "(t > 0).all()", "(t > 0).any(d)",
                                 "lib.all(t > 0, d, True)", "t.isnan().any()"],
                    {"t": special}, names)


def check_indexing(rec: Record, rng: np.random.Generator, n: int) -> None:
    """Basic indexing (ints, negative ints, slices with steps, None, ...), an integer list
    or tensor along one dim (repeats and negatives), boolean masks, and several index arrays
    broadcast together, with ints and slices among them (their dims next to each other or
    apart, which decides where the result puts them)."""
    for _ in range(n):
        shape = random_shape(rng, 2, 4)
        names = {"i": int(rng.integers(-shape[0], shape[0])),
                 "rows": [int(v) for v in rng.integers(-shape[0], shape[0], size=4)],
                 "cols": [int(v) for v in rng.integers(0, shape[1], size=3)],
                 "mask": rng.random(shape) < 0.5, "row_mask": rng.random(shape[0]) < 0.5,
                 "r3": [int(v) for v in rng.integers(-shape[0], shape[0], size=3)],
                 "c3": [int(v) for v in rng.integers(0, shape[1], size=3)],
                 "l3": [int(v) for v in rng.integers(-shape[-1], shape[-1], size=3)]}
        same_code(rec, "indexing", [
            "t[i]", "t[1:]", "t[:, ::2]", "t[-1, ..., None]", "t[None, 0]", "t[..., 1:-1:2]",
            "t[i, 0]", "t[rows]", "t[:, cols]", "t[lib.tensor(rows)]", "t[lib.tensor(mask)]",
            "t[lib.tensor(row_mask)]", "t[t > 0]", "t[r3, c3]", "t[lib.tensor(r3), c3]",
            "t[lib.tensor(r3).reshape(3, 1), c3]", "t[r3, ..., l3]", "t[i, ..., l3]",
            "t[lib.tensor(r3), 1:]", "t[1:, c3]", "t[lib.tensor(row_mask), 0]",
            "t[lib.tensor(r3), lib.tensor(c3)]"], {"t": normal(rng, rec.dtype, *shape)},
            names, rng)


def check_assignment(rec: Record, rng: np.random.Generator, n: int) -> None:
    """``y[key] = value`` on a non-leaf y = t * 1 in both libraries: the result and the
    gradients of t and of the value, for an int, slices, a column list, row-and-column lists,
    a mask, an ellipsis, a broadcast value and a value with a leading 1 dim (dropped)."""
    for _ in range(n):
        shape = random_shape(rng, 2, 4)
        rows = [int(v) for v in rng.permutation(shape[0])[:int(rng.integers(1, shape[0] + 1))]]
        cols = [int(v) for v in rng.permutation(shape[1])[:len(rows)]]
        mask = rng.random(shape) < 0.5
        i = int(rng.integers(-shape[0], shape[0]))
        cases = [  # (key, given the library; the value's shape)
            (lambda lib: (i,), shape[1:]), (lambda lib: (i,), (1, *shape[1:])),
            (lambda lib: (slice(1, None),), (1, *shape[1:])),
            (lambda lib: (slice(None), cols[:1]), (shape[0], 1, *shape[2:])),
            (lambda lib: (rows[:len(cols)], cols), (len(cols), *shape[2:])),
            (lambda lib: (lib.tensor(mask),), ()), (lambda lib: (Ellipsis, 0), (1,)),
        ]
        for j, (key_for, value_shape) in enumerate(cases):
            def assign(lib: Any, key_for: Any = key_for) -> Any:
                def fn(t: Any, v: Any) -> Any:
                    y = t * 1
                    y[key_for(lib)] = v
                    return y
                return fn

            forward_backward(rec, "assignment", assign(minigen), assign(torch),
                             [normal(rng, rec.dtype, *shape),
                              normal(rng, rec.dtype, *value_shape)], rng,
                             label=f"key {j} of shape {shape} = value of shape {value_shape}")


def check_elementwise(rec: Record, rng: np.random.Generator, n: int) -> None:
    """+ - * / ** with broadcasting shapes and numbers on either side, % and // (values),
    exp, log, sqrt, abs, neg, clamp (min, max, both), where, maximum and minimum, and the
    comparisons and logic of boolean masks."""
    check = "elementwise"
    for _ in range(n):
        shape = random_shape(rng)
        other = tuple(1 if rng.random() < 0.4 else s for s in shape)[int(rng.integers(0, 2)):]
        x, y = normal(rng, rec.dtype, *shape), normal(rng, rec.dtype, *other)
        names = {"c": float(rng.normal())}
        same_code(rec, check, ["s + t", "s - t", "s * t", "s / (t.abs() + 0.5)", "t - s",
                               "lib.maximum(s, t)", "lib.minimum(s, t)",
                               "lib.where(s > t, s, t * 2)"], {"s": x, "t": y}, names, rng)
        same_code(rec, check, ["t + c", "c - t", "c * t", "c / t", "t / c", "-t", "abs(t)",
                               "t.abs()", "t ** 2", "t ** 3", "2.0 ** t", "t.exp()",
                               "lib.exp(t)", "t.clamp(-0.5, 0.5)", "t.clamp(min=c)",
                               "t.clamp(max=c)", "lib.clamp(t, -1.0, 0.2)", "t.pow(2)",
                               "t.sigmoid()", "t.tanh()", "t.relu()",
                               "lib.where(t > 0, t, 0.0)"], {"t": x}, names, rng)
        same_code(rec, check, ["t.log()", "t.sqrt()", "t ** 0.5", "t ** t", "t.log1p()",
                               "lib.log(t)"], {"t": np.abs(x) + 0.1}, names, rng)
        same_values(rec, check, ["t % 1.5", "t // -0.5", "7.0 % (t.abs() + 1)",
                                 "t.long() % 4", "-t.long() // 3", "t.long() % -3"],
                    {"t": x * 4}, names)
        same_values(rec, check, ["s == t", "s != t", "s < t", "s <= t", "s > t", "s >= 0",
                                 "(s > 0) & (t > 0)", "(s > 0) | (t > 0)", "~(s > 0)"],
                    {"s": x, "t": np.round(y)}, names)


def check_creation(rec: Record, rng: np.random.Generator, n: int) -> None:
    """The creation functions and casts, for their values and above all their dtypes (float32
    by default, int64 for integers, float64 kept from a float64 array)."""
    same_values(rec, "creation and dtypes", [
        "lib.zeros(2, 3)", "lib.zeros((2, 3))", "lib.ones(4)", "lib.full((2,), 3.0)",
        "lib.arange(5)", "lib.arange(1, 7, 2)", "lib.arange(0, 1, 0.25)", "lib.tensor(3.5)",
        "lib.tensor([1, 2])", "lib.tensor([1.0, 2.0])", "lib.tensor([True, False])",
        "lib.zeros_like(t)", "lib.ones_like(t)", "lib.full_like(t, 2.0)", "t.long()",
        "t.float()", "t.double()", "(t > 0).float()", "lib.tensor(t.numpy())"],
        {"t": normal(rng, rec.dtype, 2, 3)}, {})


CHECKS = [check_activations, check_softmax, check_dropout, check_losses, check_classification,
          check_gaussian_kl, check_reductions, check_matmul, check_shapes, check_indexing,
          check_selection, check_assignment, check_elementwise, check_creation]
