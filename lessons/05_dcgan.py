# %% [markdown]
# # Lesson 05 — The convolutional GAN, DCGAN (report, Section 1.3)
#
# The same game as lesson 04, with convolutions. A generator made of *transposed*
# convolutions paints a 28x28 image from a 7x7 sketch, doubling the resolution twice; the
# discriminator mirrors it with strided convolutions. The report found it needs fewer epochs
# than the fully connected GAN: a convolution reuses one small filter at every position, which
# is exactly right for strokes that can appear anywhere.
#
# This lesson traces the network's shapes (Figure 3), explains the DCGAN initialisation,
# shows a failure that the textbook architecture runs into on a small data set, writes out one
# training step, then trains the model and draws the loss curves (Figure 4) and the
# fixed-noise synthesis (Figure 5).
#
# Run it: `python lessons/05_dcgan.py` (a few minutes on a laptop CPU; `--only-default`
# trains one variant instead of three), `--quick` for a smoke run.
#
# Exercise 11 (after section 4) has you write batch normalisation's backward pass.

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

import minigen
from minigen import functional as F
from minigen import nn, optim, viz
from minigen.data import MNIST, DataLoader
from minigen.models import dcgan, discriminator_loss, generator_loss
from minigen.report import gan_figures
from minigen.train import train_gan

# %% [markdown]
# ## 1. The network (Figure 3), shape by shape
#
# A `Conv2d` with kernel $k$, stride $s$ and padding $p$ maps a side $n$ to
# $\lfloor (n + 2p - k)/s \rfloor + 1$; a `ConvTranspose2d` maps it to $(n - 1)s - 2p + k$.
# With $k = 4, s = 2, p = 1$: 28 → 14 → 7 down, 7 → 14 → 28 up.
#
# Generator: $z$ (100) → Linear → BatchNorm1d → ReLU → reshape to 128x7x7 →
# ConvTranspose2d → 64x14x14 → BatchNorm2d → ReLU → ConvTranspose2d → 1x28x28 → tanh.
# BatchNorm in the generator keeps every layer's activations at a sane scale while $G$'s
# inputs drift; ReLU inside, tanh at the end (pixels in $[-1, 1]$).
#
# Discriminator: 1x28x28 → Conv2d → 64x14x14 → LeakyReLU(0.2) → Conv2d → 128x7x7 →
# BatchNorm2d → LeakyReLU(0.2) → Linear → 1 logit. LeakyReLU lets a little gradient through
# for negative inputs, so $G$ hears something even about features $D$ switched off.

# %%
def shape_trace(model: nn.Module, x: minigen.Tensor) -> list[tuple[str, tuple[int, ...]]]:
    """Run ``x`` through each layer of ``model.net`` and record the output shapes."""
    trace = [("input", x.shape)]
    with minigen.no_grad():
        for layer in model.net:
            x = layer(x)
            trace.append((type(layer).__name__, x.shape))
    return trace


# %% [markdown]
# ## 2. Initialisation
#
# The DCGAN paper draws every convolution and linear weight from $\mathcal{N}(0, 0.02^2)$
# and every BatchNorm scale from $\mathcal{N}(1, 0.02^2)$ (`dcgan.dcgan_init_`): small weights,
# so both players start near-linear and near-neutral ($D(x) \approx 0.5$ for everything).
#
# ## 3. A discriminator that wins too well
#
# The textbook DCGAN puts BatchNorm after $D$'s second convolution (the default of
# `dcgan.Discriminator`). On full MNIST that works as it is. On the bundled 4,000 digits $D$
# learns to separate real from fake almost perfectly within two epochs: its loss dives to
# ~0.15 and $D(G(z))$ to a few percent, so $G$'s gradients, which all come through $D$, carry
# little signal. Measured in PyTorch on this network, it stays there and the samples stop
# improving; in minigen's seed-0 run $G$ claws its way back after a few epochs (try other
# seeds with `--seed`: the game is fragile).
#
# Two remedies, both ways of keeping $D$ from becoming *certain*:
#
# - **One-sided label smoothing** (the default of `python -m minigen train dcgan`): train
#   $D$ towards 0.9 instead of 1 on real images, `train_gan(..., real_label=0.9)`. Its loss
#   can no longer fall below $-[0.9 \log 0.9 + 0.1 \log 0.1] = 0.33$ on real images, and its
#   gradients towards $G$ stay informative. Only the *real* side is smoothed: smoothing the
#   fake side would reward $G$ for samples $D$ already half-believes.
# - **Dropout** instead of BatchNorm in $D$ (p = 0.3 after each LeakyReLU): a noisy critic
#   that cannot memorise a small data set. On the sample it weakens $D$: the game settles
#   near chance ($D(x) \approx 0.55$) while the samples are still strokes after 20 epochs.
#   Patience pays, though: after 100 epochs its generator is ahead of the smoothed BatchNorm
#   one on every score of lesson 08 (`benchmarks/quality.py`, medians of 3 seeds: distance
#   96 against 116, classifier score 6.63 against 6.27, rarest digit 7.3 % of the samples
#   against 2.9 %). Which remedy is "better" depends on how long you can train.
#
# We train the three variants for the same epochs and compare $D$'s losses
# (`d_loss_comparison.png`) and samples.

