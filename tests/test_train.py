"""Training runs: exact resume (after an epoch, after Ctrl-C mid-epoch), the NaN stop, and
what a run writes. Tiny data and networks: each run takes a second or two."""

from __future__ import annotations

import hashlib
import math
import signal
from pathlib import Path

import numpy as np
import pytest

import minigen
from minigen import backend
from minigen.data import MNIST, DataLoader
from minigen.errors import CheckpointError
from minigen.models import VAE, gan
from minigen.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from minigen.train import NonFiniteLossError, TrainingInterrupted, train_gan, train_vae

pytestmark = pytest.mark.slow


def images(n: int = 64, low: float = 0.0) -> np.ndarray:
    x = MNIST(source="sample").images[:n]
    return x * (1 - low) + low


class Tamper:
    """A DataLoader stand-in that passes batches through and, at one (epoch, batch), sends
    itself SIGINT (a user's Ctrl-C), raises KeyboardInterrupt, or poisons the batch with NaN."""

    def __init__(self, loader: DataLoader, epoch: int, batch: int, action: str):
        self.loader, self.at, self.action, self.epochs = loader, (epoch, batch), action, 0
        self.batch_size = loader.batch_size

    def __len__(self) -> int:
        return len(self.loader)

    def state_dict(self) -> dict:
        return self.loader.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.loader.load_state_dict(state)

    def __iter__(self):
        self.epochs += 1
        for b, batch in enumerate(self.loader, start=1):
            if (self.epochs, b) == self.at:
                if self.action == "sigint":
                    signal.raise_signal(signal.SIGINT)
                elif self.action == "raise":
                    raise KeyboardInterrupt
                else:
                    batch = batch * float("nan")
            yield batch


def vae_run(out: Path, epochs: int, resume=None, tamper=None, posterior="diagonal"):
    minigen.manual_seed(0)
    loader = DataLoader(images(), 16, shuffle=True, seed=1)
    if tamper:
        loader = Tamper(loader, *tamper)
    test = DataLoader(images(32), 16)
    return train_vae(VAE(posterior=posterior), loader, test, epochs=epochs, out=out, seed=0,
                     resume=resume, progress=False)


def gan_run(out: Path, epochs: int, resume=None, tamper=None, k: int = 1, ema=None):
    minigen.manual_seed(0)
    loader = DataLoader(images(low=-1.0), 16, shuffle=True, seed=1)
    if tamper:
        loader = Tamper(loader, *tamper)
    G = gan.Generator(latent_dim=8, hidden=(32,))
    D = gan.Discriminator(hidden=(32,), dropout=0.3)  # dropout draws random numbers too
    average = None if ema is None else AveragedModel(G, multi_avg_fn=get_ema_multi_avg_fn(ema))
    return train_gan(G, D, loader, epochs=epochs, out=out, seed=0, resume=resume,
                     progress=False, k=k, generator_ema=average)


def same_numbers(a: dict, b: dict) -> None:
    assert a["batch"] == b["batch"]  # every per-batch loss, bit for bit
    for name in a["epoch"]:
        if name != "time":
            assert a["epoch"][name] == b["epoch"][name], name
    for x, y in zip(a["samples"], b["samples"]):
        np.testing.assert_array_equal(x, y)


@pytest.fixture(params=["state", "restart"])
def generator_kind(request, monkeypatch):
    """The CPU's default generator as it is ("state": saved and set back) or as CUDA's works
    ("restart": every save is a restart point, see backend.Generator)."""
    if request.param == "restart":
        cpu = minigen.device("cpu")
        monkeypatch.setitem(backend.rng._generators, cpu,
                            backend.Generator(cpu, restart_on_save=True))
    return request.param


@pytest.mark.parametrize("run", [vae_run, gan_run])
def test_resume_after_an_epoch_equals_the_uninterrupted_run(tmp_path: Path, run,
                                                            generator_kind) -> None:
    whole = run(tmp_path / "whole", 3)
    run(tmp_path / "split", 1)
    resumed = run(tmp_path / "split", 3, resume=tmp_path / "split" / "checkpoint.npz")
    same_numbers(whole, resumed)
    assert len(resumed["epoch"]["time"]) == 3


