"""The fully connected GAN of the report's Section 1.4 (its Figure 6).

The generator maps a latent vector z ~ N(0, I) (100 numbers by default) through Linear +
LeakyReLU layers to 784 pixels squashed into [-1, 1] by a tanh; the discriminator maps an image
through Linear + LeakyReLU (+ Dropout) layers to ONE LOGIT: the log-odds that the image is real.
It returns the logit, not D(x) = sigmoid(logit), so that the losses can use the stable
``binary_cross_entropy_with_logits`` (see :mod:`minigen.models.losses`).
"""

from __future__ import annotations

from collections.abc import Sequence

from minigen import nn
from minigen.tensor import Tensor

IMAGE_SHAPE = (1, 28, 28)


class Generator(nn.Module):
    """G: z (N, latent_dim) -> images (N, 1, 28, 28) in [-1, 1].

    Parameters
    ----------
    latent_dim : size of z (100 as in the report).
    hidden : widths of the hidden Linear layers, each followed by LeakyReLU(negative_slope).

    >>> Generator()(minigen.randn(16, 100)).shape
    (16, 1, 28, 28)
    """

    def __init__(self, latent_dim: int = 100, hidden: Sequence[int] = (256, 512, 1024),
                 negative_slope: float = 0.2):
        super().__init__()
        self.latent_dim = latent_dim
        layers: list[nn.Module] = []
        width = latent_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(negative_slope)]
            width = h
        layers += [nn.Linear(width, 28 * 28), nn.Tanh(), nn.Unflatten(1, IMAGE_SHAPE)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class Discriminator(nn.Module):
    """D: images (N, 1, 28, 28) (or (N, 784)) -> logits (N, 1); sigmoid(logit) = P(real).

    Parameters
    ----------
    hidden : widths of the hidden Linear layers, each followed by LeakyReLU(negative_slope)
        and, when ``dropout > 0``, Dropout(dropout): a noisier critic that cannot memorise
        a small training set as fast. Measured on the bundled sample (200 epochs, seed 0,
        ``benchmarks/quality.py``'s scores): with dropout 0.3 the FC GAN reaches distance 76.3
        and classifier score 7.02, its classes 5.6-13.4 %; without it, 121.5 and 6.59, and
        its classes 3.4-22.7 %: a partial mode collapse.
    """

    def __init__(self, hidden: Sequence[int] = (512, 256), negative_slope: float = 0.2,
                 dropout: float = 0.3):
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = 28 * 28
        for h in hidden:
            layers += [nn.Linear(width, h), nn.LeakyReLU(negative_slope)]
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
