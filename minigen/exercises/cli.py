"""``python -m minigen exercises list|start|check``: the command line of :mod:`minigen.exercises`.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import textwrap
from pathlib import Path

from minigen.exercises import workspace as ws
from minigen.exercises.catalog import EXERCISES
from minigen.exercises.check import check

WIDTH = 99


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m minigen exercises", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Practise: write the marked bodies of the library's core in a workspace of "
                    "your own, and check them with its property tests.",
        epilog="start:  python -m minigen exercises start ws\n"
               "check:  python -m minigen exercises check 2 --workspace ws\n"
               "run your code:  PYTHONPATH=ws python lessons/01_autograd.py")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="the exercises, their lessons, and where a "
                                               "workspace stands")
    listing.add_argument("--workspace", type=Path, metavar="DIR")
    start = commands.add_parser("start", help="write a workspace whose exercises are blank")
    start.add_argument("folder", type=Path, metavar="DIR")
    start.add_argument("--force", action="store_true",
                       help="replace DIR/minigen if DIR is a workspace already (your code in "
                            "it is lost)")
    grade = commands.add_parser("check", help="run the graded tests of exercises")
    grade.add_argument("exercises", nargs="*", default=["all"], metavar="N",
                       help="exercise numbers, or all (the default)")
    grade.add_argument("--workspace", type=Path, metavar="DIR",
                       help="the workspace to check (default: the library itself, whose "
                            "reference solutions all pass)")
    grade.add_argument("--verbose", "-v", action="store_true",
                       help="show each failure in full: the test, the example, the traceback")
    grade.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS",
                       help="stop an exercise running longer than this (default 300)")
    return parser


def _rel(path: Path) -> str:
    """A path as the student would type it from here."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # (another drive)
        return str(path)
    return str(Path(path).resolve()) if relative.startswith("..") else relative


def _list(folder: Path | None) -> int:
    states = ws.status(folder) if folder is not None else None
    regions = ws.by_exercise(ws.library_regions())
    print(f"{'':3} {'exercise':47} {'lesson':30} {'status' if states else ''}".rstrip())
    for n, exercise in EXERCISES.items():
        state = str(states[n]) if states else ""
        print(f"{n:3} {exercise.title:47} {exercise.lesson:30} {state}".rstrip())
        files = {}
        for region in regions[n]:
            files.setdefault(f"minigen/{region.path}", []).append(region.name)
        where = "; ".join(f"{path}: {', '.join(names)}" for path, names in files.items())
        uses = f" (uses {', '.join(map(str, exercise.uses))})" if exercise.uses else ""
        print(textwrap.fill(where + uses, WIDTH, initial_indent=" " * 4,
                            subsequent_indent=" " * 6))
    if states is None:
        print("\nstatus: start a workspace (python -m minigen exercises start DIR), then list "
              "--workspace DIR.\n'blank': still raises NotImplementedError; 'written': changed; "
              "'passing'/'failing': what check said of exactly this code.")
    else:
        _warn_changed(folder)
    return 0


def _warn_changed(folder: Path) -> None:
    changed = ws.changed_outside(folder)
    if changed:
        print(textwrap.fill(
            f"note: {len(changed)} file(s) differ from the library outside the exercises "
            f"({', '.join(changed[:3])}{'...' if len(changed) > 3 else ''}); check grades your "
            "exercises with that code around them", WIDTH), file=sys.stderr)


def _start(folder: Path, force: bool) -> int:
    ws.write_workspace(folder, force=force)
    where, first = _rel(folder), EXERCISES[1]
    print(textwrap.dedent(f"""\
        Wrote {where}/minigen: the library's package with its {len(EXERCISES)} exercises blank
        (each marked body raises NotImplementedError until you write it).

        Your code runs wherever `import minigen` finds {where}/minigen first:
            PYTHONPATH={shlex.quote(where)} python lessons/01_autograd.py

        Next:
          1. Read {first.lesson} up to "Exercise 1", then write the bodies between
             "# exercise 1: ..." and "# end exercise 1" in {where}/minigen/autograd.py
             (delete the raise line).
          2. python -m minigen exercises check 1 --workspace {shlex.quote(where)}
          3. python -m minigen exercises list --workspace {shlex.quote(where)}   (where you
             stand; every exercise, its lesson and its files)

        check grades each exercise on its own. A lesson run on your code needs every
        exercise it reaches (lesson 01: 1 to 5); until then it stops at the first blank
        body, whose error names the exercise."""))
    return 0


def _check(numbers: list[str], folder: Path | None, verbose: bool, timeout: float) -> int:
    if numbers in ([], ["all"]):
        chosen = list(EXERCISES)
    elif all(n.isdigit() for n in numbers):
        chosen = [int(n) for n in numbers]
    else:
        print(f"error: check takes exercise numbers or 'all', got {' '.join(numbers)}",
              file=sys.stderr)
        return 2
    what = "the library (its reference solutions)" if folder is None else \
        f"the workspace {_rel(folder)}"
    print(f"checking {what}: exercise{'s' if len(chosen) > 1 else ''} "
          f"{', '.join(map(str, chosen))}")
    results = check(chosen, folder, timeout)
    for r in results:
        word = {"passed": "passed", "blank": "blank"}.get(r.kind, "FAILED")
        print(f"{r.number:3} {EXERCISES[r.number].title:47} {word}")
        if r.summary:
            print(textwrap.fill(r.summary, WIDTH, initial_indent=" " * 4,
                                subsequent_indent=" " * 6))
        if verbose and (r.detail or r.skipped):
            body = r.detail + "".join(f"\nskipped: {s}" for s in r.skipped)
            print(textwrap.indent(body.strip(), " " * 6))
    passed = sum(r.passed for r in results)
    print(f"\n{passed} of {len(results)} passed.", end="")
    if passed < len(results) and not verbose:
        print(" Add --verbose for each failure's example and traceback.", end="")
    print()
    if folder is not None:
        _warn_changed(folder)
    return 0 if passed == len(results) else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _list(args.workspace)
        if args.command == "start":
            return _start(args.folder, args.force)
        return _check(args.exercises, args.workspace, args.verbose, args.timeout)
    except ws.WorkspaceError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
