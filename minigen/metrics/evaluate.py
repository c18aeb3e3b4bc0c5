"""Score images, and score a training run: what ``python -m minigen evaluate RUN_DIR`` does.

:func:`score_images` gives every number for one set of images: the Fréchet distance to the
real test images with its floor, the classifier score, the class histogram, and the
classifier's own test accuracy (a score from a bad classifier means nothing).

:func:`evaluate_run` loads a run folder's checkpoint(s) (``checkpoint.npz``, and any other
training checkpoints in the folder, e.g. kept copies ``epoch_010.npz``), rebuilds the models
from the weights, generates ``n_samples`` images from each checkpoint and scores them; for a
VAE it adds the test ELBO and the importance-weighted bound. Each epoch's 64 fixed-noise
images, kept in the history, give a score per epoch (noisier: 64 images), plotted with
D(x) and D(G(z)) for a GAN or the test loss for a VAE. It writes ``scores.md`` (a table),
``scores.json`` and ``scores_per_epoch.png`` into ``out`` (default ``RUN_DIR/evaluation``).
"""

from __future__ import annotations

import json
import os
import weakref
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullFormatter, ScalarFormatter

import minigen
from minigen.errors import DataError
from minigen.metrics import likelihood, scores
from minigen.metrics.classifier import DigitClassifier, load_classifier, load_dataset, predict
from minigen.metrics.runs import build_models, find_checkpoints, generate

# classifier -> {(n, seed): reference}; weak, so a classifier that goes away takes its cache
_references: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def real_reference(classifier: DigitClassifier, n: int | None = None,
                   seed: int = 0) -> dict[str, Any]:
    """The real side of every comparison, computed once per classifier and size.

    ``features``/``probs``: the first ``n`` test images (default: all) of the classifier's own
    data set (meta ``dataset`` and ``source``); ``other``: features of ``n`` training images
    (a seeded choice, their indices in ``other_index``), disjoint from them, for
    :func:`scores.frechet_floor`. Also ``images`` and ``labels`` of the test images used.
    """
    cache = _references.setdefault(classifier, {})
    key = (-1 if n is None else n, seed)
    if key not in cache:
        meta = classifier.meta
        # the classifier's own data: the folder it was trained from, never the sample in
        # place of full MNIST (nor the reverse); "auto" for weights that do not say
        source = {"sample": "sample", None: "auto"}.get(meta.get("source"), "full")
        root = meta.get("folder") if source == "full" else None
        dataset = meta.get("dataset", "mnist")
        test, train = (load_dataset(dataset, split, source, root) for split in ("test", "train"))
        n_used = len(test) if n is None else min(n, len(test))
        pick = np.random.default_rng(seed).permutation(len(train))[:n_used]
        features, probs = predict(classifier, test.images[:n_used])
        other, _ = predict(classifier, train.images[pick])
        cache[key] = {"features": features, "probs": probs, "other": other,
                      "other_index": pick, "images": test.images[:n_used],
                      "labels": test.labels[:n_used]}
    return cache[key]


