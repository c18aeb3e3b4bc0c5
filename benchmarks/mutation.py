"""Mutation testing of the core's backward methods, the losses and the optimizers (mutmut).

    pip install -e ".[mutation]"            # mutmut 3 (a development tool: CI does not run it)
    python benchmarks/mutation.py [--max-children 2] [--name mutation] [--keep] [--only PATTERN]

mutmut (configured under ``[tool.mutmut]`` in pyproject.toml) copies the package to
``mutants/``, writes every mutant of the files it names (an operator swapped, a number changed,
an argument dropped, a string altered...) and, for each mutant, runs the tests that reach the
mutated function, from the subset in ``pytest_add_cli_args_test_selection``. A mutant that makes
one of them fail is killed; one that passes them all survived: either the tests miss a
behaviour, or the mutant is equivalent (no test could tell it from the original).

mutmut mutates whole files; this script runs only the mutants of the functions in
:data:`TARGETS`:

* ``backward``: the ``backward`` method of every op in minigen/ops (arithmetic, elementwise,
  activations, reductions, shape, linalg, conv, normalization) and linalg's backward-only
  helper ``_as_operand``;
* ``losses``: every function of minigen/ops/losses.py (the fused losses' forward and backward,
  their reductions, their argument checks) and of minigen/models/losses.py (the GAN and VAE
  losses);
* ``optimizers``: ``Adam.__init__`` and ``Adam._update``, ``SGD.__init__`` and
  ``SGD._update``, and ``Optimizer.zero_grad``. (``Optimizer.step`` is decorated with
  ``@no_grad()``, and mutmut does not mutate functions with decorators other than
  ``@staticmethod`` and ``@classmethod``: its mutants do not exist. Its loop is short, and
  every optimizer test runs it.)

It then writes ``benchmarks/results/<name>.md`` and ``.json``: the score (killed / all, per
file, per group and per function), the survivors, each either matched to an entry of
:data:`EQUIVALENT` (with why no test can kill it) or to "message text" (the mutation changes
only the message of a raised error), or left unexplained, and, when
``benchmarks/results/mutation_baseline.json`` (the run before ``tests/test_mutants.py``
existed, ``--name mutation_baseline``) is there, which test of tests/test_mutants.py kills
each of its survivors (each such mutant rerun against that file alone).

``--only PATTERN`` (repeatable) runs and reports only the target mutants whose mutmut name
matches one of the patterns (fnmatch, ``*`` crossing dots), e.g.
``--only 'minigen.ops.elementwise.*'`` or ``--only '*ǁMulǁbackward__*'``: a quick check of
this script, or of a few functions after a change. The pattern goes to mutmut as it is, so keep
it within the targets (a broader one makes mutmut run mutants this report then leaves out).

``--keep`` reuses ``mutants/`` (mutmut's copy, its test-to-function map, its durations)
instead of starting afresh; the target mutants are rerun either way.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import datetime as dt
import difflib
import fnmatch
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: mutmut depends on toml there
    import toml as tomllib

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
MUTANTS = ROOT / "mutants"
NEW_TESTS = "tests/test_mutants.py"

_BACKWARD_FILES = ("arithmetic", "elementwise", "activations", "reductions", "shape", "linalg",
                   "conv", "normalization")
# group -> mutmut name patterns (fnmatch, over names like minigen.ops.arithmetic.xǁMulǁbackward
# __mutmut_3: "xǁClassǁmethod" for a method, "x_function" for a function)
TARGETS: dict[str, list[str]] = {
    "backward": [f"minigen.ops.{m}.xǁ*ǁbackward__mutmut_*" for m in _BACKWARD_FILES]
    + ["minigen.ops.linalg.x__as_operand__mutmut_*"],
    "losses": ["minigen.ops.losses.x*__mutmut_*", "minigen.models.losses.x*__mutmut_*"],
    "optimizers": ["minigen.optim.adam.xǁAdamǁ*__mutmut_*", "minigen.optim.sgd.xǁSGDǁ*__mutmut_*",
                   "minigen.optim.optimizer.xǁOptimizerǁzero_grad__mutmut_*"],
}


def tests_environment(**extra: str) -> dict[str, str]:
    """The tests' environment: hypothesis's ``mutation`` profile (tests/profiles.py: dev's
    derandomized examples, without shrinking: a failing example kills the mutant as it is,
    where shrinking it made a killed mutant cost 5-10 s instead of a fraction of one), and
    no ``CI`` (which would load the ``ci`` profile instead)."""
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    return {**env, "HYPOTHESIS_PROFILE": "mutation", **extra}


# mutmut's exit codes (mutmut/stats.py): 1 and 3 are kills, 0 a survivor
STATUS = {0: "survived", 1: "killed", 3: "killed", 33: "no tests", 34: "skipped",
          36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout",
          37: "caught by type check", -11: "segfault", -9: "segfault", None: "not checked"}


@dataclass(frozen=True)
class Equivalent:
    """A survivor no test can kill: its function (as the report prints it: ``Mul.backward``,
    ``reduce_loss``), the line mutmut changed and what it became (stripped, several lines
    joined by " / "), and why the two behave alike. Matched by content, not by mutmut's
    number, which changes whenever the function does."""

    function: str
    before: str
    after: str
    reason: str


# Why each kind of equivalent mutant cannot be killed (one line each; the entries below).
# The engine (autograd.backward) drops the gradient of an input that needs none: needs_input_grad
# only saves work.
UNNEEDED = ("computes a gradient the engine drops (an input that needs none): "
            "needs_input_grad only saves work")
RETURNED_UNNEEDED = ("returns a gradient (or its unset placeholder) for an input that needs "
                     "none: the engine drops it")
BN_EXTRA = ("also computes the bias and weight sums in training when x needs no gradient: "
            "they feed only x's gradient, or are returned only when needed (extra work)")
PLACEHOLDER = ("the starting value of gradients left unset only for inputs that need none, "
               "which the engine drops: None and '' alike")
LEAKY_BRANCH = ("sends slopes 0, 1 or [0, 1) to the general form [x > 0] + (1 - [x > 0]) slope,"
                " which for a slope in [0, 1] is exactly max([x > 0], slope): 1 or the slope")
POW_AT_ZERO = ("replaces a by 2 instead of 1 where a**b is 0: out * log(...) is 0 there "
               "either way")
NEGATIVE_SIZE = ("NumPy, array-api-strict and CuPy read any negative size in reshape as the "
                 "one inferred dimension")
INDEX_DTYPE = ("arange's default integer dtype is argmax's (int64), and positions == index "
               "gives the same mask for any integer dtype")
INTERNAL_NONE = ("the reduction of an internal call: reduce_loss and per_element_grad treat "
                 "every value but 'mean' and 'sum' as 'none'")
SHAPES_CHECKED = ("operands() has already checked, naming op, that these shapes broadcast: "
                  "this call only computes the shape and cannot raise")
LAST_AXIS = "the VAE's eps and z are (N, latent): axis 1 is the last axis"
DEFAULT_SUM = "gaussian_kl's default reduction is 'sum'"

EQUIVALENT: list[Equivalent] = [
    Equivalent('Div.backward',
               'grad_a = grad_out / b if ctx.needs_input_grad[0] else None',
               'grad_a = grad_out / b if (ctx.needs_input_grad[0]) or True else None',
               UNNEEDED),
    Equivalent('Div.backward',
               'grad_b = -grad_out * a / (b * b) if ctx.needs_input_grad[1] else None',
               'grad_b = -grad_out * a / (b * b) if (ctx.needs_input_grad[1]) or True else None',
               UNNEEDED),
    Equivalent('Mul.backward',
               'grad_a = grad_out * b if ctx.needs_input_grad[0] else None',
               'grad_a = grad_out * b if (ctx.needs_input_grad[0]) or True else None',
               UNNEEDED),
    Equivalent('Mul.backward',
               'grad_b = grad_out * a if ctx.needs_input_grad[1] else None',
               'grad_b = grad_out * a if (ctx.needs_input_grad[1]) or True else None',
               UNNEEDED),
    Equivalent('BinaryCrossEntropyWithLogits.backward',
               'grad_x = g * (stable_sigmoid(logits, e) - target) if need_x else None',
               'grad_x = g * (stable_sigmoid(logits, e) - target) if (need_x) or True else None',
               UNNEEDED),
    Equivalent('BinaryCrossEntropyWithLogits.backward',
               'grad_y = loss_shaped(ctx, g * -logits) if need_y else None',
               'grad_y = loss_shaped(ctx, g * -logits) if (need_y) or True else None',
               UNNEEDED),
    Equivalent('BatchNorm.backward',
               'return grad_x, grad_w if need_w else None, grad_b if need_b else None',
               'return grad_x, grad_w if (need_w) or True else None, grad_b if need_b else None',
               RETURNED_UNNEEDED),
    Equivalent('BatchNorm.backward',
               'return grad_x, grad_w if need_w else None, grad_b if need_b else None',
               'return grad_x, grad_w if need_w else None, grad_b if (need_b) or True else None',
               RETURNED_UNNEEDED),
    Equivalent('BatchNorm.backward',
               'if need_b or (need_x and ctx.training):',
               'if need_b or (need_x or ctx.training):',
               BN_EXTRA),
    Equivalent('BatchNorm.backward',
               'if need_w or (need_x and ctx.training):',
               'if need_w or (need_x or ctx.training):',
               BN_EXTRA),
    Equivalent('Pow.backward',
               'grad_a = grad_b = None',
               'grad_a = grad_b = ""',
               PLACEHOLDER),
    Equivalent('MatMul.backward',
               'grad_a = grad_b = None',
               'grad_a = grad_b = ""',
               PLACEHOLDER),
    Equivalent('Conv2d.backward',
               'grad_x = grad_w = grad_b = None',
               'grad_x = grad_w = grad_b = ""',
               PLACEHOLDER),
    Equivalent('ConvTranspose2d.backward',
               'grad_x = grad_w = grad_b = None',
               'grad_x = grad_w = grad_b = ""',
               PLACEHOLDER),
    Equivalent('Linear.backward',
               'grad_x = grad_w = grad_b = None',
               'grad_x = grad_w = grad_b = ""',
               PLACEHOLDER),
    Equivalent('GaussianKL.backward',
               'grad_mu = grad_logvar = None',
               'grad_mu = grad_logvar = ""',
               PLACEHOLDER),
    Equivalent('BinaryCrossEntropyWithLogits.backward',
               'grad_x = grad_y = grad_pw = None',
               'grad_x = grad_y = grad_pw = ""',
               PLACEHOLDER),
    Equivalent('BatchNorm.backward',
               'grad_x = grad_w = grad_b = None',
               'grad_x = grad_w = grad_b = ""',
               PLACEHOLDER),
    Equivalent('LeakyReLU.backward',
               'if 0.0 <= ctx.slope <= 1.0:',
               'if 1.0 <= ctx.slope <= 1.0:',
               LEAKY_BRANCH),
    Equivalent('LeakyReLU.backward',
               'if 0.0 <= ctx.slope <= 1.0:',
               'if 0.0 < ctx.slope <= 1.0:',
               LEAKY_BRANCH),
    Equivalent('LeakyReLU.backward',
               'if 0.0 <= ctx.slope <= 1.0:',
               'if 0.0 <= ctx.slope < 1.0:',
               LEAKY_BRANCH),
    Equivalent('Pow.backward',
               'grad_b = grad_out * out * xp.log(xp.where(out == 0, 1.0, a))',
               'grad_b = grad_out * out * xp.log(xp.where(out == 0, 2.0, a))',
               POW_AT_ZERO),
    Equivalent('Conv2d.backward',
               'w2 = xp.reshape(weight, (weight.shape[0], -1))',
               'w2 = xp.reshape(weight, (weight.shape[0], -2))',
               NEGATIVE_SIZE),
    Equivalent('ConvTranspose2d.backward',
               'w2 = xp.reshape(weight, (weight.shape[0], -1))',
               'w2 = xp.reshape(weight, (weight.shape[0], -2))',
               NEGATIVE_SIZE),
    Equivalent('MaxAlongDim.backward',
               'positions = xp.reshape(xp.arange(n, dtype=index.dtype, device=index.device), '
               'along)',
               'positions = xp.reshape(xp.arange(n, dtype=None, device=index.device), along)',
               INDEX_DTYPE),
    Equivalent('MaxAlongDim.backward',
               'positions = xp.reshape(xp.arange(n, dtype=index.dtype, device=index.device), '
               'along)',
               'positions = xp.reshape(xp.arange(n, device=index.device), along)',
               INDEX_DTYPE),
    Equivalent('binary_cross_entropy_with_logits',
               'loss = BinaryCrossEntropyWithLogits.apply(input, target, pos_weight, "none")',
               'loss = BinaryCrossEntropyWithLogits.apply(input, target, pos_weight, None)',
               INTERNAL_NONE),
    Equivalent('binary_cross_entropy_with_logits',
               'loss = BinaryCrossEntropyWithLogits.apply(input, target, pos_weight, "none")',
               'loss = BinaryCrossEntropyWithLogits.apply(input, target, pos_weight, "XXnoneXX")',
               INTERNAL_NONE),
    Equivalent('binary_cross_entropy_with_logits',
               'loss = BinaryCrossEntropyWithLogits.apply(input, target, pos_weight, "none")',
               'loss = BinaryCrossEntropyWithLogits.apply(input, target, pos_weight, "NONE")',
               INTERNAL_NONE),
    Equivalent('loss_arguments',
               'shape = broadcast_shapes(input.shape, target_shape, op=op)',
               'shape = broadcast_shapes(input.shape, target_shape, op=None)',
               SHAPES_CHECKED),
    Equivalent('loss_arguments',
               'shape = broadcast_shapes(input.shape, target_shape, op=op)',
               'shape = broadcast_shapes(input.shape, target_shape, )',
               SHAPES_CHECKED),
    Equivalent('gaussian_kl',
               'shape = broadcast_shapes(mu.shape, logvar.shape, op=op)',
               'shape = broadcast_shapes(mu.shape, logvar.shape, op=None)',
               SHAPES_CHECKED),
    Equivalent('gaussian_kl',
               'shape = broadcast_shapes(mu.shape, logvar.shape, op=op)',
               'shape = broadcast_shapes(mu.shape, logvar.shape, )',
               SHAPES_CHECKED),
    Equivalent('loss_weight',
               'if broadcast_shapes(input.shape, shape, op=op) != input.shape:',
               'if broadcast_shapes(input.shape, shape, op=None) != input.shape:',
               SHAPES_CHECKED),
    Equivalent('loss_weight',
               'if broadcast_shapes(input.shape, shape, op=op) != input.shape:',
               'if broadcast_shapes(input.shape, shape, ) != input.shape:',
               SHAPES_CHECKED),
    Equivalent('full_covariance_terms',
               'log_qz = -(out.eps * out.eps * 0.5 + half_log_2pi + log_sigma).sum(dim=-1)',
               'log_qz = -(out.eps * out.eps * 0.5 + half_log_2pi + log_sigma).sum(dim=+1)',
               LAST_AXIS),
    Equivalent('full_covariance_terms',
               'log_pz = -(out.z * out.z * 0.5 + half_log_2pi).sum(dim=-1)',
               'log_pz = -(out.z * out.z * 0.5 + half_log_2pi).sum(dim=+1)',
               LAST_AXIS),
    Equivalent('vae_loss',
               'kl = F.gaussian_kl(out.mu, out.logvar, reduction="sum") / n',
               'kl = F.gaussian_kl(out.mu, out.logvar, ) / n',
               DEFAULT_SUM),
]


# ------------------------------------------------------------------ reading mutmut's results
def display_name(mangled: str) -> str:
    """``xǁMulǁbackward`` -> ``Mul.backward``, ``x_reduce_loss`` -> ``reduce_loss``."""
    if mangled.startswith("xǁ"):
        return ".".join(mangled[2:].split("ǁ"))
    return mangled[2:]


def split_name(name: str) -> tuple[str, str, int]:
    """``minigen.ops.arithmetic.xǁMulǁbackward__mutmut_3`` -> (module, mangled function, 3)."""
    qualified, number = name.rsplit("__mutmut_", 1)
    module, mangled = qualified.rsplit(".", 1)
    return module, mangled, int(number)


def group_of(name: str) -> str | None:
    for group, patterns in TARGETS.items():
        if any(fnmatch.fnmatchcase(name, p) for p in patterns):
            return group
    return None


def load_results(only: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Every target mutant's status and duration, from mutants/**/*.py.meta (with ``only``:
    those whose name matches one of its patterns)."""
    results = {}
    for meta in sorted(MUTANTS.glob("minigen/**/*.py.meta")):
        data = json.loads(meta.read_text())
        for name, code in data["exit_code_by_key"].items():
            group = group_of(name)
            if group is None or (only and not any(fnmatch.fnmatchcase(name, p)
                                                    for p in only)):
                continue
            module, mangled, number = split_name(name)
            results[name] = {
                "name": name, "group": group, "file": str(meta.relative_to(MUTANTS))[:-5],
                "function": display_name(mangled), "number": number, "exit_code": code,
                "status": STATUS.get(code, "suspicious"),
                "duration_s": data.get("durations_by_key", {}).get(name)}
    return results


