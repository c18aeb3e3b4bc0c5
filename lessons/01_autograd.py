# %% [markdown]
# # Lesson 01 — Autograd from scratch
#
# Every model in the report (the GANs and the VAE) is trained by gradient descent, and every
# gradient comes from one idea: the **chain rule**, applied backwards through the graph of
# operations that computed the loss. This lesson builds a small graph, walks it backward with
# minigen, does the same by hand, and checks that the two agree.
#
# Run it: `python lessons/01_autograd.py` (add `--out DIR` to choose where files go).
#
# Exercises 1, 2 and 3 (the cells headed "Exercise N") have you write the backward pass,
# `Mul` and `Div`, and the undoing of broadcasting yourself, in a copy of minigen of your own.

# %%
# Setup. In Colab this installs minigen first (from where: see the README, "Lessons"); elsewhere
# install it yourself (pip install -e . in the project's folder). DEVICE is "cuda" where there
# is a GPU, and a notebook runs the lesson there (the last cell).
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

MINIGEN_SOURCE = "minigen @ git+https://github.com/OWNER/minigen"  # OWNER: see the README
if "google.colab" in sys.modules and importlib.util.find_spec("minigen") is None:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", MINIGEN_SOURCE])
    importlib.invalidate_caches()
import minigen

DEVICE = "cuda" if minigen.cuda.is_available() else "cpu"
IN_NOTEBOOK = "ipykernel" in sys.modules  # Jupyter, Colab, VS Code: no command line of our own
QUICK = os.environ.get("MINIGEN_QUICK") == "1"  # a smoke run, as the tests run the notebooks

# %%
import argparse
import math
from pathlib import Path

import numpy as np

import minigen
from minigen.viz import to_dot

# %% [markdown]
# ## 1. A graph, forward
#
# Take $f(a, b) = \tanh(a \cdot b + b)$. Each operation minigen runs records a node in a
# graph: `Mul`, then `Add`, then `Tanh`. The tensors `a` and `b` are *leaves*: they ask for a
# gradient with `requires_grad=True`.

# %%
def forward_example(a_value: float = 0.5, b_value: float = -1.2):
    a = minigen.tensor(a_value, requires_grad=True)
    b = minigen.tensor(b_value, requires_grad=True)
    f = (a * b + b).tanh()
    return a, b, f


# %% [markdown]
# ## 2. Backward, by minigen
#
# `f.backward()` visits the graph in reverse topological order (each node after everything
# that uses it), hands each op the gradient of its output, and the op's `backward` turns it
# into gradients of its inputs. Leaves collect theirs in `.grad`.

# %%
def gradients_by_minigen(a_value: float, b_value: float) -> tuple[float, float]:
    a, b, f = forward_example(a_value, b_value)
    f.backward()
    return a.grad.item(), b.grad.item()


# %% [markdown]
# ## 3. Backward, by hand
#
# With $u = a b$, $v = u + b$, $f = \tanh v$:
#
# - $\partial f / \partial v = 1 - \tanh^2 v$
# - $\partial f / \partial a = \partial f/\partial v \cdot \partial v/\partial u \cdot
#   \partial u/\partial a = (1 - \tanh^2 v) \cdot 1 \cdot b$
# - $\partial f / \partial b$ has **two paths**, through $u$ and directly into $v$; their
#   contributions add: $(1 - \tanh^2 v)(a + 1)$.
#
# That sum over paths is why the engine *accumulates* gradients when a tensor is used twice.

# %%
def gradients_by_hand(a: float, b: float) -> tuple[float, float]:
    v = a * b + b
    df_dv = 1 - math.tanh(v) ** 2
    return df_dv * b, df_dv * (a + 1)


# %% [markdown]
# ### Looking inside: hooks
#
# A **hook** is a function minigen calls with a tensor's gradient as soon as the backward pass
# has it (`tensor.register_hook`, as in PyTorch). On the intermediate $v$ it shows
# $\partial f/\partial v = 1 - \tanh^2 v$, the first factor above; on $b$ it runs once, with
# the sum of its two paths. (A hook may also return a new gradient, to clip or rescale it on
# its way; `module.register_forward_hook` does the same for a layer's outputs.)

# %%
def gradients_seen_by_hooks(a_value: float, b_value: float) -> dict[str, float]:
    a = minigen.tensor(a_value, requires_grad=True)
    b = minigen.tensor(b_value, requires_grad=True)
    v = a * b + b
    seen: dict[str, float] = {}
    v.register_hook(lambda g: seen.update({"df/dv": g.item()}))
    b.register_hook(lambda g: seen.update({"df/db": g.item()}))
    v.tanh().backward()
    return seen


