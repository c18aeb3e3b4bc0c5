"""Training never loses work, and files are safe to load.

* SIGKILL at random points, several times: the checkpoint on disk always loads, is always a
  prefix of the uninterrupted run, and the run resumed from it ends bit for bit where the
  uninterrupted run ends.
* Ctrl-C (SIGINT) on ``python -m minigen train vae``: a checkpoint is saved, the exit is clean
  (status 130, no traceback) and the message gives the command that resumes; it does.
* A loss that turns NaN stops the run with a clear error and leaves the last good checkpoint
  byte for byte as it was.
* A checkpoint truncated or with flipped bytes is refused (CheckpointError naming the file), and
  a crafted ``.npz`` holding a pickled object is refused without running its code.

The training runs are tiny (a 32-unit GAN on 96 sample digits, or ``--quick``) and run in
subprocesses with one BLAS thread, as a user's would.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minigen
from minigen import optim
from minigen.data import MNIST, DataLoader
from minigen.errors import CheckpointError
from minigen.models import gan
from minigen.train import NonFiniteLossError, train_gan

ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
       "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
EPOCHS, BATCHES = 10, 6  # of the worker's run: 96 images in batches of 16

WORKER = '''
import json, sys
import minigen
from minigen.data import MNIST, DataLoader
from minigen.models import gan
from minigen.train import train_gan

out, epochs = sys.argv[1], int(sys.argv[2])
resume = sys.argv[3] if len(sys.argv) > 3 else None
minigen.manual_seed(0)
images = MNIST(source="sample", pixel_range=(-1.0, 1.0)).images[:96]
loader = DataLoader(images, 16, shuffle=True, seed=1)
G = gan.Generator(latent_dim=8, hidden=(32,))
D = gan.Discriminator(hidden=(32,), dropout=0.3)  # dropout: random draws to restore too
print("ready", flush=True)
history = train_gan(G, D, loader, epochs=epochs, out=out, seed=0, resume=resume,
                    progress=False, n_samples=4)
with open(out + "/losses.json", "w") as f:
    json.dump(history["batch"], f)
'''


def start_worker(script: Path, out: Path, resume: bool) -> subprocess.Popen:
    args = [sys.executable, str(script), str(out), str(EPOCHS)]
    if resume:
        args.append(str(out / "checkpoint.npz"))
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                            text=True)
    assert proc.stdout.readline().strip() == "ready", proc.communicate()[1]
    return proc


@pytest.fixture(scope="module")
def reference(tmp_path_factory: Any) -> dict[str, Any]:
    """The uninterrupted worker run: its per-batch losses."""
    folder = tmp_path_factory.mktemp("reference")
    script = folder / "worker.py"
    script.write_text(WORKER)
    proc = start_worker(script, folder / "run", resume=False)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    losses = json.loads((folder / "run" / "losses.json").read_text())
    assert len(losses["d_loss"]) == EPOCHS * BATCHES
    return {"losses": losses, "script": script}


def wait_for(path: Path, proc: subprocess.Popen, timeout: float = 300) -> None:
    """Until ``path`` exists (or ``proc`` has ended)."""
    deadline = time.monotonic() + timeout
    while not path.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)


def identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns


def wait_for_saves(path: Path, proc: subprocess.Popen, count: int) -> float:
    """Until ``path`` has been saved ``count`` more times (each save renames a new file over
    it); returns the seconds between the last two saves seen (an epoch), or 0."""
    seen, times = identity(path), [time.monotonic()]
    deadline = times[0] + 300
    while len(times) <= count and proc.poll() is None and time.monotonic() < deadline:
        now = identity(path)
        if now != seen:
            seen = now
            times.append(time.monotonic())
        time.sleep(0.003)
    return times[-1] - times[-2] if len(times) > 2 else 0.0


def check_prefix(saved: dict[str, Any], losses: dict[str, list[float]]) -> None:
    """A checkpoint after ``epoch`` epochs holds exactly the reference's first batches."""
    n = saved["epoch"] * BATCHES + saved["batch"]
    for name, values in saved["history"]["batch"].items():
        assert values == losses[name][:n], name


