"""Write every lesson's notebook, ``lessons/NN_name.ipynb``, from its percent script.

The scripts are the source: edit ``lessons/NN_name.py``, then run

    python lessons/make_notebooks.py

(needs jupytext: ``pip install -e ".[dev]"``). The notebooks are written without outputs, with
cell ids made from each cell's text (so a changed cell changes only its own id) and the
kernel "python3". ``tests/test_notebooks.py`` fails when a notebook differs from what this
would write. ``--check`` writes nothing and exits 1 naming the notebooks that differ.

A notebook edited in Jupyter goes back to its script with
``jupytext --to py:percent lessons/NN_name.ipynb`` (the notebook carries jupytext's metadata
for that, and no header is written); then run this script.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

LESSONS = Path(__file__).resolve().parent
COMMAND = "python lessons/make_notebooks.py"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def scripts() -> list[Path]:
    """The lessons: ``lessons/NN_name.py``, in order."""
    return sorted(LESSONS.glob("[0-9][0-9]*_*.py"))


def notebook_path(script: Path) -> Path:
    return script.with_suffix(".ipynb")


def notebook(script: Path):
    """The notebook of a percent script: its cells, no outputs, fixed ids and metadata."""
    import jupytext

    nb = jupytext.read(script, fmt="py:percent")
    seen: dict[str, int] = {}
    for cell in nb.cells:
        digest = hashlib.sha1(f"{cell.cell_type}\n{cell.source}".encode()).hexdigest()[:8]
        seen[digest] = seen.get(digest, 0) + 1
        cell.id = digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def notebook_text(script: Path) -> str:
    """The text of the ``.ipynb`` file written for ``script``."""
    import nbformat

    nb = notebook(script)
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a notebook is not what would be written")
    args = parser.parse_args(argv)
    stale = []
    for script in scripts():
        path, text = notebook_path(script), notebook_text(script)
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(LESSONS.parent)}")
    if args.check and stale:
        names = ", ".join(str(p.relative_to(LESSONS.parent)) for p in stale)
        print(f"out of date: {names}; run {COMMAND}", file=sys.stderr)
        return 1
    if not stale:
        print(f"{len(scripts())} notebooks up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
