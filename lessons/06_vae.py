# %% [markdown]
# # Lesson 06 — The variational autoencoder (report, Section 2)
#
# A VAE learns two networks at once. The **encoder** $q_\phi(z|x)$ squeezes a 784-pixel digit
# into a posterior distribution over a tiny latent code $z$ (2 numbers here, so we can draw
# the latent space); the **decoder** $p_\theta(x|z)$ turns a code back into pixel
# probabilities. Both are trained together by maximising the evidence lower bound (ELBO)
#
# $$ \log p_\theta(x) \;\ge\; \mathcal{L}(x) = \mathbb{E}_{q_\phi(z|x)}[\log p_\theta(x|z)]
#    - \mathrm{KL}\big(q_\phi(z|x)\,\|\,p(z)\big), \qquad p(z) = \mathcal{N}(0, I). $$
#
# We minimise $-\mathcal{L}$ per image: a reconstruction term (binary cross-entropy) plus a
# KL term that keeps every posterior close to the prior, so that codes drawn from
# $\mathcal{N}(0, I)$ decode to digits.
#
# Run it: `python lessons/06_vae.py` (about a minute on a laptop CPU), `--quick` for a smoke
# run, `--out DIR` for the figures.
#
# Exercise 12 (after section 3) has you write the reparameterisation and the KL term.

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

import numpy as np

import minigen
from minigen import functional as F
from minigen import optim
from minigen.data import MNIST, DataLoader
from minigen.models import VAE
from minigen.report import vae_figures
from minigen.train import train_vae

# %% [markdown]
# ## 1. The network (report, Figure 12)
#
# Exactly the report's layers: `fc1` 784→512, `fc2` 512→256, then two heads `fc31` (the
# mean $\mu$) and `fc32` (the log-variance $\log\sigma^2$), and the decoder `fc4` 2→256,
# `fc5` 256→512, `fc6` 512→784. ReLU between layers. The decoder's output is a vector of
# **logits**: $p = \mathrm{sigmoid}(\text{logits})$ is each pixel's probability of ink.
# Why predict $\log\sigma^2$ and not $\sigma$? It can be any real number, while $\sigma$ must
# stay positive.

# %%
def describe_network() -> tuple[str, int]:
    model = VAE(latent_dim=2)
    n = sum(p.numel() for p in model.parameters())
    # = 784*512+512 + 512*256+256 + 2*(256*2+2) + 2*256+256 + 256*512+512 + 512*784+784
    return repr(model), n


# %% [markdown]
# ## 2. Reparameterisation (Section 2.2)
#
# Sampling $z \sim \mathcal{N}(\mu, \sigma^2)$ is not differentiable in $\mu$ and $\sigma$ —
# but $z = \mu + \sigma \odot \varepsilon$ with $\varepsilon \sim \mathcal{N}(0, I)$ is the same
# distribution, and now the randomness is an *input*: $\partial z/\partial\mu = 1$,
# $\partial z/\partial\sigma = \varepsilon$. We check the sample moments by Monte Carlo.

