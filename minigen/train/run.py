"""What every training run shares, as calls the training loops make: checkpoints, exact resume,
the NaN guard, Ctrl-C, the progress bar and the per-epoch samples. ``train_gan`` and
``train_vae`` write their loops out and call a :class:`Run`::

    with run.handle_ctrl_c():
        for epoch in range(run.epoch, epochs):
            for x in run.batches(epoch):        # skips what a resumed run did already
                ...forward, losses...
                run.check_finite(numbers)       # before the optimizer step
                ...zero_grad, backward, step...
                run.log_batch(numbers)          # history, progress bar, a pending Ctrl-C
            run.save_samples(model, decode, value_range)
            run.end_epoch()                     # epoch means, checkpoint.npz

Exact resume. Every random draw (noise, dropout, shuffling) comes from a seeded generator, so
a checkpoint stores the generators' states next to the weights: at the start of the current
epoch (``rng_epoch``: the data loader's, which draws that epoch's order, and the device's) and
now (``rng``). Resuming restores the epoch-start states, draws the same order, skips the batches
already done, then restores the current states: the following batches are the ones the
uninterrupted run would have seen, bit for bit on the CPU.

Never losing work. Checkpoints are written atomically (``minigen.save``: temp file, fsync,
rename). A loss that turns NaN or infinite stops the run with :class:`NonFiniteLossError`
BEFORE the optimizer step, and nothing is written, so the last checkpoint on disk stays good.
Ctrl-C (SIGINT) lets the current batch finish, saves a checkpoint at that batch and raises
:class:`TrainingInterrupted` with the command that resumes; a second Ctrl-C stops at once.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

import minigen
from minigen import backend, viz
from minigen.errors import CheckpointError, MinigenError

CHECKPOINT = "checkpoint.npz"
FORMAT = "minigen-run"


class NonFiniteLossError(MinigenError, FloatingPointError):
    """A loss (or a parameter) became NaN or infinite: training stopped, last checkpoint kept."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training; ``checkpoint`` is where the run was saved (None if not)."""

    def __init__(self, message: str, checkpoint: Path | None):
        super().__init__(message)
        self.checkpoint = checkpoint