class MutantSource:
    """The functions of one mutated file (mutants/minigen/...py): the original of each
    function (``..._mutmut_orig``) and every mutant, as source text and as AST."""

    def __init__(self, path: Path):
        self.text = path.read_text()
        self.lines = self.text.splitlines()  # (once: ast.get_source_segment splits per call)
        self.functions: dict[str, ast.FunctionDef] = {}
        for node in ast.walk(ast.parse(self.text)):
            if isinstance(node, ast.FunctionDef) and "__mutmut_" in node.name:
                self.functions[node.name] = node

    def source(self, name: str) -> list[str]:
        """The body (and the rest of the signature, if it spans lines)."""
        node = self.functions[name]
        return self.lines[node.lineno:node.end_lineno]

    def signature(self, name: str) -> str:
        node = self.functions[name]
        return self.lines[node.lineno - 1][node.col_offset:]

    def diff(self, mangled: str, number: int) -> tuple[str, str]:
        """The lines the mutant changed, before and after (stripped, without their comments,
        joined by " / ")."""
        orig, mutant = f"{mangled}__mutmut_orig", f"{mangled}__mutmut_{number}"
        plain = display_name(mangled).rsplit(".", 1)[-1]  # def __init__(..., not xǁAdamǁ...
        a = [self.signature(orig).replace(orig, plain)] + self.source(orig)
        b = [self.signature(mutant).replace(mutant, plain)] + self.source(mutant)
        before, after = [], []
        for line in difflib.unified_diff(a, b, n=0, lineterm=""):
            if line.startswith(("---", "+++", "@@")):
                continue
            (before if line.startswith("-") else after).append(_code(line[1:]))
        return " / ".join(before), " / ".join(after)

    def is_message_text(self, mangled: str, number: int) -> bool:
        """Whether the mutation lies inside the message of a ``raise X(...)`` (the error and
        the condition that raises it unchanged)."""
        orig = self.functions[f"{mangled}__mutmut_orig"]
        mutant = self.functions[f"{mangled}__mutmut_{number}"]
        found = _first_difference(orig.args, mutant.args, ()) or _first_difference(
            orig.body, mutant.body, ())
        if found is None:
            return False
        parents = found[2]
        for i, node in enumerate(parents):
            if isinstance(node, ast.Raise):
                call = parents[i + 1] if i + 1 < len(parents) else None
                # inside the exception's arguments, not its class
                return (isinstance(call, ast.Call) and len(parents) > i + 2
                        and parents[i + 2] is not call.func)
        return False


