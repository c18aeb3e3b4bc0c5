# %% [markdown]
# # Lesson 07 — A full-covariance posterior (report, Section 2.5, Figure 11)
#
# The VAE of lesson 06 uses a *diagonal* Gaussian posterior: given a digit, the latent
# coordinates are independent. The report's algorithm figure goes further: the encoder also
# outputs a matrix $L'$, and the posterior becomes $\mathcal{N}(\mu, LL^\top)$ with
#
# $$ L = L_\text{mask} \odot L' + \mathrm{diag}(\sigma), \qquad z = L\varepsilon + \mu,
#    \quad \varepsilon \sim \mathcal{N}(0, I), $$
#
# where $L_\text{mask}$ has ones strictly below the diagonal and zeros elsewhere. So $L$ is
# lower triangular with the positive $\sigma$ on its diagonal: a Cholesky factor, and every
# covariance matrix has one. The posterior can now tilt: "this stroke is either a thin 7 or
# a slanted 1" becomes a correlated ellipse instead of an axis-aligned one.
#
# Run it: `python lessons/07_full_covariance.py` (a minute or two), `--quick` for a smoke run.
#
# Exercise 13 (after section 2) has you write $L$, $z$ and the two log-densities of the ELBO.

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
from minigen import nn, viz
from minigen.data import MNIST, DataLoader
from minigen.models import VAE, vae_loss
from minigen.models.losses import full_covariance_terms
from minigen.train import train_vae

# %% [markdown]
# ## 1. The density of $z$, and the report's slip
#
# $z = L\varepsilon + \mu$ is an invertible linear map of $\varepsilon$, so by the change of
# variables $q(z|x) = \mathcal{N}(\varepsilon; 0, I) \,/\, |\det L|$. The determinant of a
# triangular matrix is the product of its diagonal, $\prod_i \sigma_i$, hence
#
# $$ \log q(z|x) = -\sum_i \Big( \tfrac12 \varepsilon_i^2 + \tfrac12 \log 2\pi
#    + \log \sigma_i \Big). $$
#
# The report's Figure 11 writes $-\sum_i \tfrac12(\varepsilon_i^2 + \log 2\pi + \log\sigma_i)$:
# the $\log\sigma_i$ inside the $\tfrac12$ halves the Jacobian term. We check the correct
# form against the multivariate Gaussian log-density with covariance $\Sigma = LL^\top$,
# computed in NumPy with `slogdet`:
#
# $$ \log \mathcal{N}(z; \mu, \Sigma) = -\tfrac12\big(d\log 2\pi + \log\det\Sigma
#    + (z-\mu)^\top \Sigma^{-1} (z-\mu)\big). $$

# %%
def check_log_density(seed: int) -> dict[str, float]:
    minigen.manual_seed(seed)
    minigen.set_default_dtype(minigen.float64)  # float64 to compare to ~1e-12
    try:
        model = VAE(latent_dim=3, posterior="full").double()
        with minigen.no_grad():
            out = model(minigen.rand(1, 784, dtype=minigen.float64))
        log_qz, _ = full_covariance_terms(out)
    finally:
        minigen.set_default_dtype(minigen.float32)
    L, mu, z = out.L.numpy()[0], out.mu.numpy()[0], out.z.numpy()[0]
    cov = L @ L.T
    _, logdet = np.linalg.slogdet(cov)
    diff = z - mu
    exact = -0.5 * (3 * math.log(2 * math.pi) + logdet + diff @ np.linalg.solve(cov, diff))
    eps, log_sigma = out.eps.numpy()[0], 0.5 * out.logvar.numpy()[0]
    as_printed = -np.sum(0.5 * (eps**2 + math.log(2 * math.pi) + log_sigma))
    return {"minigen": log_qz.item(), "numpy_slogdet": exact, "as_printed": as_printed}


