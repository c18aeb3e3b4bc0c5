# %% [markdown]
# # Lesson 08 — Evaluating generative models
#
# The report judged its samples by eye: "reasonable results". Is this GAN better than that
# one? Is it collapsing onto a few digits? Is the 20-d VAE better than the 2-d one? This
# lesson puts numbers on those questions, and shows why the three ways of judging a
# generative model (looking at samples, likelihood, feature-distance scores) can disagree.
#
# * **Looking** sees sharpness, but not whether every digit appears, nor whether the samples
#   are copies of the training set.
# * **Likelihood** $\log p(x)$ of held-out data measures how well a model covers the data:
#   a model that misses a digit pays dearly. But it is dominated by pixel-level detail, and a
#   GAN has none to compute (its samples come from a density it never writes down).
# * **Feature scores** compare samples with real images through a classifier's eyes: the
#   Fréchet distance (FID's formula) and the classifier score (the Inception Score's
#   analogue). They see sharpness and diversity, but not memorisation, and they mean
#   nothing without the classifier's accuracy and the real-vs-real floor beside them.
#
# Run it: `python lessons/08_evaluation.py` (a few minutes: it trains three small models and a
# second classifier),
# `--runs runs` to score the runs of `python -m minigen train {gan,dcgan,vae}` instead,
# `--quick` for a smoke run, `--epochs`, `--out DIR`.

# %%
# Setup. In Colab this installs minigen first (from where: see the README, "Lessons"); elsewhere
# install it yourself (pip install -e . in the project's folder). DEVICE is "cuda" where there
# is a GPU, and a notebook runs the lesson there (the last cell).
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

MINIGEN_SOURCE = "minigen @ git+https://github.com/OWNER/minigen"  # OWNER: see the README
if "google.colab" in sys.modules and importlib.util.find_spec("minigen") is None:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", MINIGEN_SOURCE])
    importlib.invalidate_caches()
import minigen

DEVICE = "cuda" if minigen.cuda.is_available() else "cpu"
IN_NOTEBOOK = "ipykernel" in sys.modules  # Jupyter, Colab, VS Code: no command line of our own
QUICK = os.environ.get("MINIGEN_QUICK") == "1"  # a smoke run, as the tests run the notebooks

# %%
import argparse
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, ScalarFormatter

import minigen
from minigen import viz
from minigen.data import MNIST, DataLoader
from minigen.metrics import (
    class_histogram,
    classifier_score,
    elbo,
    evaluate_run,
    format_table,
    frechet_distance,
    iwae_bound,
    load_classifier,
    predict,
    real_reference,
    train_classifier,
)
from minigen.metrics.runs import build_models, find_checkpoints, generate
from minigen.models import VAE, dcgan, gan
from minigen.train import train_gan, train_vae

# %% [markdown]
# ## 1. The judge: a digit classifier trained with minigen
#
# FID looks at photographs through Inception-v3; for digits, minigen ships its own LeNet-like
# classifier (two 5x5 convolutions each followed by 2x2 max pooling, a 128-unit hidden layer,
# 10 logits), trained on
# the 4,000 training digits of the bundled sample (`python -m minigen.metrics
# train-classifier` retrains it, on full MNIST or Fashion-MNIST too). Its 128 hidden units
# are the *features* the distance compares; its softmax $p(y|x)$ feeds the classifier score
# and the class histogram. First number to check: its test accuracy.

# %%
def the_judge(n: int, seed: int) -> dict:
    clf = load_classifier()
    judge = dict(real_reference(clf, n, seed), clf=clf)  # n test digits, n other real ones
    train = MNIST(split="train", source="sample").images
    unused = np.setdiff1d(np.arange(len(train)), judge["other_index"])
    judge["copies"] = train[unused[:n]]  # training digits for the memoriser below
    return judge


# %% [markdown]
# ## 2. The floor, and what the scores see
#
# $$ \mathrm{FD} = \|\mu_r - \mu_g\|^2 + \mathrm{tr}\big(\Sigma_r + \Sigma_g
#    - 2(\Sigma_r^{1/2}\Sigma_g\Sigma_r^{1/2})^{1/2}\big) $$
#
# is the distance between two Gaussians fitted to the features. Two *different* samples of
# real digits are not at distance 0: with $n$ images, 128 features and their 8,256
# covariances are estimated with noise, and the formula turns noise into a positive bias.
# That distance between two disjoint real sets of the same size is the **floor**: no
# generator can be told from the data below it. Always report it next to the score.
#
# To see what each number reacts to, we "generate" images by damaging real ones:
# noise, blur, keeping only the digits 0-4 (a generator that dropped half the modes), and
# copying training images (a generator that memorised its data).

