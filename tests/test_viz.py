"""Figures: the array helpers exactly, and every figure function writes a readable file."""

from __future__ import annotations

import gzip
import statistics
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

import minigen
from minigen import viz

SAMPLE = Path(__file__).resolve().parents[1] / "minigen" / "data" / "mnist_sample"
SHARED = Path("/work/shared/data/mnist-sample")


def _sample_digits(n: int) -> np.ndarray:
    """n real test digits in [0, 1] from the bundled sample (a random stand-in if absent)."""
    for folder in (SAMPLE, SHARED):
        f = folder / "t10k-images-idx3-ubyte.gz"
        if f.exists():
            raw = np.frombuffer(gzip.open(f).read(), np.uint8, offset=16)
            return raw.reshape(-1, 28, 28)[:n].astype(np.float32) / 255.0
    return np.random.default_rng(0).random((n, 28, 28), dtype=np.float32)


def test_to_uint8_rounds_the_value_range() -> None:
    x = np.array([[-1.0, 0.0, 1.0, 2.0]], np.float32).reshape(1, 2, 2)
    np.testing.assert_array_equal(viz.to_uint8(x, (-1, 1)), [[[0, 128], [255, 255]]])


def test_make_grid_places_each_image() -> None:
    x = _sample_digits(6)
    grid = viz.make_grid(x, nrow=3, padding=2)
    assert grid.shape == (2 * 30 + 2, 3 * 30 + 2)
    for i in range(6):
        r, c = divmod(i, 3)
        np.testing.assert_array_equal(grid[2 + 30 * r: 30 * r + 30, 2 + 30 * c: 30 * c + 30],
                                      x[i])
    assert np.all(grid[0] == 1.0)  # the padding colour


@pytest.mark.parametrize("shape", [(5, 784), (5, 28, 28), (5, 1, 28, 28)])
def test_make_grid_accepts_layouts_and_tensors(shape: tuple[int, ...]) -> None:
    x = np.linspace(-1, 1, int(np.prod(shape)), dtype=np.float32).reshape(shape)
    grid = viz.make_grid(minigen.tensor(x), nrow=5, padding=0, value_range=(-1, 1))
    assert grid.shape == (28, 140)
    np.testing.assert_allclose(grid, (x.reshape(5, 28, 28).transpose(1, 0, 2).reshape(28, 140)
                                      + 1) / 2, atol=1e-6)


def test_make_grid_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="square"):
        viz.make_grid(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="channel"):
        viz.make_grid(np.zeros((2, 3, 28, 28)))


def test_normal_quantile_grid_is_the_inverse_cdf() -> None:
    z = viz.normal_quantile_grid(10)
    assert z.shape == (100, 2)
    cdf = statistics.NormalDist().cdf
    first_row = z[:10, 0]
    np.testing.assert_allclose([cdf(v) for v in first_row], np.linspace(0.05, 0.95, 10),
                               atol=1e-6)
    np.testing.assert_allclose(first_row, -first_row[::-1], atol=1e-6)  # symmetric about 0
    assert np.all(np.diff(z[::10, 1]) < 0)  # z2 decreases going down the rows
    assert np.all(z[:10, 1] == z[0, 1])  # one z2 per row


def test_bilinear_codes_hit_the_corners_and_the_centre() -> None:
    corners = np.random.default_rng(1).normal(size=(4, 100)).astype(np.float32)
    codes = viz.bilinear_codes(corners, n=9).reshape(9, 9, 100)
    np.testing.assert_allclose(codes[0, 0], corners[0], atol=1e-6)
    np.testing.assert_allclose(codes[0, -1], corners[1], atol=1e-6)
    np.testing.assert_allclose(codes[-1, 0], corners[2], atol=1e-6)
    np.testing.assert_allclose(codes[-1, -1], corners[3], atol=1e-6)
    np.testing.assert_allclose(codes[4, 4], corners.mean(axis=0), atol=1e-5)
    with pytest.raises(ValueError):
        viz.bilinear_codes(corners[:3])


def _png(path: str) -> np.ndarray:
    image = mpimg.imread(path)
    assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50
    assert image[..., :3].std() > 0.05  # something was drawn
    return image


