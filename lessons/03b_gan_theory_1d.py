# %% [markdown]
# # Lesson 03b — The GAN game in one dimension: D*, the JSD and mode collapse
#
# Section 1.2 of the report states the theory of GANs in three sentences and shows none of it:
#
# 1. for a fixed generator the best discriminator is $D^*(x) = p_{data}(x) / (p_{data}(x) +
#    p_g(x))$;
# 2. with $D = D^*$ the generator minimises the Jensen-Shannon divergence between $p_{data}$
#    and $p_g$, whose minimum, $p_g = p_{data}$, gives the game the value $V = -\log 4$;
# 3. $V$ is "not a very convincing objective for G" (hence $\max \log D(G(z))$ instead), and
#    "as a result, GAN has mode collapsing behavior".
#
# In one dimension every density can be tabulated on a grid of points, so all of it can be
# computed and drawn. The data are a mixture of two Gaussians; the generator and the
# discriminator are a few small `Linear` layers (lesson 03), trained with minigen's autograd
# (lesson 01) and `optim.Adam`. The grid analysis (densities, kernel estimates, the JSD) lives
# in `minigen.toy`, in NumPy: it only reads samples that minigen produced.
#
# Run it: `python lessons/03b_gan_theory_1d.py --out runs/lesson03b` (about half a minute).

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
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np

import minigen
import minigen.functional as F
from minigen import nn, optim, toy
from minigen import toy_figures as figs

# %% [markdown]
# ## 1. The data and the two players
#
# Two Gaussian bumps of standard deviation 0.25 at $\pm 2$: sixteen standard deviations
# apart, so almost no real sample falls between them. The generator maps noise
# $z \sim N(0, I_4)$ to a number; the discriminator maps a number to a **logit** $s$, with
# $D(x) = \sigma(s)$ (the losses take logits: they never take $\log 0$).

# %%
DATA = toy.GaussianMixture(means=[-2.0, 2.0], stds=[0.25, 0.25])
GRID = np.linspace(-4.0, 4.0, 801)  # where every density is tabulated (spacing 0.01)
BANDWIDTH = 0.05  # of the kernel estimate of p_g: it widens a bump of std 0.25 by 2 %
N_EVAL = 10_000  # generator samples behind each estimate of p_g


class Settings(NamedTuple):
    """How one GAN is trained: sizes, learning rates and steps per round. Change one field
    with ``COVER._replace(lr_d=4e-3)``."""

    noise_dim: int = 4
    hidden: int = 32
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    k_d: int = 1  # discriminator steps per round: the report's k
    k_g: int = 1  # generator steps per round
    batch: int = 128
    saturating: bool = False


def make_generator(s: Settings, device: str) -> nn.Module:
    return nn.Sequential(nn.Linear(s.noise_dim, s.hidden, device=device), nn.LeakyReLU(0.2),
                         nn.Linear(s.hidden, s.hidden, device=device), nn.LeakyReLU(0.2),
                         nn.Linear(s.hidden, 1, device=device))


def make_discriminator(hidden: int, device: str) -> nn.Module:
    return nn.Sequential(nn.Linear(1, hidden, device=device), nn.LeakyReLU(0.2),
                         nn.Linear(hidden, hidden, device=device), nn.LeakyReLU(0.2),
                         nn.Linear(hidden, 1, device=device))


# %% [markdown]
# ## 2. The losses
#
# $V(D, G) = E_{data}[\log D(x)] + E_z[\log(1 - D(G(z)))]$. The discriminator **ascends** V,
# which is the same as descending the binary cross-entropy of "real" (label 1) on data and
# "fake" (label 0) on samples: its loss is exactly $-V$ on the minibatch. The generator of the
# minimax game descends $E_z[\log(1 - D(G(z)))]$ (*saturating*); the report's practical fix
# descends $-E_z[\log D(G(z))]$ (*non-saturating*, the default here).

# %%
def discriminator_loss(real_logits, fake_logits):
    """-V on the minibatch: BCE(real, 1) + BCE(fake, 0)."""
    return (F.binary_cross_entropy_with_logits(real_logits, 1.0)
            + F.binary_cross_entropy_with_logits(fake_logits, 0.0))


