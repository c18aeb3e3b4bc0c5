# %% [markdown]
# # Lesson 02 — Checking gradients
#
# A wrong backward does not crash: the model just trains badly, or not at all, and nothing
# says why. So every op in minigen is checked against **finite differences**, the definition
# of the derivative with a small step:
#
# $$ \frac{\partial f}{\partial x_i} \approx \frac{f(x + \varepsilon e_i) - f(x - \varepsilon
#    e_i)}{2 \varepsilon} $$
#
# This lesson does it by hand, then with `minigen.gradcheck`, then shows why the check uses
# a *random* cotangent, and ends with a property-based test you can copy into your own
# coursework.
#
# Exercise 4 (below section 3) has you write the backward of exp, log, sigmoid and tanh,
# checked the way this lesson describes.

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

import numpy as np

import minigen

# %% [markdown]
# ## 1. Central differences by hand
#
# The error of the central difference shrinks like $\varepsilon^2$ until rounding error,
# which grows like $10^{-16}/\varepsilon$ in float64, takes over. In float32 (machine epsilon
# $10^{-7}$) the best step is far larger and the best accuracy far worse: that is why gradient
# checks run in float64.

# %%
def central_difference_errors(dtype: str = "float64") -> dict[float, float]:
    """|numerical - exact| of d/dx tanh(x) at x = 0.7 for steps 1e-1 ... 1e-9."""
    x0, exact = 0.7, 1 - np.tanh(0.7) ** 2
    errors = {}
    for k in range(1, 10):
        eps = 10.0**-k
        x = minigen.tensor([x0 - eps, x0 + eps], dtype=dtype)
        f_minus, f_plus = x.tanh().tolist()
        errors[eps] = abs((f_plus - f_minus) / (2 * eps) - exact)
    return errors


# %% [markdown]
# ## 2. `minigen.gradcheck`
#
# For a function with many inputs and outputs, `gradcheck` perturbs every input element,
# contracts the output with a random vector $v$, and compares with one backward pass
# ($J^\top v$). It returns `True`, or raises an error naming the op, the worst element and
# both values.

# %%
def check_some_ops(seed: int) -> list[str]:
    minigen.manual_seed(seed)
    x = minigen.randn(3, 4, dtype=minigen.float64, requires_grad=True)
    w = minigen.randn(4, dtype=minigen.float64, requires_grad=True)  # broadcast over rows
    checks = {
        "x * w (broadcast)": lambda x, w: x * w,
        "softmax": lambda x, w: (x * w).softmax(dim=1),
        "log_softmax": lambda x, w: (x + w).log_softmax(dim=1),
        "bce_with_logits": lambda x, w: minigen.binary_cross_entropy_with_logits(
            x, w.sigmoid().expand(3, 4)),
    }
    passed = []
    for name, fn in checks.items():
        minigen.gradcheck(fn, x, w)
        passed.append(name)
    return passed


# %% [markdown]
# ## 3. Why a random cotangent, never `sum()`
#
# Softmax rows always sum to 1, so $\sum_j \mathrm{softmax}(x)_j$ does not depend on $x$ and
# its gradient is zero. A *broken* softmax whose backward returns zeros would pass a check of
# `softmax(x).sum()`. Contracting with a random $v$ catches it.

# %%
class BrokenSoftmax(minigen.Function):
    """Softmax whose backward is wrong (all zeros): the bug we want the check to catch."""

    @staticmethod
    def forward(ctx, x):
        e = np.exp(x - x.max(axis=1, keepdims=True))  # this lesson runs on NumPy arrays
        return e / e.sum(axis=1, keepdims=True)

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out * 0.0


def sum_check_is_fooled(seed: int) -> tuple[bool, str]:
    minigen.manual_seed(seed)
    x = minigen.randn(2, 5, dtype=minigen.float64, requires_grad=True)
    fooled = minigen.gradcheck(lambda t: BrokenSoftmax.apply(t).sum(), x)  # passes!
    try:
        minigen.gradcheck(lambda t: BrokenSoftmax.apply(t), x)
    except AssertionError as error:
        return fooled, str(error)
    return fooled, "not caught"