def test_every_figure_writes_a_png(tmp_path: Path) -> None:
    x = _sample_digits(25)
    _png(viz.save_image_grid(x, tmp_path / "a" / "grid.png", title="Epoch 1"))
    _png(viz.save_image_grid(x * 2 - 1, tmp_path / "tanh.png", value_range=(-1, 1)))
    _png(viz.save_reconstructions(x, x[::-1], tmp_path / "recon.png"))
    _png(viz.plot_gan_losses([1.3, 1.1], [0.7, 0.9], tmp_path / "gan.png"))
    _png(viz.plot_vae_losses([200.0, 170.0], [190.0, 175.0], tmp_path / "vae.png"))
    _png(viz.plot_curves({"a": [1.0, 0.5, 0.2], "b": [1.0, 0.9]}, tmp_path / "curves.png"))
    codes = np.random.default_rng(0).normal(size=(50, 2))
    _png(viz.plot_latent_scatter(codes, np.arange(50) % 10, tmp_path / "scatter.png"))
    with pytest.raises(ValueError, match="2-D"):
        viz.plot_latent_scatter(np.zeros((5, 3)), np.zeros(5), tmp_path / "no.png")


def test_gif_has_one_frame_per_epoch(tmp_path: Path) -> None:
    from PIL import Image

    x = _sample_digits(48)
    path = viz.save_gif([x[:16], x[16:32], x[32:]], tmp_path / "epochs.gif",
                        titles=["Epoch 1", "Epoch 2", "Epoch 3"])
    with Image.open(path) as gif:
        assert gif.n_frames == 3
    with pytest.raises(ValueError):
        viz.save_gif([], tmp_path / "empty.gif")


@pytest.mark.parametrize("epochs", [1, 2, 30])
def test_epoch_axes_are_labelled_with_whole_epochs(tmp_path: Path, monkeypatch, epochs) -> None:
    """A one-epoch run (every --quick) once got ticks 0.95, 1.0, 1.05 around its point."""
    ticks = []
    save = viz._save

    def keep_ticks(fig, path, dpi=100):
        fig.canvas.draw()
        ax = fig.axes[0]
        lo, hi = ax.get_xlim()
        ticks.extend(t for t in ax.get_xticks() if lo <= t <= hi)
        return save(fig, path, dpi)

    monkeypatch.setattr(viz, "_save", keep_ticks)
    viz.plot_gan_losses([1.0] * epochs, [2.0] * epochs, tmp_path / "losses.png")
    assert ticks and all(float(t).is_integer() for t in ticks), ticks


def test_the_legend_sits_below_the_axes(tmp_path: Path, monkeypatch) -> None:
    """With one epoch the three points fill the plot; a legend inside covered one of them."""
    boxes = []
    save = viz._save

    def keep_boxes(fig, path, dpi=100):
        fig.canvas.draw()
        ax = fig.axes[0]
        boxes.append((ax.get_legend().get_window_extent(), ax.get_window_extent()))
        return save(fig, path, dpi)

    monkeypatch.setattr(viz, "_save", keep_boxes)
    viz.plot_curves({"a": [0.7], "b": [0.5], "c": [1.1]}, tmp_path / "curves.png")
    viz.plot_gan_losses([1.0, 1.2], [2.0, 1.5], tmp_path / "losses.png")
    assert len(boxes) == 2
    for legend, axes in boxes:
        assert legend.y1 <= axes.y0, (legend, axes)


def test_latent_scatter_names_the_classes(tmp_path: Path, monkeypatch) -> None:
    """A Fashion-MNIST VAE's scatter once said 'digit 0-9' on its colour bar."""
    bars = []
    save = viz._save

    def keep_bar(fig, path, dpi=100):
        fig.canvas.draw()
        bar = fig.axes[1]  # the colour bar's axes
        bars.append((bar.get_ylabel(), [t.get_text() for t in bar.get_yticklabels()]))
        return save(fig, path, dpi)

    monkeypatch.setattr(viz, "_save", keep_bar)
    codes, labels = np.random.default_rng(0).normal(size=(50, 2)), np.arange(50) % 10
    names = tuple(f"class {k}" for k in range(10))
    viz.plot_latent_scatter(codes, labels, tmp_path / "digits.png")
    viz.plot_latent_scatter(codes, labels, tmp_path / "clothes.png", classes=names)
    assert bars[0][0] == "digit" and bars[0][1] == [str(k) for k in range(10)]
    assert bars[1] == ("class", list(names))
