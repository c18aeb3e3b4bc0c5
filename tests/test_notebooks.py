"""Every lesson as a notebook: ``lessons/NN_name.ipynb`` is its percent script's cells, saved
without outputs, and it runs in a Jupyter kernel.

The notebooks are generated: after editing a lesson, run ``python lessons/make_notebooks.py``.
The runs execute each notebook with nbclient in quick mode (``MINIGEN_QUICK=1``, which the
lessons' last cell reads), in a kernel on this interpreter. Select one lesson's script and
notebook with its marker (``pytest -m lesson04``), every notebook run with ``-m notebook``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import types
from pathlib import Path

import pytest

import minigen

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
SCRIPTS = sorted(LESSONS.glob("[0-9][0-9]*_*.py"))
SLOW = {"04", "05", "06", "07", "08"}  # the lessons that train (slow in test_lessons too)
KERNEL = "minigen-tests"
EXPECTED_DEVICE = "cuda" if minigen.cuda.is_available() else "cpu"
WRITES_NOTHING = {"00", "02"}  # lessons whose --out is unused


def _load_make_notebooks():
    spec = importlib.util.spec_from_file_location("make_notebooks", LESSONS / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make = _load_make_notebooks()
REGENERATE = f"regenerate the notebooks with: {make.COMMAND}"


def _params(slow_ones: bool) -> list:
    params = []
    for script in SCRIPTS:
        number = script.stem.split("_")[0]
        marks = [getattr(pytest.mark, f"lesson{number[:2]}")]
        if slow_ones and number in SLOW:
            marks.append(pytest.mark.slow)
        params.append(pytest.param(script, id=script.stem, marks=marks))
    return params


def _code_cells(script: Path) -> list[str]:
    """The sources of a script's code cells (`# %%` without a [markdown] tag)."""
    cells, current = [], None
    for line in script.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            if current is not None:
                cells.append("\n".join(current).strip())
            current = [] if line.strip() == "# %%" else None
        elif current is not None:
            current.append(line)
    if current is not None:
        cells.append("\n".join(current).strip())
    return cells


def test_every_lesson_has_its_notebook() -> None:
    scripts = {p.stem for p in SCRIPTS}
    notebooks = {p.stem for p in LESSONS.glob("*.ipynb")}
    assert scripts == notebooks, (f"scripts without a notebook: {sorted(scripts - notebooks)}, "
                                  f"notebooks without a script: {sorted(notebooks - scripts)}; "
                                  f"{REGENERATE} (and delete a renamed lesson's old notebook)")