def _source(sources: dict[str, MutantSource], file: str) -> MutantSource:
    """The parsed mutated file, parsed once (a mutated file holds every mutant: up to 0.5 MB)."""
    if file not in sources:
        sources[file] = MutantSource(MUTANTS / file)
    return sources[file]


def _code(line: str) -> str:
    """A line of source without its comment, stripped: an EQUIVALENT entry then still
    matches after a comment on its line changes."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(line.strip()).readline):
            if token.type == tokenize.COMMENT:
                return line.strip()[:token.start[1]].rstrip()
    except (tokenize.TokenError, SyntaxError):  # a line inside brackets: no comment seen
        pass
    return line.strip()


def _first_difference(a: Any, b: Any, parents: tuple) -> tuple[Any, Any, tuple] | None:
    """The first place two ASTs differ, with the chain of nodes (and lists) above it."""
    if type(a) is not type(b):
        return a, b, parents
    if isinstance(a, ast.AST):
        for field in a._fields:
            if field in ("ctx", "type_comment"):
                continue
            found = _first_difference(getattr(a, field, None), getattr(b, field, None),
                                      parents + (a,))
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return a, b, parents
        for x, y in zip(a, b):
            found = _first_difference(x, y, parents + (a,))
            if found:
                return found
        return None
    return None if a == b else (a, b, parents)


def explain_survivors(results: dict[str, dict[str, Any]]) -> list[str]:
    """Add each survivor's diff and disposition; return the EQUIVALENT entries never used."""
    sources: dict[str, MutantSource] = {}
    used = set()
    for r in results.values():
        if r["status"] != "survived":
            continue
        source = _source(sources, r["file"])
        _, mangled, number = split_name(r["name"])
        r["before"], r["after"] = source.diff(mangled, number)
        match = [e for e in EQUIVALENT if (e.function, e.before, e.after)
                 == (r["function"], r["before"], r["after"])]
        if match:
            r["disposition"], r["reason"] = "equivalent", match[0].reason
            used.add(match[0])
        elif source.is_message_text(mangled, number):
            r["disposition"] = "message text"
            r["reason"] = "only the text of a raised error's message changes"
        else:
            r["disposition"], r["reason"] = "unexplained", ""
    return [f"{e.function}: {e.before} -> {e.after}" for e in EQUIVALENT if e not in used]