@pytest.mark.parametrize("run", [vae_run, gan_run])
def test_ctrl_c_saves_mid_epoch_and_resumes_exactly(tmp_path: Path, run) -> None:
    whole = run(tmp_path / "whole", 2)
    with pytest.raises(TrainingInterrupted, match="Resume with") as info:
        run(tmp_path / "cut", 2, tamper=(2, 2, "sigint"))
    saved = minigen.load(info.value.checkpoint)
    assert (saved["epoch"], saved["batch"]) == (1, 2)  # stopped after the batch it was in
    resumed = run(tmp_path / "cut", 2, resume=info.value.checkpoint)
    same_numbers(whole, resumed)


def test_gan_with_k_discriminator_steps_resumes_exactly(tmp_path: Path) -> None:
    whole = gan_run(tmp_path / "whole", 2, k=3)
    assert len(whole["batch"]["g_loss"]) == len(whole["batch"]["d_loss"]) // 3
    with pytest.raises(TrainingInterrupted):
        gan_run(tmp_path / "cut", 2, tamper=(2, 1, "sigint"), k=3)
    same_numbers(whole, gan_run(tmp_path / "cut", 2, k=3,
                                resume=tmp_path / "cut" / "checkpoint.npz"))


def test_an_averaged_generator_is_trained_saved_resumed_and_scored(tmp_path: Path) -> None:
    """train_gan(generator_ema=...): the average follows G's steps, is saved and resumed
    exactly, the samples come from it, and evaluate rebuilds it as the run's generator."""
    from minigen.metrics.runs import build_models

    whole = gan_run(tmp_path / "whole", 2, ema=0.9)
    with pytest.raises(TrainingInterrupted):
        gan_run(tmp_path / "cut", 2, tamper=(2, 1, "sigint"), ema=0.9)
    same_numbers(whole, gan_run(tmp_path / "cut", 2, ema=0.9,
                                resume=tmp_path / "cut" / "checkpoint.npz"))
    ckpt = minigen.load(tmp_path / "whole" / "checkpoint.npz")
    steps = len(whole["batch"]["g_loss"])
    assert int(ckpt["models"]["generator_ema"]["n_averaged"].item()) == steps
    averaged, raw = ckpt["models"]["generator_ema"], ckpt["models"]["generator"]
    assert not np.allclose(averaged["module.net.0.weight"].numpy(), raw["net.0.weight"].numpy())
    G = build_models(ckpt)["generator"]
    np.testing.assert_array_equal(G.state_dict()["net.0.weight"].numpy(),
                                  averaged["module.net.0.weight"].numpy())
    G = build_models(ckpt, averaged=False)["generator"]  # the generator as trained
    np.testing.assert_array_equal(G.state_dict()["net.0.weight"].numpy(),
                                  raw["net.0.weight"].numpy())
    plain = gan_run(tmp_path / "plain", 2)  # the same G steps without the average
    assert plain["epoch"]["d_loss"] == whole["epoch"]["d_loss"]
    assert not np.array_equal(plain["samples"][-1], whole["samples"][-1])  # sampled from it
    with pytest.raises(CheckpointError, match="averaged_generator"):
        gan_run(tmp_path / "whole", 3, resume=tmp_path / "whole" / "checkpoint.npz")


def test_keyboard_interrupt_inside_a_batch_keeps_the_last_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(TrainingInterrupted, match="intact") as info:
        vae_run(tmp_path, 3, tamper=(2, 3, "raise"))
    assert info.value.checkpoint == tmp_path / "checkpoint.npz"
    assert (minigen.load(info.value.checkpoint)["epoch"]) == 1


@pytest.mark.parametrize("run", [vae_run, gan_run])
def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path: Path, run) -> None:
    run(tmp_path, 1)
    path = tmp_path / "checkpoint.npz"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(NonFiniteLossError, match="epoch 2, batch 2") as info:
        run(tmp_path, 3, resume=path, tamper=(1, 2, "nan"))
    assert str(path) in str(info.value)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest  # untouched
    saved = minigen.load(path)
    assert saved["epoch"] == 1
    for state in saved["models"].values():
        assert all(np.all(np.isfinite(t.numpy())) for t in state.values())


def test_a_run_writes_its_figures_and_history(tmp_path: Path) -> None:
    history = vae_run(tmp_path, 2, posterior="full")
    for name in ("checkpoint.npz", "losses.png", "samples.gif", "samples/epoch_001.png",
                 "samples/epoch_002.png"):
        assert (tmp_path / name).is_file(), name
    assert len(history["batch"]["loss"]) == 2 * 4
    assert len(history["epoch"]["test_loss"]) == 2 and len(history["samples"]) == 2
    assert history["samples"][0].shape == (64, 28, 28)
    assert all(math.isfinite(v) for v in history["epoch"]["loss"])
    epoch_mean = np.mean(history["batch"]["loss"][:4])
    assert history["epoch"]["loss"][0] == pytest.approx(epoch_mean, rel=1e-12)