@pytest.mark.slow
def test_sigkill_at_random_points_never_corrupts_the_checkpoint(reference: dict[str, Any],
                                                                tmp_path: Path) -> None:
    out, path = tmp_path / "run", tmp_path / "run" / "checkpoint.npz"
    rng = random.Random(8)  # random points, the same ones on every run of the test
    epochs_seen = []
    for _ in range(4):
        proc = start_worker(reference["script"], out, resume=path.exists())
        # A random point: 1 to 3 epochs on, then anywhere in the next epoch (its save too).
        left = EPOCHS - (epochs_seen[-1] if epochs_seen else 0)
        epoch = wait_for_saves(path, proc, rng.randint(1, max(1, min(3, left - 2))))
        time.sleep(rng.uniform(0.0, 1.0) * epoch)
        proc.kill()  # SIGKILL: no handler, no cleanup, no last save
        proc.communicate(timeout=60)
        if path.exists():
            saved = minigen.load(path)  # always loads: never half a file
            check_prefix(saved, reference["losses"])
            assert saved["batch"] == 0  # only whole epochs are ever on disk
            assert not epochs_seen or saved["epoch"] >= epochs_seen[-1]  # never goes back
            epochs_seen.append(saved["epoch"])
    print("epochs on disk after each kill:", epochs_seen, sorted(p.name for p in out.iterdir()))
    assert epochs_seen and epochs_seen[-1] >= 1, "no kill came after a checkpoint"
    proc = start_worker(reference["script"], out, resume=True)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    # Resumed after four kills, bit for bit the uninterrupted run.
    assert json.loads((out / "losses.json").read_text()) == reference["losses"]


# --------------------------------------------------------------------------- Ctrl-C, CLI


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "minigen", "train", "vae", "--quick", "--no-progress", *args]


@pytest.mark.slow
def test_ctrl_c_saves_exits_cleanly_and_says_how_to_resume(tmp_path: Path) -> None:
    out, path = tmp_path / "vae", tmp_path / "vae" / "checkpoint.npz"
    proc = subprocess.Popen(cli("--epochs", "4", "--out", str(out)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=ENV, text=True)
    wait_for(path, proc)  # the first epoch is saved: now the user presses Ctrl-C
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert f"saved {path}" in err and "Resume with: python -m minigen train vae" in err, err
    saved = minigen.load(path)
    assert 1 <= saved["epoch"] < 4
    command = shlex.split(err.split("Resume with: ")[1].splitlines()[0])
    assert command[:3] == ["python", "-m", "minigen"] and "--resume" in command
    done = subprocess.run([sys.executable, *command[1:]], capture_output=True, text=True,
                          env=ENV, timeout=300)
    assert done.returncode == 0, done.stderr
    final = minigen.load(path)
    assert final["epoch"] == 4 and len(final["history"]["epoch"]["loss"]) == 4
    assert final["history"]["batch"]["loss"][:len(saved["history"]["batch"]["loss"])] == \
        saved["history"]["batch"]["loss"]


@pytest.mark.slow
def test_a_diverging_run_stops_with_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(cli("--lr", "1e30", "--out", str(tmp_path)), capture_output=True,
                          text=True, env=ENV, timeout=300)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    for part in ("error: loss = nan", "epoch 1, batch 2", "stopped before the update",
                 "lower learning rate"):
        assert part in done.stderr, done.stderr


# --------------------------------------------------------------------------- in-process runs


def tiny_gan_run(out: Path, epochs: int, resume: Path | None = None) -> dict[str, Any]:
    minigen.manual_seed(0)
    images = MNIST(source="sample", pixel_range=(-1.0, 1.0)).images[:32]
    loader = DataLoader(images, 16, shuffle=True, seed=1)
    G, D = gan.Generator(latent_dim=4, hidden=(8,)), gan.Discriminator(hidden=(8,))
    return train_gan(G, D, loader, epochs=epochs, out=out, seed=0, resume=resume,
                     progress=False, n_samples=1)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: Any) -> Path:
    """A real training checkpoint, one epoch in."""
    out = tmp_path_factory.mktemp("ckpt")
    tiny_gan_run(out, 1)
    return out / "checkpoint.npz"