# %% [markdown]
# ## 2. The ELBO of Figure 11
#
# One sample $z$ per image gives an unbiased estimate of the ELBO,
#
# $$ \tilde{\mathcal{L}} = \underbrace{\textstyle\sum_i x_i \log p_i
#    + (1 - x_i)\log(1 - p_i)}_{\log p(x|z)}
#    + \underbrace{\log p(z)}_{-\sum_i \frac12(z_i^2 + \log 2\pi)} - \log q(z|x), $$
#
# and $\log p(z) - \log q(z|x)$ is a one-sample estimate of $-\mathrm{KL}$. (Unlike the
# diagonal case, the code uses no closed-form KL here, so its loss is a little noisier.)
#
# When $L' = 0$ the posterior is diagonal again: same $z$, same $\log q$. We check that by
# zeroing the $L'$ head (`fc33`) and comparing with the diagonal VAE holding the same weights.

# %%
def reduces_to_diagonal(seed: int) -> float:
    full, diagonal = VAE(posterior="full"), VAE()
    diagonal.load_state_dict({k: v for k, v in full.state_dict().items() if "fc33" not in k})
    nn.init.zeros_(full.fc33.weight)
    nn.init.zeros_(full.fc33.bias)
    x = minigen.rand(8, 784)
    with minigen.no_grad():
        minigen.manual_seed(seed)
        a = full(x)
        minigen.manual_seed(seed)
        b = diagonal(x)
        log_qz, _ = full_covariance_terms(a)
    sigma = (b.logvar * 0.5).exp()
    diag_log_q = (-((b.z - b.mu) / sigma) ** 2 * 0.5 - 0.5 * math.log(2 * math.pi)
                  - sigma.log()).sum(dim=-1)
    return max((a.z - b.z).abs().max().item(), (log_qz - diag_log_q).abs().max().item())


# %% [markdown]
# ### Exercise 13: the full-covariance ELBO (Figure 11)
#
# Two bodies, both on tensors (the engine differentiates them):
#
# - in `VAE.forward`, `ws/minigen/models/vae.py`: set `L` and `z` by the formulas at the top
#   of this lesson. `L_prime` is (N, d, d); `sigma`, `eps` and `mu` are (N, d);
#   `strictly_lower_mask(d, mu)` and `identity(d, mu)` are (d, d) tensors of ones strictly
#   below the diagonal and on it. $\mathrm{diag}(\sigma)_{ij} = \sigma_i \delta_{ij}$: give
#   $\sigma$ a last axis (`.unsqueeze(-1)`) and let it broadcast against the identity. Then
#   $z_i = \sum_j L_{ij} \varepsilon_j + \mu_i$: a product broadcast over a new axis of
#   $\varepsilon$ and summed over $j$, or a batched matmul.
# - `full_covariance_terms(out)` in `ws/minigen/models/losses.py`: from `out.eps`, `out.z`
#   and `out.logvar`, each (N, d), return `(log_qz, log_pz)`, each (N,): section 1's
#   $\log q(z|x)$, with $\log\sigma_i = \frac12 \log\sigma_i^2$ outside the $\frac12(\ldots)$
#   (not the report's slip), and $\log p(z) = -\sum_i \frac12(z_i^2 + \log 2\pi)$; sum over
#   the last axis (`.sum(dim=-1)`).
#
# The check compares with NumPy's `slogdet`, as section 1 does, and checks the gradients that
# reach the encoder's heads: of $L'$, only the entries below the diagonal may get one. It uses
# exercises 1 to 5: write them first. `python -m minigen exercises check 13 --workspace ws`
# (a workspace: lesson 01, Exercise 1).

