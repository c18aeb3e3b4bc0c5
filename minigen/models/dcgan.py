"""The convolutional GAN (DCGAN) of the report's Section 1.3 (its Figure 3).

Generator: z -> Linear -> BatchNorm1d -> ReLU -> (128, 7, 7)
             -> ConvTranspose2d(128, 64, 4, 2, 1) -> BatchNorm2d -> ReLU: (64, 14, 14)
             -> ConvTranspose2d(64, 1, 4, 2, 1) -> Tanh: (1, 28, 28)
Discriminator, its mirror image:
  (1, 28, 28) -> Conv2d(1, 64, 4, 2, 1) -> LeakyReLU(0.2) [-> Dropout]: (64, 14, 14)
              -> Conv2d(64, 128, 4, 2, 1) [-> BatchNorm2d] -> LeakyReLU(0.2) [-> Dropout]
              -> Flatten -> Linear(128*7*7, 1): one logit.

Each stride-2, kernel-4, padding-1 layer halves (Conv2d) or doubles (ConvTranspose2d) the side:
out = (in - 1) * 2 - 2 * 1 + 4 = 2 * in for the transposed one, (in + 2 - 4) // 2 + 1 = in / 2
for the other.

Weights start from N(0, 0.02) and BatchNorm scales from N(1, 0.02), as in the DCGAN paper.

The textbook discriminator (BatchNorm after its second convolution, the default here) learns
fast. On a small training set (the bundled 4,000 digits) it can win the game outright when told
that real images are certainly real: measured in PyTorch on this network, its loss falls to
~0.16 and the samples stop improving. In minigen's seed-0 run its loss dives to 0.15 in the
second epoch, D(G(z)) to 6 %, and only then does G claw its way back. One-sided label
smoothing, training D towards 0.9 instead of 1 for real images (``train_gan(...,
real_label=0.9)``, what ``python -m minigen train dcgan`` does), keeps D from becoming certain:
its loss stays near 0.5-0.7 from the start. Dropout instead of BatchNorm
(``Discriminator(dropout=0.3, batch_norm=False)``) also stops D from winning, but on the
sample it weakens D: the game settles near chance (D(x) ~ 0.55) and the samples are still
strokes after 20 epochs. It is the slower start, not the worse end: after 100 epochs it is
ahead of the smoothed BatchNorm one on every score of ``benchmarks/quality.py`` (medians of 3
seeds: Fréchet distance 96 against 116, classifier score 6.63 against 6.27, rarest class
7.3 % against 2.9 %). Lesson 05 trains all three.
"""

from __future__ import annotations

from minigen import nn
from minigen.tensor import Tensor


def dcgan_init_(module: nn.Module) -> nn.Module:
    """The DCGAN paper's initialisation: conv and linear weights N(0, 0.02), biases 0,
    BatchNorm scales N(1, 0.02) and shifts 0. Returns ``module``."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return module


class Generator(nn.Module):
    """G: z (N, latent_dim) -> images (N, 1, 28, 28) in [-1, 1].

    ``channels`` is the width of the 7x7 stage (128 in the report); the 14x14 stage has half.

    >>> Generator()(minigen.randn(16, 100)).shape
    (16, 1, 28, 28)
    """

    def __init__(self, latent_dim: int = 100, channels: int = 128):
        super().__init__()
        self.latent_dim = latent_dim
        c = channels
        self.net = nn.Sequential(
            nn.Linear(latent_dim, c * 7 * 7),
            nn.BatchNorm1d(c * 7 * 7),
            nn.ReLU(),
            nn.Unflatten(1, (c, 7, 7)),
            nn.ConvTranspose2d(c, c // 2, 4, stride=2, padding=1),  # 7x7 -> 14x14
            nn.BatchNorm2d(c // 2),
            nn.ReLU(),
            nn.ConvTranspose2d(c // 2, 1, 4, stride=2, padding=1),  # 14x14 -> 28x28
            nn.Tanh(),
        )
        dcgan_init_(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class Discriminator(nn.Module):
    """D: images (N, 1, 28, 28) -> logits (N, 1).

    Parameters
    ----------
    channels : width of the 7x7 stage (the 14x14 stage has half).
    dropout : probability of a Dropout after each LeakyReLU (0, the default, for none).
    batch_norm : BatchNorm2d after the second convolution (the textbook DCGAN, the default;
        train it with ``real_label=0.9`` on a small data set: see the module docstring).
    """

    def __init__(self, channels: int = 128, dropout: float = 0.0, batch_norm: bool = True):
        super().__init__()
        c = channels
        layers: list[nn.Module] = [nn.Conv2d(1, c // 2, 4, stride=2, padding=1),  # -> 14x14
                                   nn.LeakyReLU(0.2)]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Conv2d(c // 2, c, 4, stride=2, padding=1))  # -> 7x7
        if batch_norm:
            layers.append(nn.BatchNorm2d(c))
        layers.append(nn.LeakyReLU(0.2))
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers += [nn.Flatten(), nn.Linear(c * 7 * 7, 1)]
        self.net = nn.Sequential(*layers)
        dcgan_init_(self)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)
