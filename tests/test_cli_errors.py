"""The command line's refusals, each fast (nothing trains): bad numbers are argparse's one
``error:`` line, a file where a folder belongs is named, ``evaluate`` says what is wrong with
its run (a missing folder, a damaged checkpoint) in one line with exit code 2, and the library
refuses the same bad values with a ValueError instead of reading 0 as "use the default"."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from minigen import report
from minigen.__main__ import _parser, main
from minigen.data import DataLoader
from minigen.metrics.__main__ import main as metrics_main
from minigen.models import gan
from minigen.train import train_gan


@pytest.mark.parametrize("option, value, says", [
    ("--epochs", "0", "a positive integer"), ("--epochs", "-3", "a positive integer"),
    ("--batch-size", "0", "a positive integer"), ("--latent-dim", "0", "a positive integer"),
    ("--lr", "0", "a positive number"), ("--lr", "-1", "a positive number"),
    ("--lr", "nan", "a positive number"), ("--k", "0", "a positive integer"),
    ("--d-dropout", "1.5", "in [0, 1)"), ("--real-label", "2", "in (0, 1]"),
    ("--real-label", "0", "in (0, 1]"), ("--seed", "-1", "an integer >= 0"),
])
def test_bad_numbers_are_an_argparse_error(option: str, value: str, says: str,
                                           capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        _parser().parse_args(["train", "gan", option, value])
    assert info.value.code == 2
    assert f"argument {option}: must be {says}, got {value}" in capsys.readouterr().err


def test_resume_and_overwrite_exclude_each_other(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        _parser().parse_args(["train", "gan", "--resume", "--overwrite"])
    assert "not allowed with argument --resume" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["report", "--quick"], ["train", "vae", "--quick"]])
def test_out_that_is_a_file_is_a_clear_error(tmp_path: Path, command: list[str],
                                             capsys: pytest.CaptureFixture) -> None:
    taken = tmp_path / "notes.txt"
    taken.write_text("not a folder")
    assert main([*command, "--data", "sample", "--out", str(taken / "sub"),
                 "--no-progress"]) == 2
    assert f"{taken} is a file, not a folder" in capsys.readouterr().err


def test_library_refuses_what_the_cli_refuses(tmp_path: Path) -> None:
    # 0 used to read as "unset" (`epochs or default`): a caller's 0 must not become 100
    for setting in ({"epochs": 0}, {"batch_size": 0}, {"lr": 0.0}, {"epochs": -3}):
        name = next(iter(setting)).replace("_", "[_ ]")
        with pytest.raises(ValueError, match=f"{name} must be positive, got"):
            report.train_model("gan", quick=True, data="sample", out=tmp_path, progress=False,
                               **setting)
    with pytest.raises(ValueError, match="latent_dim must be positive, got 0"):
        report.build("vae", latent_dim=0)
    assert report.settings("vae") == (30, 128, 1e-3)


def test_train_gan_refuses_a_real_label_outside_0_1(tmp_path: Path) -> None:
    # above 1, D's loss on real images goes negative and training reports nonsense
    loader = DataLoader(np.zeros((8, 1, 28, 28), np.float32) - 1, 4)
    with pytest.raises(ValueError, match=r"real_label .* must be in \(0, 1\], got 2"):
        train_gan(gan.Generator(), gan.Discriminator(), loader, 1, real_label=2.0,
                  out=tmp_path, progress=False)
    assert not (tmp_path / "checkpoint.npz").exists()


@pytest.mark.parametrize("option, value", [("--samples", "0"), ("--samples", "-5"),
                                           ("--k", "-3")])
def test_evaluate_bad_numbers_are_an_argparse_error(tmp_path: Path, option: str, value: str,
                                                    capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as info:
        main(["evaluate", str(tmp_path), option, value])
    assert info.value.code == 2
    assert f"argument {option}: must be" in capsys.readouterr().err


def test_evaluate_a_folder_that_does_not_exist(tmp_path: Path,
                                               capsys: pytest.CaptureFixture) -> None:
    assert main(["evaluate", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nope does not exist" in err
    assert "Traceback" not in err


def test_evaluate_names_a_damaged_checkpoint(tmp_path: Path,
                                             capsys: pytest.CaptureFixture) -> None:
    # a checkpoint cut short (a copy that did not finish): not "no training checkpoint"
    (tmp_path / "checkpoint.npz").write_bytes(b"PK\x03\x04" + bytes(100))
    np.savez(tmp_path / "other.npz", a=np.zeros(3))  # not minigen's: skipped quietly
    assert metrics_main(["evaluate", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "checkpoint.npz: damaged or truncated" in err and "other.npz" not in err


def test_evaluate_help_documents_every_option(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    assert capsys.readouterr().out.startswith("usage: python -m minigen.metrics evaluate")
    from minigen.metrics.__main__ import _parser as metrics_parser

    commands = next(a for a in metrics_parser()._actions
                    if isinstance(a, argparse._SubParsersAction))
    for command in commands.choices.values():
        for action in command._actions:
            assert action.help, f"{command.prog} {action.option_strings or action.dest}"
