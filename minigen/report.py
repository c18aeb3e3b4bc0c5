"""The report, reproduced: train the three models and write every figure and an index page.

:func:`train_model` is what ``python -m minigen train {gan,dcgan,vae}`` runs: build the model,
load the data, train (with checkpoints and resume), then draw the model's final figures.
:func:`make_report` is ``python -m minigen report``: all three (and the full-covariance VAE),
then ``report.md`` with the report's figures, their captions and the final numbers.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import minigen
from minigen import backend, viz
from minigen.data import MNIST, DataLoader, FashionMNIST
from minigen.models import VAE, dcgan, gan
from minigen.train import train_gan, train_vae

# Default settings: about 20 minutes for everything on a 2-core CPU with the bundled sample.
PRESETS: dict[str, dict[str, Any]] = {
    "gan": {"epochs": 100, "batch_size": 64, "lr": 2e-4},
    "dcgan": {"epochs": 20, "batch_size": 64, "lr": 2e-4, "real_label": 0.9},
    "vae": {"epochs": 30, "batch_size": 128, "lr": 1e-3},
}
# --quick: a smoke run of seconds, on a slice of the data.
QUICK = {"epochs": 2, "train_size": 256, "test_size": 200}


DATASETS = {"mnist": MNIST, "fashion-mnist": FashionMNIST}


def load_data(name: str, data: str | None, quick: bool,
              dataset: str = "mnist") -> tuple[Any, Any, str]:
    """(train, test, source): tuples (images, labels) of NumPy arrays, GAN images in [-1, 1].

    ``dataset`` is "mnist" or "fashion-mnist"; ``data`` a folder with its files, "sample" for
    the bundled MNIST sample, or None for minigen's search order (for MNIST: full MNIST if
    found, else the bundled sample).
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {dataset!r}")
    source = "sample" if data == "sample" else "auto"
    root = None if data in (None, "sample") else data
    pixel_range = (0.0, 1.0) if name.startswith("vae") else (-1.0, 1.0)
    splits = [DATASETS[dataset](root, split, source=source, pixel_range=pixel_range)
              for split in ("train", "test")]
    arrays = [(s.images, s.labels) for s in splits]
    if quick:
        arrays = [(x[:n], y[:n]) for (x, y), n in zip(arrays, (QUICK["train_size"],
                                                                QUICK["test_size"]))]
    return arrays[0], arrays[1], splits[0].source


def _positive(name: str, value: Any) -> Any:
    # `value or default` would read 0 as "unset": a caller's 0 is refused, never replaced
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


def settings(name: str, epochs: int | None = None, batch_size: int | None = None,
             lr: float | None = None, quick: bool = False) -> tuple[int, int, float]:
    """(epochs, batch_size, lr) of a run of ``name``: the values given, the unset (None) ones
    from :data:`PRESETS` (or :data:`QUICK`); a value that is not positive is a ValueError."""
    preset = PRESETS[name]
    if epochs is None:
        epochs = QUICK["epochs"] if quick else preset["epochs"]
    batch_size = preset["batch_size"] if batch_size is None else batch_size
    lr = preset["lr"] if lr is None else lr
    return (_positive("epochs", epochs), _positive("batch_size", batch_size),
            _positive("lr", lr))


def build(name: str, latent_dim: int | None = None, **options: Any) -> dict[str, Any]:
    """The model(s) of ``name``: {"generator", "discriminator"} for a GAN, {"vae"}."""
    if latent_dim is None:
        latent_dim = 2 if name == "vae" else 100
    _positive("latent_dim", latent_dim)
    if name == "vae":
        return {"vae": VAE(latent_dim, posterior=options.get("posterior", "diagonal"))}
    module = gan if name == "gan" else dcgan
    d_options = {"dropout": options["d_dropout"]} if options.get("d_dropout") is not None else {}
    if name == "dcgan" and options.get("d_batch_norm") is not None:
        d_options["batch_norm"] = options["d_batch_norm"]
    return {"generator": module.Generator(latent_dim),
            "discriminator": module.Discriminator(**d_options)}


