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

# %%
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import minigen
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
# ## 3. The networks (Section 1.4.1)
#
# $G$: 100 → 256 → 512 → 1024 → 784, LeakyReLU(0.2) between layers, tanh at the end (pixels
# in $[-1, 1]$, so the real images are rescaled to $[-1, 1]$ too).
# $D$: 784 → 512 → 256 → 1 logit, LeakyReLU(0.2) and Dropout(0.3): a discriminator that
# cannot memorise the 4,000 training digits too quickly.
#
# ## 4. The algorithm (Figure 2), one iteration written out
#
# For $k$ steps: sample noise and a real minibatch, update $D$ by its gradient. Then sample
# fresh noise and update $G$. (The report used momentum; we use Adam, step $2\cdot10^{-4}$,
# $\beta_1 = 0.5$, as DCGAN did.) Two details matter: `fake.detach()` stops $D$'s loss from
# reaching $G$, and in $G$'s step $D$'s weights are not updated (we freeze them, which also
# skips computing their gradients).

# %%
def one_iteration(G, D, real, opt_g, opt_d, k: int = 1) -> dict[str, float]:
    for _ in range(k):  # in train_gan, each D step takes the next real batch
        z = minigen.randn(real.shape[0], G.latent_dim)
        d_loss = discriminator_loss(D(real), D(G(z).detach()))
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
    z = minigen.randn(real.shape[0], G.latent_dim)
    D.requires_grad_(False)
    g_loss = generator_loss(D(G(z)))
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    D.requires_grad_(True)
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}


# %% [markdown]
# ## 5. Training and the figures
#
# `train_gan` runs that iteration over every batch, with a progress bar showing the losses
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

    minigen.manual_seed(args.seed)
    train_set = MNIST(split="train", pixel_range=(-1.0, 1.0))
    n = 256 if args.quick else len(train_set)
    loader = DataLoader((train_set.images[:n],), 64, shuffle=True, seed=args.seed,
                        device=args.device)
    G = gan.Generator().to(args.device)
    D = gan.Discriminator().to(args.device)
    print(G, D, sep="\n")
    G_copy, D_copy = gan.Generator(), gan.Discriminator()  # one iteration by hand, on copies
    real = next(iter(loader))[0]
    losses = one_iteration(G_copy, D_copy, real.to("cpu"),
                           optim.Adam(G_copy.parameters(), lr=2e-4, betas=(0.5, 0.999)),
                           optim.Adam(D_copy.parameters(), lr=2e-4, betas=(0.5, 0.999)))
    print(f"one iteration by hand: {losses}")

    epochs = 1 if args.quick else args.epochs
    average = None if args.ema is None else AveragedModel(
        G, multi_avg_fn=get_ema_multi_avg_fn(args.ema))  # section 6
    history = train_gan(G, D, loader, epochs=epochs, out=out, seed=args.seed,
                        progress=not args.quick, generator_ema=average)
    gan_figures(G if average is None else average.module, out, args.seed)
    e = history["epoch"]
    print(f"after {epochs} epochs: D loss {e['d_loss'][-1]:.3f}, G loss {e['g_loss'][-1]:.3f}, "
          f"D(x) {e['d_x'][-1]:.3f}, D(G(z)) {e['d_g_z'][-1]:.3f}; figures in {out}/")
    return {"jsd": (value, identity), "saturation": grads, "one_iteration": losses,
            "history": history, "out": out}


if __name__ == "__main__":
    main()