@dataclass
class Run:
    """One training run: the models, optimizers, loader, position (epochs done, batches done
    in this epoch), this epoch's running sums and the history (all a checkpoint holds)."""

    kind: str  # "gan" or "vae"
    models: dict[str, Any]  # name -> Module
    optimizers: dict[str, Any]  # name -> Optimizer
    loader: Any  # a minigen.data.DataLoader (state_dict/load_state_dict for its shuffling)
    out: Path
    config: dict[str, Any]
    fixed_noise: Any  # Tensor: the latent codes drawn once, decoded after every epoch
    history: dict[str, Any] = field(default_factory=lambda: {"batch": {}, "epoch": {},
                                                             "samples": []})
    epoch: int = 0  # epochs completed
    batch: int = 0  # batches completed in the current epoch
    running: dict[str, list[float]] = field(default_factory=dict)  # name -> [sum, count]
    rng_epoch: dict[str, Any] | None = None
    resume_command: str = ""
    saved_rng: dict[str, Any] | None = None  # the random state at the saved batch
    epochs: int = 0  # the epoch count to reach (for the progress bar)
    progress: bool = True  # show a progress bar
    _bar: Any = field(default=None, init=False, repr=False)  # this epoch's tqdm bar
    _stop: _DeferredInterrupt | None = field(default=None, init=False, repr=False)
    _started: float = field(default=0.0, init=False, repr=False)  # this epoch's start

    @property
    def device(self) -> backend.Device:
        return self.fixed_noise.device

    @property
    def checkpoint(self) -> Path:
        return self.out / CHECKPOINT

    # ------------------------------------------------------------------ the loop's calls
    def batches(self, epoch: int) -> Iterator[Any]:
        """The images of epoch ``epoch``'s batches (without labels), from where the run stands:
        a resumed run draws the epoch's shuffled order again and skips the batches it did."""
        assert epoch == self.epoch, (epoch, self.epoch)
        self._started = time.perf_counter()
        if self.batch == 0:
            self.rng_epoch = self.rng_state()
            batches = iter(self.loader)
        else:
            self.set_rng_state(self.rng_epoch)  # the epoch's start: same shuffled order
            batches = iter(self.loader)
            for _ in range(self.batch):
                next(batches)
            self.set_rng_state(self.saved_rng)  # then the state at the saved batch
        name = self.config.get("model", self.kind)  # "dcgan", "vae_full": say which
        self._bar = tqdm(total=len(self.loader), initial=self.batch, disable=not self.progress,
                         desc=f"{name} epoch {epoch + 1}/{self.epochs}", leave=True,
                         dynamic_ncols=True)
        for batch in batches:
            yield batch[0] if isinstance(batch, (tuple, list)) else batch

    def check_finite(self, numbers: dict[str, float]) -> None:
        """Raise :class:`NonFiniteLossError` if a number of this batch is NaN or infinite
        (call it before the optimizer step, so that no update ever uses a bad gradient)."""
        bad = {k: v for k, v in numbers.items() if not math.isfinite(v)}
        if bad:
            what = ", ".join(f"{k} = {v}" for k, v in bad.items())
            raise NonFiniteLossError(f"{what} at epoch {self.epoch + 1}, batch {self.batch + 1}: "
                                     f"training stopped before the update. {self._last_good()}")

    def log_batch(self, numbers: dict[str, float]) -> None:
        """One batch done: its numbers go to the history and the progress bar; after a first
        Ctrl-C, save a checkpoint here and stop (:class:`TrainingInterrupted`)."""
        for name, value in numbers.items():
            self.history["batch"].setdefault(name, []).append(value)
            total = self.running.setdefault(name, [0.0, 0])
            total[0] += value
            total[1] += 1
        self.batch += 1
        self._bar.update(1)
        self._bar.set_postfix({k: f"{v:.3f}" for k, v in self.epoch_means().items()})
        if self._stop is not None and self._stop.requested:
            self._interrupted(self.save())

    def save_samples(self, model: Any, decode: Callable[[Any], Any],
                     value_range: tuple[float, float]) -> None:
        """Decode the fixed noise (``model`` in eval mode), save this epoch's grid PNG, and keep
        the images (uint8) in the history for the GIF."""
        was_training = model.training
        model.eval()
        with minigen.no_grad():
            images = decode(self.fixed_noise)
        model.train(was_training)
        epoch = self.epoch + 1
        viz.save_image_grid(images, self.out / "samples" / f"epoch_{epoch:03d}.png",
                            title=f"Epoch {epoch}", value_range=value_range)
        self.history["samples"].append(viz.to_uint8(images, value_range))

    def end_epoch(self, extra: dict[str, float] | None = None) -> None:
        """The epoch's means (and ``extra`` numbers, a test loss...) and its time go to
        ``history["epoch"]``; then the checkpoint is written (and a pending Ctrl-C stops)."""
        means = {**self.epoch_means(), **(extra or {})}
        self._bar.set_postfix({k: f"{v:.3f}" for k, v in means.items()})
        self._bar.close()
        means["time"] = time.perf_counter() - self._started
        for name, value in means.items():
            self.history["epoch"].setdefault(name, []).append(value)
        self.epoch, self.batch, self.running = self.epoch + 1, 0, {}
        self.rng_epoch = self.rng_state()
        path = self.save()
        if self._stop is not None and self._stop.requested:
            self._interrupted(path)

    @contextmanager
    def handle_ctrl_c(self) -> Iterator[Run]:
        """Around the loop: the first Ctrl-C is only noted (:meth:`log_batch` and
        :meth:`end_epoch` save and stop); a second one, or a KeyboardInterrupt from elsewhere,
        stops at once, keeping the last checkpoint as it is."""
        self._stop = _DeferredInterrupt()
        try:
            with self._stop:
                yield self
        except KeyboardInterrupt as e:
            if isinstance(e, TrainingInterrupted):
                raise
            where = self.checkpoint if self.checkpoint.exists() else None
            note = (f"the last checkpoint, {where}, is intact. Resume with: "
                    f"{self.resume_command}" if where else "no checkpoint was written yet")
            raise TrainingInterrupted(f"stopped inside a batch; {note}", where) from None
        finally:
            self._stop = None
            if self._bar is not None:
                self._bar.close()

    def write_gif(self) -> None:
        """All epochs' fixed-noise grids as ``samples.gif``."""
        frames = self.history["samples"]
        viz.save_gif(frames, self.out / "samples.gif",
                     titles=[f"Epoch {e + 1}" for e in range(len(frames))],
                     value_range=(0, 255))

    def _interrupted(self, path: Path) -> None:
        where = (f"after epoch {self.epoch}" if self.batch == 0 else
                 f"at epoch {self.epoch + 1}, batch {self.batch}")
        raise TrainingInterrupted(f"interrupted {where}; saved {path}. Resume with: "
                                  f"{self.resume_command}", path)

    def epoch_means(self) -> dict[str, float]:
        return {name: s / n for name, (s, n) in self.running.items() if n}

    # ------------------------------------------------------------------ random state
    def rng_state(self) -> dict[str, Any]:
        # on CUDA, get_state sets a restart point: both runs reseed here (backend.Generator)
        return {"loader": self.loader.state_dict(),
                "device": backend.default_generator(self.device).get_state()}

    def set_rng_state(self, state: dict[str, Any]) -> None:
        self.loader.load_state_dict(state["loader"])  # first: it may share the CPU generator
        if state.get("device") is not None:
            backend.default_generator(self.device).set_state(state["device"])

    # ------------------------------------------------------------------ checkpoints
    def state(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "kind": self.kind, "config": self.config,
            "epoch": self.epoch, "batch": self.batch, "running": self.running,
            "models": {k: m.state_dict() for k, m in self.models.items()},
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "rng": self.rng_state(), "rng_epoch": self.rng_epoch,
            "fixed_noise": self.fixed_noise, "history": self.history,
        }

    def save(self) -> Path:
        for name, model in self.models.items():  # never write weights that went bad
            for pname, p in model.named_parameters():
                if not _finite(p.data):
                    raise NonFiniteLossError(
                        f"parameter {name}.{pname} is NaN or infinite after epoch "
                        f"{self.epoch}, batch {self.batch}; not saving it. {self._last_good()}")
        self.out.mkdir(parents=True, exist_ok=True)
        minigen.save(self.state(), self.checkpoint)
        return self.checkpoint

    def resume_from(self, path: str | Path) -> None:
        """Continue from the checkpoint ``path``. If ``path`` is this run's own checkpoint and
        it was never written (the run stopped before its first epoch ended), start afresh and
        say so; any other missing or damaged file is a :class:`CheckpointError`."""
        path = Path(path)
        if not path.exists() and path.resolve() == self.checkpoint.resolve():
            print(f"{self.out} holds no {CHECKPOINT} yet (its run stopped before the first epoch "
                  "ended): starting afresh", file=sys.stderr)
            return
        self.load(path)

    def load(self, path: str | Path) -> None:
        """Restore everything from a checkpoint written by :meth:`save`."""
        ckpt = minigen.load(path, device=self.device)
        if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
            raise CheckpointError(f"{path}: not a minigen training checkpoint")
        if ckpt["kind"] != self.kind:
            raise CheckpointError(f"{path} is a checkpoint of a {ckpt['kind']} run, not a "
                                  f"{self.kind} run")
        for key in ("latent_dim", "batch_size", "posterior", "averaged_generator"):
            if key in self.config and ckpt["config"].get(key, False) != self.config[key]:
                raise CheckpointError(f"{path}: saved with {key}={ckpt['config'].get(key)!r}, "
                                      f"this run has {key}={self.config[key]!r}")
        saved_on, now_on = ckpt["config"].get("dataset"), self.config.get("dataset")
        if saved_on and now_on and saved_on != now_on:  # (older checkpoints do not say)
            raise CheckpointError(f"{path} was trained on {saved_on}; this run loads "
                                  f"{now_on}: resume it on the same data (--dataset {saved_on})")
        for name, model in self.models.items():
            model.load_state_dict(ckpt["models"][name])
        for name, opt in self.optimizers.items():
            opt.load_state_dict(ckpt["optimizers"][name])
        self.epoch, self.batch = ckpt["epoch"], ckpt["batch"]
        self.running = {k: list(v) for k, v in ckpt["running"].items()}
        self.history, self.fixed_noise = ckpt["history"], ckpt["fixed_noise"]
        self.rng_epoch, self.saved_rng = ckpt["rng_epoch"], ckpt["rng"]
        self.set_rng_state(self.saved_rng)

    def _last_good(self) -> str:
        if self.checkpoint.exists():
            return (f"The last good checkpoint is {self.checkpoint}; resume from it with a lower "
                    f"learning rate ({self.resume_command}), or find the op with "
                    "minigen.detect_anomaly().")
        return "No checkpoint was written yet. Try a lower learning rate."


def _finite(array: Any) -> bool:
    xp = backend.namespace(array)
    return bool(xp.all(xp.isfinite(array)))


class _DeferredInterrupt:
    """Turn the first Ctrl-C into a flag checked between batches (main thread only)."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        if self.requested:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.requested = True
        print("\nCtrl-C: finishing this batch, then saving a checkpoint "
              "(press Ctrl-C again to stop at once)", file=sys.stderr)

    def __enter__(self) -> _DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