# %%
def damaged_sets(judge: dict, seed: int) -> dict[str, np.ndarray]:
    x, rng = judge["images"], np.random.default_rng(seed)
    noise = rng.normal(size=x.shape).astype(np.float32)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    blur = sum(padded[:, :, i:i + 28, j:j + 28] for i in range(3) for j in range(3)) / 9
    return {"real test digits": x,
            "noise 0.1": np.clip(x + 0.1 * noise, 0, 1),
            "noise 0.5": np.clip(x + 0.5 * noise, 0, 1),
            "blur 3x3": blur.astype(np.float32),
            "only digits 0-4": x[judge["labels"] < 5],
            "copies of training digits": judge["copies"]}


def score_sets(judge: dict, sets: dict[str, np.ndarray]) -> list[dict]:
    rows = []
    for name, images in sets.items():
        feats, probs = predict(judge["clf"], images)
        n = len(images)
        rows.append({"label": name, "n": n,
                     "fd": frechet_distance(feats, judge["other"][:n]),
                     "fd_floor": frechet_distance(judge["features"][:n], judge["other"][:n]),
                     "classifier_score": classifier_score(probs)[0],
                     "classifier_score_std": classifier_score(probs)[1],
                     "histogram": class_histogram(probs)})
    return rows


# %% [markdown]
# Read the table this prints. Mild noise and blur raise the distance (the features change)
# while the classifier score barely moves (the digits are still recognisable). Dropping five
# classes is invisible to the eye in any single sample, yet the distance jumps far above the
# floor and the score halves: the score is $\exp(\mathbb{E}_x \mathrm{KL}(p(y|x)\|p(y)))$,
# at most the number of classes present. And the memoriser? Perfect scores, at the floor:
# **no sample-based score detects copying**. Only held-out likelihood (a model that put all
# its mass on 4,000 training images gives test digits probability ~0) or a nearest-neighbour
# check would.
#
# ## 3. Likelihood: the VAE's bound, tightened
#
# A VAE gives a lower bound on $\log p(x)$, the ELBO (its training objective). With $k$
# samples $z_i \sim q(z|x)$ and weights $w_i = p(x, z_i)/q(z_i|x)$,
# $\log \frac1k \sum_i w_i$ is a tighter bound (IWAE): $k=1$ is the ELBO, and it climbs
# towards $\log p(x)$ as $k$ grows. The gap between the ELBO and the IWAE bound at large $k$
# shows how far the encoder's Gaussian is from the true posterior.

# %%
def iwae_curve(vae: VAE, images: np.ndarray, ks: list[int], seed: int) -> dict[int, float]:
    return {k: float(iwae_bound(vae.encode, vae.decode, images, k=k, seed=seed).mean())
            for k in ks}


# %% [markdown]
# ## 4. The three models side by side
#
# We train the report's three models briefly (or load your runs with `--runs`), draw as many
# samples as there are test images, and score them all against the same real set with the
# same floor. The VAE's samples are the decoder's pixel means: blurry, so its distance is
# high although its likelihood is the only one we can compute. A GAN's samples are sharp,
# but the GAN has no likelihood at all. Neither number alone ranks the models.

# %%
def train_three(out: Path, epochs: int, quick: bool, seed: int, device: str) -> dict[str, Path]:
    n = 512 if quick else None
    gan_data = MNIST(source="sample", pixel_range=(-1.0, 1.0)).images[:n]
    vae_data = MNIST(source="sample").images[:n]
    runs = {}
    for name, module in (("gan", gan), ("dcgan", dcgan)):
        minigen.manual_seed(seed)
        G, D = module.Generator().to(device), module.Discriminator().to(device)
        loader = DataLoader((gan_data,), 64, shuffle=True, seed=seed, device=device)
        train_gan(G, D, loader, epochs=epochs, out=out / name, seed=seed, progress=not quick)
        runs[name] = out / name
    minigen.manual_seed(seed)
    loader = DataLoader((vae_data,), 128, shuffle=True, seed=seed, device=device)
    train_vae(VAE().to(device), loader, epochs=epochs, out=out / "vae", seed=seed,
              progress=not quick)
    runs["vae"] = out / "vae"
    return runs


