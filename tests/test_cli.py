"""The command line: quick `train` runs of each model and a quick `report` write every figure."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import minigen
from minigen.__main__ import _parser, _resume_command, main
from minigen.data import datasets, write_idx
from minigen.metrics import SHIPPED_WEIGHTS

pytestmark = pytest.mark.slow

RUN_FILES = ["checkpoint.npz", "losses.png", "samples.gif", "samples/epoch_001.png",
             "samples/epoch_002.png", "latent_grid.png"]
VAE_FILES = RUN_FILES + ["reconstructions.png", "latent_scatter.png"]


@pytest.mark.parametrize("model", ["gan", "dcgan", "vae"])
def test_quick_train_writes_every_figure(tmp_path: Path, model: str,
                                         capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / model
    assert main(["train", model, "--quick", "--data", "sample", "--out", str(out),
                 "--no-progress"]) == 0
    for name in VAE_FILES if model == "vae" else RUN_FILES:
        assert (out / name).is_file(), name
    assert "2 epochs" in capsys.readouterr().out


def test_train_resume_continues_the_run(tmp_path: Path) -> None:
    args = ["train", "vae", "--quick", "--data", "sample", "--out", str(tmp_path),
            "--no-progress"]
    assert main([*args, "--epochs", "1"]) == 0
    assert main([*args, "--epochs", "2", "--resume"]) == 0
    history = minigen.load(tmp_path / "checkpoint.npz")["history"]
    assert len(history["epoch"]["loss"]) == 2
    assert main([*args, "--epochs", "2", "--overwrite"]) == 0  # from scratch, same seed
    fresh = minigen.load(tmp_path / "checkpoint.npz")["history"]
    assert fresh["batch"]["loss"] == history["batch"]["loss"]


def test_quick_report_writes_the_page_and_every_figure(tmp_path: Path) -> None:
    assert main(["report", "--quick", "--data", "sample", "--out", str(tmp_path),
                 "--no-progress"]) == 0
    page = (tmp_path / "report.md").read_text()
    linked = re.findall(r"\]\(([^)]+)\)", page)
    assert len(linked) >= 17
    for link in linked:
        assert (tmp_path / link).is_file(), link
    for figure in (4, 5, 7, 8, 9, 13, 14, 15):
        assert f"*Figure {figure}:" in page
    assert "| dcgan |" in page and "| full covariance |" in page
    # the scores of every run, on the page and in each run's evaluation folder
    scores = page[page.index("## Scores"):]
    for name in ("gan", "dcgan", "vae", "vae_full"):
        assert f"| {name} | " in scores, name
        assert (tmp_path / name / "evaluation" / "scores.json").is_file(), name
    assert "IWAE" in scores and "Classifier test accuracy" in scores


def test_resume_before_the_first_checkpoint_starts_afresh(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A run killed in its first epoch left no checkpoint: --resume starts it afresh and says
    so in one line (tests/test_kill_and_resume.py kills real runs); a missing checkpoint other
    than the run folder's own is still an error that names it."""
    args = ["train", "vae", "--quick", "--data", "sample", "--epochs", "1", "--no-progress"]
    run = tmp_path / "run"
    assert main([*args, "--out", str(run), "--resume"]) == 0
    assert capsys.readouterr().err.splitlines() == [
        f"{run} holds no checkpoint.npz yet (its run stopped before the first epoch ended): "
        "starting afresh"]
    assert minigen.load(run / "checkpoint.npz")["epoch"] == 1
    typo = tmp_path / "tpyo" / "checkpoint.npz"
    assert main([*args, "--out", str(tmp_path / "other"), "--resume", str(typo)]) == 1
    assert f"{typo}: cannot load a checkpoint" in capsys.readouterr().err


def test_resume_command_points_at_the_run() -> None:
    argv = ["train", "gan", "--epochs", "5", "--resume", "old.npz", "--seed", "3"]
    args = _parser().parse_args(argv)
    args.out = "runs/gan"
    assert _resume_command(args, argv) == (
        "python -m minigen train gan --epochs 5 --seed 3 --out runs/gan --resume")


