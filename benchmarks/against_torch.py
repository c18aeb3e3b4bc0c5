"""minigen against PyTorch: the same ops on the same numbers, compared element by element.

    python benchmarks/against_torch.py            # 25 random geometries per check, ~15 s
    python benchmarks/against_torch.py --quick    # 4 per check, for a smoke run

Every layer, functional op, loss, optimizer and Tensor method that minigen shares with
PyTorch runs in both libraries on identical inputs and weights, over random geometries drawn
from a seeded NumPy generator (batch 1, odd sizes, kernels larger than the input, strides
larger than the kernel, pairs, dilation, output_padding, padding="same", bias=False ...).
Forward outputs, then the gradients of the inputs and parameters under one RANDOM cotangent (a
plain sum would hide a wrong gradient whose errors cancel, as for batch norm and softmax).
float64 first, where the libraries must agree to rounding (a scaled error of 1e-10: see
``Record.close``), then float32 (2e-4). Randomness (dropout, initialisation,
reparameterisation) is compared statistically. Seven files:

* this one: the layers (Linear, Conv2d, ConvTranspose2d, BatchNorm), output sizes and
  refusals, and the runner;
* ``against_torch_functional.py``: activations, dropout, losses (classification too), and
  the Tensor methods (indexing and assignment too), each of those one line of code run in
  both libraries;
* ``against_torch_api.py``: optimizers, learning-rate schedules, initialisation, the Module
  API, hooks, the three models;
* ``against_torch_pooling.py``: max and average pooling, functions and modules, sizes and
  refusals;
* ``against_torch_creation.py``: creation functions (eye, linspace, randint, randperm...),
  comparisons (eq, lt...), grad modes, ``random_split``'s sizes;
* ``against_torch_resample.py``: embedding, pad, interpolate / Upsample, adaptive average
  pooling, the Pad2d layers, ModuleDict / ParameterList / ParameterDict;
* ``against_torch_inplace.py``: the in-place methods (``x += y``, ``x.add_(y)``...);
* ``against_torch_extra_nn.py``: GELU, ELU, SiLU, LayerNorm, the L1 and smooth L1 losses
  (its docstring lists their deliberate differences);
* ``against_torch_ordering.py``: flip, roll, repeat, index_select, cumsum, prod, sort,
  argsort, topk, norm, sign / round / floor / ceil, reciprocal, rsqrt;
* ``against_torch_similarity.py``: normalize, cosine_similarity / CosineSimilarity, kl_div /
  KLDivLoss, bmm;
* ``against_torch_harness.py``: the results table and the forward-and-backward comparison.

Deliberate differences, checked as such (not failures):

* Losses let a target BROADCAST to the input's shape (a float label for a whole batch, as the
  models' losses use); PyTorch's BCE losses want equal shapes. The checks use equal shapes.
* ``binary_cross_entropy``'s gradient with respect to the TARGET where p is exactly 0 or 1:
  minigen differentiates the forward it computes (logs clamped at -100, so 100), PyTorch gives
  inf. The checks take target gradients only for p strictly inside (0, 1).
* ``amax``/``amin`` and ``maximum`` split a tie's gradient evenly, as PyTorch's do; ``max(x,
  dim)`` gives it to the index it returns, as PyTorch's does. Inputs are drawn without ties.
* ConvTranspose2d refuses an impossible ``output_padding`` when it is built; PyTorch accepts the
  module and refuses at the first forward. Both refuse the same geometries.
* MaxPool2d and AvgPool2d refuse bad arguments when built (PyTorch: at the first forward), and
  pooling takes floating tensors only (PyTorch also pools integers).
* ``inplace=True`` (ReLU, LeakyReLU, Dropout) is accepted and computes out of place.
* ``Module.parameters()`` is a list (PyTorch: a generator), ``view`` is ``reshape`` (no
  contiguity error).
* ``cross_entropy``/``nll_loss`` with ``reduction="mean"`` over no counted label (all ignored):
  minigen raises, PyTorch returns NaN. A mean needs a label; the checks keep one.
* Learning-rate schedules are computed in closed form from each group's ``initial_lr``;
  PyTorch's recursive forms agree to rounding unless the lr is changed by hand in between.
* ``x[key] = v`` gives ``x`` a new array (see ``minigen.extras.assignment``): a slice taken
  before keeps the old values, and a graph that saved ``x`` stays valid (PyTorch raises at
  its backward). An index that picks an element twice is refused (PyTorch: undefined).
* ``empty`` gives zeros (PyTorch: uninitialised values), ``inference_mode`` is ``no_grad``
  (no inference tensors), random integers and splits come from minigen's own generator: the
  checks compare shapes, dtypes, ranges and split sizes, not the numbers drawn.
* ``F.pad`` in reflect or replicate mode refuses negative pads that crop an axis to nothing.
  PyTorch 2.13 refuses them with 2 pads, and with 4 when both H and W end up empty, but with 4
  pads returns an empty tensor when only one does ((3, 4, 3) by (-1, -2, 2, 0) is (3, 6, 0)): no
  rule minigen follows. The checks skip such pads (``crops_to_nothing``).
* ``F.interpolate`` / ``nn.Upsample``, nearest, 1-D: PyTorch 2.13's CPU forward has no
  shortcut for an unchanged or doubled size (3 by 1.3 reads inputs 0, 0, 1) and works in
  float64 for float64, but its backward uses the 2-D rule (identity, j // 2, float32), so its
  gradient is not that of its forward. minigen's is; those cases are compared against
  PyTorch's forward written as a gather (``nearest_1d_gather``).
* ``random_split`` refuses negative lengths; PyTorch checks only that they add up (so
  ``[1, -1, 0]`` of nothing passes there and makes odd slices).
* ``AveragedModel(use_buffers=True)`` copies BatchNorm's integer step count from the model
  instead of averaging and truncating it as PyTorch does.
* Not covered (minigen lacks them): ``groups`` != 1 in convolutions, ``padding_mode``,
  backward hooks on modules.

Prints a table and writes benchmarks/results/against_torch.md and .json; the exit status is 1
if any check fails. PyTorch is a benchmark-only dependency: ``pip install torch==2.13.0``.
"""

