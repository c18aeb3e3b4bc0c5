"""A run killed at any point resumes to exactly the uninterrupted run.

A worker process trains a tiny GAN and SIGKILLs itself at a point the test chooses (no
timing: a counter in the worker, set by ``KILL_AT``): after batch N, inside a batch (at an
optimizer step), while writing a checkpoint (half the bytes written), or just after one. The
test then checks what the disk holds (no checkpoint before the first epoch ends; a killed write
leaves the previous checkpoint whole) and resumes, again and again, with the run folder's own
checkpoint, as ``python -m minigen train gan --resume`` does. A resume before the first
checkpoint starts afresh and says so. At the end every saved array (weights, Adam's moments,
the random states, the history, the sample images) equals the uninterrupted run's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minigen
from minigen.data import MNIST, DataLoader
from minigen.errors import CheckpointError
from minigen.models import VAE, gan
from minigen.train import train_gan, train_vae

ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
       "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
EPOCHS, BATCHES = 3, 3  # of the worker's run: 48 images in batches of 16

WORKER = '''
import io, os, signal, sys
import numpy as np
import minigen
from minigen import optim
from minigen.data import MNIST, DataLoader
from minigen.models import gan
from minigen.train import Run, train_gan

out, epochs, resume = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "resume"
where, _, at = os.environ.get("KILL_AT", "nowhere:0").partition(":")
at, counts = int(at), {"batch": 0, "step": 0, "write": 0, "saved": 0}


def count(what):
    counts[what] += 1
    return where == what and counts[what] == at


def die():
    os.kill(os.getpid(), signal.SIGKILL)  # no handler, no cleanup, no last save


log_batch, adam_step, savez, save = Run.log_batch, optim.Adam.step, np.savez, minigen.save


def after_batch(self, numbers):  # "batch:N": killed once N batches are done
    log_batch(self, numbers)
    if count("batch"):
        die()


def at_step(self):  # "step:N": killed at the N-th optimizer step (D and G alternate)
    if count("step"):
        die()
    adam_step(self)


def half_written(file, *args, **kwargs):  # "write:N": killed halfway through the N-th save
    if count("write"):
        whole = io.BytesIO()
        savez(whole, *args, **kwargs)
        file.write(whole.getvalue()[: len(whole.getvalue()) // 2])
        file.flush()
        os.fsync(file.fileno())
        die()
    savez(file, *args, **kwargs)


def saved(obj, path):  # "saved:N": killed just after the N-th save
    save(obj, path)
    if count("saved"):
        die()


Run.log_batch, optim.Adam.step, np.savez, minigen.save = after_batch, at_step, half_written, saved
minigen.manual_seed(0)
images = MNIST(source="sample", pixel_range=(-1.0, 1.0)).images[:48]
loader = DataLoader(images, 16, shuffle=True, seed=1)
G = gan.Generator(latent_dim=8, hidden=(32,))
D = gan.Discriminator(hidden=(32,), dropout=0.3)  # dropout: random draws to restore too
train_gan(G, D, loader, epochs=epochs, out=out, seed=0, progress=False, n_samples=4,
          resume=out + "/checkpoint.npz" if resume else None)
'''


def work(script: Path, out: Path, resume: bool, kill_at: str | None = None
         ) -> subprocess.CompletedProcess:
    env = {**ENV, "KILL_AT": kill_at} if kill_at else ENV
    return subprocess.run([sys.executable, str(script), str(out), str(EPOCHS),
                           "resume" if resume else "fresh"], capture_output=True, text=True,
                          env=env, timeout=300)


def leaves(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Every value of a loaded checkpoint by its path ("models/generator/net.0.weight")."""
    if isinstance(tree, dict):
        named = [(f"{prefix}/{key}", sub) for key, sub in tree.items()]
    elif isinstance(tree, (list, tuple)):
        named = [(f"{prefix}[{i}]", sub) for i, sub in enumerate(tree)]
    else:
        return {prefix: tree.numpy() if isinstance(tree, minigen.Tensor) else tree}
    return {k: v for name, sub in named for k, v in leaves(sub, name).items()}


def assert_same_checkpoint(path: Path, reference: Path) -> None:
    got, want = leaves(minigen.load(path)), leaves(minigen.load(reference))
    assert got.keys() == want.keys()
    for key, value in want.items():
        if key.startswith("/history/epoch/time"):  # wall-clock seconds
            continue
        if isinstance(value, np.ndarray):
            assert got[key].dtype == value.dtype, key
            np.testing.assert_array_equal(got[key], value, err_msg=key)
        else:
            assert got[key] == value, key


