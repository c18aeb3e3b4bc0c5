# %% [markdown]
# # Lesson 00 — Read the engine
#
# minigen's engine is small enough to read in an afternoon, and this lesson is the tour: the
# files in reading order, what to look for in each, and at each stop a few lines that run the
# code you have just read. Open each file beside this one.
#
# The **core** is what the report's three models (the GAN, the DCGAN and the VAE), their
# losses and their training need: `import minigen` loads it and nothing else. The everyday
# PyTorch API beyond it (`minigen.flip`, `F.gelu`, `nn.LayerNorm`, `x.topk(2)`...) lives in
# `minigen/extras/`, found on first use (`minigen/lazy.py` says how); the core never needs it.
# `python benchmarks/core_size.py` counts the core's lines of code.
#
# Run it: `python lessons/00_read_the_engine.py` (`--device strict` runs every stop on the
# simulated device the tests use in place of a GPU).
#
# Then write parts of the engine yourself: `python -m minigen exercises list` names its 13
# exercises, each with the lesson (01 to 07) whose "Exercise N" cell says what to write.

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
import inspect
from pathlib import Path

import numpy as np

import minigen
from minigen import autograd, nn, optim
from minigen.ops import arithmetic, conv

ROOT = Path(minigen.__file__).resolve().parent

# The reading path, in order: (file, what to look for). benchmarks/core_size.py counts it.
READING_PATH = [
    ("autograd.py", "Function.apply links an output to its Context; backward() walks the "
                    "contexts in reverse topological order, summing the gradients that "
                    "reach each node and undoing broadcasting in one place"),
    ("tensor.py", "data, grad and _ctx; every operator and method is an op's function; "
                  "x += y changes the tensor object (_update)"),
    ("ops/arithmetic.py", "one op, one class: forward saves what backward needs, backward "
                          "is the derivative times grad_out"),
    ("ops/conv.py", "im2col turns a convolution into one matrix product; col2im is its "
                    "adjoint, and each conv is the other's backward"),
    ("nn/module.py", "a Module finds its Parameters by walking its attributes"),
    ("nn/layers.py", "Linear, Conv2d, ConvTranspose2d: weights, PyTorch's initialisation, a "
                     "forward that calls the op"),
    ("optim/adam.py", "Adam's update, line for line its formula"),
]


def reading_path() -> list[tuple[str, int]]:
    """(file, lines with prose) along the reading path."""
    return [(name, len((ROOT / name).read_text().splitlines())) for name, _ in READING_PATH]


# %% [markdown]
# ## 1. `autograd.py`: the graph and the backward pass
#
# Read `Context`, `Function.apply` and `backward`. An op's output tensor holds `_ctx`, the
# Context of the op that made it; `ctx.parents` are the contexts of its inputs (or the
# inputs themselves, for leaves). Below, a graph is built and then walked **by hand** with the
# engine's own pieces: the topological order, and each op's `backward` on raw arrays. The
# gradients it finds are the ones `loss.backward()` finds.

# %%
def graph_and_backward_by_hand(device: str = "cpu") -> dict:
    x = minigen.tensor([[1.0, -2.0, 0.5]], device=device, requires_grad=True)
    w = minigen.tensor([[0.3], [0.1], [-0.4]], device=device, requires_grad=True)
    loss = (x @ w).tanh().sum()
    order = autograd._topological_order(loss._ctx)  # the loss first, the leaves last
    names = [getattr(node, "name", "leaf") for node in order]
    grads = {id(loss._ctx): minigen.ones_like(loss).data}
    for node in order:
        g = grads.pop(id(node))
        if isinstance(node, minigen.Tensor):  # a leaf: its gradient is complete
            node.grad = minigen.Tensor._make(g)
            continue
        grads_in = node.fn.backward(node, g)  # one gradient per input (or just one)
        for parent, grad in zip(node.parents, grads_in if isinstance(grads_in, tuple)
                                else (grads_in,)):
            if parent is not None:  # (each parent is used once here: no sum needed)
                grads[id(parent)] = grad
    by_hand = (x.grad.tolist(), w.grad.tolist())
    x.grad = w.grad = None
    (x @ w).tanh().sum().backward()
    return {"order": names, "by_hand": by_hand, "engine": (x.grad.tolist(), w.grad.tolist())}


# %% [markdown]
# ## 2. `tensor.py`: what a tensor is
#
# Read the slots (`data`, `grad`, `requires_grad`, `_ctx`), `_make`, the operators table
# `OPERATORS` at the end (`x + y` is `ops.add(x, y)`), `_update` (in place), and `METHODS`
# (`x.sum(1)` is `ops.sum(x, 1)`). The extras' methods come through `__getattr__`.

