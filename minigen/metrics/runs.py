"""Reading a training run back: its checkpoints, its models rebuilt from the weights, and
images generated from them (what :func:`minigen.metrics.evaluate.evaluate_run` scores)."""

from __future__ import annotations

import os
import warnings
import zipfile
from pathlib import Path
from typing import Any

import minigen
from minigen import backend
from minigen.errors import CheckpointError
from minigen.io import META
from minigen.models import VAE, dcgan, gan


def _strict_load(make: Any, state: dict[str, Any]) -> Any:
    model = make()
    try:
        model.load_state_dict(state)
    except Exception:  # noqa: BLE001  (any mismatch means: not this architecture)
        return None
    return model


def build_models(ckpt: dict[str, Any], averaged: bool = True) -> dict[str, Any]:
    """Rebuild a run's models from a training checkpoint, reading the architecture from the
    weights' shapes (FC GAN or DCGAN, hidden widths, dropout/BatchNorm layout, VAE latent size
    and posterior). Returns {"generator", "discriminator"} or {"vae"}, in eval mode; the
    generator is the run's average of G's weights when it kept one (``train --ema``) unless
    ``averaged`` is False."""
    states, config = ckpt["models"], ckpt.get("config", {})
    if ckpt["kind"] == "vae":
        state = states["vae"]
        vae = VAE(state["fc31.weight"].shape[0],
                  posterior="full" if "fc33.weight" in state else "diagonal")
        vae.load_state_dict(state)
        return {"vae": vae.eval()}
    g_state, d_state = states["generator"], states["discriminator"]
    if averaged and "generator_ema" in states:  # a run that kept an average of G's weights
        g_state = {k.removeprefix("module."): v for k, v in states["generator_ema"].items()
                   if k.startswith("module.")}
    latent = config.get("latent_dim") or g_state["net.0.weight"].shape[1]
    if any(v.ndim == 4 for v in g_state.values()):  # transposed convolutions: a DCGAN
        channels = g_state["net.0.weight"].shape[0] // 49
        G = _strict_load(lambda: dcgan.Generator(latent, channels), g_state)
        D = None
        for options in ({"dropout": 0.3}, {"dropout": 0.0}, {"dropout": 0.3, "batch_norm": True},
                        {"dropout": 0.0, "batch_norm": True}):
            D = D or _strict_load(lambda o=options: dcgan.Discriminator(channels, **o), d_state)
    else:
        linear = sorted((k for k, v in g_state.items() if k.endswith("weight") and v.ndim == 2),
                        key=lambda k: int(k.split(".")[1]))
        hidden = [g_state[k].shape[0] for k in linear[:-1]]
        G = _strict_load(lambda: gan.Generator(latent, hidden), g_state)
        d_linear = sorted((k for k, v in d_state.items() if k.endswith("weight")),
                          key=lambda k: int(k.split(".")[1]))
        d_hidden = [d_state[k].shape[0] for k in d_linear[:-1]]
        D = None
        for p in (0.3, 0.0):
            D = D or _strict_load(lambda p=p: gan.Discriminator(d_hidden, dropout=p), d_state)
    if G is None:
        raise CheckpointError("cannot rebuild the generator from this checkpoint's weights")
    models = {"generator": G.eval()}
    if D is not None:
        models["discriminator"] = D.eval()
    return models


def _foreign(path: Path) -> bool:
    """Whether ``path`` is an intact .npz archive that minigen did not write (numpy.savez,
    another library): skipped quietly, unlike a damaged checkpoint, which is named."""
    try:
        with zipfile.ZipFile(path) as archive:
            return META + ".npy" not in archive.namelist() and archive.testzip() is None
    except (zipfile.BadZipFile, OSError):
        return False


def find_checkpoints(run_dir: str | os.PathLike) -> list[tuple[int, Path, dict[str, Any]]]:
    """Every training checkpoint in ``run_dir`` (recursively; or ``run_dir`` itself, a
    checkpoint file) as (epoch, path, contents), sorted by epoch.

    Raises :class:`~minigen.CheckpointError` for a path that does not exist and a folder
    without a checkpoint that loads; a damaged .npz is named, in that error or, when others
    load, in a warning.
    """
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise CheckpointError(f"{run_dir} does not exist: pass a run folder written by "
                              f"`python -m minigen train` (e.g. runs/gan) or a checkpoint in one")
    if run_dir.is_file():  # the one checkpoint to score
        ckpt = minigen.load(run_dir)
        if not (isinstance(ckpt, dict) and ckpt.get("format") == "minigen-run"):
            raise CheckpointError(f"{run_dir}: not a training checkpoint (one written by "
                                  f"minigen.train)")
        return [(int(ckpt["epoch"]), run_dir, ckpt)]
    found: dict[int, tuple[Path, dict[str, Any]]] = {}
    damaged: list[str] = []  # the files' errors, each naming its file
    for path in sorted(run_dir.rglob("*.npz")):
        try:
            ckpt = minigen.load(path)
        except CheckpointError as e:
            if not _foreign(path):  # a truncated copy must not pass for "no checkpoint"
                damaged.append(str(e))
            continue
        if isinstance(ckpt, dict) and ckpt.get("format") == "minigen-run":
            found.setdefault(int(ckpt["epoch"]), (path, ckpt))
    if damaged and not found:
        raise CheckpointError(f"no training checkpoint in {run_dir} could be read: "
                              + "; ".join(damaged))
    if damaged:
        warnings.warn(f"skipped {len(damaged)} unreadable .npz file(s): " + "; ".join(damaged),
                      stacklevel=2)
    if not found:
        raise CheckpointError(f"no training checkpoint (*.npz written by minigen.train) in "
                              f"{run_dir}")
    return [(epoch, path, ckpt) for epoch, (path, ckpt) in sorted(found.items())]


def generate(models: dict[str, Any], n: int, seed: int = 0) -> tuple[Any, tuple[float, float]]:
    """``n`` images from a run's generator (or the VAE's decoder, pixel means), with their
    value range; the latent codes come from a generator seeded with ``seed``."""
    model = models.get("generator") or models["vae"]
    dev = model.parameters()[0].device
    codes = minigen.randn(n, model.latent_dim, device=dev,
                          generator=backend.Generator(dev, seed))
    with minigen.no_grad():
        if "vae" in models:
            return models["vae"].generate(codes), (0.0, 1.0)
        return models["generator"](codes), (-1.0, 1.0)