# ruff: noqa: B023  (each lambda made in a loop here is called at once, in its iteration)

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import against_torch_api as api
import against_torch_creation as creation
import against_torch_extra_nn as extra_nn
import against_torch_functional as functional
import against_torch_inplace as inplace
import against_torch_ordering as ordering
import against_torch_pooling as pooling
import against_torch_resample as resample
import against_torch_similarity as similarity
import numpy as np
from against_torch_harness import (
    Record,
    compare_module,
    copy_into_torch,
    forward_backward,
    normal,
    randomise,
    to_torch_dtype,
)

import minigen
import minigen.functional as F
from minigen import nn

try:
    import torch
    import torch.nn as tnn
    import torch.nn.functional as tF
except ImportError:  # the peer is optional: main() says how to install it
    torch = None

RESULTS = Path(__file__).resolve().parent / "results"


# ------------------------------------------------------------------ layers


def check_linear(rec: Record, rng: np.random.Generator, n: int) -> None:
    """nn.Linear on inputs of 1 to 3 dimensions, with and without bias."""
    dt, tdt = rec.dtype, to_torch_dtype(rec.dtype)
    for _ in range(n):
        f_in, f_out = rng.integers(1, 9, size=2)
        bias = bool(rng.random() < 0.7)
        lead = [(), (1,), (int(rng.integers(1, 6)),), tuple(rng.integers(1, 4, size=2))]
        x = normal(rng, dt, *lead[rng.integers(4)], int(f_in))
        mine = nn.Linear(int(f_in), int(f_out), bias=bias, dtype=dt)
        theirs = tnn.Linear(int(f_in), int(f_out), bias=bias, dtype=tdt)
        compare_module(rec, "nn.Linear", mine, theirs, x, rng)


def pair(rng: np.random.Generator, low: int, high: int) -> Any:
    """An int, or (half the time) a pair of different ints, in [low, high]."""
    a, b = (int(v) for v in rng.integers(low, high + 1, size=2))
    return a if rng.random() < 0.5 else (a, b)


def both(v: Any) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else v