@pytest.mark.parametrize("script", _params(slow_ones=False))
def test_notebook_is_its_script(script: Path) -> None:
    """The committed notebook is what make_notebooks.py writes: the script's cells, no outputs."""
    pytest.importorskip("jupytext", reason='jupytext is in the dev extra: pip install -e ".[dev]"')
    import nbformat

    path = make.notebook_path(script)
    name = path.relative_to(ROOT)
    saved = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    ran = [i for i, c in enumerate(saved.cells)
           if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not ran, f"{name} was saved with outputs (cells {ran}): {REGENERATE}"

    expected = make.notebook(script)
    for i, (got, want) in enumerate(zip(saved.cells, expected.cells)):
        first_line = want.source.splitlines()[0] if want.source else ""
        assert (got.cell_type, got.source) == (want.cell_type, want.source), (
            f"{name}, cell {i} ({want.cell_type}, {first_line!r}), differs from "
            f"{script.relative_to(ROOT)}: {REGENERATE}")
    assert len(saved.cells) == len(expected.cells), (
        f"{name} has {len(saved.cells)} cells, {script.relative_to(ROOT)} "
        f"{len(expected.cells)}: {REGENERATE}")
    assert path.read_text(encoding="utf-8") == make.notebook_text(script), (
        f"{name}: the cells agree, the metadata or ids do not: {REGENERATE}")


@pytest.mark.parametrize("script", _params(slow_ones=False))
def test_notebook_converts_back_to_its_script(script: Path) -> None:
    """jupytext --to py:percent on the notebook gives back the script, byte for byte."""
    jupytext = pytest.importorskip(
        "jupytext", reason='jupytext is in the dev extra: pip install -e ".[dev]"')
    back = jupytext.writes(jupytext.read(make.notebook_path(script)), fmt="py:percent")
    assert back == script.read_text(encoding="utf-8"), (
        f"jupytext --to py:percent {make.notebook_path(script).relative_to(ROOT)} does not give "
        f"back {script.relative_to(ROOT)}: {REGENERATE}")


def test_setup_and_last_cells_are_the_same_in_every_lesson() -> None:
    """One setup cell (install in Colab, DEVICE, quick mode), one last cell, copied verbatim."""
    first = {s.stem: _code_cells(s)[0] for s in SCRIPTS}
    last = {s.stem: _code_cells(s)[-1] for s in SCRIPTS}
    reference = SCRIPTS[0].stem
    for stem in first:
        assert first[stem] == first[reference], f"{stem}'s setup cell differs from {reference}'s"
        assert last[stem] == last[reference], f"{stem}'s last cell differs from {reference}'s"
    assert "main(notebook_args if IN_NOTEBOOK else None)" in last[reference]


def _run_setup_cell(monkeypatch: pytest.MonkeyPatch, *, colab: bool, installed: bool,
                    quick: str | None = None) -> tuple[dict, list]:
    calls = []

    def check_call(command: list[str]) -> int:
        calls.append(command)
        monkeypatch.setitem(sys.modules, "minigen", minigen)  # as if pip had installed it
        return 0

    monkeypatch.setattr(subprocess, "check_call", check_call)
    if colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    if not installed:  # find_spec returns None, and import raises, for a None entry
        monkeypatch.setitem(sys.modules, "minigen", None)
    if quick is None:
        monkeypatch.delenv("MINIGEN_QUICK", raising=False)
    else:
        monkeypatch.setenv("MINIGEN_QUICK", quick)
    namespace: dict = {"__name__": "setup_cell"}
    exec(compile(_code_cells(SCRIPTS[0])[0], "setup cell", "exec"), namespace)
    return namespace, calls


def test_setup_cell_installs_minigen_in_colab_only(monkeypatch: pytest.MonkeyPatch) -> None:
    namespace, calls = _run_setup_cell(monkeypatch, colab=True, installed=False)
    assert calls == [[sys.executable, "-m", "pip", "install", "-q",
                      namespace["MINIGEN_SOURCE"]]]
    assert namespace["minigen"] is minigen and namespace["DEVICE"] == EXPECTED_DEVICE
    assert not namespace["QUICK"]

    namespace, calls = _run_setup_cell(monkeypatch, colab=True, installed=True, quick="1")
    assert calls == [] and namespace["QUICK"]  # Colab with minigen already there: no install
    with pytest.raises(ImportError):  # outside Colab a missing minigen is the usual error
        _run_setup_cell(monkeypatch, colab=False, installed=False)


@pytest.fixture(scope="session")
def kernel_specs(tmp_path_factory: pytest.TempPathFactory):
    """A kernel spec that starts this interpreter (so the venv's minigen), whatever kernels the
    machine has registered."""
    kernelspec = pytest.importorskip(
        "ipykernel.kernelspec", reason='ipykernel is in the dev extra: pip install -e ".[dev]"')
    from jupyter_client.kernelspec import KernelSpecManager

    folder = tmp_path_factory.mktemp("kernels")
    kernelspec.write_kernel_spec(folder / KERNEL, overrides={"display_name": "minigen tests"})
    return KernelSpecManager(kernel_dirs=[str(folder)], ensure_native_kernel=False)


CHECK = """\
import sys, minigen
print(sys.executable, minigen.__file__, DEVICE, QUICK, IN_NOTEBOOK, type(result).__name__,
      sep="\\n")
"""


@pytest.mark.notebook
@pytest.mark.parametrize("script", _params(slow_ones=True))
def test_notebook_runs(script: Path, kernel_specs, tmp_path: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Execute the notebook top to bottom in quick mode; files go to a temporary folder."""
    nbclient = pytest.importorskip("nbclient", reason='in the dev extra: pip install -e ".[dev]"')
    import nbformat
    from jupyter_client.manager import KernelManager

    nb = nbformat.read(make.notebook_path(script), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(CHECK))  # what ran, and where
    monkeypatch.setenv("MINIGEN_QUICK", "1")
    km = KernelManager(kernel_name=KERNEL, kernel_spec_manager=kernel_specs)
    client = nbclient.NotebookClient(nb, km=km, timeout=600,  # seconds a cell
                                     resources={"metadata": {"path": str(tmp_path)}})  # its cwd
    client.execute()
    (check,) = [o for o in nb.cells[-1].outputs if o.output_type == "stream"]
    executable, package, device, quick, in_notebook, result = check.text.splitlines()
    assert Path(executable) == Path(sys.executable)
    assert Path(package).resolve() == Path(minigen.__file__).resolve()
    assert (device, quick, in_notebook, result) == (EXPECTED_DEVICE, "True", "True", "dict")
    if script.stem.split("_")[0] not in WRITES_NOTHING:  # --out's default, in the kernel's cwd
        assert (tmp_path / "runs").is_dir(), "the lesson wrote nothing in the notebook's folder"
