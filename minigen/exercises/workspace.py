"""A student's workspace: ``DIR/minigen``, a copy of the library's package whose exercise
regions are blank, and ``DIR/.minigen-workspace.json``, what ``start`` and ``check`` noted.

The student's code runs wherever ``import minigen`` finds ``DIR/minigen`` first:
``PYTHONPATH=DIR python lessons/01_autograd.py``. ``check`` does that itself, in a child
process, and verifies it. The copy leaves out ``minigen/exercises`` (this package and its
graded tests): grading always runs the library's tests, never a copy a student can edit.
"""

from __future__ import annotations

import datetime
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import minigen
from minigen.exercises import markers
from minigen.exercises.catalog import EXERCISES
from minigen.exercises.markers import Region

LIBRARY = Path(minigen.__file__).resolve().parent  # the package this code belongs to
META = ".minigen-workspace.json"


class WorkspaceError(Exception):
    """A workspace that cannot be written or read (the message says why and what to do)."""


def library_regions() -> list[Region]:
    return markers.scan(LIBRARY)


def by_exercise(regions: list[Region]) -> dict[int, list[Region]]:
    groups: dict[int, list[Region]] = {n: [] for n in EXERCISES}
    for region in regions:
        groups.setdefault(region.number, []).append(region)
    return groups


def read_meta(folder: Path) -> dict | None:
    path = Path(folder) / META
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError as error:
        raise WorkspaceError(f"{path} is damaged ({error}): delete it, or start again with "
                             "--force") from None


def write_meta(folder: Path, meta: dict) -> None:
    (Path(folder) / META).write_text(json.dumps(meta, indent=1) + "\n")


def now() -> str:
    return datetime.datetime.now().isoformat(timespec="seconds")


def write_workspace(folder: Path, *, force: bool = False, blank: set[int] | None = None,
                    bodies: dict[tuple[int, str], str] | None = None) -> Path:
    """Write ``folder/minigen``: the library's package, the regions of the exercises in
    ``blank`` (default: all) blank, and ``bodies[(number, region name)]`` put in place of
    those regions (the tests plant wrong and alternative solutions so). Returns the folder.

    Refuses to replace an existing workspace unless ``force``, and never replaces a
    ``minigen`` folder that ``start`` did not write (the library itself, say).
    """
    folder = Path(folder)
    target = folder / "minigen"
    blank = set(EXERCISES) if blank is None else set(blank)
    bodies = dict(bodies or {})
    if folder.exists() and not folder.is_dir():
        raise WorkspaceError(f"{folder} is a file, not a folder: choose another place")
    if target.exists() or target.is_symlink():
        meta = read_meta(folder)
        if meta is None or target.resolve() == LIBRARY:
            raise WorkspaceError(f"{target} exists and is not a workspace written by 'start' "
                                 f"(no {META} beside it): refusing to touch it, even with "
                                 "--force. Choose another folder")
        if not force:
            written = [n for n, state in status(folder).items() if state.written]
            raise WorkspaceError(
                f"{folder} is already a workspace (started {meta.get('started', '?')}; "
                f"exercises written: {', '.join(map(str, written)) or 'none'}). Starting "
                f"again would replace your code in {target}. Pass --force to start over "
                "(only that folder is replaced), or choose another folder")
        shutil.rmtree(target)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(LIBRARY, target, ignore=lambda d, names: (
        ignore(d, names) | ({"exercises"} if Path(d).resolve() == LIBRARY else set())))
    lessons = {n: e.lesson for n, e in EXERCISES.items()}
    used = set()

    def body_for(region: Region) -> str | None:
        key = (region.number, region.name)
        if key in bodies:
            used.add(key)
            return bodies[key]
        if region.number in blank:
            return markers.blank_line(region, lessons[region.number]).strip()
        return None

    for path in markers.python_files(target):
        text = path.read_text()
        if "# exercise " in text:
            path.write_text(markers.rewrite(text, path.relative_to(target).as_posix(),
                                            body_for))
    unknown = set(bodies) - used
    if unknown:
        raise WorkspaceError(f"no region named {sorted(unknown)} (regions are named by their "
                             "title's words before the first comma)")
    write_meta(folder, {"library": str(LIBRARY), "started": now(), "checks": {}})
    return folder


def package_of(folder: Path) -> Path:
    """``folder/minigen``, checked to be a workspace's."""
    folder = Path(folder)
    target = folder / "minigen"
    if not (target / "__init__.py").is_file():
        raise WorkspaceError(f"{folder} holds no workspace ({target}/__init__.py is missing): "
                             f"write one with: python -m minigen exercises start {folder}")
    if read_meta(folder) is None:
        raise WorkspaceError(f"{folder} was not written by 'start' ({META} is missing)")
    return target.resolve()


class State:
    """Where one exercise stands in a workspace (see :func:`status`)."""

    def __init__(self, regions: list[Region], expected: list[Region], last: dict | None):
        names = {r.name for r in regions}
        self.missing = [r.name for r in expected if r.name not in names]
        self.blank = sum(markers.is_blank(r) for r in regions)
        self.total = len(expected)
        self.written = self.blank < len(regions)
        self.fingerprint = markers.fingerprint(regions)
        same = last is not None and last.get("fingerprint") == self.fingerprint
        self.last = last if same else None

    def __str__(self) -> str:
        if self.missing:
            return f"markers missing for {', '.join(self.missing)}: restore them"
        if not self.written:
            return "blank"
        words = "written" if self.blank == 0 else \
            f"part written ({self.total - self.blank} of {self.total})"
        if self.last is not None:
            words += ", passing" if self.last["passed"] else ", failing"
            words += f" (checked {self.last['when'][11:16]})"
        return words


def status(folder: Path) -> dict[int, State]:
    """Each exercise's state in the workspace: blank (every region still raises), part written,
    or written; and, if ``check`` ran on exactly this code, whether it passed then."""
    package = package_of(folder)
    checks = (read_meta(folder) or {}).get("checks", {})
    mine, expected = by_exercise(markers.scan(package)), by_exercise(library_regions())
    return {n: State(mine.get(n, []), expected[n], checks.get(str(n))) for n in EXERCISES}


def record(folder: Path, number: int, passed: bool, summary: str) -> None:
    """Note a check's result beside the fingerprint of the code it checked."""
    meta = read_meta(folder) or {}
    regions = by_exercise(markers.scan(package_of(folder))).get(number, [])
    meta.setdefault("checks", {})[str(number)] = {
        "fingerprint": markers.fingerprint(regions), "passed": passed, "summary": summary,
        "when": now()}
    write_meta(folder, meta)


def changed_outside(folder: Path,
                    skip: Callable[[Path], bool] = lambda p: False) -> list[str]:
    """The workspace's .py files that differ from the library's outside the exercise regions
    (grading then runs code that is not the library's around yours)."""
    package, changed = package_of(folder), []
    for path in markers.python_files(LIBRARY):
        relative = path.relative_to(LIBRARY).as_posix()
        theirs = package / relative
        if skip(path):
            continue
        if not theirs.is_file():
            changed.append(f"minigen/{relative} (missing)")
            continue
        try:
            same = (markers.outside(theirs.read_text(), relative)
                    == markers.outside(path.read_text(), relative))
        except markers.MarkerError:
            same = False
        if not same:
            changed.append(f"minigen/{relative}")
    return changed
