# %% [markdown]
# # Lesson 04 — The generative adversarial network (report, Sections 1.1, 1.2 and 1.4)
#
# Two networks play a game. The **generator** $G$ maps noise $z \sim \mathcal{N}(0, I)$ (100
# numbers) to an image; the **discriminator** $D$ looks at an image and outputs the
# probability that it is real. $D$ is trained to tell real from generated, $G$ to fool $D$.
# Nothing ever tells $G$ what a digit looks like: it learns only through $D$'s gradients.
#
# This lesson follows the report: the objective and what it minimises (1.2), the algorithm
# (Figure 2), the fully connected networks (1.4.1), the training losses (Figure 7), the
# synthesis from a fixed noise batch (Figure 8) and the grid in latent space (Figure 9).
#
# Run it: `python lessons/04_gan.py` (a few minutes on a laptop CPU), `--quick` for a smoke
# run, `--epochs`, `--out DIR`.
#
# Exercises 8, 9 and 10 have you write the stable loss, Adam's step, and the training step.

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

import minigen
from minigen import functional as F
from minigen import optim
from minigen.data import MNIST, DataLoader
from minigen.models import discriminator_loss, gan, generator_loss
from minigen.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from minigen.report import gan_figures
from minigen.train import train_gan

# %% [markdown]
# ## 1. The objective (Section 1.2)
#
# $$ V(D, G) = \mathbb{E}_{x \sim p_\text{data}}[\log D(x)]
#    + \mathbb{E}_{z \sim p(z)}[\log(1 - D(G(z)))], \qquad \min_G \max_D V(D, G). $$
#
# For a fixed $G$ with sample density $p_g$, the best discriminator is
# $D^*(x) = p_\text{data}(x) / (p_\text{data}(x) + p_g(x))$, and plugging it in gives
# $V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}(p_\text{data} \,\|\, p_g)$ with
# $\mathrm{JSD}(p\|q) = \tfrac12 \mathrm{KL}(p\|m) + \tfrac12 \mathrm{KL}(q\|m)$,
# $m = (p+q)/2$. (The report writes the JSD without the halves; with them, the JSD lies in
# $[0, \log 2]$.) So the generator's game minimises a divergence between its distribution and
# the data's, and the game's value is $-\log 4$ exactly when $p_g = p_\text{data}$.
# We check the identity on two distributions over 5 points:

