"""The whole pipeline on every device: train each model, resume it, evaluate it.

The op tests prove each op on array-api-strict's non-CPU device (and on CuPy where there is a
GPU); these prove the code around the ops does not slip a NumPy array in somewhere: the data
loader, the losses, Adam, the fixed noise, checkpoints and resume, the per-epoch figures, the
classifier's features, the Fréchet distance and the VAE's likelihood bounds. On the strict
device the numbers must be the CPU's exactly (strict arrays are NumPy underneath, and draw the
CPU's random numbers); on CUDA, CuPy draws its own random numbers (noise, dropout masks,
shuffles), so the losses only come close to the CPU's (within 0.5-1 % after two epochs, on
an H100).
Tiny networks and 64 digits: seconds per model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import minigen
from minigen.data import MNIST, DataLoader
from minigen.metrics import evaluate_run, load_classifier
from minigen.models import VAE, dcgan, gan
from minigen.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from minigen.train import train_gan, train_vae

pytestmark = pytest.mark.slow


def _models(kind: str, device: str) -> tuple:
    if kind == "gan":
        return (gan.Generator(latent_dim=8, hidden=(32,)).to(device),
                gan.Discriminator(hidden=(32,), dropout=0.3).to(device))
    return (dcgan.Generator(latent_dim=8, channels=8).to(device),
            dcgan.Discriminator(channels=8).to(device))


def _train(kind: str, device: str, out: Path, epochs: int, resume: bool = False) -> dict:
    minigen.manual_seed(0)
    x = MNIST(source="sample").images[:64]
    resume_from = out / "checkpoint.npz" if resume else None
    if kind == "vae":
        loader = DataLoader(x, 16, shuffle=True, seed=1, device=device)
        test = DataLoader(x[:32], 16, device=device)
        return train_vae(VAE().to(device), loader, test, epochs=epochs, out=out, seed=0,
                         resume=resume_from, progress=False)
    loader = DataLoader(x * 2 - 1, 16, shuffle=True, seed=1, device=device)
    G, D = _models(kind.removesuffix("-ema"), device)
    average = (AveragedModel(G, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
               if kind.endswith("-ema") else None)
    return train_gan(G, D, loader, epochs=epochs, out=out, seed=0, resume=resume_from,
                     progress=False, generator_ema=average)


def _close(device: str) -> dict:
    return {"rtol": 0, "atol": 0} if device != "cuda" else {"rtol": 1e-4, "atol": 1e-5}


@pytest.mark.parametrize("kind", ["gan", "dcgan", "dcgan-ema", "vae"])
def test_train_resume_and_evaluate_on_every_device(tmp_path: Path, device: str,
                                                   kind: str) -> None:
    whole = _train(kind, device, tmp_path / "whole", 2)
    _train(kind, device, tmp_path / "split", 1)
    resumed = _train(kind, device, tmp_path / "split", 2, resume=True)
    for name, values in whole["epoch"].items():
        if name != "time":
            np.testing.assert_allclose(resumed["epoch"][name], values, **_close(device),
                                       err_msg=name)
    assert (tmp_path / "split" / "samples" / "epoch_002.png").is_file()

    cpu = _train(kind, "cpu", tmp_path / "cpu", 2)  # the same run on NumPy
    for name in ("d_loss", "loss"):
        if name in cpu["epoch"]:  # (CUDA: other random numbers, see the module docstring)
            np.testing.assert_allclose(whole["epoch"][name], cpu["epoch"][name],
                                       rtol=5e-2 if device == "cuda" else 1e-4,
                                       err_msg=f"{name}: {device} differs from the CPU")

    def scores(where: str) -> dict:
        result = evaluate_run(tmp_path / "whole", tmp_path / f"eval_{where}", n_samples=100,
                              k=20, classifier=load_classifier(device=where), device=where,
                              progress=False)
        return result["checkpoints"][-1]

    here, there = scores(device), scores("cpu")
    for name in ("fd", "fd_floor", "classifier_score", "test_elbo", "iwae"):
        if name in there:  # (CUDA draws other samples; the floor compares real images only)
            assert np.isfinite(here[name]), name
            rtol = 0.1 if device == "cuda" and name != "fd_floor" else 1e-3
            np.testing.assert_allclose(here[name], there[name], rtol=rtol, err_msg=name)