# %%
def what_a_tensor_is(device: str = "cpu") -> dict:
    x = minigen.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = x * 3 + 1
    return {"y.grad_fn": y.grad_fn, "parent": y._ctx.parents[0].name,
            "x is a leaf": x.is_leaf, "x.data type": type(x.data).__name__,
            "sum is ops.sum": minigen.Tensor.sum is minigen.ops.sum}


# %% [markdown]
# ## 3. `ops/arithmetic.py`: one op, forward and backward side by side
#
# Read `Mul`. Its backward gets `grad_out`, the gradient of the loss w.r.t. `a * b`, and
# returns `grad_out * b` for `a` and `grad_out * a` for `b` (the product rule), skipping what
# `needs_input_grad` says is not needed. Below, the op is called on raw arrays, then its
# gradient is checked against finite differences with broadcasting: the engine sums the
# (2, 3) gradient of `b` down to its shape (1, 3).

# %%
def one_op(device: str = "cpu") -> dict:
    print(inspect.getsource(arithmetic.Mul))
    ctx = autograd.Context("Mul")
    a, b = np.array([2.0, 3.0]), np.array([5.0, 7.0])
    out = arithmetic.Mul.forward(ctx, a, b)
    ctx.needs_input_grad = (True, True)
    grad_a, grad_b = arithmetic.Mul.backward(ctx, np.ones(2))
    x = minigen.randn(2, 3, dtype=minigen.float64, device=device, requires_grad=True)
    y = minigen.randn(1, 3, dtype=minigen.float64, device=device, requires_grad=True)
    return {"out": out.tolist(), "grad_a": grad_a.tolist(), "grad_b": grad_b.tolist(),
            "gradcheck": minigen.gradcheck(lambda s, t: s * t, x, y)}


# %% [markdown]
# ## 4. `ops/conv.py`: a convolution is one matrix product
#
# Read the module docstring, `im2col`, `col2im` and the two ops. A 3x3 kernel over a 4x4
# image with padding 1 reads 9 pixels per output pixel: im2col copies them into columns, one
# per output pixel, and the convolution is the weight (C_out, 9) times those columns. The
# transposed convolution is the adjoint: <conv(x), y> = <x, conv_t(y)> for every x and y.

# %%
def conv_as_a_product(device: str = "cpu", seed: int = 0) -> dict:
    minigen.manual_seed(seed)
    x = minigen.randn(2, 1, 4, 4, device=device)
    w = minigen.randn(5, 1, 3, 3, device=device)
    xpad = conv._padded_batch_last(x.data, (1, 1))  # (C, H + 2, W + 2, N)
    cols = conv.im2col(xpad, (3, 3), (1, 1), (1, 1), (4, 4))  # (C*3*3, 4*4*2)
    by_product = (w.reshape(5, 9) @ minigen.Tensor._make(cols)).numpy()
    by_op = minigen.conv2d(x, w, padding=1).numpy()  # (N, 5, 4, 4)
    gap = float(np.abs(by_product.reshape(5, 4, 4, 2).transpose(3, 0, 1, 2) - by_op).max())
    y = minigen.randn(2, 5, 4, 4, device=device)
    lhs = (minigen.conv2d(x, w, padding=1) * y).sum().item()
    rhs = (x * minigen.conv_transpose2d(y, w, padding=1)).sum().item()
    return {"columns": tuple(cols.shape), "product vs op": gap, "adjoint": (lhs, rhs)}


# %% [markdown]
# ## 5. `nn/module.py`: where the weights are
#
# Read `Parameter`, `_walk` and `Module`: `parameters()` walks `vars(self)` for Parameters,
# sub-modules, and lists or dicts of them, so `self.fc = Linear(...)` is all it takes.
# `state_dict()` names each weight by its path.

# %%
class TinyNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.heads = [nn.Linear(3, 1), nn.Linear(3, 1)]  # a plain list is walked too

    def forward(self, x: minigen.Tensor) -> minigen.Tensor:
        h = self.fc(x).relu()
        return self.heads[0](h) + self.heads[1](h)


def where_the_weights_are() -> dict:
    net = TinyNet()
    return {"parameters": [name for name, _ in net.named_parameters()],
            "state_dict": sorted(net.state_dict())}