@pytest.mark.slow
def test_sigkill_anywhere_then_resume_equals_the_uninterrupted_run(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    reference = tmp_path / "reference"
    done = work(script, reference, resume=False)
    assert done.returncode == 0, done.stderr
    assert minigen.load(reference / "checkpoint.npz")["epoch"] == EPOCHS

    out = tmp_path / "run"
    path = out / "checkpoint.npz"
    # (resume?, where the worker kills itself, the epoch on disk after the kill: None = none)
    chain = [(False, "batch:2", None),  # in the first epoch: nothing saved yet
             (True, "write:1", None),  # afresh; killed halfway through the first save
             (True, "saved:1", 1),  # afresh again; killed just after the first save
             (True, "batch:2", 1),  # from epoch 1: killed in epoch 2, after its batch 2
             (True, "step:3", 1),  # again: inside epoch 2's batch 2, at its D step
             (True, "write:1", 1)]  # again: halfway through the second save
    for resume, kill_at, on_disk in chain:
        before = path.read_bytes() if path.exists() else None
        killed = work(script, out, resume, kill_at)
        assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr)
        afresh = "holds no checkpoint.npz yet" in killed.stderr
        assert afresh == (resume and before is None), (kill_at, killed.stderr)
        if on_disk is None:
            assert not path.exists(), kill_at
            continue
        saved = minigen.load(path)  # always whole: the killed write went to a temporary file
        assert (saved["epoch"], saved["batch"]) == (on_disk, 0), kill_at
        assert len(saved["history"]["batch"]["d_loss"]) == on_disk * BATCHES
        if kill_at.startswith("write"):
            assert path.read_bytes() == before, "a killed write changed the checkpoint"
    leftovers = sorted(p.name for p in out.glob(".checkpoint.npz.*.tmp"))
    assert leftovers, "the killed writes should have left their temporary files"

    done = work(script, out, resume=True)
    assert done.returncode == 0, done.stderr
    assert "starting afresh" not in done.stderr
    assert not list(out.glob(".checkpoint.npz.*.tmp"))  # the next save cleared them away
    assert_same_checkpoint(path, reference / "checkpoint.npz")
    assert sorted(p.name for p in (out / "samples").iterdir()) == [
        f"epoch_{e:03d}.png" for e in range(1, EPOCHS + 1)]


# --------------------------------------------------------------------------- in process


def tiny_gan(out: Path, resume: Path | None) -> dict[str, Any]:
    minigen.manual_seed(0)
    images = MNIST(source="sample", pixel_range=(-1.0, 1.0)).images[:32]
    G, D = gan.Generator(latent_dim=4, hidden=(8,)), gan.Discriminator(hidden=(8,))
    return train_gan(G, D, DataLoader(images, 16, shuffle=True, seed=1), epochs=1, out=out,
                     seed=0, resume=resume, progress=False, n_samples=1)


def tiny_vae(out: Path, resume: Path | None) -> dict[str, Any]:
    minigen.manual_seed(0)
    images = MNIST(source="sample").images[:32]
    return train_vae(VAE(), DataLoader(images, 16, shuffle=True, seed=1), epochs=1, out=out,
                     seed=0, resume=resume, progress=False, n_samples=1)


@pytest.mark.slow
@pytest.mark.parametrize("run", [tiny_gan, tiny_vae])
def test_resuming_a_run_with_no_checkpoint_yet_starts_afresh(
        tmp_path: Path, run: Any, capsys: pytest.CaptureFixture) -> None:
    plain = run(tmp_path / "plain", None)
    capsys.readouterr()
    for folder in (tmp_path / "fresh", tmp_path / "made"):  # missing, or made and empty
        if folder.name == "made":
            folder.mkdir()
        resumed = run(folder, folder / "checkpoint.npz")
        lines = capsys.readouterr().err.splitlines()
        assert lines == [f"{folder} holds no checkpoint.npz yet (its run stopped before the "
                         "first epoch ended): starting afresh"]
        assert resumed["batch"] == plain["batch"]
        assert_same_checkpoint(folder / "checkpoint.npz", tmp_path / "plain" / "checkpoint.npz")


def test_resuming_from_another_missing_file_is_still_an_error(tmp_path: Path) -> None:
    """Only the run's own checkpoint may be missing: a typo in another path is not a fresh
    start in the wrong folder."""
    with pytest.raises(CheckpointError, match="elsewhere"):
        tiny_gan(tmp_path / "run", tmp_path / "elsewhere" / "checkpoint.npz")
    assert not (tmp_path / "run").exists()
