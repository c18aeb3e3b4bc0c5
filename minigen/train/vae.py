"""Training the VAE: descend the negative ELBO (BCE + KL per image) with Adam.

Per batch: ``loss`` = ``bce`` + ``kl`` (averaged per image); per epoch, their means over the
training batches, and with a test loader ``test_loss``, ``test_bce``, ``test_kl`` over the
whole test set (one z sample per image, the model in eval mode), the report's Figure 13.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import minigen
from minigen import backend, optim, viz
from minigen.models.losses import vae_loss
from minigen.train.run import CHECKPOINT, Run


def evaluate_vae(model: Any, loader: Any) -> dict[str, float]:
    """Mean ``loss``, ``bce``, ``kl`` per image over every batch of ``loader`` (no gradients,
    eval mode, one z sample per image)."""
    was_training = model.training
    model.eval()
    sums, count = {"loss": 0.0, "bce": 0.0, "kl": 0.0}, 0
    with minigen.no_grad():
        for batch in loader:
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            terms = vae_loss(model(x), x)
            for name, value in zip(sums, terms):
                sums[name] += value.item() * x.shape[0]  # back from a mean to a sum
            count += x.shape[0]
    model.train(was_training)
    return {name: total / max(count, 1) for name, total in sums.items()}


def train_vae(model: Any, loader: Any, test_loader: Any = None, epochs: int = 10, *,
              lr: float = 1e-3, out: str | os.PathLike = "runs/vae", seed: int | None = None,
              resume: str | os.PathLike | None = None, progress: bool = True,
              n_samples: int = 64, resume_command: str | None = None,
              dataset: str | None = None) -> dict[str, Any]:
    """Train a :class:`minigen.models.VAE` (on the device its parameters live on).

    Parameters
    ----------
    loader : a :class:`minigen.data.DataLoader` of images (B, 1, 28, 28) in [0, 1].
    test_loader : optional; evaluated after every epoch (``test_loss`` etc.).
    epochs : the epoch count to reach (a resumed run continues up to it).
    lr : Adam's learning rate (1e-3, as the report's reference runs).
    out : the run folder: ``checkpoint.npz`` (every epoch), ``samples/epoch_NNN.png`` (fixed
        z ~ N(0, I) decoded after every epoch), ``samples.gif`` and ``losses.png`` (the end).
    seed : seeds every generator (``minigen.manual_seed``) and the fixed noise.
    resume : a checkpoint to continue from exactly. ``out``'s own checkpoint.npz before it
        exists (the run stopped in its first epoch) starts the run afresh, saying so.
    dataset : the data's name ("mnist", "fashion-mnist"), kept in the checkpoint: resuming
        on other data is refused, and ``python -m minigen evaluate`` picks its classifier.

    Returns
    -------
    The history: ``history["epoch"]["loss"]``, ``["test_loss"]``... (one value per epoch),
    ``history["batch"]["loss"]``... (one per batch), ``history["samples"]``.
    """
    dev = model.parameters()[0].device
    if seed is not None:
        minigen.manual_seed(seed)
    noise_gen = backend.Generator(dev, 0 if seed is None else seed)
    opt = optim.Adam(model.parameters(), lr=lr)
    run = Run(
        kind="vae", models={"vae": model}, optimizers={"vae": opt},
        loader=loader, out=Path(out), epochs=epochs, progress=progress,
        config={"model": "vae" if model.posterior == "diagonal" else "vae_full",
                "latent_dim": model.latent_dim, "posterior": model.posterior,
                "batch_size": loader.batch_size, "lr": lr,
                **({"dataset": dataset} if dataset else {})},
        fixed_noise=minigen.randn(n_samples, model.latent_dim, device=dev, generator=noise_gen),
        resume_command=resume_command or f"train_vae(..., resume='{Path(out) / CHECKPOINT}')",
    )
    if resume is not None:
        run.resume_from(resume)

    with run.handle_ctrl_c():
        for epoch in range(run.epoch, epochs):
            for x in run.batches(epoch):
                # encode, sample z = mu + sigma * eps, decode; loss = BCE + KL = -ELBO
                loss, bce, kl = vae_loss(model(x), x)
                numbers = {"loss": loss.item(), "bce": bce.item(), "kl": kl.item()}
                run.check_finite(numbers)  # before the step: never update with a NaN
                opt.zero_grad()
                loss.backward()
                opt.step()
                run.log_batch(numbers)  # history, progress bar; after a Ctrl-C: save, stop

            test = {}
            if test_loader is not None:
                test = {f"test_{k}": v for k, v in evaluate_vae(model, test_loader).items()}
                run.check_finite(test)
            run.save_samples(model, model.generate, value_range=(0.0, 1.0))  # fixed z
            run.end_epoch(test)  # the epoch's means and test loss to the history; checkpoint

    hist = run.history["epoch"]
    if hist.get("loss"):
        viz.plot_vae_losses(hist["loss"], hist.get("test_loss", []), run.out / "losses.png")
        run.write_gif()
    return run.history