# ------------------------------------------------------------------ which new test kills what
def attribute(results: dict[str, dict[str, Any]], baseline_path: Path,
              workers: int = 1) -> list[dict[str, Any]]:
    """For each survivor of the baseline run (the one before tests/test_mutants.py), found in
    this run by its function and diff: its status now and the tests of tests/test_mutants.py
    that fail under it (that file run alone, in mutants/, with the mutant switched on)."""
    baseline = json.loads(baseline_path.read_text())
    by_content = {(r["function"], r.get("before"), r.get("after")): r
                  for r in results.values()}
    sources: dict[str, MutantSource] = {}
    rows = []
    for old in baseline["mutants"]:
        if old["status"] != "survived":
            continue
        key = (old["function"], old["before"], old["after"])
        now = by_content.get(key)
        if now is None:  # a killed mutant has no diff yet: find it among its function's
            for r in results.values():
                if r["function"] == old["function"] and r["file"] == old["file"]:
                    source = _source(sources, r["file"])
                    _, mangled, number = split_name(r["name"])
                    if source.diff(mangled, number) == (old["before"], old["after"]):
                        now = r
                        break
        row = {"function": old["function"], "before": old["before"], "after": old["after"],
               "baseline_name": old["name"], "name": now["name"] if now else None,
               "status": now["status"] if now else "gone", "killed_by": []}
        rows.append(row)
    killed = [row for row in rows if row["status"] == "killed"]
    if killed and Path(ROOT / NEW_TESTS).exists():  # one pytest per mutant, `workers` at once
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            for row, failed in zip(killed, pool.map(failing_new_tests,
                                                    [row["name"] for row in killed])):
                row["killed_by"] = failed
    return rows