def score_images(images: Any, classifier: DigitClassifier | None = None, *,
                 value_range: tuple[float, float] = (0.0, 1.0), splits: int = 10,
                 reference: dict[str, Any] | None = None, seed: int = 0) -> dict[str, Any]:
    """Every score of ``images`` (N, 1, 28, 28) with pixels in ``value_range``.

    Returns ``fd`` (against as many real test images as there are images, at most all of
    them), ``fd_floor`` (two disjoint real sets of that size), ``classifier_score`` and
    ``classifier_score_std`` (over ``splits`` parts, or one part, std 0, when there are fewer
    than 10 images per part), ``histogram`` (:func:`scores.class_histogram`), ``n`` and
    ``classifier_accuracy``. ``reference``: a :func:`real_reference` (default: all the test
    images of the classifier's data set).

    >>> from minigen.models import gan
    >>> G, z = gan.Generator(), minigen.randn(100, 100)
    >>> s = score_images(G(z), value_range=(-1, 1))   # an untrained G: far from the data
    >>> s["fd"] > 10 * s["fd_floor"]
    True
    """
    classifier = classifier or load_classifier()
    features, probs = predict(classifier, images, value_range=value_range)
    n = features.shape[0]
    ref = reference or real_reference(classifier, None, seed)
    m = min(n, ref["features"].shape[0])
    mean, std = scores.classifier_score(probs, splits if n >= 10 * splits else 1)
    return {
        "n": n, "fd": scores.frechet_distance(features, ref["features"][:m]),
        "fd_floor": scores.frechet_floor(ref["features"][:m], ref["other"], m, seed),
        "classifier_score": mean, "classifier_score_std": std,
        "histogram": scores.class_histogram(probs),
        "classifier_accuracy": classifier.meta.get("test_accuracy"),
    }


def _per_epoch(history: dict[str, Any], classifier: DigitClassifier,
               seed: int) -> dict[str, list[float]]:
    """Scores of the 64 fixed-noise images each epoch kept (uint8) in the run's history."""
    frames = history.get("samples") or []
    if not frames:
        return {}
    n = int(np.asarray(frames[0]).shape[0])
    ref = real_reference(classifier, n, seed)
    result: dict[str, list[float]] = {"fd": [], "classifier_score": [], "entropy": []}
    for frame in frames:
        images = np.asarray(frame, dtype=np.float32).reshape(-1, 1, 28, 28) / np.float32(255)
        s = score_images(images, classifier, reference=ref, seed=seed)
        result["fd"].append(s["fd"])
        result["classifier_score"].append(s["classifier_score"])
        result["entropy"].append(s["histogram"]["entropy"])
    result["fd_floor"] = [s["fd_floor"]]
    result["n"] = [n]
    return result


