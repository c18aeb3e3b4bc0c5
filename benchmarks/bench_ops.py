"""Micro-benchmark of the hot ops at the report's sizes (batch 128, float32, CPU).

    python benchmarks/bench_ops.py [--repeats 30] [--threads 1] [--contiguous] [--no-torch]

For each op: the median time of a forward pass (graph recorded, as in training) and of a
backward pass (a fresh forward, untimed, before each), for minigen and, when importable, for
PyTorch on the CPU, measured interleaved in the same process after warm-up, and their ratio.
PyTorch is a benchmark-only dependency: ``pip install torch==2.13.0``. Results also go to
benchmarks/results/ops.json and ops.md. On a machine shared with other work, pin both libraries
to one thread (``--threads 1``, or ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1``): two BLAS
threads on two busy cores stall in scheduler time slices and the numbers mean nothing.

Layouts: inside the DCGAN a conv layer's input is either an image batch in the (N, C, H, W)
layout or the output of another conv layer, which minigen leaves "batch last" in memory (see
minigen/ops/conv.py); cotangents arrive in the layout of the output. The default feeds each
layer what it gets in the DCGAN; ``--contiguous`` feeds plain (N, C, H, W) arrays everywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import minigen
import minigen.functional as F
from minigen import backend

BATCH = 128
BLOCK = 5  # timed steps in a row for one library
RESULTS = Path(__file__).resolve().parent / "results"

# name, kind, (C_in, C_out, H_in), input comes batch-last from a previous conv layer
CONV_CASES = [
    ("D conv1 1->64 28->14", "conv", (1, 64, 28), False),
    ("D conv2 64->128 14->7", "conv", (64, 128, 14), True),
    ("G convT1 128->64 7->14", "convT", (128, 64, 7), False),
    ("G convT2 64->1 14->28", "convT", (64, 1, 14), True),
]


def _array(rng: np.random.Generator, shape: tuple[int, ...], batch_last: bool) -> np.ndarray:
    """Random float32 (N, C, H, W) values, stored (C, H, W, N) in memory if ``batch_last``."""
    a = rng.standard_normal(shape, dtype=np.float32)
    if batch_last and a.ndim == 4:
        a = np.ascontiguousarray(a.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)
    return a


def _same_layout(values: np.ndarray, like: Any) -> np.ndarray:
    """``values`` copied into an array with the memory layout of ``like`` (a cotangent)."""
    out = np.empty_like(np.asarray(like))  # empty_like keeps the strides' order
    out[...] = values
    return out


def _cases(rng: np.random.Generator, contiguous: bool) -> list[tuple[str, dict]]:
    """(name, spec) where spec holds the inputs (NumPy) and how to call each library."""
    cases = []
    for name, kind, (c_in, c_out, size), batch_last in CONV_CASES:
        x = _array(rng, (BATCH, c_in, size, size), batch_last and not contiguous)
        w_shape = (c_out, c_in, 4, 4) if kind == "conv" else (c_in, c_out, 4, 4)
        w = rng.standard_normal(w_shape, dtype=np.float32) * 0.02
        b = rng.standard_normal(c_out, dtype=np.float32)
        cases.append((name, dict(inputs=[x, w, b], mg=F.conv2d if kind == "conv" else
                                 F.conv_transpose2d, kw=dict(stride=2, padding=1), kind=kind)))
    for shape in [(BATCH, 64, 14, 14), (BATCH, 512)]:
        x = _array(rng, shape, len(shape) == 4 and not contiguous)
        c = shape[1]
        w, b = np.ones(c, np.float32), np.zeros(c, np.float32)
        cases.append((f"batch_norm train {shape}", dict(inputs=[x, w, b], kind="bn")))
    x = rng.standard_normal((BATCH, 784), dtype=np.float32)
    y = (rng.random((BATCH, 784)) < 0.5).astype(np.float32)
    cases.append(("bce_with_logits (128, 784)", dict(inputs=[x], target=y, kind="bce")))
    x = rng.standard_normal((BATCH, 784), dtype=np.float32)
    w = rng.standard_normal((512, 784), dtype=np.float32) * 0.03
    b = rng.standard_normal(512, dtype=np.float32)
    cases.append(("linear 784->512", dict(inputs=[x, w, b], kind="linear")))
    return cases


def _minigen_fn(spec: dict) -> tuple[list[Any], Callable[..., Any]]:
    leaves = [minigen.Tensor._make(a).requires_grad_(True) for a in spec["inputs"]]
    kind = spec["kind"]
    if kind in ("conv", "convT"):
        return leaves, lambda x, w, b: spec["mg"](x, w, b, **spec["kw"])
    if kind == "bn":
        c = spec["inputs"][0].shape[1]
        rm, rv = minigen.zeros(c), minigen.ones(c)
        return leaves, lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training=True)
    if kind == "bce":
        target = minigen.Tensor._make(spec["target"])
        return leaves, lambda x: F.binary_cross_entropy_with_logits(x, target)
    return leaves, F.linear


def _torch_fn(torch: Any, spec: dict) -> tuple[list[Any], Callable[..., Any]]:
    # PyTorch gets plain contiguous tensors: its own layout in a network.
    leaves = [torch.tensor(np.ascontiguousarray(a), requires_grad=True) for a in spec["inputs"]]
    tf, kind = torch.nn.functional, spec["kind"]
    if kind == "conv":
        return leaves, lambda x, w, b: tf.conv2d(x, w, b, stride=2, padding=1)
    if kind == "convT":
        return leaves, lambda x, w, b: tf.conv_transpose2d(x, w, b, stride=2, padding=1)
    if kind == "bn":
        c = spec["inputs"][0].shape[1]
        rm, rv = torch.zeros(c), torch.ones(c)
        return leaves, lambda x, w, b: tf.batch_norm(x, rm, rv, w, b, training=True)
    if kind == "bce":
        target = torch.tensor(spec["target"])
        return leaves, lambda x: tf.binary_cross_entropy_with_logits(x, target)
    return leaves, tf.linear


class _Timer:
    """Forward and backward timings of one library on one case."""

    def __init__(self, leaves: list[Any], fn: Callable[..., Any], cotangent: Callable):
        self.leaves, self.fn, self.cotangent = leaves, fn, cotangent
        self.forward: list[float] = []
        self.backward: list[float] = []
        self.grad = None

    def step(self, record: bool = True) -> None:
        for t in self.leaves:
            t.grad = None
        start = time.perf_counter()
        out = self.fn(*self.leaves)
        middle = time.perf_counter()
        if self.grad is None:
            self.grad = self.cotangent(out)
        start_bwd = time.perf_counter()
        out.backward(self.grad)
        end = time.perf_counter()
        if record:
            self.forward.append(middle - start)
            self.backward.append(end - start_bwd)


def _limit_threads(threads: int | None) -> Any:
    """Limit NumPy's BLAS to ``threads`` threads (needs threadpoolctl, else says what to set).

    On a small machine shared with other work, a BLAS with as many threads as cores stalls
    whenever one of its threads is descheduled: timings then jump in scheduler time slices.
    """
    if threads is None:
        return None
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print(f"threadpoolctl not found: set OPENBLAS_NUM_THREADS={threads} (and "
              f"OMP_NUM_THREADS={threads}) in the environment instead")
        return None
    return threadpool_limits(limits=threads)


def _ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1e3


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed runs per op (median)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--contiguous", action="store_true",
                        help="feed plain (N, C, H, W) arrays instead of the DCGAN's layouts")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch peer")
    parser.add_argument("--out", default=str(RESULTS), help="folder for ops.json and ops.md")
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS and PyTorch threads (default: each library's own choice)")
    args = parser.parse_args(argv)
    limits = _limit_threads(args.threads)  # noqa: F841  (kept alive: the limit lasts with it)

    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("PyTorch not found: minigen only. For the peer: pip install torch==2.13.0")
    if torch and args.threads:
        torch.set_num_threads(args.threads)
    blas_threads = args.threads or os.environ.get("OPENBLAS_NUM_THREADS", "default")
    about = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, NumPy "
             f"{np.__version__} (OpenBLAS threads: {blas_threads})"
             + (f", PyTorch {torch.__version__} ({torch.get_num_threads()} threads)"
                if torch else "") + f"; batch {BATCH}, float32, median of {args.repeats} runs"
             + (", contiguous inputs" if args.contiguous else ", the DCGAN's input layouts")
             + f"; load average {os.getloadavg()[0]:.1f} at the start")
    print(about + "; times in ms\n")

    rng = np.random.default_rng(0)
    results = {}
    header = f"{'op':28s} {'fwd':>8s} {'bwd':>8s}"
    if torch:
        header += f" {'torch fwd':>10s} {'torch bwd':>10s} {'fwd x':>6s} {'bwd x':>6s}"
    print(header)
    print("-" * len(header))
    for name, spec in _cases(rng, args.contiguous):
        timers = []
        leaves, fn = _minigen_fn(spec)

        def mg_cot(out: Any) -> Any:
            values = rng.standard_normal(out.shape, dtype=np.float32)
            return minigen.Tensor._make(_same_layout(values, backend.to_numpy(out.data)))

        timers.append(_Timer(leaves, fn, mg_cot))
        if torch:
            t_leaves, t_fn = _torch_fn(torch, spec)
            timers.append(_Timer(t_leaves, t_fn, lambda out: torch.randn_like(out)))
        for timer in timers:
            for _ in range(args.warmup):
                timer.step(record=False)
        # Interleaved in blocks, so both libraries see the same machine state. Not step by step:
        # after a call, OpenBLAS's and PyTorch's worker threads spin-wait for a while, and on a
        # small machine each library's spinning threads would steal the other's cores.
        done = 0
        while done < args.repeats:
            block = min(BLOCK, args.repeats - done)
            for timer in timers:
                time.sleep(0.2)  # let the other library's threads go to sleep
                timer.step(record=False)
                for _ in range(block):
                    timer.step()
            done += block
        row = {"forward_ms": _ms(timers[0].forward), "backward_ms": _ms(timers[0].backward)}
        line = f"{name:28s} {row['forward_ms']:8.2f} {row['backward_ms']:8.2f}"
        if torch:
            row["torch_forward_ms"] = _ms(timers[1].forward)
            row["torch_backward_ms"] = _ms(timers[1].backward)
            fx = row["forward_ms"] / row["torch_forward_ms"]
            bx = row["backward_ms"] / row["torch_backward_ms"]
            line += (f" {row['torch_forward_ms']:10.2f} {row['torch_backward_ms']:10.2f}"
                     f" {fx:6.2f} {bx:6.2f}")
        results[name] = row
        print(line, flush=True)
    if torch:
        mg = sum(r["forward_ms"] + r["backward_ms"] for r in results.values())
        pt = sum(r["torch_forward_ms"] + r["torch_backward_ms"] for r in results.values())
        print(f"\nall ops, forward + backward: minigen {mg:.1f} ms, torch {pt:.1f} ms, "
              f"ratio {mg / pt:.2f}")
    adam = adam_steps(torch, args.repeats)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "ops.json").write_text(json.dumps({"machine": about, "ops": results, "adam": adam},
                                             indent=2))
    (out / "ops.md").write_text(_markdown(about, results, adam))
    print(f"wrote {out / 'ops.json'} and {out / 'ops.md'}")
    return results


def _minigen_params(model: str) -> list[Any]:
    from minigen.models import dcgan, gan
    from minigen.models.vae import VAE

    if model == "vae":
        return VAE().parameters()
    module = gan if model == "gan" else dcgan
    return module.Generator().parameters() + module.Discriminator().parameters()


def adam_steps(torch: Any, repeats: int) -> dict[str, dict[str, float]]:
    """One Adam step over all the parameters of each model (random gradients), minigen and
    PyTorch (its default, per-parameter implementation on the CPU), in paused blocks."""
    import sys

    from minigen import optim

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import time_block, torch_models

    rows = {}
    for model in ("vae", "gan", "dcgan"):
        params = _minigen_params(model)
        for p in params:
            p.grad = minigen.randn(*p.shape)
        steps = {"minigen": optim.Adam(params, lr=2e-4, betas=(0.5, 0.999)).step}
        if torch:
            nets = torch_models(model)
            t_params = [p for net in (nets if isinstance(nets, tuple) else (nets,))
                        for p in net.parameters()]
            for p in t_params:
                p.grad = torch.randn_like(p)
            steps["torch"] = torch.optim.Adam(t_params, lr=2e-4, betas=(0.5, 0.999)).step
        times: dict[str, list[float]] = {name: [] for name in steps}
        for _ in range(max(1, repeats // BLOCK)):
            for name, step in steps.items():  # paused blocks, as run.py times model steps
                times[name].append(time_block(step, BLOCK))
        row = {"parameters": sum(p.numel() for p in params), "minigen_ms": _ms(times["minigen"])}
        if torch:
            row["torch_ms"] = _ms(times["torch"])
        rows[model] = row
        print(f"Adam step, {model} ({row['parameters']:,} parameters): minigen "
              f"{row['minigen_ms']:.2f} ms" + (f", torch {row['torch_ms']:.2f} ms, ratio "
                                               f"{row['minigen_ms'] / row['torch_ms']:.2f}"
                                               if torch else ""), flush=True)
    return rows


def _markdown(about: str, results: dict, adam: dict | None = None) -> str:
    peer = all("torch_forward_ms" in r for r in results.values())
    lines = [about, "", "| op | forward ms | backward ms |" + (
        " PyTorch forward | PyTorch backward | ratio fwd | ratio bwd |" if peer else ""),
        "|---|---|---|" + ("---|---|---|---|" if peer else "")]
    for name, r in results.items():
        line = f"| {name} | {r['forward_ms']:.2f} | {r['backward_ms']:.2f} |"
        if peer:
            line += (f" {r['torch_forward_ms']:.2f} | {r['torch_backward_ms']:.2f} | "
                     f"{r['forward_ms'] / r['torch_forward_ms']:.2f} | "
                     f"{r['backward_ms'] / r['torch_backward_ms']:.2f} |")
        lines.append(line)
    if adam:
        lines += ["", "Adam's step over all parameters (PyTorch: its default implementation):",
                  "", "| model | parameters | minigen ms | PyTorch ms | ratio |",
                  "|---|---|---|---|---|"]
        for model, r in adam.items():
            peer = (f"{r['torch_ms']:.2f} | {r['minigen_ms'] / r['torch_ms']:.2f}"
                    if "torch_ms" in r else "- | -")
            lines.append(f"| {model} | {r['parameters']:,} | {r['minigen_ms']:.2f} | {peer} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