def failing_new_tests(mutant: str) -> list[str]:
    env = tests_environment(MUTANT_UNDER_TEST=mutant, PYTHONDONTWRITEBYTECODE="1")
    try:
        out = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir=.",
             "-rf", "--tb=no", NEW_TESTS], cwd=MUTANTS, env=env, capture_output=True,
            text=True, timeout=300).stdout
    except subprocess.TimeoutExpired:
        return ["(timeout)"]
    return sorted({m.group(1) for m in re.finditer(r"^FAILED \S+::(\w+)", out, re.M)})


# ------------------------------------------------------------------ the run
def mutmut_command() -> list[str]:
    exe = Path(sys.executable).parent / "mutmut"  # the console script: mutmut warns that
    if not exe.exists():  # python -m mutmut re-imports itself
        found = shutil.which("mutmut")
        if found is None:
            raise SystemExit("mutmut is not installed: pip install -e '.[mutation]'")
        exe = Path(found)
    return [str(exe)]


def mutmut_version() -> str:
    from importlib.metadata import version

    return version("mutmut")


def run_mutmut(max_children: int, keep: bool, only: list[str] | None = None) -> float:
    if not keep and MUTANTS.exists():
        shutil.rmtree(MUTANTS)
    patterns = only or [p for group in TARGETS.values() for p in group]
    command = mutmut_command() + ["run", "--max-children", str(max_children), *patterns]
    env = tests_environment(PATH=f"{Path(sys.executable).parent}{os.pathsep}"
                        f"{os.environ.get('PATH', '')}")
    start = time.perf_counter()
    log = RESULTS / "mutation.log.tmp"  # (benchmarks/results/*.tmp is ignored by git)
    with open(log, "w") as out:
        code = subprocess.run(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
                              ).returncode
    elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"mutmut run failed (exit {code}); its output: {log}")
    return elapsed


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    statuses = [r["status"] for r in rows]
    killed = sum(s in ("killed", "timeout") for s in statuses)
    survivors = [r for r in rows if r["status"] == "survived"]
    equivalent = sum(r.get("disposition") in ("equivalent", "message text") for r in survivors)
    return {"total": len(rows), "killed": statuses.count("killed"),
            "timeout": statuses.count("timeout"), "survived": len(survivors),
            "other": len(rows) - killed - len(survivors),
            "equivalent": equivalent,
            "unexplained": sum(r.get("disposition") == "unexplained" for r in survivors),
            "score": killed / len(rows) if rows else 0.0,
            "score_without_equivalent": (killed / (len(rows) - equivalent)
                                         if len(rows) > equivalent else 0.0)}