def generator_loss(fake_logits, saturating: bool = False):
    if saturating:  # E log(1 - D(G(z))) = -BCE(fake, 0)
        return -F.binary_cross_entropy_with_logits(fake_logits, 0.0)
    return F.binary_cross_entropy_with_logits(fake_logits, 1.0)  # -E log D(G(z))


def real_batch(data: toy.GaussianMixture, n: int, rng: np.random.Generator, device: str):
    return minigen.tensor(data.sample(n, rng), device=device)


def d_step(D, G, opt_d, s: Settings, data, rng, device) -> float:
    fake = G(minigen.randn(s.batch, s.noise_dim, device=device)).detach()  # G is not trained
    loss = discriminator_loss(D(real_batch(data, s.batch, rng, device)), D(fake))
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return -loss.item()  # the minibatch estimate of V(D, G)


def g_step(D, G, opt_g, s: Settings, device) -> None:
    loss = generator_loss(D(G(minigen.randn(s.batch, s.noise_dim, device=device))),
                          s.saturating)
    opt_g.zero_grad()  # D's parameters get gradients too, but only opt_g steps here
    loss.backward()
    opt_g.step()


def adam(module: nn.Module, lr: float) -> optim.Adam:
    return optim.Adam(module.parameters(), lr=lr, betas=(0.5, 0.999))


# %% [markdown]
# ## 3. Looking at the players on the grid
#
# $p_g$ has no formula: we push a fixed batch of 10,000 noise vectors through G (drawn
# once, like the report's fixed noise for its synthesis grids, so that how often we look
# does not change the training run's random numbers) and smooth the histogram of the
# outputs with a narrow Gaussian kernel (`toy.kde`). $D$ is evaluated at every grid point.
# The analytic best discriminator for the current generator is then
# `toy.optimal_discriminator(p_data, p_g)`.

# %%
def generator_samples(G, z) -> np.ndarray:
    with minigen.no_grad():
        return G(z).numpy()[:, 0]


def discriminator_on_grid(D, device: str) -> np.ndarray:
    x = minigen.tensor(GRID[:, None].astype(np.float32), device=device)
    with minigen.no_grad():
        return F.sigmoid(D(x)).numpy()[:, 0].astype(np.float64)


def snapshot(G, D, z, device: str, step: int = 0, data=DATA, p_g=None) -> dict:
    """p_g (a KDE of G's samples G(z) unless given), D and D* on the grid."""
    if p_g is None:
        p_g = toy.kde(generator_samples(G, z), GRID, BANDWIDTH)
    return {"step": step, "p_g": p_g, "D": discriminator_on_grid(D, device),
            "D_star": toy.optimal_discriminator(data.pdf(GRID), p_g)}


# %% [markdown]
# ## 4. The best discriminator, by training
#
# For one point $x$, D's share of V is $p_{data}(x) \log D + p_g(x) \log(1 - D)$; its
# derivative in D, $p_{data}/D - p_g/(1 - D)$, vanishes at $D^* = p_{data}/(p_{data} + p_g)$.
# Freeze a generator and train only D: it should land on that curve wherever there are
# samples to learn from. Two frozen generators: a Gaussian $N(0.5, 1.5^2)$ made by hand (one
# `Linear(1, 1)` with weight 1.5 and bias 0.5, so $p_g$ is known exactly), which overlaps
# both bumps; and the freshly initialised MLP generator, a narrow blob in the gap between
# them. Where neither density has mass no sample ever lands, and D is free to be anything.

# %%
def gaussian_generator(mean: float, std: float, device: str) -> nn.Module:
    """G(z) = std z + mean, z ~ N(0, 1): its density is exactly N(mean, std^2)."""
    G = nn.Linear(1, 1, device=device)
    G.load_state_dict({"weight": np.array([[std]], np.float32),
                       "bias": np.array([mean], np.float32)})
    return G


