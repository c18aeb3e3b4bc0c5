"""The child process of ``python -m minigen exercises check``: run the graded tests of some
exercises against the ``minigen`` that ``import minigen`` finds (the parent puts the workspace
first on PYTHONPATH), and write one JSON line per event to the results file:

    {"event": "import", "file": ...}                   minigen imported, from where
    {"event": "start", "exercise": N}                 (so that the parent can tell a hang)
    {"event": "result", "exercise": N, "kind": ...}   passed, blank, failed or error

Run by path, never as part of a package, so that nothing here comes from the workspace.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
if sys.path and Path(sys.path[0] or ".").resolve() == HERE:
    sys.path.pop(0)  # (this folder is not a place to import minigen from)


def emit(results: Path, **event: object) -> None:
    with results.open("a") as f:
        f.write(json.dumps(event) + "\n")


def where(error: BaseException, package: Path) -> str:
    """The innermost line of the failing call inside the package under test, if any."""
    frames = traceback.extract_tb(error.__traceback__)
    inside = [f for f in frames if Path(f.filename).resolve().is_relative_to(package)]
    frame = (inside or frames or [None])[-1]
    if frame is None:
        return ""
    path = Path(frame.filename).resolve()
    shown = path.relative_to(package.parent) if path.is_relative_to(package) else path.name
    return f"{shown}:{frame.lineno} in {frame.name}"


def classify(error: BaseException, package: Path) -> dict:
    """The result fields for a failed test, in the student's terms."""
    message = str(error)
    notes = [n for n in getattr(error, "__notes__", []) if "Falsifying" in n or "=" in n]
    detail = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    if isinstance(error, NotImplementedError) and message.startswith("exercise "):
        number = int(message.split(":")[0].split()[1])
        return {"kind": "blank", "raised_by": number, "summary": message,
                "where": where(error, package), "detail": detail}
    if isinstance(error, AssertionError):
        summary = message.strip().split("\n")[0] or "an assertion failed"
        return {"kind": "failed", "summary": summary, "notes": notes, "detail": detail,
                "where": where(error, package)}
    summary = f"{type(error).__name__}: {message.strip().splitlines()[0] if message else ''}"
    return {"kind": "error", "summary": summary, "where": where(error, package),
            "notes": notes, "detail": detail}


def grade(number: int, graded: Path, results: Path, package: Path) -> None:
    from exercise_grading import Skip, Unwritten

    (path,) = sorted(graded.glob(f"ex{number:02d}_*.py"))
    spec = importlib.util.spec_from_file_location(f"minigen_graded_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # (the graded module imports names the workspace lacks)
        emit(results, event="result", exercise=number, test=path.name, doc="",
             **classify(error, package))
        return
    tests = [(name, f) for name, f in vars(module).items()
             if name.startswith("test_") and callable(f)]
    skipped = []
    for name, test in tests:
        try:
            test()
        except Skip as why:
            skipped.append(f"{name}: {why}")
        except (Exception, Unwritten) as error:  # (KeyboardInterrupt, SystemExit stop it)
            error = error.error if isinstance(error, Unwritten) else error
            emit(results, event="result", exercise=number, test=name,
                 doc=(test.__doc__ or "").strip(), skipped=skipped,
                 **classify(error, package))
            return
    emit(results, event="result", exercise=number, kind="passed", tests=len(tests),
         skipped=skipped)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--package", type=Path, required=True, help="the minigen to grade")
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("exercises", type=int, nargs="+")
    args = parser.parse_args()
    sys.path.append(str(HERE))  # exercise_grading, after everything else
    package = args.package.resolve()
    try:
        import minigen
    except BaseException as error:  # a SyntaxError in the workspace's code, say
        emit(args.results, event="import", ok=False, **classify(error, package))
        return 1
    found = Path(minigen.__file__).resolve().parent
    emit(args.results, event="import", ok=found == package, file=str(found))
    if found != package:
        return 1
    import matplotlib

    matplotlib.use("Agg")
    for number in args.exercises:
        emit(args.results, event="start", exercise=number)
        grade(number, HERE, args.results, package)
    return 0


if __name__ == "__main__":
    sys.exit(main())