def train_model(name: str, *, epochs: int | None = None, batch_size: int | None = None,
                lr: float | None = None, seed: int = 0, device: str = "cpu",
                data: str | None = None, out: str | os.PathLike | None = None,
                resume: str | None = None, quick: bool = False, progress: bool = True,
                resume_command: str | None = None, dataset: str = "mnist",
                **options: Any) -> dict[str, Any]:
    """Train one model of the report and draw its figures; returns a summary of numbers.

    ``name`` is "gan", "dcgan" or "vae"; unset settings come from :data:`PRESETS` (or
    :data:`QUICK`). ``options``: ``latent_dim``, ``posterior`` (VAE), ``k``, ``saturating``,
    ``real_label``, ``d_dropout``, ``d_batch_norm``, ``ema`` (GANs: the decay of an average of
    G's weights to sample from). ``resume="auto"`` means the run
    folder's own checkpoint. ``dataset``: "mnist" or "fashion-mnist" (see :func:`load_data`).
    """
    kind = "vae" if name == "vae" else "gan"
    preset = PRESETS[name]
    epochs, batch_size, lr = settings(name, epochs, batch_size, lr, quick)
    out = Path(out or Path("runs") / name)
    if resume == "auto":
        resume = str(out / "checkpoint.npz")
    minigen.manual_seed(seed)
    dev = backend.device(device)
    models = {k: m.to(dev) for k, m in build(name, **options).items()}
    (train_x, train_y), (test_x, test_y), source = load_data(name, data, quick, dataset)
    loader = DataLoader((train_x, train_y), batch_size, shuffle=True, seed=seed, device=dev)
    started, cpu_started = time.perf_counter(), time.process_time()
    common = dict(epochs=epochs, lr=lr, out=out, seed=seed, resume=resume, progress=progress,
                  resume_command=resume_command, dataset=dataset)
    if kind == "vae":
        test_loader = DataLoader((test_x, test_y), 500, device=dev)
        history = train_vae(models["vae"], loader, test_loader, **common)
        vae_figures(models["vae"], test_x, test_y, out, seed,
                    None if dataset == "mnist" else DATASETS[dataset].classes)
    else:
        real_label = options.get("real_label")
        real_label = preset.get("real_label", 1.0) if real_label is None else real_label
        ema = None
        if options.get("ema") is not None:  # sample (and score) an EMA of G's weights
            swa = minigen.optim.swa_utils  # (an extra, loaded only for --ema)
            ema = swa.AveragedModel(models["generator"], use_buffers=True,
                                    multi_avg_fn=swa.get_ema_multi_avg_fn(options["ema"]))
        history = train_gan(models["generator"], models["discriminator"], loader,
                            k=options.get("k", 1), saturating=options.get("saturating", False),
                            real_label=real_label, generator_ema=ema, **common)
        gan_figures(models["generator"] if ema is None else ema.module, out, seed)
    summary = {"model": name, "epochs": epochs, "batch_size": batch_size, "lr": lr,
               "dataset": dataset, "data": source, "train_images": len(train_x),
               "device": str(dev),
               "seconds": time.perf_counter() - started,
               "cpu_seconds": time.process_time() - cpu_started, "out": str(out)}
    summary.update({k: v[-1] for k, v in history["epoch"].items() if v})
    if kind == "vae" and history["epoch"].get("test_loss"):
        test = history["epoch"]["test_loss"]
        best = min(range(len(test)), key=test.__getitem__)
        summary.update(best_test_loss=test[best], best_epoch=best + 1)
    return summary


# ---------------------------------------------------------------------------- figures


def random_codes(n: int, latent_dim: int, seed: int) -> Any:
    """(n, latent_dim) N(0, I) codes drawn on the host from their own seeded generator."""
    gen = backend.Generator(backend.device("cpu"), seed)
    return backend.to_numpy(gen.normal((n, latent_dim), minigen.float32))


def gan_figures(generator: Any, out: Path, seed: int = 0) -> None:
    """The report's Figure 9 for a GAN: a 10 x 10 walk between four random latent codes."""
    dev = generator.parameters()[0].device
    codes = viz.bilinear_codes(random_codes(4, generator.latent_dim, seed + 1))
    _decode_grid(generator, generator, minigen.tensor(codes, device=dev),
                 out / "latent_grid.png", (-1.0, 1.0))