def test_help_lists_the_commands(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "train" in capsys.readouterr().out


def test_evaluate_scores_a_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """`python -m minigen evaluate RUN_DIR` hands over to minigen.metrics and writes scores."""
    run = tmp_path / "vae"
    assert main(["train", "vae", "--quick", "--data", "sample", "--out", str(run),
                 "--no-progress", "--epochs", "1"]) == 0
    assert main(["evaluate", str(run), "--samples", "100", "--k", "4"]) == 0
    for name in ("scores.md", "scores.json", "scores_per_epoch.png"):
        assert (run / "evaluation" / name).is_file(), name
    assert "written:" in capsys.readouterr().out


def test_a_run_folder_is_not_overwritten_without_overwrite(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["train", "gan", "--quick", "--data", "sample", "--out", str(tmp_path),
            "--no-progress"]
    assert main([*args, "--epochs", "3"]) == 0
    before = (tmp_path / "checkpoint.npz").read_bytes()
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "after epoch 3" in err
    assert f"--resume {tmp_path / 'checkpoint.npz'}" in err and "--overwrite" in err
    assert (tmp_path / "checkpoint.npz").read_bytes() == before
    # starting over deletes the old run's later epochs, so no epoch_003.png beside the new 2
    assert main([*args, "--overwrite"]) == 0
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == [
        "epoch_001.png", "epoch_002.png"]
    assert minigen.load(tmp_path / "checkpoint.npz")["epoch"] == 2


def test_resume_with_nothing_left_to_train_says_so(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    args = ["train", "gan", "--quick", "--data", "sample", "--out", str(tmp_path),
            "--no-progress", "--epochs", "2"]
    assert main(args) == 0
    capsys.readouterr()
    assert main([*args, "--resume"]) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path} is already at epoch 2 of 2: nothing to train" in out
    assert "epochs on" not in out  # no summary as though it had trained


@pytest.mark.parametrize("model, options, label", [("dcgan", [], "dcgan"),
                                                   ("vae", ["--posterior", "full"], "vae_full")])
def test_progress_bar_names_the_model(tmp_path: Path, model: str, options: list[str],
                                      label: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["train", model, *options, "--quick", "--data", "sample", "--epochs", "1",
                 "--out", str(tmp_path)]) == 0
    assert f"{label} epoch 1/1" in capsys.readouterr().err


def test_evaluate_one_checkpoint_and_name_a_damaged_one(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "vae"
    assert main(["train", "vae", "--quick", "--data", "sample", "--out", str(run),
                 "--no-progress", "--epochs", "1"]) == 0
    scoring = ["--samples", "100", "--k", "0"]
    assert main(["evaluate", str(run / "checkpoint.npz"), *scoring]) == 0
    assert (run / "evaluation" / "scores.json").is_file()
    # a copy cut short beside a good checkpoint: scored without it, and named
    (run / "copy.npz").write_bytes((run / "checkpoint.npz").read_bytes()[:5000])
    capsys.readouterr()
    assert main(["evaluate", str(run), *scoring]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: ") and "copy.npz: damaged or truncated" in err


def test_train_and_evaluate_on_fashion_mnist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture) -> None:
    """--dataset fashion-mnist: the run says so and remembers it, and evaluate asks for the
    Fashion-MNIST classifier instead of scoring clothes through the digit classifier."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # no trained classifier
    data = tmp_path / "fashion"
    data.mkdir()
    rng = np.random.default_rng(0)
    for split, n in (("train", 64), ("test", 32)):
        images, labels = datasets.SPLITS[split]
        write_idx(data / f"{images}.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(data / f"{labels}.gz", rng.integers(0, 10, n, dtype=np.uint8))
    run = tmp_path / "vae"
    assert main(["train", "vae", "--quick", "--dataset", "fashion-mnist", "--data", str(data),
                 "--out", str(run), "--no-progress", "--epochs", "1"]) == 0
    assert "1 epochs on fashion-mnist (64 images, from root)" in capsys.readouterr().out
    assert minigen.load(run / "checkpoint.npz")["config"]["dataset"] == "fashion-mnist"
    assert main(["evaluate", str(run), "--samples", "20", "--k", "0"]) == 2
    assert "train-classifier --dataset fashion-mnist" in capsys.readouterr().err
    assert main(["evaluate", str(run), "--classifier", str(SHIPPED_WEIGHTS)]) == 2
    err = capsys.readouterr().err
    assert "trained on fashion-mnist, but the classifier" in err and "on mnist" in err



def test_train_with_ema_samples_and_scores_the_average(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "ema"
    assert main(["train", "gan", "--quick", "--data", "sample", "--ema", "0.99", "--out",
                 str(run), "--no-progress"]) == 0
    ckpt = minigen.load(run / "checkpoint.npz")
    assert ckpt["config"]["averaged_generator"] and "generator_ema" in ckpt["models"]
    capsys.readouterr()
    assert main(["evaluate", str(run), "--samples", "100"]) == 0
    assert "average of G's weights" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["train", "gan", "--quick", "--ema", "1.5", "--out", str(tmp_path / "bad")])