def train_discriminator(G, s: Settings, steps: int, device: str, rng, data=DATA,
                        lr: float = 3e-3):
    """Train a new discriminator against the frozen generator G; returns (D, values of V).

    The last third of the steps runs at a tenth of the learning rate: each minibatch pulls D
    a little towards its own noise, and smaller steps average that noise out."""
    D = make_discriminator(s.hidden, device)
    opt_d = adam(D, lr)
    values = []
    for step in range(steps):
        if step == 2 * steps // 3:
            opt_d.param_groups[0]["lr"] = lr / 10
        values.append(d_step(D, G, opt_d, s, data, rng, device))
    return D, values


def d_star_gap(snap: dict, data=DATA, floor: float = 0.05) -> float:
    """max |D - D*| where both densities exceed ``floor`` (NaN if nowhere)."""
    both = (data.pdf(GRID) > floor) & (snap["p_g"] > floor)
    return float(np.abs(snap["D"] - snap["D_star"])[both].max()) if both.any() else math.nan


# %% [markdown]
# ## 5. The value at D*, and why the report's V is "not very convincing" for G
#
# Put $D^*$ into V: $V(D^*, G) = E_{data}[\log \frac{p_{data}}{p_{data} + p_g}] +
# E_g[\log \frac{p_g}{p_{data} + p_g}] = -\log 4 + KL(p_{data} \| m) + KL(p_g \| m)$ with
# $m = (p_{data} + p_g)/2$, that is $-\log 4 + 2\,JSD(p_{data}, p_g)$. The report writes the
# two KL terms without the usual halves, so its "JSD" is twice the standard one (which lies
# between 0 and $\log 2$); the conclusion is the same: the minimum is $p_g = p_{data}$, where
# $V = -\log 4 \approx -1.386$.
#
# Now the generator's side. Its gradient reaches G through D's logit $s$, and the chain rule
# (lesson 01) gives $\partial/\partial s\, \log(1 - \sigma(s)) = -\sigma(s) = -D$: when D
# confidently rejects the fakes, $D(G(z)) \approx 0$, the saturating loss hands G almost
# nothing. The non-saturating loss has $\partial/\partial s\, (-\log \sigma(s)) = -(1 - D)
# \approx -1$ there. Both losses have the same fixed points; they differ in how hard, and
# on which samples, they push. `generator_losses.png` draws both, with the values of
# $D(G(z))$ that section 4's discriminator gives the initial generator's samples (around
# $10^{-4}$): there the saturating gradient is thousands of times smaller, and `main` prints
# the same for the whole of G's gradient. Per sample, the saturating push is proportional to
# $D$: it goes to the few fakes that D already accepts, not to the rejected ones that need
# it. (One caveat. The report's algorithm (its Figure 2) uses momentum SGD, whose step is
# proportional to the gradient; Adam divides each parameter's step by the running size of its
# gradients, which scales a uniformly tiny gradient back up. So with Adam in this toy the
# saturating loss still trains, erratically: try `COVER._replace(saturating=True)`.)

# %%
def loss_gradients(d_values: np.ndarray) -> dict[str, np.ndarray]:
    """|d loss / d logit| of each generator loss at D(G(z)) = d_values, by minigen autograd."""
    logit = np.log(d_values) - np.log1p(-d_values)
    out = {"d": d_values}
    for name, saturating in (("saturating", True), ("non-saturating", False)):
        s = minigen.tensor(logit, dtype=minigen.float64, requires_grad=True)
        total = generator_loss(s, saturating) * len(d_values)  # the mean times N: a sum
        total.backward()  # so s.grad holds each sample's own derivative
        out[name] = np.abs(s.grad.numpy())
    return out


def generator_gradient_norms(G, D, s: Settings, device: str) -> dict[str, float]:
    """The norm of G's gradient under each loss, against the discriminator D."""
    norms = {}
    for name, saturating in (("saturating", True), ("non-saturating", False)):
        G.zero_grad()
        generator_loss(D(G(minigen.randn(1024, s.noise_dim, device=device))),
                       saturating).backward()
        norms[name] = math.sqrt(sum(float((p.grad * p.grad).sum()) for p in G.parameters()))
    G.zero_grad()
    D.zero_grad()
    return norms


