"""Training a GAN, as the report's algorithm (its Figure 2) says.

For every batch of real images x (in [-1, 1], like the generator's tanh):

1. the discriminator step: z ~ N(0, I); D learns to call x real and G(z) fake by descending
   ``discriminator_loss`` (the minimax loss) on its own parameters; G(z) is detached, so no
   gradient reaches G;
2. after every ``k`` discriminator steps, the generator step: fresh noise z; G descends
   ``generator_loss`` (non-saturating by default) through a frozen D.

Reported per batch and averaged per epoch: ``d_loss``, ``g_loss``, and D's mean outputs
``d_x`` = D(x) on real images and ``d_g_z`` = D(G(z)) on samples (before the D step). A
perfectly confused D gives 0.5 for both.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import minigen
from minigen import backend, optim, viz
from minigen import functional as F
from minigen.models import dcgan
from minigen.models.losses import discriminator_loss, generator_loss
from minigen.train.run import CHECKPOINT, Run


def train_gan(generator: Any, discriminator: Any, loader: Any, epochs: int = 10, *,
              lr: float = 2e-4, betas: tuple[float, float] = (0.5, 0.999), k: int = 1,
              saturating: bool = False, real_label: float = 1.0,
              out: str | os.PathLike = "runs/gan", seed: int | None = None,
              resume: str | os.PathLike | None = None, progress: bool = True,
              n_samples: int = 64, resume_command: str | None = None,
              dataset: str | None = None, generator_ema: Any = None) -> dict[str, Any]:
    """Train ``generator`` and ``discriminator`` (on the device their parameters live on).

    Parameters
    ----------
    loader : a :class:`minigen.data.DataLoader` of images (B, 1, 28, 28) in [-1, 1]
        (``MNIST(pixel_range=(-1, 1))``).
    epochs : the epoch count to reach (a resumed run continues up to it).
    lr, betas : Adam's, for both networks (DCGAN paper: 2e-4 and (0.5, 0.999)).
    k : discriminator steps per generator step (the report's algorithm).
    saturating : use the minimax generator loss log(1 - D(G(z))) instead of -log D(G(z)).
    real_label : the target for real images (0.9 = one-sided label smoothing).
    out : the run folder: ``checkpoint.npz`` (every epoch), ``samples/epoch_NNN.png`` (the
        fixed-noise grid after every epoch), ``samples.gif`` and ``losses.png`` (at the end).
    seed : seeds every generator (``minigen.manual_seed``) and the fixed noise.
    resume : a checkpoint to continue from exactly. ``out``'s own checkpoint.npz before it
        exists (the run stopped in its first epoch) starts the run afresh, saying so.
    dataset : the data's name ("mnist", "fashion-mnist"), kept in the checkpoint: resuming
        on other data is refused, and ``python -m minigen evaluate`` picks its classifier.
    generator_ema : an :class:`minigen.optim.swa_utils.AveragedModel` of ``generator``
        (``AveragedModel(G, multi_avg_fn=get_ema_multi_avg_fn(0.999), use_buffers=True)``):
        updated after every generator step, saved in the checkpoint (and resumed), and the
        model the per-epoch samples come from; ``evaluate`` then scores it.

    Returns
    -------
    The history: ``history["epoch"]["d_loss"]`` etc. (one value per epoch),
    ``history["batch"][...]`` (one per batch), ``history["samples"]`` (each epoch's
    fixed-noise images, uint8).
    """
    if k < 1:
        raise ValueError(f"k (discriminator steps per generator step) must be >= 1, got {k}")
    if not 0 < real_label <= 1:  # above 1, D's loss goes negative; at 0, real reads as fake
        raise ValueError(f"real_label (D's target for real images) must be in (0, 1], got "
                         f"{real_label}")
    G, D = generator, discriminator
    dev = G.parameters()[0].device
    if seed is not None:
        minigen.manual_seed(seed)
    noise_gen = backend.Generator(dev, 0 if seed is None else seed)
    models = {"generator": G, "discriminator": D}
    if generator_ema is not None:
        models["generator_ema"] = generator_ema
    opt_g = optim.Adam(G.parameters(), lr=lr, betas=betas)
    opt_d = optim.Adam(D.parameters(), lr=lr, betas=betas)
    run = Run(
        kind="gan", models=models, optimizers={"generator": opt_g, "discriminator": opt_d},
        loader=loader, out=Path(out), epochs=epochs, progress=progress,
        config={"model": "dcgan" if isinstance(G, dcgan.Generator) else "gan",
                "latent_dim": G.latent_dim, "batch_size": loader.batch_size, "k": k,
                "lr": lr, "saturating": saturating, "real_label": real_label,
                "averaged_generator": generator_ema is not None,
                **({"dataset": dataset} if dataset else {})},
        fixed_noise=minigen.randn(n_samples, G.latent_dim, device=dev, generator=noise_gen),
        resume_command=resume_command or f"train_gan(..., resume='{Path(out) / CHECKPOINT}')",
    )
    if resume is not None:
        run.resume_from(resume)
    sampler = G if generator_ema is None else generator_ema  # what the epoch grids show
    d_steps = run.epoch * len(loader) + run.batch  # D steps so far (a resumed run goes on)

    with run.handle_ctrl_c():
        for epoch in range(run.epoch, epochs):
            for real in run.batches(epoch):
                if d_steps == 0:
                    _check_pixel_range(real)
                n = real.shape[0]

                # exercise 10: one training step, D's then G's (non-saturating)
                # (1) Update D: call x real and G(z) fake. G(z) is detached: no gradient
                #     reaches G from D's loss.
                z = minigen.randn(n, G.latent_dim, device=dev)
                real_logits, fake_logits = D(real), D(G(z).detach())
                d_loss = discriminator_loss(real_logits, fake_logits, real_label)
                numbers = {"d_loss": d_loss.item(),
                           "d_x": F.sigmoid(real_logits).mean().item(),
                           "d_g_z": F.sigmoid(fake_logits).mean().item()}
                run.check_finite(numbers)  # before the step: never update with a NaN
                opt_d.zero_grad()
                d_loss.backward()
                opt_d.step()
                d_steps += 1

                # (2) Update G, after every k D steps: fresh noise, through a fixed D.
                if d_steps % k == 0:
                    z = minigen.randn(n, G.latent_dim, device=dev)
                    D.requires_grad_(False)  # D is fixed: its weights get no gradient
                    g_loss = generator_loss(D(G(z)), saturating)
                    D.requires_grad_(True)  # (requires_grad is read as the graph is built)
                    numbers["g_loss"] = g_loss.item()
                    run.check_finite(numbers)
                    opt_g.zero_grad()
                    g_loss.backward()
                    opt_g.step()
                    if generator_ema is not None:
                        generator_ema.update_parameters(G)
                # end exercise 10

                run.log_batch(numbers)  # history, progress bar; after a Ctrl-C: save, stop

            run.save_samples(sampler, sampler, value_range=(-1.0, 1.0))  # fixed noise
            run.end_epoch()  # the epoch's means to the history; checkpoint.npz

    hist = run.history["epoch"]
    if hist.get("d_loss"):
        viz.plot_gan_losses(hist["d_loss"], hist["g_loss"], run.out / "losses.png",
                            title=f"{run.config['model'].upper()} training loss")
        run.write_gif()
    return run.history


def _check_pixel_range(real: Any) -> None:
    """Warn when the real images are in [0, 1]: G's tanh makes [-1, 1], and D would tell the
    two apart by the range alone."""
    if float(real.min().item()) >= 0.0:
        warnings.warn("the real images are all >= 0, but the generator's tanh makes [-1, 1]: "
                      "load them with MNIST(pixel_range=(-1, 1))", stacklevel=3)