# %% [markdown]
# ## 5. Mode collapse in the class histogram
#
# A collapsing GAN finds a few images that fool the discriminator and produces little else.
# Its samples can each look fine; the histogram of the classes the classifier assigns to
# them gives it away: tall bars, missing digits, an entropy far below $\ln 10 = 2.303$.
# Watch also D(G(z)) in the run's `scores_per_epoch.png`: when the generator has found a
# hole in the discriminator, D(G(z)) jumps while the histogram narrows.
#
# Mode dropping is not only a GAN's problem. Scoring the runs of `python -m minigen report`
# (GAN 100 epochs, DCGAN 20, VAE 30 on the sample), the DCGAN drew almost no 1s (0.5 %) and
# the 2-d VAE almost no 5s (0.6 %): sampling z ~ N(0, I) rarely lands in the small region
# of the 2-d latent plane its encoder gave to the 5s, although its objective, a bound on
# the likelihood, makes it explain every training digit, 5s included.

# %% [markdown]
# ## 6. The judge is part of the number
#
# A Fréchet distance or a classifier score is read through one network's eyes: change the
# network and every number moves, even for the very same images. (FID has the same trouble:
# its value changes with the Inception weights, and even with how images are resized before
# they go in.) Here we train a second judge of exactly the same shape and about the same
# accuracy, differing only in how it was regularised: no dropout, no random shifts, a
# constant learning rate. Its features are larger and its softmax more confident, so its
# floor is higher, every distance is larger and every classifier score is higher. What
# survives the change of judge is the *order*: the floor below everything, the damaged sets
# in the same order, model against model. So compare numbers only when they come from the
# same classifier (and say which, with its accuracy and floor), and distrust any fixed
# target quoted without its classifier. `benchmarks/classifier_sensitivity.py` does this for
# the report's fully trained models with four judges, and PyTorch's runs of the same networks
# beside minigen's.

# %%
def second_judge(judge: dict, quick: bool, seed: int, device: str) -> dict:
    """The same classifier shape, trained without dropout, shifts or a cosine schedule."""
    clf = train_classifier("mnist", source="sample", epochs=2 if quick else 20,
                           limit=1000 if quick else None, dropout=0.0, max_shift=0,
                           cosine=False, seed=seed, device=device, progress=False)
    n = judge["features"].shape[0]
    return dict(real_reference(clf, n, seed), clf=clf, copies=judge["copies"])


def compare_judges(judges: dict[str, dict], sets: dict[str, np.ndarray],
                   models: dict[str, Path], seed: int) -> dict[str, list[dict]]:
    """Every judge scores the damaged sets and the models' samples; one table per judge."""
    images = dict(sets)
    for name, run in models.items():
        x, (low, high) = generate(build_models(find_checkpoints(run)[-1][2]),
                                  len(sets["real test digits"]), seed)
        images[name] = ((x - low) / (high - low)).numpy()
    return {name: score_sets(j, images) for name, j in judges.items()}


# %%
def figure_samples(runs: dict[str, Path], path: Path, seed: int) -> None:
    """One row of 8 samples per model, the first look before any number."""
    rows = []
    for run in runs.values():
        images, value_range = generate(build_models(find_checkpoints(run)[-1][2]), 8, seed)
        rows.append(viz.to_uint8(images, value_range).reshape(8, 1, 28, 28))
    viz.save_image_grid(np.concatenate(rows), path, nrow=8, value_range=(0, 255),
                        title="rows: " + ", ".join(runs))


def figure_histograms(named: dict[str, list[int]], path: Path) -> None:
    fig = Figure(figsize=(3.2 * len(named), 2.6))
    FigureCanvasAgg(fig)
    for i, (name, counts) in enumerate(named.items()):
        ax = fig.add_subplot(1, len(named), i + 1)
        fractions = np.asarray(counts) / max(sum(counts), 1)
        ax.bar(range(10), fractions, color="C3" if min(counts) == 0 else "C0")
        ax.axhline(0.1, color="grey", ls=":")  # an even spread
        entropy = class_histogram(np.repeat(np.arange(10), counts))["entropy"]
        ax.set(title=f"{name}\nentropy {entropy:.2f} nats", xticks=range(10),
               ylim=(0, max(0.25, 1.1 * fractions.max())))
        ax.title.set_fontsize(8)
    fig.savefig(path, dpi=100, bbox_inches="tight")


def figure_scores(rows: list[dict], path: Path) -> None:
    fig = Figure(figsize=(9, 3.2))
    FigureCanvasAgg(fig)
    names = [r["label"] for r in rows]
    ax = fig.add_subplot(1, 2, 1)
    ax.barh(names, [r["fd"] for r in rows], color="C0", label="FD")
    ax.barh(names, [r["fd_floor"] for r in rows], color="grey", alpha=0.6, label="floor")
    ax.set(xscale="log", xlabel="Fréchet distance (log scale)")
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.invert_yaxis()
    ax.legend(fontsize=7)
    ax = fig.add_subplot(1, 2, 2)
    ax.barh(names, [r["classifier_score"] for r in rows], color="C2")
    ax.set(xlim=(1, 10), xlabel="classifier score", yticks=[])
    ax.invert_yaxis()
    fig.savefig(path, dpi=100, bbox_inches="tight")


