"""The VAE's test loss against the reference runs of the same network in PyTorch (issue 5).

    python benchmarks/vae_quality.py [--epochs 100] [--runs runs/vae_quality]

Trains the report's VAE on the bundled sample (4,000 train / 1,000 test digits; Adam 1e-3,
batch 128, seed 0) with the CLI's code path and reports the test loss (BCE summed over pixels
+ KL, per image, one z sample) at epoch 30 and its best within ``--epochs``, for the 2-D latent
(diagonal and full-covariance posterior) and a 20-D latent. The targets: 2-D best <= 154
within 100 epochs and <= 157 at epoch 30 (PyTorch: 152.7 around epoch 70, 156.0 at 30); 20-D
<= 112.5 (PyTorch 111.6); full covariance within 2 of the diagonal. Results go to
benchmarks/results/vae_quality.json and .md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import minigen
from minigen.report import train_model

RESULTS = Path(__file__).resolve().parent / "results"
CASES = {  # name: (latent_dim, posterior, target for the best test loss)
    "2-D diagonal": (2, "diagonal", 154.0),
    "2-D full covariance": (2, "full", None),  # within 2 of the diagonal
    "20-D diagonal": (20, "diagonal", 112.5),
}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", default="runs/vae_quality")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args(argv)
    rows = {}
    for name, (latent_dim, posterior, target) in CASES.items():
        out = Path(args.runs) / name.replace(" ", "_")
        s = train_model("vae", epochs=args.epochs, seed=args.seed, data="sample", out=out,
                        latent_dim=latent_dim, posterior=posterior, progress=False)
        test = minigen.load(out / "checkpoint.npz")["history"]["epoch"]["test_loss"]
        rows[name] = {"best": s["best_test_loss"], "best_epoch": s["best_epoch"],
                      "epoch_30": test[29] if len(test) >= 30 else None,
                      "target_best": target, "minutes": s["seconds"] / 60}
        print(name, json.dumps(rows[name]), flush=True)
    diag, full = rows["2-D diagonal"]["best"], rows["2-D full covariance"]["best"]
    rows["2-D full covariance"]["target_best"] = diag + 2
    lines = ["| VAE | best test loss (epoch) | at epoch 30 | target | met | minutes |",
             "|---|---|---|---|---|---|"]
    for name, r in rows.items():
        e30 = f"{r['epoch_30']:.1f}" if r["epoch_30"] is not None else "-"
        met = "yes" if r["best"] <= r["target_best"] else "no"
        lines.append(f"| {name} | {r['best']:.1f} ({r['best_epoch']}) | {e30} | "
                     f"<= {r['target_best']:.1f} | {met} | {r['minutes']:.1f} |")
    lines.append(f"\n2-D at epoch 30 target <= 157; full covariance minus diagonal: "
                 f"{full - diag:+.1f} (target within 2).")
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vae_quality.json").write_text(json.dumps(rows, indent=2))
    (folder / "vae_quality.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return rows


if __name__ == "__main__":
    main()
