"""Smoke runs of every lesson in quick mode: each must import without side effects and run.

Select one lesson with its marker, e.g. ``pytest -m lesson03``.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

import minigen

LESSONS = Path(__file__).resolve().parent.parent / "lessons"


def load_lesson(stem_prefix: str):
    """Import ``lessons/<prefix>_*.py`` as a module (its file name starts with a digit)."""
    (path,) = sorted(LESSONS.glob(f"{stem_prefix}_*.py"))
    spec = importlib.util.spec_from_file_location(f"lesson_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_lesson(stem_prefix: str, out: Path, *extra: str):
    return load_lesson(stem_prefix).main(["--quick", "--out", str(out), *extra])


@pytest.mark.lesson00
@pytest.mark.parametrize("device", ["cpu", "strict"])
def test_lesson00_read_the_engine(tmp_path: Path, device: str) -> None:
    result = run_lesson("00", tmp_path, "--device", device)
    assert sum(lines for _, lines in result["reading_path"]) <= 1425  # core_size.READING_BUDGET
    assert result["graph"]["order"] == ["Sum", "Tanh", "MatMul", "leaf", "leaf"]
    assert result["graph"]["by_hand"] == result["graph"]["engine"]
    assert result["tensor"]["y.grad_fn"] == "Add" and result["tensor"]["parent"] == "Mul"
    assert result["op"]["grad_a"] == [5.0, 7.0] and result["op"]["gradcheck"]
    assert result["conv"]["columns"] == (9, 32) and result["conv"]["product vs op"] < 1e-5
    lhs, rhs = result["conv"]["adjoint"]
    assert lhs == pytest.approx(rhs, rel=1e-5)
    assert result["module"]["parameters"] == ["fc.weight", "fc.bias", "heads.0.weight",
                                              "heads.0.bias", "heads.1.weight", "heads.1.bias"]
    assert result["layer"] < 1e-6 and result["adam"] < 1e-6


@pytest.mark.lesson01
def test_lesson01_autograd(tmp_path: Path) -> None:
    result = run_lesson("01", tmp_path)
    assert result["auto"] == pytest.approx(result["hand"], rel=1e-5)
    assert result["hooked"]["df/db"] == pytest.approx(result["hand"][1], rel=1e-5)
    assert result["hooked"]["df/dv"] == pytest.approx(1 - math.tanh(0.5 * -1.2 - 1.2) ** 2,
                                                      rel=1e-5)
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")
    line = result["line"]  # the hand-written SGD loop reaches the least-squares line
    assert line["same_tensor"]
    assert line["fitted"] == pytest.approx(line["least_squares"], abs=1e-3)


@pytest.mark.lesson02
def test_lesson02_gradcheck(tmp_path: Path) -> None:
    result = run_lesson("02", tmp_path)
    assert result["errors64"][1e-5] < 1e-9 < result["errors32"][1e-5]
    assert result["fooled"] and "BrokenSoftmax" in result["caught"]
    assert result["examples"] >= 1


@pytest.mark.lesson03
def test_lesson03_layers(tmp_path: Path, device: str) -> None:
    result = run_lesson("03", tmp_path, "--device", device)
    assert result["linear_gap"] < 1e-5 and result["im2col_gap"] < 1e-4
    assert result["down"] == [28, 14, 7] and result["up"] == [7, 14, 28]
    assert result["lhs"] == pytest.approx(result["rhs"], rel=1e-12)
    assert result["grad_gap"] < 1e-12
    assert result["maps"].shape == (8, 28, 28) and abs(result["maps"]).max() > 0
    figure = tmp_path / "conv_feature_maps.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and figure.stat().st_size > 10_000


@pytest.mark.lesson04
@pytest.mark.slow
def test_lesson04_gan(tmp_path: Path) -> None:
    result = run_lesson("04", tmp_path)
    value, identity = result["jsd"]
    assert value == pytest.approx(identity, rel=1e-12)
    assert abs(result["saturation"]["saturating"]) < 1e-3
    assert abs(result["saturation"]["non-saturating"]) > 0.99
    first = {name: values[0] for name, values in result["history"]["batch"].items()}
    assert result["one_step"] == first  # the lesson's step is train_gan's, number for number
    assert len(result["history"]["epoch"]["d_loss"]) == 1
    for name in ("losses.png", "samples.gif", "latent_grid.png", "samples/epoch_001.png"):
        assert (tmp_path / name).is_file(), name
    ema = run_lesson("04", tmp_path / "ema", "--ema", "0.99")  # section 6
    assert ema["history"]["epoch"]["d_loss"] == result["history"]["epoch"]["d_loss"]
    saved = minigen.load(tmp_path / "ema" / "checkpoint.npz")
    assert saved["config"]["averaged_generator"] and "generator_ema" in saved["models"]


@pytest.mark.lesson05
@pytest.mark.slow
def test_lesson05_dcgan(tmp_path: Path) -> None:
    result = run_lesson("05", tmp_path)
    assert [s[1:] for _, s in result["g_trace"]][-1] == (1, 28, 28)
    assert ("Unflatten", (2, 128, 7, 7)) in result["g_trace"]
    assert result["d_trace"][-1] == ("Linear", (2, 1))
    assert set(result["histories"]) == {"smoothing", "batchnorm", "dropout"}
    first = {k: v[0] for k, v in result["histories"]["smoothing"]["batch"].items()}
    assert result["one_step"] == first  # the lesson's step is train_gan's, number for number
    for name in ("d_loss_comparison.png", "smoothing/losses.png", "smoothing/latent_grid.png",
                 "batchnorm/samples.gif", "dropout/samples.gif"):
        assert (tmp_path / name).is_file(), name


@pytest.mark.lesson06
@pytest.mark.slow
def test_lesson06_vae(tmp_path: Path) -> None:
    result = run_lesson("06", tmp_path)
    assert result["parameters"] == 1_068_820
    checks = result["checks"]
    assert checks["bce_minigen"] == pytest.approx(checks["bce_by_hand"], rel=1e-5)
    assert checks["kl_minigen"] == pytest.approx(checks["kl_closed_form"], rel=1e-5)
    assert checks["kl_monte_carlo"] == pytest.approx(checks["kl_closed_form"], abs=0.02)
    assert abs(checks["kl_as_printed"] - checks["kl_closed_form"]) > 0.5
    first = {k: v[0] for k, v in result["history"]["batch"].items()}
    assert result["one_step"] == first  # the lesson's step is train_vae's, number for number
    for name in ("losses.png", "reconstructions.png", "latent_grid.png",
                 "latent_scatter.png", "samples.gif"):
        assert (tmp_path / name).is_file(), name


@pytest.mark.lesson07
@pytest.mark.slow
def test_lesson07_full_covariance(tmp_path: Path) -> None:
    result = run_lesson("07", tmp_path)
    density = result["density"]
    assert density["minigen"] == pytest.approx(density["numpy_slogdet"], rel=1e-10)
    assert abs(density["as_printed"] - density["numpy_slogdet"]) > 1e-3
    assert result["diagonal_gap"] < 1e-5
    assert set(result["test_loss"]) == {"diagonal", "full"}
    for name in ("test_loss_comparison.png", "posteriors_full.png", "posteriors_diagonal.png",
                 "full/samples.gif"):
        assert (tmp_path / name).is_file(), name


@pytest.mark.lesson08
@pytest.mark.slow
def test_lesson08_evaluation(tmp_path: Path) -> None:
    result = run_lesson("08", tmp_path)
    rows = {r["label"]: r for r in result["damaged"]}
    real = rows["real test digits"]
    assert real["fd"] == pytest.approx(real["fd_floor"])
    assert real["fd"] < rows["noise 0.1"]["fd"] < rows["noise 0.5"]["fd"]
    assert rows["blur 3x3"]["fd"] > real["fd"]
    assert sum(rows["only digits 0-4"]["histogram"]["fractions"][5:]) < 0.05
    assert rows["copies of training digits"]["fd"] < 2 * real["fd_floor"]  # the memoriser
    assert set(result["models"]) == {"gan", "dcgan", "vae"}
    assert list(result["iwae"]) == [1, 10, 100]
    assert set(result["judges"]) == {"shipped judge", "second judge"}
    for judged in result["judges"].values():  # every judge: real digits at its own floor
        by_label = {r["label"]: r for r in judged}
        assert by_label["real test digits"]["fd"] == pytest.approx(
            by_label["real test digits"]["fd_floor"])
        assert by_label["noise 0.5"]["fd"] > by_label["real test digits"]["fd"]
        assert {"gan", "dcgan", "vae"} <= set(by_label)
    for name in ("damaged_digits.png", "what_the_scores_see.png", "class_histograms.png",
                 "iwae_bound.png", "samples_side_by_side.png", "scores_gan/scores.md",
                 "scores_vae/scores_per_epoch.png"):
        assert (tmp_path / name).is_file(), name


@pytest.mark.lesson03
def test_lesson03b_gan_theory_1d(tmp_path: Path) -> None:
    result = run_lesson("03b", tmp_path)
    # the initial generator sits in the gap, where D rejects it: the saturating loss's
    # gradient vanishes there, the non-saturating one's does not
    norms = result["gradient_norms"]
    assert norms["saturating"] < 0.1 * norms["non-saturating"]
    for run in (result["cover"], result["collapse"]):
        assert run["jsd"][0] > 0.6  # the initial blob and the data barely overlap
        assert all(0.0 <= j <= 0.6932 for j in run["jsd"])  # JSD lies in [0, log 2]
        assert len(run["values"]) == run["eval_steps"][-1]
    for path in result["figures"].values():
        assert Path(path).is_file() and Path(path).stat().st_size > 10_000, path