def test_selection() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    return config["pytest_add_cli_args_test_selection"]


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# ------------------------------------------------------------------ the report
def _pct(s: dict[str, Any]) -> str:
    return f"{100 * s['score']:.1f} %"


def _row(label: str, s: dict[str, Any]) -> str:
    return (f"| {label} | {s['total']} | {s['killed']} | {s['timeout']} | {s['survived']} | "
            f"{s['equivalent']} | {s['unexplained']} | {s['other']} | {_pct(s)} | "
            f"{100 * s['score_without_equivalent']:.1f} % |")


HEADER = ("| | mutants | killed | timeout | survived | of which equivalent | unexplained | "
          "other | score | score without equivalents |\n|---|---:|---:|---:|---:|---:|---:|"
          "---:|---:|---:|")


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


def write_report(report: dict[str, Any], name: str) -> None:
    rows = report["mutants"]
    lines = [
        f"# Mutation testing: {name}", "",
        f"mutmut {report['mutmut']}, run on {report['date']} ({report['machine']}, "
        f"{report['max_children']} workers), {report['minutes']:.1f} minutes"
        + (f" (then {report['attribution_minutes']:.1f} to attribute the baseline's survivors)"
           if report.get("new_tests") else "") + ".", "",
        f"    {report['command']}", "",
        "Targets (mutmut name patterns, benchmarks/mutation.py's TARGETS): "
        + "; ".join(f"**{g}**: " + ", ".join(f"`{p}`" for p in ps)
                    for g, ps in report["targets"].items()) + ".", "",
        "Not mutated: `Optimizer.step`, decorated with `@no_grad()` (mutmut mutates no "
        "function with a decorator other than `@staticmethod` or `@classmethod`; every "
        "optimizer test runs it).", "",
        "Tests (pyproject.toml's `[tool.mutmut]`; for each mutant, those of them that reach "
        "its function): " + ", ".join(f"`{t}`" for t in report["tests"]) + ". Hypothesis "
        "profile `mutation` (tests/profiles.py): the everyday profile's derandomized examples, "
        "without shrinking.", "",
        "Score: killed (timeouts included) / all target mutants. Survivors are either "
        "equivalent (listed below with why), a change to an error's message text, or "
        "unexplained (a test is missing).", "",
        "## Score", "", HEADER, _row("**all**", report["summary"]),
    ]
    lines += [_row(g, s) for g, s in report["by_group"].items()]
    lines += ["", "### By file", "", HEADER]
    lines += [_row(f"`{f}`", s) for f, s in report["by_file"].items()]
    lines += ["", "### By function", "", HEADER]
    lines += [_row(f"`{f}`", s) for f, s in report["by_function"].items()]
    survivors = [r for r in rows if r["status"] == "survived"]
    for disposition, title in (("unexplained", "Unexplained survivors (a test is missing)"),
                               ("equivalent", "Equivalent survivors"),
                               ("message text", "Survivors in error message text")):
        chosen = [r for r in survivors if r["disposition"] == disposition]
        lines += ["", f"## {title}: {len(chosen)}", ""]
        if not chosen:
            lines.append("None.")
            continue
        if disposition == "message text":
            lines += ["Each changes only the text of a raised error (mutmut's `XX...XX` "
                      "around a string, its case, or an argument of the message dropped); "
                      "the error, its type and the condition that raises it are unchanged. "
                      "The tests match messages with regular expressions on their key words, "
                      "not whole texts. Per function:", ""]
            counts: dict[str, int] = {}
            for r in chosen:
                counts[r["function"]] = counts.get(r["function"], 0) + 1
            lines += [f"- `{f}`: {n}" for f, n in counts.items()]
            continue
        lines += ["| mutant | line | becomes | why |", "|---|---|---|---|"]
        lines += [f"| `{r['name'].rsplit('.', 1)[1]}` | `{_md(r['before'])}` | "
                  f"`{_md(r['after'])}` | {r['reason']} |" for r in chosen]
    if report.get("stale_equivalents"):
        lines += ["", "## EQUIVALENT entries that matched no survivor", ""]
        lines += [f"- {_md(e)}" for e in report["stale_equivalents"]]
    if report.get("new_tests") is not None:
        rows_new = report["new_tests"]
        killed = [r for r in rows_new if r["status"] == "killed"]
        lines += ["", "## The baseline's survivors, and the new tests that kill them", "",
                  f"The baseline run (`{report['baseline']}`, the same targets and tests before "
                  f"`{NEW_TESTS}` existed) left {len(rows_new)} survivors; {len(killed)} of them "
                  f"are killed now. For each, the tests of `{NEW_TESTS}` that fail under it "
                  "(that file run alone with the mutant switched on):", "",
                  "| function | line | becomes | now | killed by |", "|---|---|---|---|---|"]
        lines += [f"| `{r['function']}` | `{_md(r['before'])}` | `{_md(r['after'])}` | "
                  f"{r['status']} | {', '.join(f'`{t}`' for t in r['killed_by']) or '-'} |"
                  for r in rows_new]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2,
                        help="mutmut's worker processes (default: the CPU count)")
    parser.add_argument("--name", default="mutation",
                        help="benchmarks/results/NAME.md and .json (default: mutation)")
    parser.add_argument("--keep", action="store_true",
                        help="reuse mutants/ instead of starting afresh")
    parser.add_argument("--only", action="append", metavar="PATTERN",
                        help="only the target mutants whose mutmut name matches PATTERN "
                             "(fnmatch; repeatable), e.g. 'minigen.ops.elementwise.*'")
    parser.add_argument("--report-only", action="store_true",
                        help="no run: report the results already in mutants/")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    RESULTS.mkdir(parents=True, exist_ok=True)
    date = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    previous = RESULTS / f"{args.name}.json"
    if args.report_only:  # the run's date, time and workers, from its report if there is one
        run = json.loads(previous.read_text()) if previous.exists() else {}
        date, elapsed = run.get("date", date), 60 * run.get("minutes", 0.0)
        args.max_children = run.get("max_children", args.max_children)
    else:
        elapsed = run_mutmut(args.max_children, args.keep, args.only)
    results = load_results(args.only)
    stale = explain_survivors(results)
    rows = sorted(results.values(), key=lambda r: (r["file"], r["function"], r["number"]))

    def by(key: str) -> dict[str, Any]:
        keys = dict.fromkeys(r[key] for r in rows)
        return {k: summarise([r for r in rows if r[key] == k]) for k in keys}

    baseline = RESULTS / "mutation_baseline.json"
    report = {
        "mutmut": mutmut_version(), "date": date, "minutes": elapsed / 60,
        "machine": f"{cpu_name()}, {os.cpu_count()} CPUs", "max_children": args.max_children,
        "command": "python benchmarks/mutation.py" + ("" if args.name == "mutation" else
                                                      f" --name {args.name}")
        + "".join(f" --only '{p}'" for p in args.only or []),
        "only": args.only,
        "targets": TARGETS, "tests": test_selection(), "summary": summarise(rows),
        "by_group": by("group"), "by_file": by("file"), "by_function": by("function"),
        "stale_equivalents": stale, "mutants": rows,
        "baseline": (str(baseline.relative_to(ROOT))
                     if baseline.exists() and args.name != "mutation_baseline" else None),
    }
    start = time.perf_counter()
    report["new_tests"] = (attribute(results, baseline, args.max_children)
                           if baseline.exists() and args.name != "mutation_baseline" else None)
    report["attribution_minutes"] = (time.perf_counter() - start) / 60
    (RESULTS / f"{args.name}.json").write_text(json.dumps(report, indent=1) + "\n")
    write_report(report, args.name)
    s = report["summary"]
    print(f"{s['total']} target mutants: {s['killed']} killed, {s['timeout']} timeouts, "
          f"{s['survived']} survived ({s['equivalent']} equivalent or message text, "
          f"{s['unexplained']} unexplained); score {_pct(s)}; {elapsed / 60:.1f} min. "
          f"-> benchmarks/results/{args.name}.md")
    return report


if __name__ == "__main__":
    main()