# %%
def batches(seed: int, device: str, quick: bool) -> DataLoader:
    train_set = MNIST(split="train", pixel_range=(-1.0, 1.0))  # G's tanh makes [-1, 1]
    n = 256 if quick else len(train_set)
    return DataLoader(train_set.images[:n], 64, shuffle=True, seed=seed, device=device)


def train_variant(name: str, epochs: int, seed: int, device: str, out: Path, quick: bool,
                  real_label: float, **d_options) -> tuple[dict, dcgan.Generator]:
    minigen.manual_seed(seed)
    G = dcgan.Generator().to(device)
    D = dcgan.Discriminator(**d_options).to(device)
    history = train_gan(G, D, batches(seed, device, quick), epochs=epochs, out=out / name,
                        seed=seed, real_label=real_label, progress=not quick)
    return history, G


# %% [markdown]
# ## 4. One training step, written out
#
# The step is lesson 04's, line for line (read its section 4 for each line): update $D$ on a
# real and a generated batch, then $G$ on fresh noise through a fixed $D$. The convolutions
# change nothing in it. Two things are new:
#
# - `real_label`: $D$'s target for real images, 0.9 here (one-sided label smoothing, above).
# - BatchNorm. In training mode a BatchNorm layer normalises with the statistics of the batch
#   it sees, and updates its running averages (buffers, not weights: no optimizer moves them).
#   `D(real)` and `D(fake)` are two calls, so $D$ normalises an all-real batch and an
#   all-fake batch separately, as the DCGAN paper's code does; and in $G$'s step, $D$'s
#   running averages move although its weights are fixed.
#
# `train_gan` runs these same lines for every batch (`minigen/train/gan.py`). As in lesson
# 04, our step on the first batch from the same seed gives the numbers `train_gan` records
# first for the "smoothing" variant.

# %%
def train_step(G, D, real, opt_g, opt_d, real_label: float = 1.0) -> dict[str, float]:
    n = real.shape[0]

    # (1) Update D: call x real and G(z) fake. G(z) is detached: no gradient reaches G
    #     from D's loss.
    z = minigen.randn(n, G.latent_dim, device=real.device)
    real_logits, fake_logits = D(real), D(G(z).detach())
    d_loss = discriminator_loss(real_logits, fake_logits, real_label)
    numbers = {"d_loss": d_loss.item(),
               "d_x": F.sigmoid(real_logits).mean().item(),
               "d_g_z": F.sigmoid(fake_logits).mean().item()}
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()

    # (2) Update G: fresh noise, through a fixed D.
    z = minigen.randn(n, G.latent_dim, device=real.device)
    D.requires_grad_(False)  # D is fixed: its weights get no gradient
    g_loss = generator_loss(D(G(z)))
    D.requires_grad_(True)  # (requires_grad is read as the graph is built)
    numbers["g_loss"] = g_loss.item()
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    return numbers


def one_step(seed: int, device: str, quick: bool, real_label: float) -> dict[str, float]:
    minigen.manual_seed(seed)  # the weights train_variant starts from
    G, D = dcgan.Generator().to(device), dcgan.Discriminator().to(device)
    opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = next(iter(batches(seed, device, quick)))  # the first batch train_gan will see
    minigen.manual_seed(seed)  # where train_gan(seed=seed) starts drawing noise
    return train_step(G, D, real, opt_g, opt_d, real_label)


# %% [markdown]
# ### Exercise 11: batch norm, backward
#
# `BatchNorm.backward` in `ws/minigen/ops/normalization.py`. For each channel (axis 1), over
# its $M$ values (every other axis): $\hat x = (x - \mu)/\sigma$,
# $\sigma = \sqrt{\mathrm{var} + \epsilon}$, and $y = w \hat x + b$. `forward` saved
# `(centred, inv_std, scale)`: $x - \mu$ (x's shape), then $1/\sigma$ and $w/\sigma$ (each
# (C,); `scale` is $1/\sigma$ without a weight); and set `ctx.training`, `ctx.axes` (every
# axis but 1) and `ctx.count` ($M$). With $g$ the incoming gradient, sums over those axes:
#
# - $\partial L/\partial b = \sum g$ and $\partial L/\partial w = \sum g \hat x$;
# - in eval mode $\mu$ and $\sigma$ are the running averages, constants:
#   $\partial L/\partial x = g\, w/\sigma$;
# - in training they are the batch's, functions of every $x$ of the channel
#   ($\partial\mu/\partial x_i = 1/M$, $\partial\sigma/\partial x_i = \hat x_i/M$), which
#   adds two terms: $\partial L/\partial x = \frac{w}{\sigma}\big(g - \frac1M \sum g
#   - \hat x\, \frac1M \sum g \hat x\big)$.
#
# Return `(grad_x, grad_w, grad_b)`, `None` where `ctx.needs_input_grad` says so. NumPy lines a
# (C,) vector up with the *last* axis, not axis 1: `_per_channel(v, ndim)` shapes it
# (1, C, 1, ...). `backend.sum_of_products(a, b, axes)` is $\sum ab$ in one pass. It uses no
# other exercise: `python -m minigen exercises check 11 --workspace ws` (a workspace: lesson
# 01, Exercise 1).

