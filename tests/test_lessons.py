"""Smoke runs of every lesson in quick mode: each must import without side effects and run.

Select one lesson with its marker, e.g. ``pytest -m lesson03``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

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


@pytest.mark.lesson01
def test_lesson01_autograd(tmp_path: Path) -> None:
    result = run_lesson("01", tmp_path)
    assert result["auto"] == pytest.approx(result["hand"], rel=1e-5)
    assert (tmp_path / "graph.dot").read_text().startswith("digraph")


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