def vae_figures(model: VAE, test_x: Any, test_y: Any, out: Path, seed: int = 0,
                classes: Any = None) -> None:
    """Figure 14 (25 test images beside their reconstructions), the 10 x 10 latent grid
    (quantiles of N(0, 1) for a 2-D latent, else a walk between four random codes), and for
    a 2-D latent the test set's posterior means coloured by digit (or by ``classes``' names)."""
    dev = model.parameters()[0].device
    pick = backend.to_numpy(backend.Generator(backend.device("cpu"), seed).permutation(
        len(test_x)))[:25]
    x = minigen.tensor(test_x[pick], device=dev)
    model.eval()
    with minigen.no_grad():
        viz.save_reconstructions(x, model.reconstruct(x), out / "reconstructions.png")
        if model.latent_dim == 2:
            mus = [model.encode(minigen.tensor(test_x[i:i + 500], device=dev))[0]
                   for i in range(0, len(test_x), 500)]
            viz.plot_latent_scatter(minigen.cat(mus), test_y, out / "latent_scatter.png",
                                    classes=classes)
            codes = viz.normal_quantile_grid(10)
        else:
            codes = viz.bilinear_codes(random_codes(4, model.latent_dim, seed + 1))
    model.train()
    _decode_grid(model, model.generate, minigen.tensor(codes, device=dev),
                 out / "latent_grid.png", (0.0, 1.0))


def _decode_grid(model: Any, decode: Any, codes: Any, path: Path,
                 value_range: tuple[float, float]) -> None:
    was_training = model.training
    model.eval()
    with minigen.no_grad():
        images = decode(codes)
    model.train(was_training)
    viz.save_image_grid(images, path, nrow=10, value_range=value_range)


# ---------------------------------------------------------------------------- the page

CAPTIONS = {  # the report's own captions, by figure
    4: "Training loss curve for GAN with Conv layers.",
    5: "Synthesis result using a fixed sampled latent vector, z.",
    7: "Training loss curve for GAN with only linear layers.",
    8: "Synthesis result using a fixed sampled latent vector, z.",
    9: "Grid-in-latent for the linear GAN",
    13: "Training and testing loss curve VAE",
    14: "5 × 5 grid of randomly sampled test images (left) and the reconstructed images "
        "using VAE (right)",
    15: "Synthesis result using a fixed sampled latent vector, z.",
}


def make_report(out: str | os.PathLike = "report", *, quick: bool = False, device: str = "cpu",
                data: str | None = None, seed: int = 0, progress: bool = True) -> Path:
    """Train the FC GAN, the DCGAN, the VAE and the full-covariance VAE into ``out/<name>``
    and write ``out/report.md`` showing every figure with its caption and the final numbers.
    Returns the page's path."""
    out = Path(out)
    started = time.perf_counter()
    common = dict(quick=quick, device=device, data=data, seed=seed, progress=progress)
    runs = {name: train_model(name, out=out / name, **common) for name in ("gan", "dcgan", "vae")}
    runs["vae_full"] = train_model("vae", out=out / "vae_full", posterior="full", **common)
    total = time.perf_counter() - started
    scores = score_runs(out, runs, quick=quick, device=device, seed=seed)
    page = out / "report.md"
    page.write_text(_page(runs, total, quick, seed) + scores, encoding="utf-8")
    return page


def score_runs(out: Path, runs: dict[str, Any], *, quick: bool, device: str, seed: int) -> str:
    """The report page's "Scores" section: each run's last checkpoint scored with
    :mod:`minigen.metrics` (``python -m minigen evaluate`` on each run folder, which also
    writes ``<run>/evaluation/``). Quick mode scores fewer images with a smaller k."""
    from minigen.metrics import evaluate_run, format_table  # (metrics imports the models)

    rows, accuracy = [], None
    for name in runs:
        result = evaluate_run(out / name, n_samples=200 if quick else 1000,
                              k=10 if quick else 1000, device=device, seed=seed,
                              progress=False)
        rows.append({**result["checkpoints"][-1], "label": name})
        accuracy = result["classifier"].get("test_accuracy")
    return ("\n## Scores\n\n"
            "Each model's samples through a digit classifier trained with minigen "
            "(`minigen.metrics`; lesson 08 explains every column), from "
            f"{rows[0]['n']} generated images per model; per-epoch plots in "
            "`<model>/evaluation/`. The VAE's IWAE bound uses "
            f"k = {10 if quick else 1000} importance samples.\n\n"
            + format_table(rows, accuracy))


def _figure(number: int | str, path: str, caption: str) -> str:
    label = f"Figure {number}" if isinstance(number, int) else number
    return f"![{label}]({path})\n\n*{label}: {caption}*\n"


def _gan_rows(s: dict[str, Any]) -> str:
    return (f"| {s['model']} | {s['epochs']} | {s['d_loss']:.3f} | {s['g_loss']:.3f} | "
            f"{s['d_x']:.3f} | {s['d_g_z']:.3f} | {_minutes(s)} |")


def _minutes(s: dict[str, Any]) -> str:
    return f"{s['seconds'] / 60:.1f} min ({s['cpu_seconds'] / 60:.1f} min CPU)"