# %%
def jsd_identity(seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    p_data, p_g = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
    d_star = p_data / (p_data + p_g)
    value = np.sum(p_data * np.log(d_star)) + np.sum(p_g * np.log(1 - d_star))
    m = (p_data + p_g) / 2
    jsd = 0.5 * np.sum(p_data * np.log(p_data / m)) + 0.5 * np.sum(p_g * np.log(p_g / m))
    return value, -np.log(4) + 2 * jsd  # equal


# %% [markdown]
# ## 2. The losses, from logits
#
# $D$ returns a **logit** $l$ and $D(x) = \mathrm{sigmoid}(l)$; the losses use
# `binary_cross_entropy_with_logits`, which never takes $\log 0$.
#
# - $D$ *ascends* $V$, i.e. minimises $-[\log D(x) + \log(1 - D(G(z)))]
#   = \mathrm{BCE}(l_\text{real}, 1) + \mathrm{BCE}(l_\text{fake}, 0)$.
# - $G$ of the minimax game minimises $\log(1 - D(G(z)))$, the **saturating** loss. Early on
#   $D$ rejects samples easily, $D(G(z)) \approx 0$, and this loss is flat there: $G$ gets no
#   gradient. The report's fix (end of 1.2), used by default: maximise $\log D(G(z))$, i.e.
#   minimise $\mathrm{BCE}(l_\text{fake}, 1)$, the **non-saturating** loss. Same fixed point,
#   strong gradients when $G$ is bad. The gradients with respect to the logit at
#   $D(G(z)) = \mathrm{sigmoid}(-8) \approx 0.0003$:

# %%
def saturation_demo() -> dict[str, float]:
    grads = {}
    for name, saturating in (("saturating", True), ("non-saturating", False)):
        logit = minigen.full((1,), -8.0, requires_grad=True)
        generator_loss(logit, saturating=saturating).backward()
        grads[name] = logit.grad.item()
    return grads  # ~ -0.0003 versus ~ -1.0


# %% [markdown]
# ### Exercise 8: binary cross-entropy with logits, stable
#
# `BinaryCrossEntropyWithLogits` in `ws/minigen/ops/losses.py`, its case without
# `pos_weight`: two bodies. With $s = \mathrm{sigmoid}(x)$ for a logit $x$ and a target
# $y \in [0, 1]$, the loss of one element is $-[y \log s + (1 - y)\log(1 - s)]$. Written as
# $\max(x, 0) - xy + \log(1 + e^{-|x|})$ it is the same number, but never takes $\log 0$
# and never overflows: the exponent is never positive.
#
# - forward: set `loss` to that, element by element (the line after the `if` reduces it).
#   `e` $= e^{-|x|}$ is there already, and `backend.log1p_unit(e)` is $\log(1 + e)$.
# - backward: above the `if`, `logits`, `target` and `e` are unpacked from
#   `ctx.saved_arrays`, `g` is the incoming gradient of each element (divided by their
#   count after a mean), and `need_x`, `need_y` say which gradients to make. They are
#   $g\,(s - y)$ for the logits and $-g\,x$ for the target; `stable_sigmoid(logits, e)` is
#   $s$ without overflow. Pass the target's through `loss_shaped(ctx, ...)`, which gives it
#   the loss's shape (the engine sums it back to the target's). Return
#   `(grad_x, grad_y, None)`, with `None` where not needed.
#
# The check tries logits up to $\pm 1000$. It uses no other exercise:
# `python -m minigen exercises check 8 --workspace ws` (a workspace: lesson 01, Exercise 1).

# %% [markdown]
# ## 3. The networks (Section 1.4.1)
#
# $G$: 100 → 256 → 512 → 1024 → 784, LeakyReLU(0.2) between layers, tanh at the end (pixels
# in $[-1, 1]$, so the real images are rescaled to $[-1, 1]$ too).
# $D$: 784 → 512 → 256 → 1 logit, LeakyReLU(0.2) and Dropout(0.3): a discriminator that
# cannot memorise the 4,000 training digits too quickly.
#
# ## 4. The algorithm (Figure 2): one training step, written out
#
# For every batch of real images: update $D$ once, then $G$ once. (The report used
# momentum; we use Adam, step $2\cdot10^{-4}$, $\beta_1 = 0.5$, as DCGAN did.) Line by line:
#
# - `z = minigen.randn(n, G.latent_dim)`: a batch of noise from the prior $p(z)$.
# - `D(real), D(G(z).detach())`: $D$'s logits for the real batch and for a generated one.
#   `detach()` cuts the graph between $G$ and $D$: $D$'s loss must move $D$ only, so no
#   gradient flows back into $G$ (and none is computed).
# - `discriminator_loss`: $\mathrm{BCE}(l_\text{real}, 1) + \mathrm{BCE}(l_\text{fake}, 0)$,
#   i.e. $-[\log D(x) + \log(1 - D(G(z)))]$: $D$ ascends $V$ by descending this.
# - `numbers`: plain Python floats (`.item()`) to print and plot: the two losses, and
#   $D(x)$ and $D(G(z))$, D's mean probability of "real" on each batch (0.5 and 0.5 when
#   $D$ cannot tell them apart).
# - `opt_d.zero_grad()`: gradients *accumulate* in each parameter's `.grad`; clear the last
#   step's. `d_loss.backward()` fills `.grad` of $D$'s weights. `opt_d.step()` moves them: the
#   optimizer holds $D$'s parameters only.
# - The $G$ step draws **fresh** noise. $G$'s loss is computed *through* $D$, so its gradient
#   flows back through $D$'s layers to $G$, but $D$'s own weights must not change here.
#   `D.requires_grad_(False)` keeps them out of the graph while it is built (skipping their
#   gradients); `requires_grad` is read as the graph is built, so $D$ is switched back on
#   right after the forward pass.
# - `generator_loss`: the non-saturating $\mathrm{BCE}(l_\text{fake}, 1) = -\log D(G(z))$;
#   then the same three lines, `zero_grad`, `backward`, `step`, on $G$'s optimizer.
#
# `train_gan` (in `minigen/train/gan.py`) is this step inside `for epoch ...:` and
# `for real in ...:`, the same lines in the same order, plus three things: the NaN guard
# `run.check_finite(numbers)` before each `step()`, $k$ discriminator steps per generator step
# (`if d_steps % k == 0:`), and `run.log_batch(numbers)` (history, progress bar, Ctrl-C). We
# run our step on the first batch `train_gan` will see, from the same seed, and compare its
# numbers with the first ones `train_gan` records.

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


# %% [markdown]
# The networks and the data, built the same way for our step and for `train_gan`: the same
# seed gives the same initial weights, and a loader with the same seed the same shuffled
# order, so our `real` is the first batch `train_gan` will see.

# %%
def models(seed: int, device: str) -> tuple[gan.Generator, gan.Discriminator]:
    minigen.manual_seed(seed)
    return gan.Generator().to(device), gan.Discriminator().to(device)


def batches(seed: int, device: str, quick: bool) -> DataLoader:
    train_set = MNIST(split="train", pixel_range=(-1.0, 1.0))  # G's tanh makes [-1, 1]
    n = 256 if quick else len(train_set)
    return DataLoader(train_set.images[:n], 64, shuffle=True, seed=seed, device=device)


def one_step(seed: int, device: str, quick: bool) -> dict[str, float]:
    G, D = models(seed, device)
    opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = next(iter(batches(seed, device, quick)))  # (64, 1, 28, 28) in [-1, 1]
    minigen.manual_seed(seed)  # where train_gan(seed=seed) starts drawing noise
    return train_step(G, D, real, opt_g, opt_d)


# %% [markdown]
# ### Exercise 9: Adam's step
#
# `Adam._update` in `ws/minigen/optim/adam.py` moves one parameter `p` by its gradient $g$,
# the array `grad`; two bodies. Adam keeps, for each weight, running means of the gradient,
# $m$, and of its square, $v$, both starting at 0. At step $t = 1, 2, \ldots$:
#
# $$ m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad v \leftarrow \beta_2 v + (1 - \beta_2) g^2,
#    \qquad p \leftarrow p - \mathrm{lr}\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}, $$
#
# with $\hat m = m / (1 - \beta_1^t)$ and $\hat v = v / (1 - \beta_2^t)$: the means start
# biased towards 0, and the division undoes it (at $t = 1$, $\hat m = g$). So each weight
# moves by about `lr`, whatever its gradient's scale. $\epsilon$ is outside the square root.
#
# - First body: update `m` and `v`, the arrays `state["exp_avg"]` and `state["exp_avg_sq"]`,
#   **in place** (`m *= ...`, then `m += ...`): `m = ...` would make a new array and leave
#   the state, and so the next step, as it was.
# - Second body: the step, from `m`, `v` (amsgrad may have replaced `v` in between), `t`,
#   `lr`, `beta1`, `beta2`, `eps` and `xp` (the arrays' namespace, for `xp.sqrt`), all set
#   above; change `p.data` in place (`-=`).
#
# Python numbers keep float32 arrays float32. It uses no other exercise:
# `python -m minigen exercises check 9 --workspace ws`.

# %% [markdown]
# ### Exercise 10: one GAN training step: D, then G
#
# The body of `train_gan`'s loop, in `ws/minigen/train/gan.py`: section 4's step, in the
# loop's names. Above it, `real` is the batch and `n` its size, `dev` the device (pass
# `device=dev` to `minigen.randn`), `G`, `D`, `opt_g`, `opt_d` the networks and their Adams,
# `d_steps` the count of $D$ steps so far; `k`, `saturating`, `real_label` and
# `generator_ema` are `train_gan`'s arguments. After it, `run.log_batch(numbers)` records
# your dict `numbers`.
#
# - $D$'s step as in `train_step` (with `real_label`), calling `run.check_finite(numbers)`
#   before `opt_d.step()`, so that a NaN stops training before a weight moves; then add 1 to
#   `d_steps`.
# - $G$'s step only when `d_steps % k == 0`, on fresh noise, with
#   `generator_loss(..., saturating)`: put `g_loss` in `numbers`, and call
#   `run.check_finite(numbers)` again before `opt_g.step()`. Then, if `generator_ema` is not
#   `None`, `generator_ema.update_parameters(G)`.
#
# Draw the noise as section 4 does, one `randn` for each step: the check runs your loop and
# the algorithm written out from the same seed, and compares every number and weight. It
# also counts gradients: none may reach $G$ from $D$'s loss (`detach`), nor $D$'s weights
# from $G$'s (`requires_grad_`). It uses exercises 1, 4, 5, 8 and 9: write them first.
# `python -m minigen exercises check 10 --workspace ws`.

# %% [markdown]
# ## 5. Training and the figures
#
# `train_gan` runs that step over every batch, with a progress bar showing the losses
# and $D(x)$, $D(G(z))$; it saves a checkpoint each epoch (`--resume` continues it) and the
# fixed-noise samples (Figure 8). What to look at:
#
# - `losses.png` (Figure 7): D's loss starts near $2\log 2 = 1.39$ (a coin-flipping $D$),
#   G's near $\log 2$. They do not converge to a minimum like a supervised loss: they hover,
#   and a D loss falling to 0 means $D$ has won and $G$ stopped learning.
# - `samples.gif`: blobs, then strokes; after a few thousand iterations, digits. Watch for
#   **mode collapse**: many samples of the same digit (the JSD view predicts it, Section 1.2).
# - `latent_grid.png` (Figure 9): $G$ along a bilinear walk between four random codes. A
#   smooth morph means $G$ maps nearby codes to nearby images.

# %% [markdown]
# ## 6. Sampling from an average of G's weights
#
# The two networks never settle: each step of $G$ answers the current $D$, so $G$'s weights
# keep circling the equilibrium instead of resting on it, and a snapshot of them carries the
# last few steps' swing. An exponential moving average of the weights,
# $w_{\text{ema}} \leftarrow 0.999\, w_{\text{ema}} + 0.001\, w$ after every step (about the
# last thousand steps), sits nearer the centre of that circling. It changes nothing in
# training: it is a second copy of $G$ that only watches (`optim.swa_utils.AveragedModel`,
# PyTorch's name), and the samples come from it. `--ema 0.999` trains with one. Measured on
# the bundled sample after 200 epochs (`benchmarks/results/quality_gan_ema.md`, three seeds):
# the average's Fréchet distance is 43.8 against the trained $G$'s 72.3, its classifier score
# 7.43 against 7.09, but its commonest digit holds 17.6 % of the samples against 15.0 %: it
# sharpens the digits $G$ favours more than it evens them out. The average lags: with decay
# 0.999 it remembers about a thousand steps, and the first update copies $G$'s first-step
# weights, so for the first few thousand steps (about 16 epochs of the 4,000-image sample at
# batch 64) its samples look worse than $G$'s, not better.

# %%
def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="Lesson 04: the fully connected GAN")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="runs/lesson04")
    parser.add_argument("--quick", action="store_true", help="a smoke run of seconds")
    parser.add_argument("--ema", type=float, default=None, metavar="DECAY",
                        help="also keep an EMA of G's weights (e.g. 0.999) and sample it")
    args = parser.parse_args(argv)
    out = Path(args.out)

    value, identity = jsd_identity(args.seed)
    print(f"V(D*, G) = {value:.6f};  -log 4 + 2 JSD = {identity:.6f}")
    grads = saturation_demo()
    print("dLoss/dlogit at D(G(z)) = 0.0003: " + ", ".join(f"{k} {v:+.4f}"
                                                           for k, v in grads.items()))

    step = one_step(args.seed, args.device, args.quick)
    print("one step by hand:   " + ", ".join(f"{k} {v:.6f}" for k, v in step.items()))

    G, D = models(args.seed, args.device)  # afresh: train_gan starts where our step did
    print(G, D, sep="\n")
    epochs = 1 if args.quick else args.epochs
    average = None if args.ema is None else AveragedModel(
        G, multi_avg_fn=get_ema_multi_avg_fn(args.ema))  # section 6
    history = train_gan(G, D, batches(args.seed, args.device, args.quick), epochs=epochs,
                        out=out, seed=args.seed, progress=not args.quick, generator_ema=average)
    first = {k: history["batch"][k][0] for k in step}
    print("train_gan's first:  " + ", ".join(f"{k} {v:.6f}" for k, v in first.items())
          + f"  (the same numbers: {first == step})")
    gan_figures(G if average is None else average.module, out, args.seed)
    e = history["epoch"]
    print(f"after {epochs} epochs: D loss {e['d_loss'][-1]:.3f}, G loss {e['g_loss'][-1]:.3f}, "
          f"D(x) {e['d_x'][-1]:.3f}, D(G(z)) {e['d_g_z'][-1]:.3f}; figures in {out}/")
    return {"jsd": (value, identity), "saturation": grads, "one_step": step,
            "history": history, "out": out}


# %%
if __name__ == "__main__":
    # A script reads its command line. A notebook has none: it runs on DEVICE, quick when
    # MINIGEN_QUICK=1. Add options to the list to change a run, e.g. "--epochs", "10".
    notebook_args = ["--device", DEVICE] + (["--quick"] if QUICK else [])
    result = main(notebook_args if IN_NOTEBOOK else None)