def test_training_runs_and_resumes_on_every_device(tmp_path: Path, device: str) -> None:
    x = images(32)
    loader = DataLoader((x,), 16, shuffle=True, seed=0, device=device)
    model = VAE(posterior="full").to(device)
    train_vae(model, loader, loader, epochs=1, out=tmp_path / "vae", progress=False)
    history = train_vae(VAE(posterior="full").to(device), loader, loader, epochs=2,
                        out=tmp_path / "vae", progress=False,
                        resume=tmp_path / "vae" / "checkpoint.npz")
    assert len(history["epoch"]["test_loss"]) == 2
    assert model.fc1.weight.device == minigen.device(device)
    loader = DataLoader((x * 2 - 1,), 16, shuffle=True, seed=0, device=device)
    G = gan.Generator(latent_dim=8, hidden=(16,)).to(device)
    D = gan.Discriminator(hidden=(16,)).to(device)
    history = train_gan(G, D, loader, epochs=1, out=tmp_path / "gan", progress=False)
    assert all(math.isfinite(v) for v in history["batch"]["d_loss"])


def test_gan_warns_when_real_images_are_in_0_1(tmp_path: Path) -> None:
    loader = DataLoader(images(32), 16)  # [0, 1]: G's tanh makes [-1, 1]
    G, D = gan.Generator(latent_dim=8, hidden=(16,)), gan.Discriminator(hidden=(16,))
    with pytest.warns(UserWarning, match=r"pixel_range=\(-1, 1\)") as caught:
        train_gan(G, D, loader, epochs=2, out=tmp_path, progress=False)
    assert len(caught) == 1  # once, at the first batch
    assert caught[0].filename == __file__  # pointing at the caller's line


def test_resuming_from_the_wrong_kind_of_run_is_refused(tmp_path: Path) -> None:
    vae_run(tmp_path / "vae", 1)
    with pytest.raises(CheckpointError, match="vae"):
        gan_run(tmp_path / "gan", 1, resume=tmp_path / "vae" / "checkpoint.npz")


def test_resuming_on_another_data_set_is_refused(tmp_path: Path) -> None:
    def run(dataset: str, epochs: int, resume=None) -> None:
        train_vae(VAE(2), DataLoader((images(),), 64), epochs=epochs, out=tmp_path,
                  progress=False, dataset=dataset, resume=resume)

    run("fashion-mnist", 1)
    assert minigen.load(tmp_path / "checkpoint.npz")["config"]["dataset"] == "fashion-mnist"
    with pytest.raises(CheckpointError, match="trained on fashion-mnist; this run loads mnist"):
        run("mnist", 2, resume=tmp_path / "checkpoint.npz")


# ------------------------------------------------------------------ a real process


def _start(out: Path, epochs: int, *extra: str):
    import subprocess
    import sys

    cmd = [sys.executable, "-m", "minigen", "train", "vae", "--quick", "--data", "sample",
           "--epochs", str(epochs), "--out", str(out), "--no-progress", *extra]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, proc, timeout: float = 120.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.05)


def test_sigint_saves_and_exits_with_the_resume_command(tmp_path: Path) -> None:
    proc = _start(tmp_path, 500)
    _wait_for(tmp_path / "checkpoint.npz", proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Resume with: python -m minigen train vae" in err and "--resume" in err
    saved = minigen.load(tmp_path / "checkpoint.npz")
    assert 1 <= saved["epoch"] < 500


def test_sigkill_at_random_moments_leaves_a_loadable_checkpoint(tmp_path: Path) -> None:
    import random
    import time

    rng = random.Random(0)
    epochs_seen = []
    for _ in range(3):
        proc = _start(tmp_path, 500, "--resume") if epochs_seen else _start(tmp_path, 500)
        _wait_for(tmp_path / "checkpoint.npz", proc)
        time.sleep(rng.uniform(0.0, 1.5))
        proc.kill()  # SIGKILL: no handler runs, the file is whatever the disk holds
        proc.communicate()
        saved = minigen.load(tmp_path / "checkpoint.npz")  # never half-written
        epochs_seen.append(saved["epoch"])
        assert len(saved["history"]["epoch"]["loss"]) == saved["epoch"]
    assert epochs_seen == sorted(epochs_seen)  # each resume went on from the last one