def test_nan_keeps_the_last_good_checkpoint(checkpoint: Path, tmp_path: Path,
                                            monkeypatch: Any) -> None:
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(checkpoint.read_bytes())
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    step = optim.Adam.step

    def poisoned_step(self: optim.Adam) -> None:  # the update that blows a weight up
        step(self)
        for p in self._params():
            p.data = p.data * float("inf")

    monkeypatch.setattr(optim.Adam, "step", poisoned_step)
    with pytest.raises(NonFiniteLossError) as info:
        tiny_gan_run(tmp_path, 3, resume=path)
    text = str(info.value)
    # The discriminator's step blew up; the generator's loss of that batch is the first NaN.
    assert "nan" in text and "epoch 2, batch 1" in text and str(path) in text, text
    assert "lower learning rate" in text and "detect_anomaly" in text
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest  # not touched
    saved = minigen.load(path)
    assert saved["epoch"] == 1
    for state in saved["models"].values():
        assert all(np.all(np.isfinite(t.numpy())) for t in state.values())


@pytest.mark.parametrize("keep", [0, 4, 100, 0.5, -200, -22, -1])
def test_truncated_checkpoint_is_refused_naming_the_file(checkpoint: Path, tmp_path: Path,
                                                          keep: float) -> None:
    data = checkpoint.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else keep % len(data)
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(data[:n])
    with pytest.raises(CheckpointError, match=str(path)):
        minigen.load(path)
    with pytest.raises(CheckpointError, match=str(path)):
        tiny_gan_run(tmp_path, 2, resume=path)


def test_flipped_bytes_are_refused_or_harmless(checkpoint: Path, tmp_path: Path) -> None:
    data = checkpoint.read_bytes()
    original = minigen.load(checkpoint)
    rng = np.random.default_rng(1)
    refused = 0
    for position in rng.choice(len(data), size=40, replace=False):
        damaged = bytearray(data)
        damaged[position] ^= 1 << int(rng.integers(8))
        path = tmp_path / f"flip{position}.npz"
        path.write_bytes(bytes(damaged))
        try:
            loaded = minigen.load(path)
        except CheckpointError as e:
            assert str(path) in str(e)
            refused += 1
            continue
        same_tree(loaded, original)  # a flip in zip metadata (a timestamp): same content
    assert refused >= 30, f"only {refused} of 40 flips refused"


def same_tree(a: Any, b: Any) -> None:
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            same_tree(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same_tree(x, y)
    elif isinstance(a, minigen.Tensor):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)
    else:
        assert a == b


# --------------------------------------------------------------------------- pickles


class Payload:
    """Unpickling this object calls open(marker, "w"): the file appears if any code runs."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        return open, (self.marker, "w")


def crafted(path: Path, marker: Path, where: str) -> None:
    """A checkpoint whose tensor entry (or whose metadata) is a pickled Payload."""
    evil = np.empty(1, dtype=object)
    evil[0] = Payload(marker)
    tree = {"t": "dict", "items": [["weight", {"t": "tensor", "entry": "weight"}]]}
    meta = json.dumps({"format": "minigen-checkpoint", "version": 1, "tree": tree})
    entries = {"__minigen__": np.asarray(meta), "weight": np.zeros(3, np.float32)}
    entries["weight" if where == "tensor" else "__minigen__"] = evil
    with open(path, "wb") as f:
        np.savez(f, allow_pickle=True, **entries)


@pytest.mark.parametrize("where", ["tensor", "metadata"])
def test_a_pickled_payload_is_refused_and_never_runs(tmp_path: Path, where: str) -> None:
    path, marker = tmp_path / "checkpoint.npz", tmp_path / "pwned"
    crafted(path, marker, where)
    with pytest.raises(CheckpointError, match=str(path)) as info:
        minigen.load(path)
    assert where == "metadata" or "pickle" in str(info.value)
    with pytest.raises(CheckpointError):
        tiny_gan_run(tmp_path / "run", 1, resume=path)
    assert not marker.exists()
    # The payload is real: NumPy with allow_pickle=True would have run it.
    np.load(path, allow_pickle=True)["weight" if where == "tensor" else "__minigen__"]
    assert marker.exists()


@pytest.mark.slow
def test_cli_refuses_a_damaged_checkpoint_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "checkpoint.npz").write_bytes(b"PK\x03\x04 not really a zip")
    done = subprocess.run(cli("--out", str(tmp_path), "--resume"), capture_output=True,
                          text=True, env=ENV, timeout=300)
    assert done.returncode != 0
    assert str(tmp_path / "checkpoint.npz") in done.stderr
    assert "Traceback" not in done.stderr, done.stderr
