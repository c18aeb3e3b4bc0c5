# %% [markdown]
# # Lesson 03 — Linear, convolution and transposed convolution layers
#
# The report's fully connected GAN and VAE are stacks of `Linear` layers; the DCGAN's
# discriminator is made of `Conv2d` layers that halve an image (28 -> 14 -> 7) and its
# generator of `ConvTranspose2d` layers that double it back (7 -> 14 -> 28). This lesson shows
# what each layer computes, how a convolution becomes one matrix product (the *im2col*
# picture), the output-size arithmetic, and why the transposed convolution is the convolution's
# *adjoint*. It ends with the feature maps of a conv layer on a real MNIST digit.
#
# Exercises 5, 6 and 7 have you write the backward of `Linear` and matmul, then both passes of
# the convolution and of the transposed convolution.
#
# Run it: `python lessons/03_layers.py --out runs/lesson03` (add `--device strict` or `cuda`).

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
from pathlib import Path

import numpy as np

import minigen
import minigen.functional as F
from minigen import nn

# %% [markdown]
# ## 1. Linear: one matrix product
#
# `nn.Linear(in_features, out_features)` holds a weight $W$ of shape (out, in) and a bias $b$;
# for a batch $x$ of shape (N, in) it computes $y = x W^\top + b$, of shape (N, out). As in
# PyTorch, both start uniform on $\pm 1/\sqrt{\text{in}}$, so that each output's variance does
# not grow with the number of inputs.

# %%
def linear_demo(device: str) -> float:
    layer = nn.Linear(784, 512, device=device)
    x = minigen.randn(128, 784, device=device)
    by_hand = x @ layer.weight.T + layer.bias
    bound = float(layer.weight.abs().max())
    print(f"{layer}: weights within +-{bound:.4f} (1/sqrt(784) = {784 ** -0.5:.4f})")
    return float((layer(x) - by_hand).abs().max())


# %% [markdown]
# ### Exercise 5: matmul and Linear, backward
#
# In `ws/minigen/ops/linalg.py`. For $C = AB$ and the incoming gradient
# $G = \partial L/\partial C$: $\partial L/\partial A = G B^\top$ and
# $\partial L/\partial B = A^\top G$.
#
# - `MatMul.backward`: `ctx.saved_arrays` is `(a, b)`, batches of matrices (..., n, k) and
#   (..., k, m) whose batch axes broadcast. Apply the rule to every matrix (`xp.matmul` and
#   `xp.matrix_transpose` work on the last two axes) and leave the broadcast batch axes to
#   the engine. A 1-D operand is a vector: take a (k,) on the left as (1, k), on the right as
#   (k, 1). `grad_out` lacks that axis, so first reshape it to batch + (n, m), the batch
#   being `broadcast_shapes(a_batch, b_batch)` (imported in the file). A vector's gradient
#   must come back as (k,): `_as_operand(grad, operand)`, below the class, sums the batch
#   axes away and drops the added axis.
# - `Linear.backward`: `forward` computed $y = x W^\top + b$ for x (..., in), W (out, in)
#   and b (out,) or `None`, and saved `(x, weight)`. Return three gradients: $G W$ for x;
#   $G^\top x$ for W, summed over every leading axis of x (reshape $G$ and x to rows first,
#   (rows, out) and (rows, in)); $G$ summed over its rows for b.
#
# Use `xp = backend.namespace(a)`, and `None` where `ctx.needs_input_grad[i]` is `False`. It
# uses no other exercise. `python -m minigen exercises check 5 --workspace ws` (a workspace:
# lesson 01, Exercise 1).

# %% [markdown]
# ## 2. Conv2d: one small Linear, slid over the image
#
# A convolution applies the same small weight, of shape (C_out, C_in, kH, kW), to every
# kH x kW patch of the input: output pixel $(i, j)$ of channel $o$ is
# $\sum_{c, u, v} W[o, c, u, v]\, x[c, i s + u, j s + v] + b[o]$ (stride $s$; padding adds
# zeros around the image first). Written as loops, on a 4x4 image with a 3x3 kernel:

# %%
def conv_by_loops(x: np.ndarray, w: np.ndarray, stride: int = 1) -> np.ndarray:
    """The definition, one output pixel at a time (for teaching only: far too slow)."""
    n, c_in, h, wd = x.shape
    c_out, _, k, _ = w.shape
    h_out, w_out = (h - k) // stride + 1, (wd - k) // stride + 1
    out = np.zeros((n, c_out, h_out, w_out), dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            patch = x[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    return out


# %% [markdown]
# ## 3. The im2col picture: a convolution is one matrix product
#
# Looping over pixels is slow in Python. Instead, copy every patch into a **column** of a
# matrix (im2col): for a 1-channel 4x4 image and a 3x3 kernel there are 2x2 = 4 patches of
# 9 values, so the matrix is 9 x 4. The loop runs over the 9 *kernel offsets* $(u, v)$, each
# copying one strided slice of the image into one row: never over pixels or samples. The
# convolution is then `W.reshape(C_out, 9) @ columns`: one GEMM, which is how minigen's
# `conv2d` runs (its backward uses the reverse copy, col2im).

# %%
def im2col(x: np.ndarray, k: int, stride: int = 1) -> np.ndarray:
    """(C, H, W) -> (C * k * k, H_out * W_out): row (c, u, v) holds x[c, u::s, v::s]."""
    c, h, w = x.shape
    h_out, w_out = (h - k) // stride + 1, (w - k) // stride + 1
    rows = []
    for ch in range(c):
        for u in range(k):
            for v in range(k):
                window = x[ch, u:u + stride * h_out:stride, v:v + stride * w_out:stride]
                rows.append(window.reshape(-1))
    return np.stack(rows)


def im2col_demo(device: str) -> float:
    image = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    columns = im2col(image, 3)
    print("image:\n", image[0], "\nits columns (one per 3x3 patch):\n", columns)
    w = minigen.randn(2, 1, 3, 3, device=device)
    x = minigen.tensor(image[None], device=device)
    as_gemm = w.numpy().reshape(2, 9) @ columns  # (C_out, 9) @ (9, 4) -> (C_out, 4)
    by_conv = F.conv2d(x, w).numpy().reshape(2, 4)
    by_loops = conv_by_loops(image[None], w.numpy()).reshape(2, 4)
    return float(max(np.abs(as_gemm - by_conv).max(), np.abs(by_loops - by_conv).max()))


# %% [markdown]
# ### Exercise 6: conv2d: forward by im2col, and backward
#
# `Conv2d.forward` and `Conv2d.backward` in `ws/minigen/ops/conv.py`: x (N, C_in, H, W),
# weight (C_out, C_in, kH, kW), bias (C_out,) or `None`; `stride`, `padding` and `dilation`
# are pairs (dilation $d$ puts the kernel's taps $d$ pixels apart). The file's helpers hold
# images "batch last", (C, H, W, N), and do every copy:
#
# - `geometry.conv2d_output_size(x.shape[2:], kernel, stride, padding, dilation)`: the
#   output grid (H_out, W_out);
# - `_padded_batch_last(x, padding)`: the input, zero-padded, as (C_in, Hp, Wp, N);
# - `im2col(xpad, kernel, stride, dilation, grid)`: its columns, (C_in*kH*kW, H_out*W_out*N),
#   rows in the order of `weight.reshape(C_out, -1)`. Its adjoint,
#   `col2im(cols, xpad.shape, kernel, stride, dilation, grid)`, adds each column back where
#   im2col took it from, into zeros;
# - `_image(a, N, grid)`: (C, H*W*N) to (N, C, H, W); `_columns(a)`: back again;
#   `_batch_first(a, padding)`: (C, Hp, Wp, N) to (N, C, H, W), the padding cut off.
#
# Forward: $Y = W_2\,\mathrm{cols}$, $W_2$ the weight as (C_out, C_in*kH*kW), plus the bias
# on each row; return it as an image, and keep in `ctx` what backward needs (arrays with
# `ctx.save_for_backward`, the rest as attributes: `ctx.padding = padding`). Backward, with
# $G$ = `grad_out` as columns: the weight's gradient is $G\,\mathrm{cols}^\top$ (in the
# weight's shape); the columns' is $W_2^\top G$, which col2im sends back to the pixels; the
# bias's is $G$ summed along its rows. It uses no other exercise:
# `python -m minigen exercises check 6 --workspace ws`.

# %% [markdown]
# ## 4. Output sizes: the DCGAN's 28 -> 14 -> 7 and back
#
# With kernel $k$, stride $s$, padding $p$ (and dilation 1), a convolution maps a size $n$ to
# $\lfloor (n + 2p - k)/s \rfloor + 1$; a transposed convolution maps $n$ to
# $(n - 1)s - 2p + k + \text{output\_padding}$. With $k=4, s=2, p=1$ both are exact:
# 28 -> 14 -> 7 and 7 -> 14 -> 28. With $k=3, s=2, p=1$ the floor loses information (13 and
# 14 both give 7), so going back needs `output_padding` to choose 13 or 14.

# %%
def size_arithmetic() -> dict:
    down = [28]
    for _ in range(2):
        down.append(minigen.conv2d_output_size((down[-1],) * 2, 4, 2, 1)[0])
    up = [7]
    for _ in range(2):
        up.append(minigen.conv_transpose2d_output_size((up[-1],) * 2, 4, 2, 1)[0])
    print("Conv2d(k=4, s=2, p=1):          ", " -> ".join(map(str, down)))
    print("ConvTranspose2d(k=4, s=2, p=1): ", " -> ".join(map(str, up)))
    layer = nn.ConvTranspose2d(1, 1, 3, stride=2, padding=1)
    for want in (13, 14):
        pad = layer.output_padding_for((7, 7), (want, want))
        print(f"k=3, s=2, p=1: 7 -> {want} needs output_padding={pad[0]}")
    try:
        layer.output_padding_for((7, 7), (28, 28))
    except minigen.ShapeError as e:
        print("asking for 28:", e)
    return {"down": down, "up": up}


# %% [markdown]
# ## 5. ConvTranspose2d stamps the kernel; it is the adjoint of Conv2d
#
# A transposed convolution goes the other way: each input pixel **stamps** a copy of the
# kernel, scaled by its value, onto the output, stride pixels apart, and overlapping stamps
# add up: below, two lit pixels give two copies of the kernel 1..9, overlapping in one column.
#
# It is the *adjoint* (transpose) of the convolution with the same weight: for every $x$ and
# $y$, $\langle \mathrm{conv}(x), y \rangle = \langle x, \mathrm{conv\_t}(y) \rangle$. That is
# why conv_transpose2d is exactly the gradient of conv2d with respect to its input (and
# conv2d the gradient of conv_transpose2d): minigen implements each as the other's backward.

# %%
def adjoint_demo(device: str, seed: int) -> dict:
    kernel = minigen.arange(1.0, 10.0, device=device).reshape(1, 1, 3, 3)
    two_pixels = np.zeros((1, 1, 3, 3), dtype=np.float32)
    two_pixels[0, 0, 1, 1:] = 1.0  # two neighbours lit: their stamps overlap in one column
    stamp = F.conv_transpose2d(minigen.tensor(two_pixels, device=device), kernel, stride=2)
    stamp = stamp.numpy()[0, 0]
    print("input:\n", two_pixels[0, 0], "\ntransposed conv, kernel 1..9, stride 2:\n", stamp)

    minigen.manual_seed(seed)
    f64 = minigen.float64
    w = minigen.randn(64, 1, 4, 4, dtype=f64, device=device)  # the DCGAN's first layer
    x = minigen.randn(2, 1, 28, 28, dtype=f64, device=device, requires_grad=True)
    y = minigen.randn(2, 64, 14, 14, dtype=f64, device=device)
    lhs = (F.conv2d(x, w, stride=2, padding=1) * y).sum()
    rhs = (x * F.conv_transpose2d(y, w, stride=2, padding=1)).sum()
    lhs.backward()  # d<conv(x), y>/dx = conv_t(y)
    grad_gap = float((x.grad - F.conv_transpose2d(y, w, stride=2, padding=1)).abs().max())
    print(f"<conv(x), y> = {lhs.item():.10f}\n<x, conv_t(y)> = {rhs.item():.10f}")
    print(f"max |d<conv(x), y>/dx - conv_t(y)| = {grad_gap:.1e}")
    return {"lhs": lhs.item(), "rhs": rhs.item(), "grad_gap": grad_gap, "stamp": stamp}


# %% [markdown]
# ### Exercise 7: conv_transpose2d, conv2d's adjoint
#
# `ConvTranspose2d.forward` and `.backward` in `ws/minigen/ops/conv.py`, with exercise 6's
# helpers. x is (N, C_in, H, W), weight (C_in, C_out, kH, kW) (PyTorch's layout: the input's
# channels first), bias (C_out,) or `None`. Think of the conv2d with this weight from C_out
# channels to C_in whose *output* grid is x's, (H, W). With $W_2$ the weight as
# (C_in, C_out*kH*kW) and $X$ = `_columns(x)`:
#
# - forward is that conv2d's input-gradient, with x in the place of `grad_out`: the columns
#   $W_2^\top X$, added into pixels by `col2im`, into a (C_out, H_out + 2p, W_out + 2p, N)
#   array, (H_out, W_out) being `geometry.conv_transpose2d_output_size(grid, kernel, stride,
#   padding, output_padding, dilation)`; then the bias on each channel, and the padding cut
#   off by `_batch_first`.
# - backward is that conv2d's forward, run on `grad_out`: cols = `im2col` of `grad_out`,
#   padded by `_padded_batch_last`. x's gradient is $W_2\,\mathrm{cols}$, as an image on
#   x's grid; the weight's is $X\,\mathrm{cols}^\top$, in the weight's shape; the bias's is
#   `grad_out` summed over N, H and W.
#
# The check compares the forward with stamping, as above, and tests
# $\langle \mathrm{conv\_t}(x), y \rangle = \langle x, \mathrm{conv}(y) \rangle$. It uses no
# other exercise: `python -m minigen exercises check 7 --workspace ws`.

# %% [markdown]
# ## 6. Feature maps of a conv layer on a real digit
#
# A `Conv2d(1, 8, 3, padding=1)` layer: four filters set by hand as classic edge detectors
# (Sobel horizontal and vertical, a Laplacian, a blur), four left at PyTorch's random
# initialisation. Each output channel is one *feature map*. Red is positive, blue negative.

# %%
HAND_FILTERS = {
    "vertical edges": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "horizontal edges": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    "Laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "blur": [[1 / 9] * 3] * 3,
}


def a_digit(label: int = 7) -> np.ndarray:
    """The first test image of ``label``, (1, 1, 28, 28) in [0, 1], from the bundled sample
    of real MNIST digits."""
    from minigen.data import MNIST

    test = MNIST(split="test", source="sample")
    index = int(np.flatnonzero(test.labels == label)[0])
    return test.images[index:index + 1]


def feature_maps(device: str, digit: np.ndarray) -> tuple[nn.Conv2d, np.ndarray]:
    conv = nn.Conv2d(1, 8, 3, padding=1, device=device)
    w = conv.weight.detach().numpy().copy()
    w[:4, 0] = np.array(list(HAND_FILTERS.values()), dtype=np.float32)
    conv.load_state_dict({"weight": w, "bias": np.zeros(8, dtype=np.float32)})
    with minigen.no_grad():
        maps = conv(minigen.tensor(digit, device=device))
    return conv, maps.numpy()[0]


def plot_feature_maps(digit: np.ndarray, conv: nn.Conv2d, maps: np.ndarray, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = list(HAND_FILTERS) + [f"random {i}" for i in range(1, 5)]
    kernels = conv.weight.detach().numpy()[:, 0]
    fig = Figure(figsize=(2.0 * 9, 4.4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 9)
    axes[0, 0].imshow(digit[0, 0], cmap="gray")
    axes[0, 0].set_title("input digit")
    axes[1, 0].axis("off")
    for i in range(8):
        k, m = kernels[i], maps[i]
        axes[0, i + 1].imshow(k, cmap="seismic", vmin=-np.abs(k).max(), vmax=np.abs(k).max())
        axes[0, i + 1].set_title(f"kernel: {names[i]}", fontsize=8)
        lim = max(float(np.abs(m).max()), 1e-6)
        axes[1, i + 1].imshow(m, cmap="seismic", vmin=-lim, vmax=lim)
        axes[1, i + 1].set_title("feature map", fontsize=8)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Conv2d(1, 8, kernel_size=3, padding=1) on an MNIST digit")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80, bbox_inches="tight")


# %%
def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description="Lesson 03: Linear, Conv2d, ConvTranspose2d")
    parser.add_argument("--epochs", type=int, default=1, help="unused: no training here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or strict")
    parser.add_argument("--out", default="runs/lesson03", help="folder for the figure")
    parser.add_argument("--quick", action="store_true", help="(already quick: seconds)")
    args = parser.parse_args(argv)
    minigen.manual_seed(args.seed)

    linear_gap = linear_demo(args.device)
    print(f"Linear vs x @ W.T + b: max difference {linear_gap:.1e}\n")
    im2col_gap = im2col_demo(args.device)
    print(f"conv2d vs im2col GEMM vs loops: max difference {im2col_gap:.1e}\n")
    sizes = size_arithmetic()
    print()
    adjoint = adjoint_demo(args.device, args.seed)
    digit = a_digit(7)
    conv, maps = feature_maps(args.device, digit)
    figure = Path(args.out) / "conv_feature_maps.png"
    plot_feature_maps(digit, conv, maps, figure)
    print(f"\nfeature maps written to {figure}")
    return {"linear_gap": linear_gap, "im2col_gap": im2col_gap, **sizes, **adjoint,
            "maps": maps, "figure": str(figure)}


# %%
if __name__ == "__main__":
    # A script reads its command line. A notebook has none: it runs on DEVICE, quick when
    # MINIGEN_QUICK=1. Add options to the list to change a run, e.g. "--epochs", "10".
    notebook_args = ["--device", DEVICE] + (["--quick"] if QUICK else [])
    result = main(notebook_args if IN_NOTEBOOK else None)