def _page(runs: dict[str, dict[str, Any]], total: float, quick: bool, seed: int) -> str:
    g, d, v, f = runs["gan"], runs["dcgan"], runs["vae"], runs["vae_full"]
    last = {k: f"{k}/samples/epoch_{runs[k]['epochs']:03d}.png" for k in runs}
    data = ("the bundled MNIST sample" if v["data"] == "sample" else "full MNIST") + \
        f" ({v['train_images']} training images)"
    lines = [
        "# STATS M231A Homework 4, reproduced with minigen",
        "",
        f"Trained on {data}, device `{v['device']}`, seed {seed}"
        + (", **quick mode** (a smoke run: do not judge the pictures)" if quick else "")
        + f"; {total / 60:.1f} minutes in all on {os.cpu_count()} CPU core(s) "
        f"({sum(s['cpu_seconds'] for s in runs.values()) / 60:.1f} minutes of CPU time). "
        "Regenerate with `python -m minigen report --out DIR`.",
        "",
        "## Final numbers",
        "",
        "| GAN | epochs | D loss | G loss | D(x) | D(G(z)) | time |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        _gan_rows(g), _gan_rows(d),
        "",
        "| VAE posterior | epochs | train loss | test loss | best test loss (epoch) | "
        "test BCE | test KL | time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, s in (("diagonal", v), ("full covariance", f)):
        lines.append(f"| {name} | {s['epochs']} | {s['loss']:.1f} | {s['test_loss']:.1f} | "
                     f"{s['best_test_loss']:.1f} ({s['best_epoch']}) | {s['test_bce']:.1f} | "
                     f"{s['test_kl']:.2f} | {_minutes(s)} |")
    lines += [
        "",
        "Losses are means per batch (GAN: D's minimax loss and G's non-saturating loss; "
        "D(x), D(G(z)) are D's mean outputs on real and generated images, 0.5 when D is "
        "fooled) and, for the VAE, the negative ELBO per test image in nats (BCE summed "
        "over pixels + KL, one z sample). The full-covariance VAE's KL is the one-sample "
        "estimate log q(z|x) - log p(z) of the report's Figure 11.",
        "",
        "## 1.3 DCGAN",
        "",
        "The discriminator has BatchNorm, as in the DCGAN paper, and is trained with one-sided "
        "label smoothing (real images labelled 0.9): without it, on the 4,000-image sample its "
        "loss dives to ~0.15 within two epochs and the generator's gradients fade (lesson 05).",
        "",
        _figure(4, "dcgan/losses.png", CAPTIONS[4]),
        _figure(5, last["dcgan"], CAPTIONS[5] + f" (epoch {d['epochs']})"),
        _figure("Every epoch", "dcgan/samples.gif", "the fixed-noise samples, epoch by epoch."),
        _figure("Grid in latent (DCGAN)", "dcgan/latent_grid.png",
                "a bilinear walk between four random latent codes."),
        "## 1.4 GAN with fully connected layers",
        "",
        _figure(7, "gan/losses.png", CAPTIONS[7]),
        _figure(8, last["gan"], CAPTIONS[8] + f" (epoch {g['epochs']})"),
        _figure("Every epoch", "gan/samples.gif", "the fixed-noise samples, epoch by epoch."),
        _figure(9, "gan/latent_grid.png", CAPTIONS[9] + " (a bilinear walk between four "
                "random 100-D codes)."),
        "## 2 VAE",
        "",
        _figure(13, "vae/losses.png", CAPTIONS[13]),
        _figure(14, "vae/reconstructions.png", CAPTIONS[14]),
        _figure(15, last["vae"], CAPTIONS[15] + f" (epoch {v['epochs']})"),
        _figure("Every epoch", "vae/samples.gif", "decoded fixed z ~ N(0, I), epoch by epoch."),
        _figure("Grid in latent (VAE)", "vae/latent_grid.png",
                "the decoder at evenly spaced quantiles of N(0, 1) on both latent axes."),
        _figure("Latent space", "vae/latent_scatter.png",
                "the posterior means of the test images, coloured by digit."),
        "## 2.5 The full-covariance posterior (Figure 11's algorithm)",
        "",
        _figure("Loss", "vae_full/losses.png", "training and test loss, full-covariance "
                "posterior."),
        _figure("Reconstructions", "vae_full/reconstructions.png", CAPTIONS[14]),
        _figure("Grid in latent (full covariance)", "vae_full/latent_grid.png",
                "the decoder at quantiles of N(0, 1)."),
    ]
    return "\n".join(lines) + "\n"