# %% [markdown]
# ## 6. Training the game, watched through the theory
#
# Each round: `k_d` discriminator steps, then `k_g` generator steps (the report's algorithm
# has $k$ and 1). Every 20 rounds we tabulate $p_g$ and measure $JSD(p_{data}, p_g)$ on the
# grid; at a few rounds we keep a snapshot of $p_g$, $D$ and $D^*$. What to look for:
#
# - `training_snapshots.png`: the blob leaves the gap within a few dozen steps and lands on
#   **one** bump; with seed 0 it stays there for several hundred steps before some of it
#   crosses to the other bump (section 7 explains both).
# - `jsd.png`, left: the JSD falls from $\log 2$ (disjoint) to a plateau near 0.216, the JSD
#   of a generator that reproduces one bump exactly, and falls again when the second bump
#   is found. It heads for 0, the theory's optimum, without reaching it in these few steps
#   (the dotted floor is what the kernel estimate alone costs).
# - `jsd.png`, right: the minibatch value of the game with the trained D stays **below**
#   $V(D^*, G) = -\log 4 + 2\,JSD$, as it must ($D^*$ maximises V), and both move towards
#   $-\log 4$ as $p_g$ approaches $p_{data}$.

# %%
def train_gan(s: Settings, steps: int, device: str, seed: int, data=DATA,
              eval_every: int = 20, snapshot_steps: tuple[int, ...] = ()) -> dict:
    """Train a GAN on ``data`` for ``steps`` rounds; returns its history and the players."""
    minigen.manual_seed(seed)
    rng = np.random.default_rng(seed)
    G, D = make_generator(s, device), make_discriminator(s.hidden, device)
    opt_g, opt_d = adam(G, s.lr_g), adam(D, s.lr_d)
    z_eval = minigen.randn(N_EVAL, s.noise_dim, device=device)  # fixed: drawn once
    p_data = data.pdf(GRID)
    h = {"settings": s, "eval_steps": [], "jsd": [], "masses": [], "moments": [],
         "values": [], "snapshots": []}
    for step in range(steps + 1):
        if step % eval_every == 0 or step == steps:
            samples = generator_samples(G, z_eval)
            h["eval_steps"].append(step)
            h["jsd"].append(toy.jsd(p_data, toy.kde(samples, GRID, BANDWIDTH), GRID))
            h["masses"].append(toy.mode_masses(samples, data.means, 3 * data.stds.min()))
            h["moments"].append((float(samples.mean()), float(samples.std())))
        if step in snapshot_steps:
            h["snapshots"].append(snapshot(G, D, z_eval, device, step, data))
        if step == steps:
            break
        h["values"].append(np.mean([d_step(D, G, opt_d, s, data, rng, device)
                                    for _ in range(s.k_d)]))
        for _ in range(s.k_g):
            g_step(D, G, opt_g, s, device)
    h["final"] = snapshot(G, D, z_eval, device, steps, data)
    h["samples"] = generator_samples(G, z_eval)
    h["G"], h["D"] = G, D
    return h


