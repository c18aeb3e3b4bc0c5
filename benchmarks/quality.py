"""The quality the report's models reach, in the numbers of ``minigen.metrics``.

    python benchmarks/quality.py                          # the issue's settings, 3 seeds
    python benchmarks/quality.py --models gan --seeds 0 --epochs 20     # a shorter look
    python benchmarks/quality.py --runs runs/quality      # score runs trained before

For each model and seed: train on the bundled sample with the CLI's code path
(``minigen.report.train_model``: FC GAN and DCGAN at batch 64 with Adam 2e-4, betas
(0.5, 0.999), the non-saturating loss; the VAE at batch 128 with Adam 1e-3), then generate
1,000 images and score them against the sample's 1,000 test digits with the shipped
classifier (``minigen.metrics.evaluate_run``): the Fréchet distance and its real-vs-real
floor, the classifier score (10 splits), the smallest and largest class fraction, and for the
VAE the test ELBO and the IWAE bound (k = 1000). The medians over the seeds are compared with
the issue's targets. Results go to benchmarks/results/quality.json and quality.md.

A run folder that already holds a checkpoint of the right epoch count is scored, not
retrained, so an interrupted benchmark continues where it stopped.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

import minigen
from minigen.metrics import evaluate_run, load_classifier
from minigen.report import train_model

RESULTS = Path(__file__).resolve().parent / "results"
# name: (the model train_model builds, its options). "dcgan" is minigen's default DCGAN
# (BatchNorm in D, real label 0.9); "dcgan-dropout" has the discriminator of the PyTorch
# reference, Dropout(0.3) after each LeakyReLU and no BatchNorm, trained towards real label 1.
MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "gan": ("gan", {}),
    "gan-ema": ("gan", {"ema": 0.999}),  # the same training, scored through an EMA of G
    "dcgan": ("dcgan", {}),
    "dcgan-dropout": ("dcgan", {"d_dropout": 0.3, "d_batch_norm": False, "real_label": 1.0}),
    "vae": ("vae", {}),
}
EPOCHS = {"gan": 200, "gan-ema": 200, "dcgan": 100, "dcgan-dropout": 100, "vae": 100}
# (distance at most, classifier score at least): the targets, then its stretch goals
TARGETS = {"gan": (90.0, 7.6), "dcgan": (150.0, 6.3)}
TARGETS["dcgan-dropout"] = TARGETS["dcgan"]
TARGETS["gan-ema"] = TARGETS["gan"]
STRETCH = {"gan": (70.0, 7.9), "gan-ema": (70.0, 7.9)}


def options_of(model: str) -> dict[str, Any]:
    return MODELS[model][1]


def write_results(stem: str | Path, text: str, data: Any) -> None:
    """A benchmark's results: ``stem``.md (the table, also printed) and ``stem``.json."""
    out = Path(stem)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text)
    out.with_suffix(".json").write_text(json.dumps(data, indent=1))
    print(text)


def run_one(model: str, seed: int, epochs: int, root: Path, clf: Any, k: int,
            device: str) -> dict[str, Any]:
    out = root / f"{model}_seed{seed}"
    checkpoint = out / "checkpoint.npz"
    seconds = None
    done = checkpoint.is_file() and minigen.load(checkpoint)["epoch"] >= epochs
    if not done:
        started = time.perf_counter()
        name, options = MODELS[model]
        train_model(name, epochs=epochs, seed=seed, device=device, data="sample", out=out,
                    resume=str(checkpoint) if checkpoint.is_file() else None, progress=False,
                    **options)
        seconds = time.perf_counter() - started
        (out / "train_seconds.json").write_text(json.dumps(seconds))
    elif (out / "train_seconds.json").is_file():  # trained by an earlier call
        seconds = json.loads((out / "train_seconds.json").read_text())
    result = evaluate_run(out, n_samples=1000, k=k, classifier=clf, device=device, seed=seed,
                          progress=False)
    row = result["checkpoints"][-1]
    scores = {"seed": seed, "epochs": row["epoch"], "train_seconds": seconds,
              "fd": row["fd"], "fd_floor": row["fd_floor"],
              "classifier_score": row["classifier_score"],
              "min_fraction": row["histogram"]["min_fraction"],
              "max_fraction": row["histogram"]["max_fraction"]}
    for key in ("test_elbo", "iwae"):
        if key in row:
            scores[key] = row[key]
    if options_of(model).get("ema") is not None:  # the same run's generator as trained, too
        raw = evaluate_run(out, out / "evaluation_raw", n_samples=1000, k=k, classifier=clf,
                           device=device, seed=seed, progress=False, averaged=False)
        raw_row = raw["checkpoints"][-1]
        scores.update(raw_fd=raw_row["fd"], raw_classifier_score=raw_row["classifier_score"],
                      raw_min_fraction=raw_row["histogram"]["min_fraction"],
                      raw_max_fraction=raw_row["histogram"]["max_fraction"])
    print(f"{model} seed {seed}: " + ", ".join(f"{k} {v:.4g}" for k, v in scores.items()
                                              if isinstance(v, float)), flush=True)
    return scores