def evaluate_run(run_dir: str | os.PathLike, out: str | os.PathLike | None = None, *,
                 n_samples: int = 1000, k: int = 1000, classifier: DigitClassifier | None = None,
                 device: Any = "cpu", seed: int = 0, progress: bool = True,
                 averaged: bool = True) -> dict[str, Any]:
    """Score a training run's checkpoints; write ``scores.md``, ``scores.json`` and
    ``scores_per_epoch.png`` into ``out`` (default ``RUN_DIR/evaluation``).

    Parameters
    ----------
    run_dir : a folder written by ``minigen.train`` (``python -m minigen train ...``), or one
        checkpoint file to score alone (default ``out``: its folder's ``evaluation``).
    n_samples : images generated per checkpoint (1,000 matches the sample's test split).
    k : importance samples for the VAE's bound of log p(x) (0 to skip it).
    classifier : default :func:`load_classifier` of the run's data set (the one its
        checkpoint names; MNIST for runs that name none). A classifier trained on another
        data set than the one the run names is refused: its scores would mean nothing.
    device, seed : where to generate; the seed of the latent codes and of the floor's choice.
    averaged : for a run that kept an average of G's weights (``train --ema``), score that
        average (default) or, False, the generator as trained.

    Returns
    -------
    {"kind", "run_dir", "dataset" (None if the run does not say), "classifier": meta,
     "checkpoints": [{"epoch", "path", scores...}],
     "per_epoch": {...}, "discriminator": {...} (GAN), "files": [...]}
    """
    run_dir = Path(run_dir)
    folder = run_dir.parent if run_dir.is_file() else run_dir  # one checkpoint: its run's
    out = Path(out) if out is not None else folder / "evaluation"
    checkpoints = find_checkpoints(run_dir)
    kind = checkpoints[-1][2]["kind"]
    # None: a run that does not say (older ones; train_gan/train_vae called without dataset=)
    dataset = checkpoints[-1][2].get("config", {}).get("dataset")
    classifier = classifier or load_classifier(dataset or "mnist", device=device)
    judged_on = classifier.meta.get("dataset", "mnist")
    if dataset is not None and judged_on != dataset:
        raise DataError(f"{run_dir} was trained on {dataset}, but the classifier "
                        f"({classifier.meta.get('weights', 'given')}) was trained on "
                        f"{judged_on}: its scores would mean nothing. Leave the classifier out "
                        f"to use the {dataset} one (train it once with python -m "
                        f"minigen.metrics train-classifier --dataset {dataset})")
    result: dict[str, Any] = {"kind": kind, "run_dir": str(run_dir), "dataset": dataset,
                              "classifier": dict(classifier.meta), "checkpoints": [],
                              "averaged_generator": averaged and bool(checkpoints[-1][2].get(
                                  "config", {}).get("averaged_generator"))}
    ref = real_reference(classifier, n_samples, seed)
    for i, (epoch, path, ckpt) in enumerate(checkpoints):
        models = {name: m.to(device) for name, m in build_models(ckpt, averaged).items()}
        images, value_range = generate(models, n_samples, seed)
        row = {"epoch": epoch, "path": str(path),
               **score_images(images, classifier, value_range=value_range, reference=ref,
                              seed=seed)}
        if kind == "vae" and i == len(checkpoints) - 1:
            vae, x = models["vae"], minigen.tensor(ref["images"], device=device)
            row["test_elbo"] = float(likelihood.elbo(vae.encode, vae.decode, x, seed=seed,
                                                     analytic_kl=vae.posterior == "diagonal"
                                                     ).mean())
            if k > 0:
                row["iwae_k"] = k
                row["iwae"] = float(likelihood.iwae_bound(vae.encode, vae.decode, x, k,
                                                          seed=seed).mean())
        if progress:
            print(f"epoch {epoch}: FD {row['fd']:.2f} (floor {row['fd_floor']:.2f}), "
                  f"score {row['classifier_score']:.2f}", flush=True)
        result["checkpoints"].append(row)
    history = checkpoints[-1][2].get("history", {})
    result["per_epoch"] = _per_epoch(history, classifier, seed)
    epochs = history.get("epoch", {})
    if kind == "gan" and epochs.get("d_x") and epochs.get("d_g_z"):
        result["discriminator"] = scores.discriminator_summary(epochs["d_x"], epochs["d_g_z"])
    result["files"] = [str(p) for p in (_write_table(result, out / "scores.md"),
                                        _write_json(result, out / "scores.json"),
                                        _plot(result, history, out / "scores_per_epoch.png"))
                       if p is not None]
    return result


def _write_json(result: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1))
    return path


def format_table(rows: list[dict[str, Any]], accuracy: float | None,
                 dataset: str | None = None) -> str:
    """Markdown: one row per scored image set (``label`` or ``epoch`` names it); the note
    under it gives the classifier's test ``accuracy`` (on ``dataset``'s test images)."""
    extra = any("test_elbo" in r for r in rows)
    head = "| | FD | floor | classifier score | class entropy | smallest / largest class |"
    line = "|---|---:|---:|---:|---:|---:|"
    if extra:
        head, line = head + " test ELBO | IWAE |", line + "---:|---:|"
    lines = [head, line]
    for r in rows:
        h = r["histogram"]
        name = r.get("label", f"epoch {r.get('epoch')}")
        cells = [name, f"{r['fd']:.2f}", f"{r['fd_floor']:.2f}",
                 f"{r['classifier_score']:.2f} ± {r['classifier_score_std']:.2f}",
                 f"{h['entropy']:.3f}", f"{h['min_fraction']:.1%} / {h['max_fraction']:.1%}"]
        if extra:
            iwae = f"{r['iwae']:.2f} (k={r['iwae_k']})" if "iwae" in r else ""
            cells += [f"{r['test_elbo']:.2f}" if "test_elbo" in r else "", iwae]
        lines.append("| " + " | ".join(cells) + " |")
    on = f" on {dataset}" if dataset else ""
    note = "" if accuracy is None else f"Classifier test accuracy{on}: {accuracy:.2%}. "
    return "\n".join(lines) + "\n\n" + note + (
        "FD: Fréchet distance of the classifier's 128 features (lower is better; no model can "
        "be told from data below the floor, two disjoint sets of real images of the same "
        "size). Classifier score: exp E KL(p(y|x) || p(y)), 10 at best. Entropy of the "
        "predicted classes: ln 10 = 2.303 when even."
        + (" ELBO and IWAE in nats per image." if extra else "") + "\n")


