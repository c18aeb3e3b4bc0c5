"""How big is the engine a student must read? The core's lines of code, counted as they run.

    python benchmarks/core_size.py [--top 15] [--json benchmarks/results/core_size.json]

The core is what ``import minigen`` and one training step of each of the report's three models
(the fully connected GAN, the DCGAN and the VAE: forward, loss, backward, Adam) load, leaving
out the packages that are not the engine: data, models, train, io, viz, testing, gradcheck and
metrics. The step runs in a fresh subprocess, so nothing imported here inflates the count.

A line of code is a line holding a token of code: blank lines, comment lines and docstrings do
not count. The script also prints the biggest files, the modules of ``minigen.extras`` (which
the step must not load: the core never imports them), and the reading path of
``lessons/00_read_the_engine.py`` with each file's full length, prose included.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import io
import json
import subprocess
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_ENGINE = ("data", "models", "train", "io", "viz", "testing", "gradcheck", "metrics")
BUDGET = 3500  # the tiny-engine issue's bound on the core's lines of code



def reading_path() -> list[str]:
    """The files of lessons/00_read_the_engine.py's tour, in reading order (its READING_PATH)."""
    spec = importlib.util.spec_from_file_location("lesson00", ROOT / "lessons" /
                                                  "00_read_the_engine.py")
    lesson = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lesson)
    return ["minigen/" + name for name, _ in lesson.READING_PATH]


READING_BUDGET = 1425  # lines with prose and the exercises' markers; DeZero's path: 1,425

# One training step of each model, as the lessons write it (run in a subprocess).
STEP = """
import sys, json
import minigen
from minigen import optim
from minigen.models import VAE, dcgan, gan, discriminator_loss, generator_loss, vae_loss
minigen.manual_seed(0)
x = minigen.rand(16, 1, 28, 28) * 2 - 1
for G, D in ((gan.Generator(), gan.Discriminator()), (dcgan.Generator(), dcgan.Discriminator())):
    opt_g, opt_d = optim.Adam(G.parameters()), optim.Adam(D.parameters())
    z = minigen.randn(16, G.latent_dim)
    d_loss = discriminator_loss(D(x), D(G(z).detach()))
    opt_d.zero_grad(); d_loss.backward(); opt_d.step()
    g_loss = generator_loss(D(G(z)))
    opt_g.zero_grad(); g_loss.backward(); opt_g.step()
vae = VAE()
opt = optim.Adam(vae.parameters())
loss, bce, kl = vae_loss(vae((x + 1) / 2), (x + 1) / 2)
opt.zero_grad(); loss.backward(); opt.step()
print(json.dumps({name: getattr(module, "__file__", None)
                  for name, module in sys.modules.items()
                  if name == "minigen" or name.startswith("minigen.")}))
"""


def code_lines(path: Path) -> int:
    """Lines holding code: not blank, not a comment, not part of a docstring."""
    source = path.read_text()
    docstrings: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                docstrings.update(range(first.lineno, first.end_lineno + 1))
    lines: set[int] = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skip:
            lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines - docstrings)


def loaded_modules() -> dict[str, str]:
    """minigen's modules loaded by the step, run in a fresh interpreter: name -> file."""
    out = subprocess.run([sys.executable, "-c", STEP], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    return {k: v for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items() if v}


def measure() -> dict:
    modules = loaded_modules()
    core, outside = {}, []
    for name, file in sorted(modules.items()):
        part = name.split(".")[1] if "." in name else ""
        if part in NOT_ENGINE:
            continue
        if part == "extras":
            outside.append(name)
            continue
        path = Path(file)
        core[name] = {"file": str(path.relative_to(ROOT)), "code": code_lines(path),
                      "lines": len(path.read_text().splitlines())}
    reading = {}
    for rel in reading_path():
        path = ROOT / rel
        reading[rel] = len(path.read_text().splitlines()) if path.exists() else None
    return {"core_code_lines": sum(m["code"] for m in core.values()),
            "core_lines_with_prose": sum(m["lines"] for m in core.values()),
            "modules": core, "extras_loaded": outside, "budget": BUDGET,
            "reading_path": reading, "reading_path_lines": sum(v or 0 for v in reading.values()),
            "reading_budget": READING_BUDGET}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=15, help="how many of the biggest files")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    result = measure()
    modules = result["modules"]
    print(f"core: {result['core_code_lines']} lines of code in {len(modules)} modules "
          f"({result['core_lines_with_prose']} with comments, docstrings and blank lines); "
          f"budget {BUDGET}")
    print(f"\nthe {args.top} biggest (lines of code, lines in all):")
    for m in sorted(modules.values(), key=lambda m: -m["code"])[:args.top]:
        print(f"  {m['code']:5d} {m['lines']:5d}  {m['file']}")
    print(f"\nminigen.extras modules loaded by the step: {result['extras_loaded'] or 'none'}")
    print("\nreading path (lessons/00_read_the_engine.py), lines with prose:")
    for rel, n in result["reading_path"].items():
        print(f"  {n if n is not None else '(missing)':>5}  {rel}")
    print(f"  {result['reading_path_lines']:5d}  in all; budget {READING_BUDGET}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