# %% [markdown]
# ### Exercise 1: the backward pass: order, and gradients summed
#
# Write the engine's backward pass yourself. Once, in the project's folder, make a
# workspace: `ws/minigen`, a copy of the package whose exercise bodies are blank.
#
# ```
# python -m minigen exercises start ws
# python -m minigen exercises list --workspace ws    # each exercise, its lesson, its files
# ```
#
# In `ws/minigen/autograd.py`, replace each `raise NotImplementedError(...)` line between
# `# exercise 1: ...` and `# end exercise 1` with your code. Three bodies:
#
# - `_topological_order(root)`: the list of nodes `root` depends on, `root` first, each
#   once, and each after every node that uses it (so that all its gradients have arrived
#   when its turn comes). A node is a `Context`, whose inputs are `node.parents` (skip the
#   `None`s), or a leaf `Tensor`, which has none; tell them apart with `isinstance`, and
#   remember visited nodes by `id(node)`. Walk with a list as a stack, never recursion:
#   section 6 builds a chain of 10,000 ops, and Python stops at about 1,000 nested calls.
#   (The classic way: list a node once all its inputs are listed, then reverse the list.)
# - in `backward()`: `grads` maps `id(node)` to the sum of the gradients that reached the
#   node so far. Add `g`, the gradient for `parent`, to its entry, or make the entry. Add
#   with `+`, never `+=`: an op may return one array for two inputs (`Add` does).
# - `_accumulate(tensor, grad)`: a leaf's `.grad` is `None` or a `Tensor`. Set it to a new
#   `Tensor` of the old gradient plus `grad` (`Tensor._make(array)` wraps an array), so
#   that two `backward()` calls add up, as PyTorch's do.
#
# It uses no other exercise. Check it, then run this lesson on your code:
#
# ```
# python -m minigen exercises check 1 --workspace ws
# PYTHONPATH=ws python lessons/01_autograd.py
# ```
#
# `PYTHONPATH=ws` makes a script's `import minigen` find `ws/minigen` first (not so for
# `python -c` or `-m` in the project's folder, which find the project's own first). This
# lesson also runs the code of exercises 2 and 3 below, and of 4 and 5 (tanh, `Linear`):
# until those are written too, it stops at the first blank body, whose error names it.

# %% [markdown]
# ## 4. Write your own op
#
# An op is a `Function` with a `forward` and a `backward` side by side, both on raw arrays.
# Here is $\mathrm{cube}(x) = x^3$ with $d/dx\, x^3 = 3x^2$. `Cube.apply(x)` runs it and
# links it into the graph.