def _verdict(model: str, median: dict[str, float], prefix: str = "") -> dict[str, bool]:
    """The issue's targets against the medians (``prefix``: "raw_" for the same runs'
    generator as trained, when they kept an average of it)."""
    verdict = {}
    for name, goals in (("", TARGETS), ("stretch ", STRETCH)):
        if model in goals:
            fd_max, score_min = goals[model]
            verdict[f"{name}FD <= {fd_max:g}"] = median[prefix + "fd"] <= fd_max
            verdict[f"{name}score >= {score_min:g}"] = (median[prefix + "classifier_score"]
                                                       >= score_min)
    if model != "vae":
        verdict["classes 5-15 %"] = (median[prefix + "min_fraction"] >= 0.05
                                     and median[prefix + "max_fraction"] <= 0.15)
    return verdict


def summarise(model: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k in rows[0] if k not in ("seed", "epochs") and rows[0][k] is not None]
    median = {k: statistics.median(r[k] for r in rows if r[k] is not None) for k in keys}
    summary = {"median": median, "seeds": rows, "verdict": _verdict(model, median)}
    if "raw_fd" in median:
        summary["raw_verdict"] = _verdict(model, median, "raw_")
    return summary


def _yes_no(met: bool) -> str:
    return "met" if met else "MISSED"


def _or_dash(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def markdown(summary: dict[str, Any], accuracy: float, k: int) -> str:
    lines = ["| model | epochs | FD | floor | classifier score | classes (min / max) | "
             f"test ELBO | IWAE k={k} | train time per seed | targets (median) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for model, s in summary.items():
        m = s["median"]
        seconds = m.get("train_seconds")
        rows = [(model, "", "verdict")]
        if "raw_verdict" in s:
            rows.append((f"{model}: the same runs' G as trained", "raw_", "raw_verdict"))
        for label, p, verdict in rows:
            lines.append(
                f"| {label} | {s['seeds'][0]['epochs']} | {m[p + 'fd']:.1f} | "
                f"{m['fd_floor']:.1f} | {m[p + 'classifier_score']:.2f} | "
                f"{m[p + 'min_fraction']:.1%} / {m[p + 'max_fraction']:.1%} "
                f"| {_or_dash(m.get('test_elbo'))} | {_or_dash(m.get('iwae'))} | "
                f"{'' if seconds is None else f'{seconds / 60:.0f} min'} | "
                f"{', '.join(f'{k}: {_yes_no(v)}' for k, v in s[verdict].items())} |")
    return ("Medians over seeds, 1,000 generated images against the bundled sample's 1,000 "
            f"test digits; classifier test accuracy {accuracy:.2%}.\n\n" + "\n".join(lines)
            + "\n")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=None,
                        help="for every model (default: gan 200, dcgans 100, vae 100)")
    parser.add_argument("--runs", default="runs/quality", help="where the runs are kept")
    parser.add_argument("--k", type=int, default=1000, help="VAE: importance samples")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=str(RESULTS / "quality"),
                        help="results file stem (.json and .md are added)")
    args = parser.parse_args(argv)
    clf = load_classifier(device=args.device)
    summary = {}
    for model in args.models:
        epochs = args.epochs or EPOCHS[model]
        rows = [run_one(model, seed, epochs, Path(args.runs), clf, args.k, args.device)
                for seed in args.seeds]
        summary[model] = summarise(model, rows)
    accuracy = clf.meta["test_accuracy"]
    text = markdown(summary, accuracy, args.k)
    write_results(args.out, text, {"summary": summary, "classifier": clf.meta,
                                   "machine": platform.platform(),
                                   "processor": platform.processor()})
    return summary


if __name__ == "__main__":
    main()