# %% [markdown]
# ## 5. What to look at
#
# - `smoothing/losses.png` (Figure 4): $D$'s and $G$'s losses per epoch and their sum. In a
#   healthy game neither player wins: $D$'s loss stays well above its floor and $D(G(z))$
#   well above 0.
# - `d_loss_comparison.png`: the BatchNorm discriminator without smoothing dives to ~0.15 in
#   epoch 2; with smoothing it stays near 0.5-0.7 throughout; the dropout one climbs towards
#   chance (~1.3 with more epochs).
# - `smoothing/samples/epoch_NNN.png` (Figure 5) and `smoothing/samples.gif`: compare with
#   the fully connected GAN of lesson 04 after the same number of epochs: smooth strokes, no
#   salt-and-pepper noise — the convolution's prior at work.
# - `batchnorm/samples.gif` and `dropout/samples.gif`: the over-powered and the
#   under-powered game.
# - `smoothing/latent_grid.png`: a bilinear walk between four random codes.

# %%
def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="Lesson 05: DCGAN")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="runs/lesson05")
    parser.add_argument("--quick", action="store_true", help="a smoke run of seconds")
    parser.add_argument("--only-default", action="store_true",
                        help="train only the default (BatchNorm D, label smoothing)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    epochs = 1 if args.quick else args.epochs

    G, D = dcgan.Generator(), dcgan.Discriminator()
    g_trace = shape_trace(G, minigen.randn(2, 100))
    d_trace = shape_trace(D.eval(), minigen.randn(2, 1, 28, 28))
    for name, trace in (("generator", g_trace), ("discriminator", d_trace)):
        print(f"{name}: " + " -> ".join(f"{layer} {shape[1:]}" for layer, shape in trace))
    sizes = {k: sum(p.numel() for p in m.parameters()) for k, m in (("G", G), ("D", D))}
    print(f"parameters: {sizes}")

    step = one_step(args.seed, args.device, args.quick, real_label=0.9)
    print("one step by hand:         " + ", ".join(f"{k} {v:.6f}" for k, v in step.items()))

    results = {}
    variants = {"smoothing": {"real_label": 0.9}}  # BatchNorm D, real images labelled 0.9
    if not args.only_default:
        variants["batchnorm"] = {"real_label": 1.0}  # the failure
        variants["dropout"] = {"real_label": 1.0, "dropout": 0.3, "batch_norm": False}
    for name, options in variants.items():
        history, generator = train_variant(name, epochs, args.seed, args.device, out,
                                           args.quick, **options)
        results[name] = history
        if name == "smoothing":
            first = {k: history["batch"][k][0] for k in step}
            print("train_gan's first batch:  " + ", ".join(f"{k} {v:.6f}"
                                                           for k, v in first.items())
                  + f"  (the same numbers: {first == step})")
            gan_figures(generator, out / name, args.seed)
        e = history["epoch"]
        print(f"{name} D: D loss {e['d_loss'][-1]:.3f}, G loss {e['g_loss'][-1]:.3f}, "
              f"D(x) {e['d_x'][-1]:.3f}, D(G(z)) {e['d_g_z'][-1]:.3f}")
    legend = {"smoothing": "BatchNorm D, real label 0.9", "batchnorm": "BatchNorm D, real label 1",
              "dropout": "dropout D, real label 1"}
    viz.plot_curves({legend[k]: h["epoch"]["d_loss"] for k, h in results.items()},
                    out / "d_loss_comparison.png", title="discriminator loss per epoch",
                    ylabel="D loss")
    print(f"figures in {out}/")
    return {"g_trace": g_trace, "d_trace": d_trace, "parameters": sizes, "one_step": step,
            "histories": results, "out": out}


# %%
if __name__ == "__main__":
    # A script reads its command line. A notebook has none: it runs on DEVICE, quick when
    # MINIGEN_QUICK=1. Add options to the list to change a run, e.g. "--epochs", "10".
    notebook_args = ["--device", DEVICE] + (["--quick"] if QUICK else [])
    result = main(notebook_args if IN_NOTEBOOK else None)