# %% [markdown]
# ### Exercise 4: exp, log, sigmoid and tanh, backward
#
# Four ops of one input. Each `backward(ctx, grad_out)` returns one array: the incoming
# gradient times the derivative, element by element (as `Cube` in lesson 01). What `forward`
# saved is in `ctx.saved_arrays`, a tuple of one array:
#
# - `Exp.backward` and `Log.backward`, in `ws/minigen/ops/elementwise.py`. `Exp` saved its
#   output $y = e^x$, and $d e^x / dx = e^x = y$. `Log` saved its input $x$, and
#   $d \log x / dx = 1/x$.
# - `Sigmoid.backward` and `Tanh.backward`, in `ws/minigen/ops/activations.py`. Both saved
#   their output $s$: write the derivative from it, $\sigma'(x) = s(1 - s)$ and
#   $\tanh'(x) = 1 - s^2$. Never recompute $e^{-x}$: at $x = -1000$ it overflows, while
#   $s$ is a number in $[-1, 1]$ (the check tries $x = \pm 1000$).
#
# Multiply by Python numbers (`1.0`), not new arrays, and float32 stays float32. It uses no
# other exercise: the check runs each op alone, against central differences with a random
# cotangent, as sections 2 and 3 do. With a workspace (lesson 01, Exercise 1):
#
# ```
# python -m minigen exercises check 4 --workspace ws
# ```

# %% [markdown]
# ## 4. A property-based test
#
# One hand-picked input proves little. [Hypothesis](https://hypothesis.readthedocs.io) draws
# many shapes and values and shrinks any failure to the simplest example.
# `minigen.testing.strategies` has the strategies minigen's own test suite uses: shapes,
# shapes that broadcast together, and tensors whose values come from a named *domain*
# (`real`, `positive` for logs and square roots, `away_from_kinks` for relu and abs...),
# sometimes laid out non-contiguously in memory. Save this as `test_my_op.py` and run
# `pytest test_my_op.py`:
#
# ```python
# from hypothesis import given, settings, strategies as st
# import minigen
# from minigen.testing import strategies as mst
#
# @settings(deadline=None, max_examples=25)
# @given(shapes=mst.broadcastable_shapes(2), data=st.data())
# def test_tanh_of_product(shapes, data):
#     x = data.draw(mst.tensors(shape=shapes[0]))
#     w = data.draw(mst.tensors(shape=shapes[1]))
#     assert minigen.gradcheck(lambda x, w: (x * w).tanh(), x, w)
# ```
#
# The two shapes broadcast against each other (`(3, 1)` with `(4,)`, say), so the test also
# checks that the gradient of the smaller input sums over the broadcast axes.

# %%
def property_test(max_examples: int) -> int:
    """Run the test above with hypothesis, right here; returns how many examples ran."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from minigen.testing import strategies as mst

    ran = []

    @settings(deadline=None, max_examples=max_examples, database=None)
    @given(shapes=mst.broadcastable_shapes(2), data=st.data())
    def test_tanh_of_product(shapes: tuple, data: st.DataObject) -> None:
        x = data.draw(mst.tensors(shape=shapes[0]))
        w = data.draw(mst.tensors(shape=shapes[1]))
        assert minigen.gradcheck(lambda x, w: (x * w).tanh(), x, w)
        ran.append(1)

    test_tanh_of_product()
    return len(ran)


# %%
def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="Lesson 02: checking gradients")
    parser.add_argument("--epochs", type=int, default=1, help="unused: no training here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="unused: this lesson runs on NumPy")
    parser.add_argument("--out", default="runs/lesson02", help="unused: writes no files")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)

    print("step     |error| float64   |error| float32")
    e64, e32 = central_difference_errors("float64"), central_difference_errors("float32")
    for eps in e64:
        print(f"{eps:7.0e}  {e64[eps]:15.2e}  {e32[eps]:15.2e}")
    passed = check_some_ops(args.seed)
    print("gradcheck passed:", ", ".join(passed))
    fooled, message = sum_check_is_fooled(args.seed)
    print(f"sum() check of a broken softmax passed: {fooled}")
    print(f"random-cotangent check caught it: {message.splitlines()[0]}")
    n = property_test(5 if args.quick else 50)
    print(f"property-based test: {n} random examples passed")
    return {"errors64": e64, "errors32": e32, "passed": passed, "fooled": fooled,
            "caught": message, "examples": n}


# %%
if __name__ == "__main__":
    # A script reads its command line. A notebook has none: it runs on DEVICE, quick when
    # MINIGEN_QUICK=1. Add options to the list to change a run, e.g. "--epochs", "10".
    notebook_args = ["--device", DEVICE] + (["--quick"] if QUICK else [])
    result = main(notebook_args if IN_NOTEBOOK else None)