# %% [markdown]
# ## 3. Training both posteriors
#
# Same data, seed, optimiser (Adam $10^{-3}$, batch 128) and epochs; the full model differs
# only by the `fc33` head (256 → 4 outputs, of which one survives the mask for $d = 2$).
# With a 2-D latent the gain is small: on the bundled sample the two test losses end within
# a couple of nats of each other. Look at:
#
# - `test_loss_comparison.png`: the two test curves per epoch;
# - `posteriors_full.png` and `posteriors_diagonal.png`: 300 samples of $q(z|x)$ for each of
#   ten test digits (one per class): tilted ellipses for the full posterior,
#   axis-aligned ones for the diagonal;
# - `full/latent_grid.png`, `full/samples.gif`: the decoder is as good as lesson 06's.

# %%
def train_both(epochs: int, seed: int, device: str, out: Path, quick: bool) -> dict:
    train_set, test_set = MNIST(split="train"), MNIST(split="test")
    n_train, n_test = (256, 200) if quick else (len(train_set), len(test_set))
    results = {}
    for posterior in ("diagonal", "full"):
        minigen.manual_seed(seed)
        loader = DataLoader((train_set.images[:n_train],), 128, shuffle=True, seed=seed,
                            device=device)
        test = DataLoader((test_set.images[:n_test],), 500, device=device)
        model = VAE(posterior=posterior).to(device)
        history = train_vae(model, loader, test, epochs=epochs, out=out / posterior,
                            seed=seed, progress=not quick)
        results[posterior] = (model, history)
    return results


def posterior_samples(model: VAE, images: np.ndarray, labels: np.ndarray, path: Path,
                      n: int = 300) -> None:
    """Draw n samples of q(z|x) for each image, coloured by the image's digit."""
    x = minigen.tensor(np.repeat(images, n, axis=0), device=model.parameters()[0].device)
    model.eval()
    with minigen.no_grad():
        z = model(x).z  # the reparameterised samples: z = L eps + mu
    model.train()
    viz.plot_latent_scatter(z, np.repeat(labels, n), path,
                            title=f"samples of q(z|x), {model.posterior} posterior")


# %%
def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="Lesson 07: the full-covariance posterior")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="runs/lesson07")
    parser.add_argument("--quick", action="store_true", help="a smoke run of seconds")
    args = parser.parse_args(argv)
    out = Path(args.out)

    density = check_log_density(args.seed)
    print("log q(z|x): " + ", ".join(f"{k} {v:.10f}" for k, v in density.items()))
    gap = reduces_to_diagonal(args.seed)
    print(f"with L' = 0, full and diagonal agree to {gap:.2e}")

    epochs = 1 if args.quick else args.epochs
    results = train_both(epochs, args.seed, args.device, out, args.quick)
    tests = {name: h["epoch"]["test_loss"] for name, (_, h) in results.items()}
    viz.plot_curves({f"{k} posterior": v for k, v in tests.items()},
                    out / "test_loss_comparison.png", title="VAE test loss per image",
                    ylabel="-ELBO (nats)")
    test_set = MNIST(split="test")
    first = [int(np.flatnonzero(test_set.labels == d)[0]) for d in range(10)]
    for name, (model, _) in results.items():
        posterior_samples(model, test_set.images[first], test_set.labels[first],
                          out / f"posteriors_{name}.png", n=30 if args.quick else 300)
    x = minigen.tensor(test_set.images[:200], device=args.device)
    with minigen.no_grad():  # the one-sample loss of both models on the same test digits
        losses = {name: vae_loss(m(x), x)[0].item() for name, (m, _) in results.items()}
    print("final test loss per image: " + ", ".join(f"{k} {v[-1]:.1f}"
                                                    for k, v in tests.items())
          + f"; figures in {out}/")
    return {"density": density, "diagonal_gap": gap, "test_loss": tests,
            "loss_200": losses, "out": out}


# %%
if __name__ == "__main__":
    # A script reads its command line. A notebook has none: it runs on DEVICE, quick when
    # MINIGEN_QUICK=1. Add options to the list to change a run, e.g. "--epochs", "10".
    notebook_args = ["--device", DEVICE] + (["--quick"] if QUICK else [])
    result = main(notebook_args if IN_NOTEBOOK else None)