# %%
class Cube(minigen.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_arrays
        return grad_out * 3 * x * x  # d/dx x^3 = 3 x^2


def cube_gradient(x_value: float) -> float:
    x = minigen.tensor(x_value, requires_grad=True)
    Cube.apply(x).backward()
    return x.grad.item()


# %% [markdown]
# ### Exercise 2: Mul and Div, backward
#
# In `ws/minigen/ops/arithmetic.py`, write `Mul.backward` and `Div.backward` as `Cube`'s
# above. `ctx.saved_arrays` holds `(a, b)`, saved by `forward`; `grad_out` is
# $\partial L/\partial y$ for the output $y$. Return a pair, one gradient per input, each
# $\partial L/\partial y$ times the derivative of $y$ with respect to that input:
#
# - $y = ab$: $\partial y/\partial a = b$ and $\partial y/\partial b = a$;
# - $y = a/b$: $\partial y/\partial a = 1/b$ and $\partial y/\partial b = -a/b^2$.
#
# In place of a gradient that `ctx.needs_input_grad[i]` says is not needed, return `None`.
# In `x * 2.5` and `2.5 / x` the number is such an input, and it is a Python number, not an
# array. The two may have shapes that broadcast, (3, 1) times (4,): return the gradients
# with the output's shape, as the formulas give them, and the engine sums each back to its
# input's shape (section 5, and exercise 3). Plain arithmetic on the arrays runs on NumPy and
# CuPy alike. It uses no other exercise.
#
# ```
# python -m minigen exercises check 2 --workspace ws
# ```

# %% [markdown]
# ## 5. Batches and broadcasting
#
# Real models work on whole batches: `x` of shape (batch, features) times a weight vector of
# shape (features,). The weight is *broadcast* over the batch, so its gradient is the sum of
# the per-sample gradients. minigen undoes broadcasting in one place, the engine.

# %%
def broadcast_example(seed: int = 0) -> tuple[tuple[int, ...], float]:
    minigen.manual_seed(seed)
    x = minigen.randn(8, 3)
    w = minigen.randn(3, requires_grad=True)
    (x * w).sum().backward()
    # d/dw sum_ij x_ij w_j = sum_i x_ij: the column sums of x
    error = (w.grad - x.sum(dim=0)).abs().max().item()
    return w.grad.shape, error


# %% [markdown]
# ### Exercise 3: undoing broadcasting: _unbroadcast
#
# That one place is `_unbroadcast(grad, shape, op)` in `ws/minigen/autograd.py`.
# `backward()` calls it when the gradient `grad` (an array) that op `op` returned for an input
# does not have the input's `shape`; return `grad` summed to exactly `shape`. Broadcasting
# lines the shapes up from the right, then copies the input along new leading axes and along
# its axes of size 1; the gradient of a copied value is the sum over its copies. So: sum over
# the first `grad.ndim - len(shape)` axes, then over each axis where `shape` has 1 and `grad`
# does not, keeping that axis with size 1. From (2, 3, 4) to (3, 1): sum axis 0, giving
# (3, 4), then axis 1, kept: (3, 1).
#
# If the result still differs from `shape`, or `grad` has fewer axes than `shape`, the op's
# backward is wrong: raise `ShapeError` (imported in the file) with `op` in its message.
# Sum with `xp = backend.namespace(grad)` and `xp.sum(..., axis=..., keepdims=...)`, never
# `np.sum`, so that it runs on a GPU's arrays too. It uses no other exercise.
#
# ```
# python -m minigen exercises check 3 --workspace ws
# ```

# %% [markdown]
# ## 6. A deep chain
#
# The backward pass is a loop, not a recursion, so a chain of 10,000 ops is fine.

# %%
def deep_chain(n: int = 10_000) -> float:
    # float64 here: float32 rounds 1.0001 to 1.00010002, and 10,000 products show it.
    x = minigen.tensor(1.0, dtype=minigen.float64, requires_grad=True)
    y = x
    for _ in range(n):
        y = y * 1.0001
    y.backward()
    return x.grad.item()  # = 1.0001 ** n


# %% [markdown]
# ## 7. Gradient descent by hand
#
# An optimizer is a loop over the parameters: `p -= lr * p.grad`. Two details make it work.
# The update runs under `minigen.no_grad()`: it is not part of any model, and a leaf that
# requires grad may be changed in place only there. And `-=` changes the tensor *object*
# (as PyTorch's does), so a layer holding `w` sees the new values; `w = w - lr * w.grad`
# would make a new tensor and leave the layer's `w` as it was. Fitting a line by least
# squares, the loop lands where the normal equations do.

# %%
def fit_line_by_hand(steps: int = 300, lr: float = 0.1, seed: int = 0) -> dict:
    minigen.manual_seed(seed)
    x = minigen.randn(64, 1)
    y = 3.0 * x + 2.0 + 0.1 * minigen.randn(64, 1)
    layer = minigen.nn.Linear(1, 1)
    w, b = layer.weight, layer.bias
    for _ in range(steps):
        loss = ((layer(x) - y) ** 2).mean()
        w.grad = b.grad = None
        loss.backward()
        with minigen.no_grad():
            w -= lr * w.grad  # in place: layer.weight is still w
            b -= lr * b.grad
    design = np.concatenate([x.numpy(), np.ones((64, 1), dtype=np.float32)], axis=1)
    exact = np.linalg.lstsq(design, y.numpy(), rcond=None)[0].ravel()
    return {"fitted": (layer.weight.item(), layer.bias.item()),
            "least_squares": (float(exact[0]), float(exact[1])), "same_tensor": layer.weight is w}


# %%
def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=1, help="unused: no training here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="runs/lesson01")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    a, b = 0.5, -1.2
    auto, hand = gradients_by_minigen(a, b), gradients_by_hand(a, b)
    print(f"minigen: df/da = {auto[0]:+.6f}, df/db = {auto[1]:+.6f}")
    print(f"by hand: df/da = {hand[0]:+.6f}, df/db = {hand[1]:+.6f}")
    hooked = gradients_seen_by_hooks(a, b)
    print(f"hooks saw: df/dv = {hooked['df/dv']:+.6f} (by hand "
          f"{1 - math.tanh(a * b + b) ** 2:+.6f}), df/db = {hooked['df/db']:+.6f}")
    print(f"Cube: d/dx x^3 at 2 = {cube_gradient(2.0)} (expected 12)")
    shape, error = broadcast_example(args.seed)
    print(f"broadcast: w.grad has shape {shape}, max error vs column sums {error:.2e}")
    n = 1000 if args.quick else 10_000
    print(f"deep chain of {n} ops: gradient {deep_chain(n):.6f} (expected {1.0001 ** n:.6f})")
    line = fit_line_by_hand(seed=args.seed)
    print("gradient descent by hand: w = {:.4f}, b = {:.4f}; least squares: w = {:.4f}, "
          "b = {:.4f}".format(*line["fitted"], *line["least_squares"]))

    ta, tb, f = forward_example(a, b)
    dot = to_dot(f, name="f", params={"a": ta, "b": tb})
    (out / "graph.dot").write_text(dot)
    print(f"the graph of f, as Graphviz DOT: {out / 'graph.dot'} "
          "(render with: dot -Tpng graph.dot -o graph.png)")
    return {"auto": auto, "hand": hand, "hooked": hooked, "dot": dot, "line": line}


# %%
if __name__ == "__main__":
    # A script reads its command line. A notebook has none: it runs on DEVICE, quick when
    # MINIGEN_QUICK=1. Add options to the list to change a run, e.g. "--epochs", "10".
    notebook_args = ["--device", DEVICE] + (["--quick"] if QUICK else [])
    result = main(notebook_args if IN_NOTEBOOK else None)