def conv_geometry(rng: np.random.Generator) -> dict[str, Any]:
    """A random geometry, valid or not: kernel 1-5, stride 1-4, padding 0-3, dilation 1-3,
    input sides 1-9, batch 1-3, channels 1-4."""
    padding = pair(rng, 0, 3) if rng.random() < 0.85 else str(rng.choice(["same", "valid"]))
    return dict(n=int(rng.integers(1, 4)), c_in=int(rng.integers(1, 5)),
                c_out=int(rng.integers(1, 5)), hw=both(pair(rng, 1, 9)),
                kernel_size=pair(rng, 1, 5), stride=pair(rng, 1, 4) if rng.random() < 0.8 else 1,
                padding=padding, dilation=pair(rng, 1, 3) if rng.random() < 0.4 else 1,
                bias=bool(rng.random() < 0.7))


def conv_layers(g: dict[str, Any], transposed: bool, dtype: str) -> tuple[Any, Any]:
    """The minigen and torch layers of geometry ``g``."""
    args = dict(kernel_size=g["kernel_size"], stride=g["stride"], padding=g["padding"],
                dilation=g["dilation"], bias=g["bias"])
    if transposed:
        args["output_padding"] = g["output_padding"]
        return (nn.ConvTranspose2d(g["c_in"], g["c_out"], dtype=dtype, **args),
                tnn.ConvTranspose2d(g["c_in"], g["c_out"], dtype=to_torch_dtype(dtype),
                                    **args))
    return (nn.Conv2d(g["c_in"], g["c_out"], dtype=dtype, **args),
            tnn.Conv2d(g["c_in"], g["c_out"], dtype=to_torch_dtype(dtype), **args))


def valid_geometry(rng: np.random.Generator, transposed: bool) -> dict[str, Any]:
    """A random geometry that PyTorch accepts (drawn again until it does)."""
    while True:
        g = conv_geometry(rng)
        s, d = both(g["stride"]), both(g["dilation"])
        g["output_padding"] = tuple(int(rng.integers(0, max(s[a], d[a]))) for a in (0, 1))
        try:
            _, theirs = conv_layers(g, transposed, "float64")
            theirs(torch.zeros(1, g["c_in"], *g["hw"], dtype=torch.float64))
            return g
        except (RuntimeError, ValueError):
            continue


def check_conv(rec: Record, rng: np.random.Generator, n: int) -> None:
    """nn.Conv2d and nn.ConvTranspose2d, forward and backward, on valid geometries; and
    F.conv2d and F.conv_transpose2d with every argument given by position (PyTorch's order:
    groups comes before dilation in conv_transpose2d)."""
    for transposed, check in ((False, "nn.Conv2d"), (True, "nn.ConvTranspose2d")):
        for _ in range(n):
            g = valid_geometry(rng, transposed)
            mine, theirs = conv_layers(g, transposed, rec.dtype)
            x = normal(rng, rec.dtype, g["n"], g["c_in"], *g["hw"])
            compare_module(rec, check, mine, theirs, x, rng)
            args = ((g["stride"], g["padding"], g["output_padding"], 1, g["dilation"])
                    if transposed else (g["stride"], g["padding"], g["dilation"], 1))
            ours, peer = ((F.conv_transpose2d, tF.conv_transpose2d) if transposed
                          else (F.conv2d, tF.conv2d))
            weight = normal(rng, rec.dtype, *mine.weight.shape)
            forward_backward(rec, check, lambda *t: ours(*t, *args), lambda *t: peer(*t, *args),
                             [x, weight, normal(rng, rec.dtype, g["c_out"])], rng,
                             label=f"{ours.__name__}{args}")


