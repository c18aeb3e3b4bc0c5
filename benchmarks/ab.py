"""Two versions of minigen, and PyTorch, on one training step, interleaved in one process.

    python benchmarks/ab.py a2dbdfb                       # this tree against a commit
    python benchmarks/ab.py a2dbdfb --models dcgan --batches 64,128 --blocks 15

``benchmarks/run.py`` measures minigen against PyTorch; this measures a change: the tree you
have against an earlier commit, each beside PyTorch, in blocks that take turns after a pause
(``run.time_block``), so that a busy machine slows all three alike. The earlier commit is
exported with ``git archive`` into a temporary folder and its package renamed
``minigen_before`` (every ``minigen`` in its source), so both import in one process. Writes
``benchmarks/results/ab_<commit>.md`` and ``.json``. Needs torch (the CPU build).
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

import run  # noqa: E402  (benchmarks/run.py: time_block, torch_step)


def export(commit: str, into: Path) -> str:
    """``commit``'s minigen package as ``minigen_before`` under ``into``; its full hash."""
    full = subprocess.run(["git", "rev-parse", commit], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout.strip()
    archive = subprocess.run(["git", "archive", full, "minigen"], cwd=ROOT,
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    package = into / "minigen_before"
    (into / "minigen").rename(package)
    for path in package.rglob("*.py"):
        path.write_text(re.sub(r"\bminigen\b", "minigen_before", path.read_text()))
    return full


def step(mg: Any, model: str, batch: int) -> Any:
    """One training step of ``model`` in the minigen module ``mg`` (as run.py's steps)."""
    models = importlib.import_module(mg.__name__ + ".models")
    mg.manual_seed(0)
    if model == "vae":
        net = models.VAE()
        opt = mg.optim.Adam(net.parameters(), lr=1e-3)
        x = mg.rand(batch, 1, 28, 28)

        def vae_step() -> None:
            loss, _, _ = models.vae_loss(net(x), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return vae_step
    kind = models.gan if model == "gan" else models.dcgan
    G, D = kind.Generator(), kind.Discriminator()
    opt_g = mg.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = mg.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = mg.rand(batch, 1, 28, 28) * 2 - 1

    def gan_step() -> None:
        d_loss = models.discriminator_loss(D(real), D(G(mg.randn(batch, 100)).detach()))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = models.generator_loss(D(G(mg.randn(batch, 100))))
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
    return gan_step


def compare(before: Any, after: Any, model: str, batch: int, blocks: int) -> dict[str, Any]:
    steps = {"before": step(before, model, batch), "after": step(after, model, batch),
             "torch": run.torch_step(model, batch)}
    n = 3 if model == "dcgan" else 10
    for s in steps.values():  # warm-up
        s()
        s()
    times: dict[str, list[float]] = {k: [] for k in steps}
    for _ in range(blocks):
        for k, s in steps.items():
            times[k].append(run.time_block(s, n))

    def ratio(a: str, b: str) -> float:
        return statistics.median(x / y for x, y in zip(times[a], times[b]))

    return {"model": model, "batch": batch,
            **{f"{k}_ms": 1e3 * statistics.median(v) for k, v in times.items()},
            "after_vs_before": ratio("after", "before"),
            "before_vs_torch": ratio("before", "torch"), "after_vs_torch": ratio("after", "torch")}


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("commit", help="the earlier version: a commit, tag or branch")
    parser.add_argument("--models", default="vae,gan,dcgan")
    parser.add_argument("--batches", default="128")
    parser.add_argument("--blocks", type=int, default=15)
    args = parser.parse_args(argv)
    import torch  # (the CPU build: pip install torch==2.13.0)

    torch.set_num_threads(os.cpu_count() or 1)
    import minigen

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        full = export(args.commit, Path(tmp))
        sys.path.insert(0, tmp)
        before = importlib.import_module("minigen_before")
        print(f"before: {full[:12]} ({before.__file__}); after: this tree ({minigen.__file__})")
        print(f"{'model':6} {'batch':>5} {'before':>8} {'after':>8} {'torch':>8}  after/before  "
              "before/torch  after/torch")
        for model in args.models.split(","):
            for batch in (int(b) for b in args.batches.split(",")):
                r = compare(before, minigen, model, batch, args.blocks)
                rows.append(r)
                print(f"{model:6} {batch:5d} {r['before_ms']:8.1f} {r['after_ms']:8.1f} "
                      f"{r['torch_ms']:8.1f}  {r['after_vs_before']:12.3f}  "
                      f"{r['before_vs_torch']:12.3f}  {r['after_vs_torch']:11.3f}", flush=True)
    out = ROOT / "benchmarks" / "results" / f"ab_{full[:7]}"
    out.with_suffix(".json").write_text(json.dumps({"before": full, "machine": run.machine(),
                                                    "rows": rows}, indent=1) + "\n")
    lines = [f"This tree against {full[:12]}, each beside PyTorch, blocks interleaved in one "
             f"process (`python benchmarks/ab.py {args.commit}`); ms per training step, "
             "medians of the blocks, and the medians of the block-by-block ratios.", "",
             f"Machine: {json.dumps(run.machine())}", "",
             "| model | batch | before | after | PyTorch | after / before | before / PyTorch | "
             "after / PyTorch |", "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['model']} | {r['batch']} | {r['before_ms']:.1f} | {r['after_ms']:.1f} | "
              f"{r['torch_ms']:.1f} | {r['after_vs_before']:.3f} | {r['before_vs_torch']:.3f} | "
              f"{r['after_vs_torch']:.3f} |" for r in rows]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print(f"wrote {out}.md and .json")
    return rows


if __name__ == "__main__":
    main()