# %%
def reparameterisation_check(n: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    mu = minigen.tensor([[1.5, -0.5]]).expand(n, 2)
    logvar = minigen.tensor([[math.log(0.25), math.log(4.0)]]).expand(n, 2)
    z = mu + (logvar * 0.5).exp() * minigen.randn(n, 2)
    z = z.numpy()
    return z.mean(axis=0), z.var(axis=0)  # ~ (1.5, -0.5) and (0.25, 4.0)


# %% [markdown]
# ## 3. The loss (Section 2.4), with the report's two slips corrected
#
# **Binary cross-entropy.** With $x_i \in [0,1]$ the pixel and $p_i = \mathrm{sigmoid}$ of
# the decoder's logit,
#
# $$ \mathrm{BCE} = -\sum_{i=1}^{784} \big[x_i \log p_i + (1 - x_i)\log(1 - p_i)\big]. $$
#
# The report prints $\sum x'_i \log x_i + (1-x_i)\log(1-x_i)$: the reconstruction $x'$ and
# the data $x$ are swapped in the first term (the *data* weighs the log of the
# *reconstruction*), the second term uses the data twice, and the minus sign is missing (as
# printed it is a log-likelihood, to be maximised, not a loss). minigen computes the BCE from
# the logits, as $\max(l, 0) - l\,x + \log(1 + e^{-|l|})$, which never takes $\log 0$.
#
# **KL divergence.** For $q = \mathcal{N}(\mu, \mathrm{diag}\,\sigma^2)$ and
# $p = \mathcal{N}(0, I)$,
#
# $$ \mathrm{KL}(q\,\|\,p) = \tfrac12 \sum_{j=1}^{d} \big(\sigma_j^2 + \mu_j^2
#    - \log\sigma_j^2 - 1\big). $$
#
# The report prints $\sum \sigma_j^2 + \mu_j^2 + \log\sigma_j - 1$: the log term has the
# wrong sign (with $+$, the "KL" would reward $\sigma \to 0$ without bound) and the factor
# $\tfrac12$ is missing. The correct form is $\ge 0$, and $0$ exactly at the prior.

# %%
def loss_checks(seed: int) -> dict[str, float]:
    minigen.manual_seed(seed)
    x, logits = minigen.rand(4, 784), minigen.randn(4, 784) * 3
    p = logits.sigmoid().numpy()
    by_hand = -np.sum(x.numpy() * np.log(p) + (1 - x.numpy()) * np.log(1 - p)) / 4
    stable = F.binary_cross_entropy_with_logits(logits, x, reduction="sum").item() / 4
    mu, logvar = np.array([0.7, -1.2]), np.array([-0.5, 0.8])
    closed = 0.5 * np.sum(np.exp(logvar) + mu**2 - logvar - 1)
    report_slip = np.sum(np.exp(logvar) + mu**2 + 0.5 * logvar - 1)  # "+ log sigma"
    rng = np.random.default_rng(seed)  # Monte Carlo: KL = E_q[log q(z) - log p(z)]
    eps = rng.standard_normal((100_000, 2))
    z = mu + np.exp(0.5 * logvar) * eps
    monte_carlo = np.mean(np.sum(-0.5 * eps**2 - 0.5 * logvar + 0.5 * z**2, axis=1))
    return {"bce_by_hand": by_hand, "bce_minigen": stable, "kl_closed_form": closed,
            "kl_monte_carlo": monte_carlo, "kl_as_printed": report_slip,
            "kl_minigen": F.gaussian_kl(minigen.tensor([mu]), minigen.tensor([logvar])).item()}


# %% [markdown]
# ### Exercise 12: reparameterisation and the Gaussian KL
#
# Three bodies:
#
# - `reparameterize(mu, logvar)` in `ws/minigen/functional.py`: section 2's
#   $z = \mu + \sigma \odot \varepsilon$, $\sigma = e^{\frac12 \log\sigma^2}$. `mu`, `logvar`
#   and $z$ are tensors: build $z$ with tensor operations (`+`, `*`, `.exp()`), and the
#   engine gives $\mu$ and $\log\sigma^2$ their gradients. Draw $\varepsilon$ once, first, as
#   `randn(*mu.shape, dtype=mu.dtype, device=mu.device)` (the check redraws it from the seed).
# - `GaussianKL.forward(ctx, mu, logvar, reduction)` in `ws/minigen/ops/losses.py`, on
#   arrays: section 3's KL of each row (a sum over the last axis), then return
#   `reduce_loss(ctx, rows, reduction)`. One of `mu`, `logvar` may be a single (d,) row
#   shared by all; keep their broadcast shape as an attribute of `ctx` for the backward.
#   `xp.expm1(logvar)` is $\sigma^2 - 1$, exact near the prior.
# - `GaussianKL.backward`: $\partial \mathrm{KL}/\partial \mu_j = \mu_j$ and
#   $\partial \mathrm{KL}/\partial \log\sigma_j^2 = \frac12(\sigma_j^2 - 1)$, times the
#   row's incoming gradient, `per_element_grad(ctx, grad_out)` (with `reduction="none"`, one
#   per row: add an axis, `g[..., None]`). Give each the full broadcast shape
#   (`xp.broadcast_to`), so that a shared row gets the sum over all rows from the engine;
#   return `(grad_mu, grad_logvar, None)`.
#
# It uses exercises 1, 2 and 4 (`reparameterize` runs on the engine, `*` and exp):
# `python -m minigen exercises check 12 --workspace ws` (a workspace: lesson 01, Exercise 1).

# %% [markdown]
# An untrained decoder whose last layer is zero predicts $p = \frac12$ for every pixel, so
# its BCE is exactly $784 \log 2 = 543.4$ nats: the number a training run starts from.
#
# ## 4. One training step, written out
#
# Forward, loss = BCE + KL, backward, step:
#
# - `out = model(x)`: the encoder's $\mu$ and $\log\sigma^2$ (`out.mu`, `out.logvar`), one
#   sample $z = \mu + \sigma \odot \varepsilon$ per image (section 2), and the decoder's
#   logits for $z$ (`out.logits`, 784 per image).
# - `bce`: the reconstruction term of section 3, summed over the 784 pixels and averaged over
#   the $n$ images of the batch (`reduction="sum"`, then `/ n`): nats per image, the report's
#   unit. `x.reshape(n, 784)` lays each 28x28 image out as the decoder's 784 outputs.
# - `kl`: the closed form of section 3, per image. `loss = bce + kl` is $-\mathcal{L}$, the
#   negative ELBO, estimated with one $z$ per image.
# - `numbers`: Python floats to print and plot (`.item()`).
# - `opt.zero_grad()` clears the last step's gradients (they accumulate); `loss.backward()`
#   sends the gradient to the decoder's weights and, through $z$ (whose randomness is an
#   input, $\varepsilon$), to the encoder's; `opt.step()` is Adam's update of all of them.
#
# `train_vae` (in `minigen/train/vae.py`) runs these lines for every batch, `for x in ...:`,
# writing the three loss lines as one call, `loss, bce, kl = vae_loss(model(x), x)`
# (`minigen/models/losses.py`: the same lines, and lesson 07's full-covariance KL), with the
# NaN guard `run.check_finite(numbers)` before `opt.step()` and `run.log_batch(numbers)` after
# it. Our step, on the first batch `train_vae` will see and from the same seed, gives the
# numbers `train_vae` records first.

# %%
def train_step(model: VAE, x: minigen.Tensor, opt: optim.Adam) -> dict[str, float]:
    out = model(x)  # encode, sample z = mu + sigma * eps, decode
    n = x.shape[0]
    bce = F.binary_cross_entropy_with_logits(out.logits, x.reshape(n, 784),
                                             reduction="sum") / n
    kl = F.gaussian_kl(out.mu, out.logvar, reduction="sum") / n
    loss = bce + kl  # -ELBO per image
    numbers = {"loss": loss.item(), "bce": bce.item(), "kl": kl.item()}
    opt.zero_grad()
    loss.backward()
    opt.step()
    return numbers


def batches(seed: int, device: str, quick: bool) -> DataLoader:
    train_set = MNIST(split="train")  # pixels in [0, 1]: each a probability of ink
    n = 256 if quick else len(train_set)
    return DataLoader(train_set.images[:n], 128, shuffle=True, seed=seed, device=device)


def one_step(seed: int, device: str, quick: bool) -> dict[str, float]:
    minigen.manual_seed(seed)  # the weights train() starts from
    model = VAE(latent_dim=2).to(device)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x = next(iter(batches(seed, device, quick)))  # the first batch train_vae will see
    minigen.manual_seed(seed)  # where train_vae(seed=seed) starts drawing eps
    return train_step(model, x, opt)


# %% [markdown]
# ## 5. Training
#
# Adam with step $10^{-3}$, batches of 128, one $z$ sample per image. The report's reference
# on the bundled 4,000-digit sample: test loss ~156 at epoch 30 (~153 at best), in nats per
# image. `train_vae` also saves, after every epoch, the decoded images of a fixed batch of
# codes $z \sim \mathcal{N}(0, I)$ (Figure 15) and a checkpoint you can resume from.

# %%
def train(epochs: int, seed: int, device: str, out: Path, quick: bool):
    test_set = MNIST(split="test")
    n_test = 200 if quick else len(test_set)
    test_loader = DataLoader(test_set.images[:n_test], 500, device=device)
    minigen.manual_seed(seed)
    model = VAE(latent_dim=2).to(device)
    history = train_vae(model, batches(seed, device, quick), test_loader, epochs=epochs,
                        out=out, seed=seed, progress=not quick)
    return model, history, test_set.images[:n_test], test_set.labels[:n_test]


# %% [markdown]
# ## 6. The figures, and what to look at
#
# - `losses.png` (Figure 13): train and test loss per epoch. Both fall; the test loss sits
#   *below* the training loss early on because the training number is averaged over an
#   epoch during which the model improved.
# - `reconstructions.png` (Figure 14): 25 test digits and their reconstructions from the
#   posterior mean. With only 2 latent numbers, reconstructions are blurry prototypes: a
#   thin 4 comes back as a generic 4 (or a 9).
# - `samples/epoch_NNN.png` and `samples.gif` (Figure 15): fixed codes decoded after each
#   epoch: blobs, then strokes, then digits.
# - `latent_grid.png`: the decoder on a 10x10 grid of codes at evenly spaced *quantiles* of
#   $\mathcal{N}(0,1)$ ($z = \Phi^{-1}(p)$, $p = 0.05 \ldots 0.95$): equal prior mass per
#   cell. Digits morph smoothly into each other: the latent space is continuous.
# - `latent_scatter.png`: where the encoder puts each test digit. Classes form regions
#   although the VAE never saw a label; the KL term packs them around the origin.

# %%
def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="Lesson 06: the VAE of the report")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="runs/lesson06")
    parser.add_argument("--quick", action="store_true", help="a smoke run of seconds")
    args = parser.parse_args(argv)
    out = Path(args.out)
    epochs = 1 if args.quick else args.epochs

    network, n_params = describe_network()
    print(network, f"\n{n_params:,} parameters (the report's layers)")
    mean, var = reparameterisation_check(2_000 if args.quick else 20_000)
    print(f"reparameterised z: mean {np.round(mean, 3)}, variance {np.round(var, 3)} "
          "(expected [1.5 -0.5], [0.25 4.])")
    checks = loss_checks(args.seed)
    for name, value in checks.items():
        print(f"  {name:>15}: {value:.4f}")

    step = one_step(args.seed, args.device, args.quick)
    print("one step by hand:        " + ", ".join(f"{k} {v:.4f}" for k, v in step.items()))
    model, history, test_x, test_y = train(epochs, args.seed, args.device, out, args.quick)
    first = {k: history["batch"][k][0] for k in step}
    print("train_vae's first batch: " + ", ".join(f"{k} {v:.4f}" for k, v in first.items())
          + f"  (the same numbers: {first == step})")
    vae_figures(model, test_x, test_y, out, args.seed)
    test = history["epoch"]["test_loss"]
    print(f"test loss per image after {epochs} epochs: {test[-1]:.1f} (best {min(test):.1f}); "
          f"figures in {out}/")
    return {"parameters": n_params, "moments": (mean, var), "checks": checks, "one_step": step,
            "history": history, "out": out}


# %%
if __name__ == "__main__":
    # A script reads its command line. A notebook has none: it runs on DEVICE, quick when
    # MINIGEN_QUICK=1. Add options to the list to change a run, e.g. "--epochs", "10".
    notebook_args = ["--device", DEVICE] + (["--quick"] if QUICK else [])
    result = main(notebook_args if IN_NOTEBOOK else None)