def check_conv_geometry(rec: Record, rng: np.random.Generator, n: int) -> None:
    """Output sizes and refusals over random geometries, valid or not: minigen computes
    exactly where PyTorch does, with the same output size (module and size formula), and
    refuses (a clear error) exactly where PyTorch refuses."""
    check = "conv sizes and refusals"
    for _ in range(20 * n):
        g = conv_geometry(rng)
        g["output_padding"] = pair(rng, 0, 3)
        for transposed in (False, True):
            rec.case(check)

            def run(library: str) -> tuple[int, ...]:
                layers = conv_layers(g, transposed, "float64")
                if library == "minigen":
                    return layers[0](minigen.zeros(1, g["c_in"], *g["hw"], dtype="float64")).shape
                x = torch.zeros(1, g["c_in"], *g["hw"], dtype=torch.float64)
                return tuple(layers[1](x).shape)

            ours, theirs = rec.same_refusal(check, f"{g} transposed={transposed}",
                                            lambda: run("minigen"), lambda: run("torch"))
            if ours is not None and theirs is not None:
                rec.expect(check, ours == theirs, f"{g}: shape {ours} against {theirs}")
                layer = conv_layers(g, transposed, "float64")[0]
                sizes = [layer.output_shape(*g["hw"])]
                if not isinstance(g["padding"], str):  # the formulas themselves
                    args = (g["hw"], g["kernel_size"], g["stride"], g["padding"])
                    sizes.append(minigen.conv_transpose2d_output_size(
                        *args, g["output_padding"], g["dilation"]) if transposed
                        else minigen.conv2d_output_size(*args, g["dilation"]))
                rec.expect(check, all(size == theirs[2:] for size in sizes),
                           f"{g}: the size formulas give {sizes}")
        if not isinstance(g["padding"], str):
            check_output_size_argument(rec, g, rng)


def check_output_size_argument(rec: Record, g: dict[str, Any], rng: np.random.Generator) -> None:
    """ConvTranspose2d's ``forward(x, output_size=...)``: the same sizes accepted or refused."""
    check = "conv sizes and refusals"
    g = dict(g, output_padding=0)
    smallest = minigen.conv_transpose2d_output_size(g["hw"], g["kernel_size"], g["stride"],
                                                     g["padding"], 0, g["dilation"])
    want = tuple(int(v + rng.integers(-1, 4)) for v in smallest)  # around the reachable sizes

    def run(library: str) -> tuple[int, ...]:
        mine, theirs = conv_layers(g, True, "float64")
        if library == "minigen":
            x = minigen.zeros(1, g["c_in"], *g["hw"], dtype="float64")
            return mine(x, output_size=want).shape
        x = torch.zeros(1, g["c_in"], *g["hw"], dtype=torch.float64)
        return tuple(theirs(x, output_size=want).shape)

    rec.case(check)
    ours, theirs = rec.same_refusal(check, f"{g} output_size={want}", lambda: run("minigen"),
                                    lambda: run("torch"))
    if ours is not None and theirs is not None:
        rec.expect(check, ours == theirs, f"{g} output_size={want}: {ours} against {theirs}")


def batch_norm_case(rng: np.random.Generator) -> tuple[str, tuple[int, ...], dict[str, Any]]:
    """A random BatchNorm layer: its name, an input shape, its constructor arguments."""
    c = int(rng.integers(1, 5))
    name, shape = [("BatchNorm1d", (int(rng.integers(2, 6)), c)),
                   ("BatchNorm1d", (int(rng.integers(1, 4)), c, int(rng.integers(2, 5)))),
                   ("BatchNorm2d", (int(rng.integers(1, 4)), c, *rng.integers(1, 5, size=2)))
                   ][rng.integers(3)]
    if int(np.prod(shape)) // c < 2:  # training needs 2 values per channel
        shape = (shape[0] + 1,) + tuple(shape[1:])
    options = dict(num_features=c, eps=float(rng.choice([1e-5, 1e-3, 0.1])),
                   momentum=[0.1, 0.5, None][rng.integers(3)],
                   affine=bool(rng.random() < 0.7), track_running_stats=bool(rng.random() < 0.7))
    return name, tuple(int(v) for v in shape), options


