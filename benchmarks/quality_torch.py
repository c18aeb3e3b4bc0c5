"""The PyTorch peer of ``quality.py``: the same GANs, the same recipe, scored by OUR classifier.

    python benchmarks/quality_torch.py                      # FC GAN, 200 epochs, seeds 0 1 2
    python benchmarks/quality_torch.py --models dcgan dcgan-dropout --seeds 0

The evaluation issue quotes PyTorch reference scores (FC GAN: distance 68.5, score 7.94),
but measured with a different classifier, whose real-vs-real floor (about 13) is twice ours
(6.4): distances and scores from two classifiers are not on one scale. This script removes
that doubt. It trains the networks of ``benchmarks/run.py`` (the same as minigen's defaults)
in PyTorch on the bundled sample with ``quality.py``'s recipe (batch 64, Adam 2e-4, betas
(0.5, 0.999), the non-saturating loss, a fresh z for each network's step, the last smaller
batch kept; the DCGAN with BatchNorm in D and one-sided label smoothing 0.9, minigen's
preset; "dcgan-dropout" with the issue's reference discriminator, see ``quality.MODELS``),
then scores 1,000 samples with minigen's shipped classifier exactly as ``quality.py`` does.

PyTorch is a benchmark-only dependency (``pip install torch==2.13.0``, the CPU build).
Results: benchmarks/results/quality_torch.json and .md; the 1,000 scored images of each run
are kept in ``--samples`` (``torch_<model>_seed<seed>.npz``, pixels in [0, 1]) so that
``classifier_sensitivity.py`` can score them again through other classifiers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from minigen.data import MNIST
from minigen.metrics import load_classifier, score_images
from minigen.report import PRESETS

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import EPOCHS, MODELS, write_results  # noqa: E402  (quality.py's ...)
from run import torch_models  # noqa: E402  (... and run.py's peer networks, defined once)

RESULTS = Path(__file__).resolve().parent / "results"
GANS = ("gan", "dcgan", "dcgan-dropout")


def train(model: str, seed: int, epochs: int) -> tuple[Any, float]:
    """Train ``model`` in PyTorch; returns the generator and the seconds it took."""
    import torch
    import torch.nn.functional as tF

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    images = torch.from_numpy(MNIST(split="train", source="sample").images * 2 - 1)
    g, d = torch_models(model)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    name, options = MODELS[model]  # as in quality.py, else minigen's preset
    real_label = options.get("real_label", PRESETS[name].get("real_label", 1.0))
    started = time.perf_counter()
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(len(images)))
        for start in range(0, len(images), 64):
            real = images[order[start:start + 64]]
            n = real.shape[0]
            real_logits = d(real)
            fake_logits = d(g(torch.randn(n, 100)).detach())
            d_loss = (tF.binary_cross_entropy_with_logits(
                real_logits, torch.full_like(real_logits, real_label))
                + tF.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
            opt_d.zero_grad()
            d_loss.backward()
            opt_d.step()
            fake_logits = d(g(torch.randn(n, 100)))
            g_loss = tF.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
    return g, time.perf_counter() - started


def run_one(model: str, seed: int, epochs: int, classifier: Any,
            samples: Path | None = None) -> dict[str, Any]:
    import torch

    g, seconds = train(model, seed, epochs)
    g.eval()
    with torch.no_grad():
        images = g(torch.randn(1000, 100, generator=torch.Generator().manual_seed(seed)))
    images = images.numpy().reshape(1000, 1, 28, 28).astype(np.float32)
    if samples is not None:
        samples.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(samples / f"torch_{model}_seed{seed}.npz",
                            images=(images + 1) / 2, epochs=epochs, seed=seed)
    s = score_images(images, classifier, value_range=(-1.0, 1.0), seed=seed)
    row = {"seed": seed, "epochs": epochs, "train_seconds": seconds, "fd": s["fd"],
           "fd_floor": s["fd_floor"], "classifier_score": s["classifier_score"],
           "min_fraction": s["histogram"]["min_fraction"],
           "max_fraction": s["histogram"]["max_fraction"]}
    print(f"torch {model} seed {seed}: " + ", ".join(
        f"{k} {v:.4g}" for k, v in row.items() if isinstance(v, float)), flush=True)
    return row


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["gan"], choices=GANS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument("--out", default=str(RESULTS / "quality_torch"),
                        help="results file stem (.json and .md are added)")
    parser.add_argument("--samples", default="runs/quality_torch",
                        help="where each run's 1,000 images are kept ('' to keep none)")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: pip install torch==2.13.0 (the CPU build)")
        return {}
    if args.threads:
        torch.set_num_threads(args.threads)
    classifier = load_classifier()
    summary = {}
    for model in args.models:
        rows = [run_one(model, seed, args.epochs or EPOCHS[model], classifier,
                        Path(args.samples) if args.samples else None)
                for seed in args.seeds]
        summary[model] = {"median": {k: statistics.median(r[k] for r in rows)
                                     for k in rows[0] if k not in ("seed", "epochs")},
                          "seeds": rows}
    lines = ["PyTorch 2.13 (CPU) on the bundled sample with quality.py's recipe, 1,000 samples "
             "scored by minigen's shipped classifier "
             f"(test accuracy {classifier.meta['test_accuracy']:.2%}); medians over seeds "
             f"{args.seeds}.", "",
             "| model | epochs | FD | floor | classifier score | classes (min / max) | "
             "train time |", "|---|---:|---:|---:|---:|---:|---:|"]
    for model, s in summary.items():
        m = s["median"]
        lines.append(f"| {model} | {s['seeds'][0]['epochs']} | {m['fd']:.1f} | "
                     f"{m['fd_floor']:.1f} | {m['classifier_score']:.2f} | "
                     f"{m['min_fraction']:.1%} / {m['max_fraction']:.1%} | "
                     f"{m['train_seconds'] / 60:.0f} min |")
    text = "\n".join(lines) + "\n"
    write_results(args.out, text, summary)
    return summary


if __name__ == "__main__":
    main()
