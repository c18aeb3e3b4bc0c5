"""One training step of each of the report's models on a CUDA GPU: minigen (CuPy) against
PyTorch (CUDA), the same steps as ``run.py`` (forward, backward, Adam; float32).

    python benchmarks/gpu.py [--batch-sizes 64,128,512] [--repeats 15]

A GPU runs asynchronously: each timed step ends with the library's synchronisation
(``cupy.cuda.Device().synchronize()``, ``torch.cuda.synchronize()``), so a step's time is the
time until its last kernel has finished. Blocks of steps of each library in turn, as in
``run.py``; the median block, and the spread of the block-by-block ratios. Also the memory
each library's allocator holds after the steps (CuPy's memory pool, PyTorch's reserved
memory: both keep freed blocks for reuse). Results go to benchmarks/results/gpu.json and .md.
Needs CuPy and a CUDA build of PyTorch; this machine has neither, so the committed results
come from a GPU machine, named in the file.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

from run import RESULTS, minigen_step, time_block, torch_step

import minigen


def synced(step: Callable[[], None], sync: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        step()
        sync()
    return run


def compare(model: str, batch: int, repeats: int) -> dict[str, Any]:
    import cupy
    import torch

    pool = cupy.get_default_memory_pool()
    pool.free_all_blocks()
    torch.cuda.empty_cache()
    ours = synced(minigen_step(model, batch, device="cuda"), cupy.cuda.Device().synchronize)
    theirs = synced(torch_step(model, batch, device="cuda"), torch.cuda.synchronize)
    for _ in range(5):  # warm-up: kernels compiled (CuPy) or chosen (cuDNN), pools filled
        ours()
        theirs()
    mine, peer = [], []
    for _ in range(repeats):
        mine.append(time_block(ours))
        peer.append(time_block(theirs))
    ratios = sorted(m / t for m, t in zip(mine, peer))
    q = statistics.quantiles(ratios, n=4)
    return {"model": model, "batch": batch, "minigen_ms": 1e3 * statistics.median(mine),
            "torch_ms": 1e3 * statistics.median(peer), "ratio": statistics.median(ratios),
            "ratio_iqr": (q[0], q[2]), "minigen_pool_mb": pool.total_bytes() / 2**20,
            "torch_reserved_mb": torch.cuda.memory_reserved() / 2**20}


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [f"One training step on {m['gpu']} (CuPy {m['cupy']}, PyTorch {m['torch']}), "
             "float32, milliseconds; memory held by each allocator after the steps.", "",
             "| model | batch | minigen | PyTorch | ratio (IQR) | minigen pool MB | "
             "PyTorch reserved MB |", "|---|---:|---:|---:|---|---:|---:|"]
    for r in report["rows"]:
        lo, hi = r["ratio_iqr"]
        lines.append(f"| {r['model']} | {r['batch']} | {r['minigen_ms']:.2f} | "
                     f"{r['torch_ms']:.2f} | {r['ratio']:.2f} ({lo:.2f}-{hi:.2f}) | "
                     f"{r['minigen_pool_mb']:.0f} | {r['torch_reserved_mb']:.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch-sizes", default="64,128,512")
    parser.add_argument("--models", default="vae,gan,dcgan")
    parser.add_argument("--repeats", type=int, default=15, help="timed blocks per library")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    import cupy
    import torch

    minigen.device("cuda")  # (a clear error without CuPy or a GPU)
    report: dict[str, Any] = {"machine": {
        "gpu": cupy.cuda.runtime.getDeviceProperties(0)["name"].decode(),
        "cupy": cupy.__version__, "torch": torch.__version__, "numpy": __import__(
            "numpy").__version__, "python": platform.python_version()}, "rows": []}
    for model in args.models.split(","):
        for batch in (int(b) for b in args.batch_sizes.split(",")):
            row = compare(model, batch, args.repeats)
            report["rows"].append(row)
            print(f"{model} batch {batch}: minigen {row['minigen_ms']:.2f} ms, PyTorch "
                  f"{row['torch_ms']:.2f} ms, ratio {row['ratio']:.2f}", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu.json").write_text(json.dumps(report, indent=1))
    (out / "gpu.md").write_text(markdown(report))
    print(markdown(report))
    return report


if __name__ == "__main__":
    main()
