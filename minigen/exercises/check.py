"""``check``: run the graded tests of some exercises against a workspace (or the library), in
a child process whose ``import minigen`` is that package (``graded/run_graded.py`` checks it),
and say in a student's words what failed first.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from minigen.exercises import workspace as ws
from minigen.exercises.catalog import EXERCISES

GRADED = Path(__file__).resolve().parent / "graded"
RUNNER = GRADED / "run_graded.py"


@dataclass
class Result:
    """One exercise's grade. ``kind``: passed, blank (its own code is not written), needs (it
    ran into another exercise's blank), failed (a check failed), error (its code raised),
    timeout, or broken (the package does not import)."""

    number: int
    kind: str
    summary: str = ""  # the first failure, in a student's words
    detail: str = ""  # the test, its falsifying example, the traceback
    skipped: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.kind == "passed"


def _summary(event: dict) -> tuple[str, str]:
    """(kind, summary) of a child's result event."""
    kind, number = event["kind"], event.get("exercise")
    if kind == "blank":
        other = event["raised_by"]
        if other == number:
            return "blank", f"not written yet ({event.get('where', '')})"
        title = EXERCISES[other].title if other in EXERCISES else "?"
        return "needs", (f"uses exercise {other} ({title}), which is not written yet: write "
                         "it first")
    if kind == "error":
        return "error", f"{event['summary']} (at {event.get('where', '?')})"
    return kind, event.get("summary", "")


def _detail(event: dict) -> str:
    parts = [f"{event.get('test', '')}: {event.get('doc', '')}".strip(": ")]
    parts += event.get("notes", [])
    if event.get("detail"):
        parts.append(event["detail"].rstrip())
    return "\n".join(p for p in parts if p)


def _events(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _run(package: Path, numbers: list[int], timeout: float, log: Path) -> list[dict]:
    """Run the child on ``numbers``; stop it if one exercise runs past ``timeout`` seconds.
    Returns its events, with a made-up timeout result for the exercise it was stuck in."""
    results = log.with_suffix(".jsonl")
    results.unlink(missing_ok=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(package.parent)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                                 if p]), MPLBACKEND="Agg")
    command = [sys.executable, str(RUNNER), "--package", str(package), "--results",
               str(results), *map(str, numbers)]
    with log.open("ab") as out:
        child = subprocess.Popen(command, cwd=log.parent, env=env, stdout=out, stderr=out)
        started, current = time.monotonic(), None
        while child.poll() is None:
            time.sleep(0.05)
            events = _events(results)
            starts = [e for e in events if e["event"] == "start"]
            if starts and starts[-1]["exercise"] != current:
                started, current = time.monotonic(), starts[-1]["exercise"]
            if time.monotonic() - started > timeout:
                child.kill()
                child.wait()
                stuck = [] if current is None else [
                    {"event": "result", "exercise": current, "kind": "timeout"}]
                return events + stuck
    return _events(results)


def check(numbers: Iterable[int], workspace: Path | None = None,
          timeout: float = 300.0) -> list[Result]:
    """Grade exercises ``numbers`` in ``workspace`` (None: the library itself, whose
    reference solutions all pass). A child process runs them; an exercise still running
    after ``timeout`` seconds is stopped and reported, and the others run on."""
    if importlib.util.find_spec("hypothesis") is None:
        raise ws.WorkspaceError("check needs hypothesis, which the graded tests are written "
                                "with: pip install -e \".[test]\"")
    package = ws.LIBRARY if workspace is None else ws.package_of(workspace)
    numbers = list(dict.fromkeys(numbers))
    unknown = [n for n in numbers if n not in EXERCISES]
    if unknown:
        raise ws.WorkspaceError(f"no exercise {unknown[0]}: they are numbered 1 to "
                                f"{max(EXERCISES)} (python -m minigen exercises list)")
    results: dict[int, Result] = {}
    with tempfile.TemporaryDirectory(prefix="minigen-check-") as tmp:
        log = Path(tmp) / "child.log"
        remaining = list(numbers)
        while remaining:
            events = _run(package, remaining, timeout, log)
            imported = next((e for e in events if e["event"] == "import"), None)
            if imported is None or not imported["ok"]:
                why = _import_failure(imported, package, log)
                for n in remaining:
                    results[n] = Result(n, "broken", why, log.read_text(errors="replace"))
                break
            for event in events:
                if event["event"] != "result":
                    continue
                n = event["exercise"]
                if event["kind"] == "timeout":
                    results[n] = Result(n, "timeout", f"no result after {timeout:.0f} s, "
                                        "stopped: an endless loop? (--timeout to wait longer)")
                    continue
                kind, summary = _summary(event)
                results[n] = Result(n, kind, summary, _detail(event), event.get("skipped", []))
            started = [e["exercise"] for e in events if e["event"] == "start"]
            for n in started[-1:] or remaining:  # the child stopped there without a result
                if n not in results:
                    results[n] = Result(n, "error", "the grading process stopped (did the "
                                        "code exit?)", log.read_text(errors="replace"))
            remaining = [n for n in remaining if n not in results]
        output = log.read_text(errors="replace") if log.exists() else ""
    if output.strip():
        for result in results.values():
            if not result.passed:
                result.detail += f"\n\nwhat the code under test printed:\n{output.rstrip()}"
    if workspace is not None:
        for n, result in results.items():
            ws.record(workspace, n, result.passed, result.summary)
    return [results[n] for n in numbers]


def _import_failure(event: dict | None, package: Path, log: Path) -> str:
    if event is None:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() \
            else []
        return f"the grading process did not start: {' '.join(tail) or 'no output'}"
    if "file" in event:
        return (f"import minigen found {event['file']}, not {package}: is a minigen "
                "installed some other way in front of PYTHONPATH?")
    return f"the package does not import: {event['summary']} (at {event.get('where', '?')})"