# %% [markdown]
# ## 7. Mode collapse
#
# Why would minimising the JSD drop a mode? Ask the theory first, on the simplest generator:
# a single Gaussian $N(\mu, \sigma^2)$. Scan $(\mu, \sigma)$ and compute the JSD to our two
# bumps. The closest Gaussian sits **on one bump** (JSD $\approx 0.216$), not on the Gaussian
# that maximum likelihood would choose (mean 0 and the data's standard deviation, JSD
# $\approx 0.358$), which minimises $KL(p_{data} \| p_g)$ and spreads over both. The JSD
# forgives a missing mode and punishes mass where there are no data; the likelihood does the
# opposite.
#
# A generator that *can* make two bumps still has to find the second one, and it learns only
# through the slope of D **at its own samples**. Two runs with identical networks, data, seed
# and number of steps differ in one setting, how fast D learns compared with G:
#
# - `COLLAPSE`: D's learning rate 4x G's, so D stays close to $D^*$. The blob in the gap
#   moves as one, towards one side, and lands on one bump. To reach the other bump, samples
#   must cross the gap, and $D^* = 0$ wherever fakes land and data do not: a D that keeps up
#   with $D^*$ rejects every sample that drifts into the gap at once, and the slope there
#   points back to the bump it came from. In `mode_collapse.png` the collapse run's mass on
#   its bump dips now and then (samples leaving) and snaps back; none ever arrives on the
#   other bump.
# - `COVER`: equal learning rates. D lags behind $D^*$ and stays smooth: a tilt across the
#   whole line that still says "real samples are over there", rather than a sharp valley
#   that follows each stray sample. Samples drift into the gap, are not rejected fast
#   enough, and make it across (`training_snapshots.png`: a thin bridge of fakes over the
#   gap, then a second bump). Some runs spread over both bumps from the start; others, like
#   seed 0's, sit on one bump for hundreds of steps first: the escape is not instant, but it
#   happens.
#
# With this file's code, seeds 0-7 and 2000 steps, `COLLAPSE` ended on one bump 8 times out
# of 8 and `COVER` on both 8 times out of 8 (each bump holding at least a quarter of the
# samples). In variants of the experiment we also saw fast-D runs that first covered both
# bumps and then lost one, and the same collapse with five D steps per G step (the report's
# $k = 5$; 6 runs out of 6) and with the opposite extreme, five G steps per D step (4 out of
# 5: G then chases the peak of a stale D, and its samples pile into one place). The theory's
# assumption, $D = D^*$ at every step, is the regime that collapses.

# %%
def single_gaussian_jsd(mus: np.ndarray, sigmas: np.ndarray, data=DATA) -> np.ndarray:
    """JSD(p_data, N(mu, sigma^2)) on a wide grid, shape (len(sigmas), len(mus))."""
    x = np.linspace(-8.0, 8.0, 1601)
    p = data.pdf(x)
    return np.array([[toy.jsd(p, toy.GaussianMixture([m], [sd]).pdf(x), x) for m in mus]
                     for sd in sigmas])


COVER = Settings()  # one D step per G step, equal learning rates
COLLAPSE = COVER._replace(lr_d=4e-3)  # D learns 4x faster than G: it stays near D*


def describe(s: Settings) -> str:
    return f"lr_d={s.lr_d:g}, lr_g={s.lr_g:g}, k_d={s.k_d}, k_g={s.k_g}"


# %% [markdown]
# ## 8. Figures
#
# Drawn by `minigen.toy_figures`. Each density panel shows $p_{data}$ (black), the kernel
# estimate of $p_g$ (orange), and on the right-hand axis the trained $D(x)$ (blue) against
# the analytic $D^*$ for the same generator (dashed). $D^*$ is drawn only where
# $p_{data} + p_g > 0.01$: elsewhere no sample of either kind lands (shaded grey), D is not
# trained there and $D^*$ is $0/0$.

