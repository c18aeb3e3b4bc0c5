"""The exercise markers in the library's source, found and rewritten.

A marked region is a run of lines inside a function body, between a pair of comments at the
same indentation::

    # exercise 2: Mul.backward, the product rule
    a, b = ctx.saved_arrays
    ...
    # end exercise 2

The lines between are the solution. In a student's workspace they become one line,
``raise NotImplementedError("exercise 2: Mul.backward, the product rule; see lessons/...")``,
at the marker's indentation, and the markers stay, so that the region can be found again (to
tell a blank from a written one, and to plant bodies in the tests). An exercise may have
several regions (Mul's and Div's backward); each is named by the words of its title before
the first comma (``Mul.backward``).
"""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

START = re.compile(r"^(?P<indent>[ ]*)# exercise (?P<number>\d+): (?P<title>\S.*?)\s*$")
END = re.compile(r"^(?P<indent>[ ]*)# end exercise (?P<number>\d+)\s*$")


class MarkerError(ValueError):
    """A marker without its pair, or a pair that does not fit (the message says where)."""


@dataclass(frozen=True)
class Region:
    """One marked region of one file: the lines strictly between its two markers."""

    number: int
    title: str
    path: str  # relative to the package's folder, e.g. "ops/arithmetic.py"
    start: int  # 0-based line index of the start marker
    end: int  # 0-based line index of the end marker
    indent: str
    body: str  # the lines between the markers, joined with newlines

    @property
    def name(self) -> str:
        """The title's words before the first comma: ``Mul.backward``."""
        return self.title.split(",")[0].strip()

    @property
    def where(self) -> str:
        return f"minigen/{self.path}:{self.start + 1}"


def scan_text(text: str, path: str) -> list[Region]:
    """The regions of one file's text, in order; MarkerError if the markers do not pair."""
    regions, open_ = [], None
    lines = text.split("\n")
    for i, line in enumerate(lines):
        start, end = START.match(line), END.match(line)
        if start:
            if open_ is not None:
                raise MarkerError(f"minigen/{path}:{i + 1}: '# exercise {start['number']}' "
                                  f"starts before exercise {open_[0]['number']} (line "
                                  f"{open_[1] + 1}) ends: add '# end exercise "
                                  f"{open_[0]['number']}' first")
            open_ = (start, i)
        elif end:
            if open_ is None or open_[0]["number"] != end["number"]:
                raise MarkerError(f"minigen/{path}:{i + 1}: '# end exercise {end['number']}' "
                                  "without its '# exercise N: title' line above it")
            first, j = open_
            if first["indent"] != end["indent"]:
                raise MarkerError(f"minigen/{path}:{i + 1}: '# end exercise {end['number']}' "
                                  f"is indented differently from its start (line {j + 1})")
            regions.append(Region(int(first["number"]), first["title"], path, j, i,
                                  first["indent"], "\n".join(lines[j + 1:i])))
            open_ = None
    if open_ is not None:
        raise MarkerError(f"minigen/{path}:{open_[1] + 1}: '# exercise {open_[0]['number']}' "
                          f"has no '# end exercise {open_[0]['number']}' below it")
    return regions


def python_files(package: Path) -> Iterable[Path]:
    """The package's .py files that may hold exercises (all but minigen/exercises itself)."""
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if relative.parts[0] != "exercises" and "__pycache__" not in relative.parts:
            yield path


def scan(package: Path) -> list[Region]:
    """Every region under ``package`` (a folder named minigen), by file then line."""
    regions = []
    for path in python_files(package):
        text = path.read_text()
        if "# exercise " in text:
            regions += scan_text(text, path.relative_to(package).as_posix())
    return regions


def blank_line(region: Region, lesson: str) -> str:
    """The one line a blank region holds."""
    message = f"exercise {region.number}: {region.title}; see {lesson}, Exercise {region.number}"
    return f"{region.indent}raise NotImplementedError({json.dumps(message)})"


def is_blank(region: Region) -> bool:
    """Whether the region holds only a ``raise NotImplementedError("exercise N: ...")``."""
    lines = [line.strip() for line in region.body.split("\n") if line.strip()]
    return (len(lines) == 1 and lines[0].startswith("raise NotImplementedError(")
            and f"exercise {region.number}:" in lines[0])


def indented(body: str, indent: str) -> str:
    """``body`` (any indentation) dedented, then indented to ``indent``; blank lines empty."""
    lines = textwrap.dedent(body.strip("\n")).split("\n")
    return "\n".join(indent + line if line.strip() else "" for line in lines)


def rewrite(text: str, path: str, body_for: Callable[[Region], str | None]) -> str:
    """``text`` with each region's body replaced by ``body_for(region)`` (re-indented to the
    marker's indentation), or kept where it returns None."""
    lines = text.split("\n")
    for region in reversed(scan_text(text, path)):
        body = body_for(region)
        if body is not None:
            lines[region.start + 1:region.end] = indented(body, region.indent).split("\n")
    return "\n".join(lines)


def fingerprint(regions: Iterable[Region]) -> str:
    """A short hash of the regions' bodies (their code, not their whitespace at line ends)."""
    digest = hashlib.sha256()
    for region in regions:
        body = "\n".join(line.rstrip() for line in region.body.strip("\n").split("\n"))
        digest.update(f"{region.path}\0{region.name}\0{body}\0".encode())
    return digest.hexdigest()[:16]


def outside(text: str, path: str) -> str:
    """``text`` with every region's body left out: what must match the library's file."""
    lines = text.split("\n")
    for region in reversed(scan_text(text, path)):
        del lines[region.start + 1:region.end]
    return "\n".join(lines)
