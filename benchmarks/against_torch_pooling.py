"""Part of ``against_torch.py``: max and average pooling against PyTorch.

F.max_pool2d (values, gradients, and the indices of ``return_indices=True``, inputs with ties
and NaNs among the cases), nn.MaxPool2d, F.avg_pool2d and nn.AvgPool2d over random geometries
(kernel 1-4, stride 1-4 or the default, padding up to half the kernel, dilation 1-3,
ceil_mode, count_include_pad, divisor_override, (N, C, H, W) and (C, H, W) inputs); then
output sizes and refusals over geometries valid or not.

One case is compared forward only: a max-pooling window that holds padding only (dilation can
make one, e.g. 2x2 input, kernel 2, dilation 3, padding 1). Its value is -inf and its index
the same in both, outside the image; PyTorch's backward writes there, out of bounds (a
segmentation fault in PyTorch 2.13), minigen's passes no gradient. Geometries with such a
window are drawn again for the gradient checks; the size check runs them forward only, and
compares their values and indices.
"""

# ruff: noqa: B023  (each lambda made in a loop here is called at once, in its iteration)

from __future__ import annotations

from typing import Any

import numpy as np
from against_torch_harness import Record, compare_module, forward_backward, normal

import minigen
import minigen.extras.pooling as P
from minigen.extras import nn_pooling as layers

try:
    import torch
    import torch.nn as tnn
    import torch.nn.functional as tF
except ImportError:  # against_torch.main() says how to install it
    torch = None


def _pair(rng: np.random.Generator, low: int, high: int) -> Any:
    """An int, or (half the time) a pair of ints, in [low, high]."""
    a, b = (int(v) for v in rng.integers(low, high + 1, size=2))
    return a if rng.random() < 0.5 else (a, b)


def pool_geometry(rng: np.random.Generator, low: int = 1) -> dict[str, Any]:
    """Random pooling arguments and an input shape; ``low=0`` lets zeros into the kernel,
    stride and dilation (refusals). Padding goes up to 2, past half of small kernels."""
    lead = [(int(rng.integers(1, 4)), int(rng.integers(1, 4))), (int(rng.integers(1, 4)),)]
    stride = None if rng.random() < 0.2 else _pair(rng, low, 4)
    return dict(shape=lead[int(rng.random() < 0.25)] + tuple(rng.integers(1, 10, size=2)),
                kernel_size=_pair(rng, low, 4), stride=stride, padding=_pair(rng, 0, 2),
                dilation=_pair(rng, low, 3) if rng.random() < 0.5 else 1,
                ceil_mode=bool(rng.random() < 0.5), count_include_pad=bool(rng.random() < 0.5),
                divisor_override=[None, None, None, 1, 3, -2][rng.integers(6)])


def max_args(g: dict[str, Any]) -> tuple[Any, ...]:
    return g["kernel_size"], g["stride"], g["padding"], g["dilation"], g["ceil_mode"]


def avg_args(g: dict[str, Any]) -> tuple[Any, ...]:
    return (g["kernel_size"], g["stride"], g["padding"], g["ceil_mode"],
            g["count_include_pad"], g["divisor_override"])


def valid_pool_geometry(rng: np.random.Generator) -> dict[str, Any]:
    """A geometry that PyTorch accepts for both poolings, without a padding-only max window
    (see the module's docstring): drawn again until it is one."""
    while True:
        g = pool_geometry(rng)
        try:
            x = torch.zeros(g["shape"], dtype=torch.float64)
            out = tF.max_pool2d(x, *max_args(g))
            tF.avg_pool2d(x, *avg_args(g))
        except RuntimeError:
            continue
        if bool(torch.isfinite(out).all()):
            return g


def pool_input(rng: np.random.Generator, dtype: str, shape: tuple[int, ...]) -> np.ndarray:
    """Normal values; a third of the time rounded (ties everywhere), sometimes with NaNs."""
    x = normal(rng, dtype, *shape)
    kind = rng.integers(6)
    if kind < 2:
        x = np.round(x)
    if kind == 2:
        x[rng.random(shape) < 0.1] = np.nan
    return x


def check_indices(rec: Record, g: dict[str, Any], x: np.ndarray, label: str) -> None:
    """max_pool2d(return_indices=True): the same values, and the same int64 indices."""
    ours = P.max_pool2d(minigen.tensor(x), *max_args(g), return_indices=True)
    theirs = tF.max_pool2d(torch.tensor(x), *max_args(g), return_indices=True)
    rec.case("F.max_pool2d indices")
    rec.close("F.max_pool2d indices", f"{label} values", ours[0], theirs[0])
    rec.expect("F.max_pool2d indices", np.array_equal(ours[1].numpy(), theirs[1].numpy())
               and ours[1].dtype.name == "int64", f"{label}: indices differ")