def _write_table(result: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    on = f", {result['dataset']}" if result["dataset"] else ""
    text = f"# Scores of {result['run_dir']} ({result['kind']}{on})\n\n"
    if result.get("averaged_generator"):
        text += "The generator scored is the run's average of G's weights (train --ema).\n\n"
    text += format_table(result["checkpoints"], result["classifier"].get("test_accuracy"),
                         result["classifier"].get("dataset", "mnist"))
    if "discriminator" in result:
        d = result["discriminator"]
        text += (f"\nD(x) {d['d_x_last']:.3f}, D(G(z)) {d['d_g_z_last']:.3f} over the last "
                 f"epochs: {d['verdict']}.\n")
    path.write_text(text)
    return path


def _plot(result: dict[str, Any], history: dict[str, Any], path: Path) -> Path | None:
    per_epoch = result["per_epoch"]
    if not per_epoch:
        return None
    fig = Figure(figsize=(12, 3.4))
    fig.subplots_adjust(wspace=0.3)
    FigureCanvasAgg(fig)  # no pyplot state, no window
    epochs = np.arange(1, len(per_epoch["fd"]) + 1)
    ax = fig.add_subplot(1, 3, 1)
    n, full = per_epoch["n"][0], result["checkpoints"]
    ax.plot(epochs, per_epoch["fd"], marker="o", ms=3, label=f"{n} fixed-noise samples")
    ax.axhline(per_epoch["fd_floor"][0], color="C0", ls="--", label=f"floor, {n} vs {n} real")
    ax.plot([r["epoch"] for r in full], [r["fd"] for r in full], "s", color="C3",
            label=f"{full[-1]['n']} samples")
    ax.axhline(full[-1]["fd_floor"], color="C3", ls=":",
               label=f"floor, {full[-1]['n']} vs {full[-1]['n']} real")
    ax.set(xlabel="epoch", ylabel="Fréchet distance", yscale="log", title="FD (lower: better)")
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.legend(fontsize=7)
    ax = fig.add_subplot(1, 3, 2)
    ax.plot(epochs, per_epoch["classifier_score"], marker="o", ms=3)
    ax.set(xlabel="epoch", ylabel="classifier score", ylim=(1, 10.2),
           title="classifier score (10: best)")
    ax = fig.add_subplot(1, 3, 3)
    epoch_hist = history.get("epoch", {})
    if "discriminator" in result:
        d = result["discriminator"]
        ax.plot(epochs[:len(d["d_x"])], d["d_x"][:len(epochs)], marker=".", label="D(x)")
        ax.plot(epochs[:len(d["d_g_z"])], d["d_g_z"][:len(epochs)], marker=".",
                label="D(G(z))")
        ax.axhline(0.5, color="grey", ls=":")
        ax.set(xlabel="epoch", ylim=(0, 1), title="discriminator outputs")
        ax.legend(fontsize=7)
    elif epoch_hist.get("test_loss"):
        ax.plot(epochs[:len(epoch_hist["test_loss"])], epoch_hist["test_loss"][:len(epochs)],
                marker=".")
        ax.set(xlabel="epoch", ylabel="nats per image", title="test loss (-ELBO)")
    for ax in fig.axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(f"{result['run_dir']}: scores of each epoch's fixed-noise samples", y=1.04,
                 fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path