# %%
def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="Lesson 03b: the GAN game in 1-D")
    parser.add_argument("--epochs", type=int, default=2000, help="training steps (rounds)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or strict")
    parser.add_argument("--out", default="runs/lesson03b", help="folder for the figures")
    parser.add_argument("--quick", action="store_true", help="a few seconds: short runs")
    args = parser.parse_args(argv)
    out, dev, seed = Path(args.out), args.device, args.seed
    steps = 100 if args.quick else args.epochs
    d_steps = 100 if args.quick else 900
    figures, p_data = {}, DATA.pdf(GRID)

    # section 4: D trained against two frozen generators
    minigen.manual_seed(seed)
    rng = np.random.default_rng(seed)
    one_d = COVER._replace(noise_dim=1, batch=256)
    G_gauss = gaussian_generator(0.5, 1.5, dev)
    D_gauss, _ = train_discriminator(G_gauss, one_d, d_steps, dev, rng)
    exact = toy.GaussianMixture([0.5], [1.5]).pdf(GRID)
    G0 = make_generator(COVER, dev)
    D0, _ = train_discriminator(G0, COVER, d_steps, dev, rng)
    z_eval = minigen.randn(N_EVAL, COVER.noise_dim, device=dev)
    frozen = [snapshot(G_gauss, D_gauss, None, dev, p_g=exact), snapshot(G0, D0, z_eval, dev)]
    gap = d_star_gap(frozen[0])
    print(f"D vs D* for the frozen Gaussian generator: max gap {gap:.3f}")
    titles = ["frozen G: N(0.5, 1.5^2), exact p_g\nmax |D - D*| where both densities > 0.05: "
              f"{gap:.3f}", "frozen G: the initial MLP generator\nthe densities do not "
              "overlap: D* is 0 or 1 wherever samples land"]
    figures["optimal_d"] = figs.plot_snapshots(GRID, p_data, frozen, titles,
                                               out / "optimal_discriminator.png")

    # section 5: the generator's losses, and its gradient against section 4's D
    curves = loss_gradients(np.logspace(-6, math.log10(0.999), 200))
    with minigen.no_grad():
        observed = F.sigmoid(D0(G0(minigen.randn(2000, COVER.noise_dim, device=dev))))
    observed = observed.numpy()[:, 0]
    norms = generator_gradient_norms(G0, D0, COVER, dev)
    print(f"median D(G(z)) at the start: {np.median(observed):.1e}; norm of G's gradient: "
          + ", ".join(f"{k} {v:.1e}" for k, v in norms.items()))
    figures["losses"] = figs.plot_generator_losses(curves, observed,
                                                   out / "generator_losses.png")

    # section 6: the game
    marks = tuple(int(f * steps) for f in (0.0, 0.1, 0.5, 1.0))
    cover = train_gan(COVER, steps, dev, seed, snapshot_steps=marks)
    floor = toy.jsd(p_data, toy.kde(DATA.sample(N_EVAL, rng), GRID, BANDWIDTH), GRID)
    snaps = cover["snapshots"]
    figures["snapshots"] = figs.plot_snapshots(GRID, p_data, snaps,
                                               figs.jsd_titles(GRID, p_data, snaps),
                                               out / "training_snapshots.png")
    one_bump = toy.jsd(p_data, toy.GaussianMixture([2.0], [0.25]).pdf(GRID), GRID)
    figures["jsd"] = figs.plot_jsd(cover, floor, one_bump, out / "jsd.png")

    # section 7: collapse
    collapse = train_gan(COLLAPSE, steps, dev, seed)
    for name, h in (("cover", cover), ("collapse", collapse)):
        print(f"{name:8s} ({describe(h['settings'])}): final JSD {h['jsd'][-1]:.3f} (KDE "
              f"floor {floor:.4f}), fraction near each bump {np.round(h['masses'][-1], 2)}")
    n = 13 if args.quick else 41
    mus, sigmas = np.linspace(-3, 3, n), np.linspace(0.1, 3.0, n)
    landscape = (mus, sigmas, single_gaussian_jsd(mus, sigmas))
    runs = {f"{name} ({describe(h['settings'])}), step {steps}\nfraction near each bump: "
            + ", ".join(f"{m:.2f}" for m in h["masses"][-1]): h
            for name, h in (("collapse", collapse), ("cover", cover))}
    ml_std = math.sqrt(float(DATA.weights @ (DATA.stds**2 + DATA.means**2)))  # mean is 0
    figures["collapse"] = figs.plot_collapse(GRID, p_data, runs, DATA.means, landscape,
                                             (0.0, ml_std), out / "mode_collapse.png")
    for path in figures.values():
        print("figure:", path)
    return {"d_star_gap": gap, "observed_d": observed, "gradient_norms": norms,
            "cover": cover, "collapse": collapse, "kde_floor": floor, "landscape": landscape,
            "figures": figures}


# %%
if __name__ == "__main__":
    # A script reads its command line. A notebook has none: it runs on DEVICE, quick when
    # MINIGEN_QUICK=1. Add options to the list to change a run, e.g. "--epochs", "10".
    notebook_args = ["--device", DEVICE] + (["--quick"] if QUICK else [])
    result = main(notebook_args if IN_NOTEBOOK else None)