def check_pooling(rec: Record, rng: np.random.Generator, n: int) -> None:
    """The functions with every argument by position, the indices, the modules (and their
    repr) with the same arguments."""
    for _ in range(n):
        g = valid_pool_geometry(rng)
        label = f"{g['shape']} {max_args(g)}"
        forward_backward(rec, "F.max_pool2d", lambda t: P.max_pool2d(t, *max_args(g)),
                         lambda t: tF.max_pool2d(t, *max_args(g)),
                         [pool_input(rng, rec.dtype, g["shape"])], rng, label=label)
        check_indices(rec, g, pool_input(rng, rec.dtype, g["shape"]), label)
        mine = layers.MaxPool2d(g["kernel_size"], g["stride"], g["padding"], g["dilation"],
                                ceil_mode=g["ceil_mode"])
        peer = tnn.MaxPool2d(g["kernel_size"], g["stride"], g["padding"], g["dilation"],
                             ceil_mode=g["ceil_mode"])
        rec.expect("nn.MaxPool2d", repr(mine) == repr(peer), f"{mine!r} against {peer!r}")
        compare_module(rec, "nn.MaxPool2d", mine, peer, pool_input(rng, rec.dtype, g["shape"]),
                       rng)
        label = f"{g['shape']} {avg_args(g)}"
        forward_backward(rec, "F.avg_pool2d", lambda t: P.avg_pool2d(t, *avg_args(g)),
                         lambda t: tF.avg_pool2d(t, *avg_args(g)),
                         [normal(rng, rec.dtype, *g["shape"])], rng, label=label)
        mine, peer = layers.AvgPool2d(*avg_args(g)), tnn.AvgPool2d(*avg_args(g))
        rec.expect("nn.AvgPool2d", repr(mine) == repr(peer), f"{mine!r} against {peer!r}")
        compare_module(rec, "nn.AvgPool2d", mine, peer, normal(rng, rec.dtype, *g["shape"]),
                       rng)


def check_pool_sizes(rec: Record, rng: np.random.Generator, n: int) -> None:
    """Over geometries valid or not (zero sizes, padding past half the kernel, kernels wider
    than the input): the function and the module compute exactly where PyTorch does, with
    its output shape (pool2d_output_size's too), and refuse exactly where it refuses."""
    check = "pooling sizes and refusals"
    for _ in range(20 * n):
        g = pool_geometry(rng, low=0 if rng.random() < 0.1 else 1)
        for kind in ("max", "avg"):
            args = max_args(g) if kind == "max" else avg_args(g)
            ours_f, theirs_f = ((P.max_pool2d, tF.max_pool2d) if kind == "max"
                                else (P.avg_pool2d, tF.avg_pool2d))
            ours_m, theirs_m = ((layers.MaxPool2d, tnn.MaxPool2d) if kind == "max"
                                else (layers.AvgPool2d, tnn.AvgPool2d))
            if kind == "max":  # the module's order: return_indices comes before ceil_mode
                module_args = args[:4] + (False, args[4])
            else:
                module_args = args

            def run(library: str, module: bool) -> tuple[int, ...]:
                if library == "minigen":
                    fn = ours_m(*module_args) if module else lambda t: ours_f(t, *args)
                    return fn(minigen.zeros(*g["shape"], dtype="float64")).shape
                fn = theirs_m(*module_args) if module else lambda t: theirs_f(t, *args)
                return tuple(fn(torch.zeros(g["shape"], dtype=torch.float64)).shape)

            for module in (False, True):
                rec.case(check)
                ours, theirs = rec.same_refusal(check, f"{kind} {g} module={module}",
                                                lambda: run("minigen", module),
                                                lambda: run("torch", module))
                rec.expect(check, ours == theirs, f"{kind} {g}: shape {ours} against {theirs}")
            if theirs is not None and kind == "max":  # forward only: see the docstring
                check_indices(rec, g, normal(rng, "float64", *g["shape"]), f"{g}")
            if theirs is not None:
                size = P.pool2d_output_size(g["shape"][-2:], *args[:3],
                                            g["dilation"] if kind == "max" else 1,
                                            g["ceil_mode"])
                rec.expect(check, size == theirs[-2:], f"{kind} {g}: pool2d_output_size gives "
                           f"{size}, PyTorch {theirs}")


CHECKS = [check_pooling]
FLOAT64_ONLY = [check_pool_sizes]  # no arithmetic to compare: run once