# %% [markdown]
# ## 6. `nn/layers.py`: Linear and the conv layers
#
# Read `Linear`: a weight (out, in) and a bias, PyTorch's initialisation, and a forward that
# checks the shape and calls `ops.linear` (`minigen/ops/linalg.py`). `Conv2d` and
# `ConvTranspose2d` are the same shape of class around ``conv.py``'s ops.

# %%
def a_layer(device: str = "cpu", seed: int = 0) -> float:
    minigen.manual_seed(seed)
    layer = nn.Linear(3, 2).to(device)
    x = minigen.randn(4, 3, device=device)
    by_hand = x @ layer.weight.T + layer.bias
    return float((layer(x) - by_hand).abs().max().item())


# %% [markdown]
# ## 7. `optim/adam.py`: Adam's update
#
# Read `Adam._update` (and `Optimizer.step` in `optimizer.py`, which calls it for every
# parameter with a gradient). Below, one step by hand, from the formula, against
# `optim.Adam`.

# %%
def adam_by_hand(device: str = "cpu") -> float:
    w = nn.Parameter(minigen.tensor([1.0, -2.0, 3.0], device=device))
    opt = optim.Adam([w], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    (w * w).sum().backward()  # g = 2w
    g = 2 * np.array([1.0, -2.0, 3.0])
    m, v = 0.1 * g, 0.001 * g * g  # one step from m = v = 0
    m_hat, v_hat = m / (1 - 0.9), v / (1 - 0.999)
    expected = np.array([1.0, -2.0, 3.0]) - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8)
    opt.step()
    return float(np.abs(minigen.backend.to_numpy(w.data) - expected).max())


# %% [markdown]
# ## Where next
#
# That is the engine. The rest of the core is more of the same: the other op files in
# `ops/` (elementwise, activations, reductions, shapes and indexing, linalg, normalization,
# losses), `creation.py`, `nn/` (containers, BatchNorm and Dropout, activations, init),
# `optim/optimizer.py` and `sgd.py`, and `backend/` (devices and the speed tricks, each a
# function of `backend/fast.py` named for what it computes). Then lesson 01 and the report.

# %%
def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="Lesson 00: a guided reading of the engine")
    parser.add_argument("--epochs", type=int, default=1, help="unused: no training here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="runs/lesson00", help="unused: no files written")
    parser.add_argument("--quick", action="store_true", help="unused: every stop is quick")
    args = parser.parse_args(argv)
    minigen.manual_seed(args.seed)
    path = reading_path()
    print("The reading path (lines with prose), and what to look for:")
    for (name, lines), (_, look_for) in zip(path, READING_PATH):
        print(f"  {lines:4d}  minigen/{name}\n        {look_for}")
    print(f"  {sum(n for _, n in path):4d}  in all\n")

    result = {"reading_path": path}
    result["graph"] = graph_and_backward_by_hand(args.device)
    print(f"1. the graph, walked from the loss: {' <- '.join(result['graph']['order'])}")
    print(f"   gradients by hand {result['graph']['by_hand']}\n"
          f"   by loss.backward() {result['graph']['engine']}")
    result["tensor"] = what_a_tensor_is(args.device)
    print(f"2. {result['tensor']}")
    result["op"] = one_op(args.device)
    print(f"3. Mul on arrays: {result['op']['out']}, gradients {result['op']['grad_a']}, "
          f"{result['op']['grad_b']}; gradcheck with broadcasting: {result['op']['gradcheck']}")
    result["conv"] = conv_as_a_product(args.device, args.seed)
    lhs, rhs = result["conv"]["adjoint"]
    print(f"4. im2col: columns {result['conv']['columns']}; product vs conv2d: "
          f"{result['conv']['product vs op']:.1e}; <conv(x), y> = {lhs:.6f}, "
          f"<x, conv_t(y)> = {rhs:.6f}")
    result["module"] = where_the_weights_are()
    print(f"5. parameters found: {result['module']['parameters']}")
    result["layer"] = a_layer(args.device, args.seed)
    print(f"6. Linear vs x @ W.T + b: max difference {result['layer']:.1e}")
    result["adam"] = adam_by_hand(args.device)
    print(f"7. Adam, one step: optim.Adam vs the formula, max difference {result['adam']:.1e}")
    return result


# %%
if __name__ == "__main__":
    # A script reads its command line. A notebook has none: it runs on DEVICE, quick when
    # MINIGEN_QUICK=1. Add options to the list to change a run, e.g. "--epochs", "10".
    notebook_args = ["--device", DEVICE] + (["--quick"] if QUICK else [])
    result = main(notebook_args if IN_NOTEBOOK else None)
