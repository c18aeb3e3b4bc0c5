"""Where a training step's time goes: GEMM, im2col/col2im, elementwise, optimizer, Python.

    python benchmarks/profile_step.py [--models vae,gan,dcgan] [--batch 128] [--steps 20]
                                      [--minigen PATH --label before]

Runs the step of ``benchmarks/run.py`` under cProfile and sorts each function's own time
(``tottime``) into five kinds:

* GEMM: the matrix products (``matmul``, ``vecdot``, ``tensordot``);
* im2col/col2im: the conv ops' copies (``im2col``, ``col2im``, ``stack``, the padding);
* optimizer: everything inside ``Optimizer.step`` (its array passes and its Python);
* elementwise: the other array functions and NumPy methods (``{method ...}``, ufuncs,
  ``numpy``'s and ``array_api_compat``'s wrappers);
* Python: the rest, minigen's own bookkeeping (autograd, checks, modules) and the
  interpreter's.

cProfile's own overhead inflates the Python share (every call is counted); the step's real
time is measured apart, without the profiler. Writes ``benchmarks/results/profile.md`` and
``.json`` (``--out`` to name another folder), adding this run's rows (its ``--label``) to the
rows of other labels already there: profile an earlier tree with ``--minigen`` (a folder
holding that tree's ``minigen`` package, e.g. a ``git worktree``) and ``--label before``, then
this one, and the table shows both.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from pathlib import Path
from typing import Any

if "--minigen" in sys.argv:  # another tree's package, imported before benchmarks/run.py's
    sys.path.insert(0, str(Path(sys.argv[sys.argv.index("--minigen") + 1]).resolve()))
sys.path.insert(1, str(Path(__file__).resolve().parent))
import run  # noqa: E402  (benchmarks/run.py: the steps)

KINDS = ("GEMM", "im2col/col2im", "elementwise", "optimizer", "Python")
GEMM = ("matmul", "vecdot", "tensordot", "dot")
CONV_COPIES = ("im2col", "col2im", "stack", "_padded_batch_last", "pad")


def kind_of(where: tuple[str, int, str], inside_step: set[tuple]) -> str:
    filename, _, name = where
    if where in inside_step:
        return "optimizer"
    if name in GEMM or "matmul" in name:
        return "GEMM"
    if name in CONV_COPIES or "conv.py" in filename and name in ("im2col", "col2im"):
        return "im2col/col2im"
    numpy_like = ("numpy" in filename or "array_api" in filename or filename == "~"
                  or name.startswith("<method") or name.startswith("<built-in method numpy"))
    return "elementwise" if numpy_like else "Python"


def profile(model: str, batch: int, steps: int) -> dict[str, Any]:
    step = run.minigen_step(model, batch)
    for _ in range(3):
        step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    real_ms = (time.perf_counter() - started) / steps * 1e3
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # (file, line, name) -> (cc, nc, tt, ct, callers)
    # the functions called (at any depth) from an optimizer's step: its time is the optimizer's
    inside = set()
    frontier = [k for k in stats if k[2] == "step" and "optim" in k[0]]
    while frontier:
        key = frontier.pop()
        if key in inside:
            continue
        inside.add(key)
        frontier += [callee for callee, row in stats.items() if key in row[4]]
    total = sum(row[2] for row in stats.values())
    shares = dict.fromkeys(KINDS, 0.0)
    for key, row in stats.items():
        shares[kind_of(key, inside)] += row[2]
    return {"model": model, "batch": batch, "real_ms": real_ms,
            "profiled_ms": 1e3 * total / steps,
            "shares": {k: v / total for k, v in shares.items()}}


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(run.MODELS + run.VARIANTS))
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--minigen", type=Path, help="profile the minigen package in this "
                        "folder instead (read before anything is imported)")
    parser.add_argument("--label", default="after", help="this tree's name in the table")
    parser.add_argument("--out", type=Path, default=run.RESULTS)
    args = parser.parse_args(argv)
    import minigen

    print(f"profiling {Path(minigen.__file__).parent} as {args.label!r}")
    path = args.out / "profile.json"
    rows = [r for r in (json.loads(path.read_text()) if path.exists() else [])
            if r["label"] != args.label]
    print(f"{'model':13} {'ms':>7} " + " ".join(f"{k:>13}" for k in KINDS))
    for model in args.models.split(","):
        heavy = model.startswith("dcgan")
        r = profile(model, args.batch, max(2, args.steps // (5 if heavy else 1)))
        r["label"] = args.label
        rows.append(r)
        print(f"{model:13} {r['real_ms']:7.1f} "
              + " ".join(f"{100 * r['shares'][k]:12.0f}%" for k in KINDS), flush=True)
    rows.sort(key=lambda r: (r["model"], r["batch"], r["label"] != "before", r["label"]))
    lines = ["Where a training step's time goes (`python benchmarks/profile_step.py`): each "
             "function's own time under cProfile, by kind (see the script's docstring), as a "
             "share of the profiled step; ms of each kind = share x the step's time, which is "
             "measured without the profiler. 'before' is the engine before the tiny-core "
             "redesign (commit a2dbdfb), 'after' this tree.", "",
             f"Machine: {json.dumps(run.machine())}", "",
             "| model | batch | tree | ms/step | " + " | ".join(KINDS) + " |",
             "|---|---|---|---|" + "---|" * len(KINDS)]
    lines += [f"| {r['model']} | {r['batch']} | {r['label']} | {r['real_ms']:.1f} | "
              + " | ".join(f"{100 * r['shares'][k]:.0f}% ({r['shares'][k] * r['real_ms']:.1f})"
                           for k in KINDS) + " |" for r in rows]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "profile.md").write_text("\n".join(lines) + "\n")
    path.write_text(json.dumps(rows, indent=1) + "\n")
    return rows


if __name__ == "__main__":
    main()