def figure_iwae(curve: dict[int, float], elbo_value: float, path: Path) -> None:
    fig = Figure(figsize=(4.5, 3))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(list(curve), list(curve.values()), marker="o", label="IWAE bound, k samples")
    ax.axhline(elbo_value, color="grey", ls="--", label="ELBO (closed-form KL)")
    ax.set(xscale="log", xlabel="k", ylabel="nats per test image", title="bounds of log p(x)")
    ax.legend(fontsize=7)
    fig.savefig(path, dpi=100, bbox_inches="tight")


# %%
def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="Lesson 08: evaluating generative models")
    parser.add_argument("--epochs", type=int, default=5, help="for each of the three models")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="runs/lesson08")
    parser.add_argument("--runs", default=None,
                        help="score DIR/gan, DIR/dcgan, DIR/vae instead of training")
    parser.add_argument("--quick", action="store_true", help="a smoke run of seconds")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    n = 200 if args.quick else 1000

    judge = the_judge(n, args.seed)
    accuracy = judge["clf"].meta["test_accuracy"]
    print(f"classifier: {accuracy:.2%} test accuracy on the sample's 1,000 test digits")
    sets = damaged_sets(judge, args.seed)
    rows = score_sets(judge, sets)
    print(format_table(rows, accuracy))
    viz.save_image_grid(np.concatenate([s[:8] for s in sets.values()]),
                        out / "damaged_digits.png", nrow=8,
                        title="rows: " + ", ".join(sets))
    figure_scores(rows, out / "what_the_scores_see.png")

    if args.runs:
        runs = {name: Path(args.runs) / name for name in ("gan", "dcgan", "vae")
                if (Path(args.runs) / name / "checkpoint.npz").is_file()}
    else:
        runs = train_three(out, 1 if args.quick else args.epochs, args.quick, args.seed,
                           args.device)
    k = 10 if args.quick else 1000
    models = {}
    for name, run in runs.items():
        result = evaluate_run(run, out / f"scores_{name}", n_samples=n, k=k,
                              classifier=judge["clf"], device=args.device, seed=args.seed,
                              progress=False)
        models[name] = dict(result["checkpoints"][-1], label=name)
    print(format_table([rows[0], *models.values()], accuracy))
    figure_samples(runs, out / "samples_side_by_side.png", args.seed)

    histograms = {"real test digits": rows[0]["histogram"]["counts"],
                  **{name: m["histogram"]["counts"] for name, m in models.items()},
                  "only digits 0-4": rows[4]["histogram"]["counts"]}
    figure_histograms(histograms, out / "class_histograms.png")

    curve = {}
    if "vae" in runs:
        vae = build_models(find_checkpoints(runs["vae"])[-1][2])["vae"]
        images = judge["images"][:100]
        curve = iwae_curve(vae, images, [1, 10, 100] if args.quick else [1, 10, 100, 1000],
                           args.seed)
        elbo_value = float(elbo(vae.encode, vae.decode, images, samples=10).mean())
        figure_iwae(curve, elbo_value, out / "iwae_bound.png")
        print("IWAE bound by k: " + ", ".join(f"k={k}: {v:.2f}" for k, v in curve.items())
              + f" (ELBO {elbo_value:.2f}) nats")
    judges = {"shipped judge": judge,
              "second judge": second_judge(judge, args.quick, args.seed, args.device)}
    by_judge = compare_judges(judges, sets, runs, args.seed)
    for name, judged in by_judge.items():
        acc = judges[name]["clf"].meta["test_accuracy"]
        print(f"{name}: floor {judged[0]['fd_floor']:.1f}")
        print(format_table(judged, acc))
    print(f"figures in {out}/")
    return {"accuracy": accuracy, "damaged": rows, "models": models, "iwae": curve,
            "judges": by_judge, "out": out}


# %%
if __name__ == "__main__":
    # A script reads its command line. A notebook has none: it runs on DEVICE, quick when
    # MINIGEN_QUICK=1. Add options to the list to change a run, e.g. "--epochs", "10".
    notebook_args = ["--device", DEVICE] + (["--quick"] if QUICK else [])
    result = main(notebook_args if IN_NOTEBOOK else None)