def check_batch_norm(rec: Record, rng: np.random.Generator, n: int) -> None:
    """BatchNorm1d (2-D and 3-D inputs) and BatchNorm2d: three training steps (outputs and
    gradients of each; momentum, including None, the cumulative average), then the running
    statistics (the variance unbiased, as PyTorch keeps it) and num_batches_tracked, then an
    eval-mode step; affine=False and track_running_stats=False among the cases."""
    for _ in range(n):
        name, shape, options = batch_norm_case(rng)
        check = f"nn.{name}"
        mine = getattr(nn, name)(dtype=rec.dtype, **options)
        theirs = getattr(tnn, name)(dtype=to_torch_dtype(rec.dtype), **options)
        randomise(mine, rng)
        for mode in ("train", "train", "train", "eval"):
            mine.train(mode == "train")
            theirs.train(mode == "train")
            x = normal(rng, rec.dtype, *shape, scale=3.0) + 1.0
            compare_module(rec, check, mine, theirs, x, rng)
            peer = dict(theirs.named_buffers())
            for key, value in mine.named_buffers():
                rec.close(check, f"{key} after {mode}", value, peer[key])
            rec.expect(check, sorted(dict(mine.named_buffers())) == sorted(peer),
                       f"buffers {sorted(dict(mine.named_buffers()))} against {sorted(peer)}")
            # compare_module copies minigen's buffers into torch, so these went their own ways:
            copy_into_torch(mine, theirs)
    # one value per channel in training is refused by both
    rec.same_refusal("nn.BatchNorm1d", "batch of 1 in training",
                     lambda: nn.BatchNorm1d(3)(minigen.zeros(1, 3)),
                     lambda: tnn.BatchNorm1d(3)(torch.zeros(1, 3)))


# ------------------------------------------------------------------ running and reporting


CHECKS = [check_linear, check_conv, check_batch_norm]
FLOAT64_ONLY = [check_conv_geometry]  # no arithmetic to compare: run once


def run_checks(rec: Record, rng: np.random.Generator, n: int) -> None:
    """Every check in float64, then the numeric ones again in float32. A check that crashes
    is a failure (with the error), and the others still run."""
    for dtype in ("float64", "float32"):
        rec.dtype = dtype
        checks = (CHECKS + functional.CHECKS + api.CHECKS + pooling.CHECKS + inplace.CHECKS
                  + creation.CHECKS + resample.CHECKS + extra_nn.CHECKS + ordering.CHECKS
                  + similarity.CHECKS)
        if dtype == "float64":
            checks += (FLOAT64_ONLY + api.FLOAT64_ONLY + pooling.FLOAT64_ONLY
                       + creation.FLOAT64_ONLY + resample.FLOAT64_ONLY + similarity.FLOAT64_ONLY)
        for check in checks:
            started = time.perf_counter()
            try:
                check(rec, rng, n)
            except Exception as e:  # noqa: BLE001  (reported, never hidden)
                rec.expect(check.__name__, False, f"crashed: {type(e).__name__}: {e}")
            print(f"  {dtype} {check.__name__}: {time.perf_counter() - started:.1f} s",
                  file=sys.stderr)


def markdown(rec: Record) -> str:
    """The results table, then every failure."""
    lines = [f"# minigen against PyTorch {torch.__version__}", "",
             "Same inputs and weights in both libraries. Errors, the worst over a check's "
             "cases: max |minigen - PyTorch|, and that over max(1, max |PyTorch|) (scaled). "
             "Written by `python benchmarks/against_torch.py`.", "",
             "| check | dtype | cases | max abs error | max scaled error | tolerance | result |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for (check, dtype), row in rec.rows.items():
        result = "PASS" if not row["failures"] else f"FAIL ({len(row['failures'])})"
        lines.append(f"| {check} | {dtype} | {row['cases']} | {row['abs']:.1e} | "
                     f"{row['scaled']:.1e} | {row['tol']:.0e} | {result} |")
    failures = [(key, f) for key, row in rec.rows.items() for f in row["failures"]]
    if failures:
        lines += ["", "## Failures", ""]
        lines += [f"- {check} ({dtype}): {f}" for (check, dtype), f in failures[:200]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few cases per check")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "against_torch")
    args = parser.parse_args(argv)
    if torch is None:
        print("against_torch.py needs PyTorch, a benchmark-only dependency: "
              "pip install torch==2.13.0 (the CPU build)")
        return 2
    from quality import write_results  # the benchmarks' one writer of .md and .json

    torch.manual_seed(args.seed)
    rec = Record()
    run_checks(rec, np.random.default_rng(args.seed), 4 if args.quick else 25)
    rows = [{"check": c, "dtype": d, **row} for (c, d), row in rec.rows.items()]
    write_results(args.out, markdown(rec), {"torch": torch.__version__,
                                            "minigen": minigen.__version__,
                                            "quick": args.quick, "seed": args.seed,
                                            "rows": rows})
    return 1 if any(row["failures"] for row in rec.rows.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
