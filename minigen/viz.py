"""Figures: the autograd graph as Graphviz DOT text, and the report's matplotlib figures.

Every figure function takes NumPy arrays or Tensors (on any device: they are copied to the
host here), draws with matplotlib's non-interactive Agg backend, saves a PNG (or GIF) when
given a ``path``, closes the figure, and returns the path. The pure-array helpers
(:func:`make_grid`, :func:`normal_quantile_grid`, :func:`bilinear_codes`) return arrays, so
they can be tested without looking at a picture.

============================  ==================================================
report figure                 function
============================  ==================================================
4, 7 (GAN loss curves)        :func:`plot_gan_losses`
13 (VAE train/test loss)      :func:`plot_vae_losses`
5, 8, 15 (fixed-noise grid)   :func:`save_image_grid`, and :func:`save_gif`
9 (10x10 grid in latent)      :func:`normal_quantile_grid`, :func:`bilinear_codes`,
                              :func:`save_image_grid`
14 (test vs reconstruction)   :func:`save_reconstructions`
(new) 2-D latent scatter      :func:`plot_latent_scatter`
============================  ==================================================
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np  # figures are drawn on the host: device arrays are copied here first
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from minigen import backend
from minigen.tensor import Tensor


def to_dot(root: Tensor, name: str = "loss", params: dict[str, Tensor] | None = None) -> str:
    """The autograd graph that ``root.backward()`` would walk, as Graphviz DOT text.

    Boxes are tensors (leaves show their shape, and ``grad`` if they require one), ellipses the
    ops that made them; arrows point the way the forward pass went. ``params`` names leaves
    (``{"a": a, "b": b}`` or ``dict(model.named_parameters())``). Render with
    ``dot -Tpng graph.dot -o graph.png`` or paste into any online Graphviz viewer; minigen
    itself needs no Graphviz.
    """
    lines = ["digraph autograd {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    ids: dict[int, str] = {}
    names = {id(t): n for n, t in (params or {}).items()}

    def node_id(obj: object, label: str, shape: str) -> str:
        if id(obj) not in ids:
            ids[id(obj)] = f"n{len(ids)}"
            lines.append(f'  {ids[id(obj)]} [label="{label}", shape={shape}];')
        return ids[id(obj)]

    out = node_id(root, f"{name}\\n{root.shape}", "box")
    if root._ctx is None:
        lines.append("}")
        return "\n".join(lines)
    stack = [(root._ctx, out)]
    seen = set()
    while stack:  # iterative, like the backward pass itself
        ctx, child = stack.pop()
        op = node_id(ctx, ctx.name, "ellipse")
        lines.append(f"  {op} -> {child};")
        if id(ctx) in seen:
            continue
        seen.add(id(ctx))
        for parent, shape in zip(ctx.parents, ctx.input_shapes):
            if parent is None:
                continue
            if isinstance(parent, Tensor):  # a leaf
                label = names.get(id(parent), "leaf")
                leaf = node_id(parent, f"{label} {shape}\\nrequires_grad", "box")
                lines.append(f"  {leaf} -> {op};")
            else:
                stack.append((parent, op))
    lines.append("}")
    return "\n".join(dict.fromkeys(lines))  # drop repeated edges, keep order


# ------------------------------------------------------------------------- arrays


def to_host(x: Any) -> np.ndarray:
    """A NumPy copy of a Tensor or array from any device (figures are drawn on the host)."""
    if isinstance(x, Tensor):
        x = x.detach().data
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, (list, tuple, float, int)):
        return np.asarray(x)
    return backend.to_numpy(x)


def _as_images(images: Any, value_range: tuple[float, float]) -> np.ndarray:
    """(N, 784), (N, 28, 28) or (N, 1, 28, 28) in ``value_range`` -> (N, 28, 28) in [0, 1]."""
    x = to_host(images).astype(np.float32)
    if x.ndim == 2:  # flat vectors of a square image
        side = int(round(x.shape[1] ** 0.5))
        if side * side != x.shape[1]:
            raise ValueError(f"cannot make square images from rows of {x.shape[1]} pixels")
        x = x.reshape(-1, side, side)
    elif x.ndim == 4:
        if x.shape[1] != 1:
            raise ValueError(f"expected one channel (N, 1, H, W), got shape {x.shape}")
        x = x[:, 0]
    elif x.ndim != 3:
        raise ValueError(f"images must be (N, H*W), (N, H, W) or (N, 1, H, W); got {x.shape}")
    lo, hi = value_range
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0)


def to_uint8(images: Any, value_range: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """Images (N, ...) in ``value_range`` as uint8 0..255 (N, H, W): a compact copy to keep."""
    return np.round(_as_images(images, value_range) * 255.0).astype(np.uint8)


def make_grid(images: Any, nrow: int | None = None, padding: int = 2,
              value_range: tuple[float, float] = (0.0, 1.0), pad_value: float = 1.0
              ) -> np.ndarray:
    """Tile N grey images into one (H', W') array in [0, 1], ``nrow`` images per row.

    Parameters
    ----------
    images : (N, H*W), (N, H, W) or (N, 1, H, W) array or Tensor, values in ``value_range``
        (``(0, 1)`` for the VAE's sigmoid, ``(-1, 1)`` for the GANs' tanh).
    nrow : images per row; the square root of N rounded up when None.
    padding : pixels of ``pad_value`` between and around the images.

    Returns
    -------
    (rows * (H + padding) + padding, nrow * (W + padding) + padding) float32 array.
    """
    x = _as_images(images, value_range)
    n, h, w = x.shape
    nrow = nrow or int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / nrow))
    grid = np.full((rows * (h + padding) + padding, nrow * (w + padding) + padding), pad_value,
                   dtype=np.float32)
    for i in range(n):  # a loop over tiles, not pixels
        r, c = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + c * (w + padding)
        grid[top:top + h, left:left + w] = x[i]
    return grid


def normal_quantile_grid(n: int = 10, low: float = 0.05, high: float = 0.95) -> np.ndarray:
    """(n*n, 2) latent codes at evenly spaced quantiles of N(0, 1) on both axes.

    Evenly spaced probabilities p in [low, high] are mapped through the inverse normal CDF,
    z = Phi^-1(p), so each code is equally likely under the prior (they crowd near 0, where the
    prior's mass is). Row r, column c of the grid is the code (z[c], z[n-1-r]): z2 grows
    upwards, like the y axis of a plot.
    """
    inv_cdf = statistics.NormalDist().inv_cdf
    z = np.array([inv_cdf(p) for p in np.linspace(low, high, n)], dtype=np.float32)
    rows = [[(z[c], z[n - 1 - r]) for c in range(n)] for r in range(n)]
    return np.array(rows, dtype=np.float32).reshape(n * n, 2)


def bilinear_codes(corners: Any, n: int = 10) -> np.ndarray:
    """(n*n, d) codes interpolated bilinearly between four corner codes (4, d).

    Corners are top-left, top-right, bottom-left, bottom-right. For a 100-D GAN latent this is
    the report's "grid in latent" (Figure 9): a smooth walk between four random digits.
    """
    c = to_host(corners).astype(np.float32)
    if c.ndim != 2 or c.shape[0] != 4:
        raise ValueError(f"corners must be (4, d), got {c.shape}")
    t = np.linspace(0.0, 1.0, n, dtype=np.float32)
    u, v = t[None, :, None], t[:, None, None]  # u across columns, v down rows
    top = (1 - u) * c[0] + u * c[1]
    bottom = (1 - u) * c[2] + u * c[3]
    return ((1 - v) * top + v * bottom).reshape(n * n, -1)


# ------------------------------------------------------------------------- figures


def _figure(figsize: tuple[float, float]) -> Figure:
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)  # the Agg backend, explicitly: no pyplot state, no window
    return fig


def _marker_size(points: int) -> float:
    return 5.0 if points <= 20 else 2.0 if points <= 60 else 0.0  # dots only where they help


def _save(fig: Figure, path: str | os.PathLike, dpi: int = 100) -> str:
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    fig.clear()  # free the memory now (pyplot's close() is for figures pyplot made)
    return path


def save_image_grid(images: Any, path: str | os.PathLike, nrow: int | None = None,
                    title: str | None = None,
                    value_range: tuple[float, float] = (0.0, 1.0)) -> str:
    """Save N images as one grid PNG (the report's synthesis Figures 5, 8, 15 and the latent
    grid of Figure 9). See :func:`make_grid` for the accepted shapes."""
    grid = make_grid(images, nrow=nrow, value_range=value_range)
    scale = 5.0 / max(grid.shape)
    fig = _figure((grid.shape[1] * scale + 0.2, grid.shape[0] * scale + (0.5 if title else 0.2)))
    ax = fig.add_subplot()
    ax.imshow(grid, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return _save(fig, path)


def _save_epoch_plot(fig: Any, ax: Any, ylabel: str, title: str,
                     path: str | os.PathLike) -> str:
    """The finish every per-epoch curve shares: integer epochs, labels, grid, and a legend
    below the axes, where it can never hide a point (inside, "best" still covers one when the
    curves fill the plot, as they do with one or two epochs)."""
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    first, last = ax.dataLim.intervalx
    if last - first < 2:  # one or two epochs: autoscale would label 0.95, 1.0, 1.05 ...
        ax.set_xlim(first - 0.5, last + 0.5)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    labels = ax.get_legend_handles_labels()[1]
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=min(len(labels), 3),
              frameon=False, fontsize="small")
    return _save(fig, path)


def plot_gan_losses(d_losses: Sequence[float], g_losses: Sequence[float],
                    path: str | os.PathLike, title: str = "GAN training loss") -> str:
    """D loss, G loss and their sum per epoch (the report's Figures 4 and 7)."""
    d, g = np.asarray(d_losses, dtype=float), np.asarray(g_losses, dtype=float)
    epochs = np.arange(1, len(d) + 1)
    fig = _figure((6, 4))
    ax = fig.add_subplot()
    ms = _marker_size(len(d))
    ax.plot(epochs, d, "o-", ms=ms, label="D loss")
    ax.plot(epochs, g, "s-", ms=ms, label="G loss")
    ax.plot(epochs, d + g, "^-", ms=ms, label="D + G")
    return _save_epoch_plot(fig, ax, "mean loss per batch", title, path)


def plot_vae_losses(train_losses: Sequence[float], test_losses: Sequence[float],
                    path: str | os.PathLike, title: str = "VAE loss per image") -> str:
    """Training and test loss per epoch (the report's Figure 13)."""
    fig = _figure((6, 4))
    ax = fig.add_subplot()
    ms = _marker_size(len(train_losses))
    ax.plot(np.arange(1, len(train_losses) + 1), train_losses, "o-", ms=ms, label="train")
    ax.plot(np.arange(1, len(test_losses) + 1), test_losses, "s-", ms=ms, label="test")
    return _save_epoch_plot(fig, ax, "-ELBO per image (BCE + KL, nats)", title, path)


def plot_curves(curves: dict[str, Sequence[float]], path: str | os.PathLike,
                title: str = "", ylabel: str = "loss") -> str:
    """Several per-epoch curves on one plot, e.g. two runs' D losses side by side."""
    fig = _figure((6, 4))
    ax = fig.add_subplot()
    for label, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), values, "o-", ms=_marker_size(len(values)),
                label=label)
    return _save_epoch_plot(fig, ax, ylabel, title, path)


