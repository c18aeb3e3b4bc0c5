"""Figures for the 1-D GAN toys of :mod:`minigen.toy` (lesson 03b).

A *snapshot* is a dict of arrays on one grid ``x``: ``p_g`` (the generator's density),
``D`` (the trained discriminator's output) and ``D_star`` (the analytic optimum for that
generator), plus the training ``step``. Every function draws with matplotlib's Agg backend,
saves a PNG and returns its path, as :mod:`minigen.viz` does.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np  # figures are drawn on the host
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from minigen import toy


def _figure(figsize: tuple[float, float]) -> Figure:
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)  # the Agg backend, explicitly: no pyplot state, no window
    return fig


def _save(fig: Figure, path: str | os.PathLike, dpi: int = 80) -> str:
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    fig.clear()
    return path


def density_panel(ax, x: np.ndarray, p_data: np.ndarray, snap: dict, title: str,
                  legend: bool = True) -> None:
    """p_data (black) and p_g (orange) on ``ax``; D (blue) and D* (dashed) on a right-hand
    axis from 0 to 1. D* is drawn only where p_data + p_g > 0.01; elsewhere (shaded grey) no
    sample of either kind lands, D is not trained and D* is 0/0."""
    ax.plot(x, p_data, color="black", lw=1.5, label="$p_{data}$")
    ax.fill_between(x, snap["p_g"], color="tab:orange", alpha=0.5, label="$p_g$")
    ax.set_ylim(0, 1.15 * max(p_data.max(), min(snap["p_g"].max(), 3.0)))
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("x")
    ax.set_ylabel("density", fontsize=8)
    empty = p_data + snap["p_g"] <= 0.01
    twin = ax.twinx()
    twin.fill_between(x, 0, 1, where=empty, color="grey", alpha=0.12, lw=0)
    twin.plot(x, snap["D"], color="tab:blue", lw=1.5, label="D(x), trained")
    twin.plot(x, np.where(empty, np.nan, snap["D_star"]), color="navy", lw=1.2, ls="--",
              label="D*(x), analytic")
    twin.set_ylim(-0.02, 1.02)
    twin.set_ylabel("D(x)", fontsize=8, color="tab:blue")
    if legend:
        handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
        twin.legend(handles=handles, fontsize=7, loc="upper center")


def plot_snapshots(x: np.ndarray, p_data: np.ndarray, snaps: Sequence[dict],
                   titles: Sequence[str], path: str | os.PathLike) -> str:
    """One :func:`density_panel` per snapshot, side by side."""
    fig = _figure((4.6 * len(snaps), 3.6))
    axes = fig.subplots(1, len(snaps), squeeze=False)[0]
    for i, (ax, snap, title) in enumerate(zip(axes, snaps, titles)):
        density_panel(ax, x, p_data, snap, title, legend=i == 0)
    return _save(fig, path)


def plot_jsd(history: dict, floor: float, one_mode: float, path: str | os.PathLike) -> str:
    """Left: JSD(p_data, p_g) per evaluation step, against 0 (the optimum), the estimator's
    ``floor``, log 2 and ``one_mode`` (the JSD of one bump reproduced exactly). Right: the
    minibatch value of the game with the trained D, against V(D*, G) = -log 4 + 2 JSD and
    the optimum -log 4. ``history`` has ``eval_steps``, ``jsd`` and ``values`` (one a step)."""
    fig = _figure((11, 3.6))
    left, right = fig.subplots(1, 2)
    steps, jsd = history["eval_steps"], np.asarray(history["jsd"])
    left.plot(steps, jsd, color="tab:red", label="JSD($p_{data}$, $p_g$)")
    left.axhline(0.0, color="black", lw=1, label="optimum: $p_g = p_{data}$, JSD = 0")
    left.axhline(floor, color="grey", ls=":", label="KDE floor: real samples vs $p_{data}$")
    left.axhline(math.log(2), color="grey", ls="--", lw=0.8, label="log 2: disjoint densities")
    left.axhline(one_mode, color="tab:purple", ls="-.", lw=0.8,
                 label="one bump reproduced exactly")
    values = np.asarray(history["values"])
    smooth = np.convolve(values, np.ones(25) / 25, mode="valid")
    right.plot(values, color="tab:blue", alpha=0.25, lw=0.5)
    right.plot(np.arange(len(smooth)) + 12, smooth, color="tab:blue",
               label="V(D, G): minibatch, trained D (moving mean of 25)")
    right.plot(steps, -math.log(4) + 2 * jsd, color="tab:red",
               label="V(D*, G) = -log 4 + 2 JSD, on the grid")
    right.axhline(-math.log(4), color="black", lw=1, label="-log 4: the value at the optimum")
    for ax in (left, right):
        ax.set_xlabel("step")
        ax.legend(fontsize=7)
    return _save(fig, path)


def plot_generator_losses(curves: dict, observed: np.ndarray, path: str | os.PathLike) -> str:
    """Left: both generator losses against D(G(z)). Right: |d loss / d logit| of each
    (``curves``: ``d``, ``saturating``, ``non-saturating``), with the band that holds 90 %
    of the ``observed`` values of D(G(z))."""
    fig = _figure((11, 3.6))
    left, right = fig.subplots(1, 2)
    d = np.linspace(0.001, 0.999, 500)
    left.plot(d, np.log1p(-d), label="saturating: log(1 - D(G(z)))  (the minimax V)")
    left.plot(d, -np.log(d), label="non-saturating: -log D(G(z))")
    left.set_ylabel("generator loss (descended)")
    left.set_ylim(-5, 5)
    low, high = np.quantile(observed, [0.05, 0.95])
    right.axvspan(low, high, color="grey", alpha=0.3,
                  label="D(G(z)) at the start (90 % of samples)")
    right.loglog(curves["d"], curves["saturating"], label="saturating: |d/ds| = D")
    right.loglog(curves["d"], curves["non-saturating"], label="non-saturating: |d/ds| = 1 - D")
    right.set_ylabel("|d loss / d logit s|, by autograd")
    for ax in (left, right):
        ax.set_xlabel("D(G(z))")
        ax.legend(fontsize=7, loc="upper right" if ax is left else "lower right")
    return _save(fig, path)


def plot_collapse(x: np.ndarray, p_data: np.ndarray, runs: dict, modes: Sequence[float],
                  landscape: tuple, ml_point: tuple[float, float],
                  path: str | os.PathLike) -> str:
    """Top: the final snapshot of each run (``runs``: title -> history with ``final``,
    ``masses`` and ``eval_steps``). Bottom left: the fraction of samples near each mode per
    step. Bottom right: ``landscape`` = (mus, sigmas, JSD table) for a Gaussian generator,
    its minimum starred and the maximum-likelihood Gaussian ``ml_point`` = (mu, sigma)."""
    fig = _figure((11, 7))
    axes = fig.subplots(2, 2)
    for i, (ax, (title, h)) in enumerate(zip(axes[0], runs.items())):
        density_panel(ax, x, p_data, h["final"], title, legend=i == 0)
    ax = axes[1, 0]
    for (title, h), color in zip(runs.items(), ("tab:red", "tab:green", "tab:blue")):
        masses = np.asarray(h["masses"])
        for k, (mode, style) in enumerate(zip(modes, ("-", "--", ":"))):
            ax.plot(h["eval_steps"], masses[:, k], color=color, ls=style,
                    label=f"{title.split(' ')[0]}: bump at {mode:+g}")
    ax.set_xlabel("step")
    ax.set_ylabel("fraction of samples within 3 std")
    ax.legend(fontsize=7)
    mus, sigmas, table = landscape
    ax = axes[1, 1]
    image = ax.contourf(mus, sigmas, table, levels=20, cmap="viridis")
    fig.colorbar(image, ax=ax, label="JSD($p_{data}$, N($\\mu, \\sigma^2$))")
    i, j = np.unravel_index(np.argmin(table), table.shape)
    ax.plot(mus[j], sigmas[i], "r*", ms=12, label=f"least JSD ({table[i, j]:.3f}): one bump")
    ax.plot(*ml_point, "wo", label="maximum likelihood: over both")
    ax.set_xlabel("$\\mu$")
    ax.set_ylabel("$\\sigma$")
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title("the theory, for a Gaussian generator", fontsize=9)
    return _save(fig, path)


def jsd_titles(x: np.ndarray, p_data: np.ndarray, snaps: Sequence[dict]) -> list[str]:
    """'step N: JSD = j' for each snapshot."""
    return [f"step {s['step']}: JSD = {toy.jsd(p_data, s['p_g'], x):.3f}" for s in snaps]