def save_reconstructions(images: Any, reconstructions: Any, path: str | os.PathLike,
                         nrow: int = 5, value_range: tuple[float, float] = (0.0, 1.0)) -> str:
    """Test images (left) beside their reconstructions (right): the report's Figure 14."""
    fig = _figure((8, 4.3))
    for k, (data, name) in enumerate(((images, "test images"),
                                      (reconstructions, "reconstructions"))):
        ax = fig.add_subplot(1, 2, k + 1)
        grid = make_grid(data, nrow=nrow, value_range=value_range)
        ax.imshow(grid, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_title(name)
        ax.set_axis_off()
    return _save(fig, path)


def plot_latent_scatter(codes: Any, labels: Any, path: str | os.PathLike,
                        title: str = "VAE latent means of the test set",
                        classes: Sequence[str] | None = None) -> str:
    """The 2-D latent code of every test image, coloured by its class: a digit, or one of
    ``classes`` (e.g. ``FashionMNIST.classes``), whose names then label the colour bar."""
    z, y = to_host(codes), to_host(labels).astype(int)
    if z.ndim != 2 or z.shape[1] != 2:
        raise ValueError(f"a scatter needs 2-D codes (N, 2), got {z.shape}")
    fig = _figure((6, 5.5))
    ax = fig.add_subplot()
    points = ax.scatter(z[:, 0], z[:, 1], c=y, cmap="tab10", vmin=-0.5, vmax=9.5, s=6)
    bar = fig.colorbar(points, ax=ax, ticks=range(10), label="digit" if classes is None
                       else "class")
    if classes is not None:
        bar.ax.set_yticklabels(classes)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    ax.set_title(title)
    return _save(fig, path)


def save_gif(frames: Sequence[Any], path: str | os.PathLike, titles: Sequence[str] | None = None,
             fps: float = 2.0, nrow: int | None = None,
             value_range: tuple[float, float] = (0.0, 1.0)) -> str:
    """Stitch one image batch per epoch into an animated GIF (matplotlib's PillowWriter).

    ``frames[k]`` is a batch of images (see :func:`make_grid`), e.g. the fixed-noise samples
    after epoch k + 1; ``titles[k]`` is printed above it ("Epoch 3").
    """
    from matplotlib.animation import PillowWriter  # Pillow comes with matplotlib

    if not frames:
        raise ValueError("save_gif needs at least one frame")
    grids = [make_grid(f, nrow=nrow, value_range=value_range) for f in frames]
    fig = _figure((4, 4.3))
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.88))  # the grid fills the frame, title above
    ax.set_axis_off()
    shown = ax.imshow(grids[0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    heading = ax.set_title("")
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    writer = PillowWriter(fps=fps)
    with writer.saving(fig, path, dpi=80):
        for k, grid in enumerate(grids):
            shown.set_data(grid)
            heading.set_text(titles[k] if titles else f"frame {k + 1}")
            writer.grab_frame()
    fig.clear()
    return path
