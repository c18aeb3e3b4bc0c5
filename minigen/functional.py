"""``import minigen.functional as F``: the functions a model is written with, from
:mod:`minigen.ops`, and the reparameterisation trick. (More of PyTorch's, ``F.gelu``,
``F.cross_entropy``, ``F.pad``..., are found here too, in minigen.extras.)

>>> logits = minigen.tensor([[2.0], [-1.0]])           # D's output for two images, (N, 1)
>>> labels = minigen.tensor([[1.0], [0.0]])            # real, fake: the same shape
>>> round(F.binary_cross_entropy_with_logits(logits, labels).item(), 4)
0.2201
>>> mu, logvar = minigen.zeros(3, 2), minigen.zeros(3, 2)
>>> F.reparameterize(mu, logvar).shape, F.gaussian_kl(mu, logvar).item()   # KL at the prior
((3, 2), 0.0)
"""

from __future__ import annotations

from typing import Any

from minigen import lazy
from minigen.creation import randn
from minigen.ops.activations import leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from minigen.ops.conv import conv2d, conv_transpose2d
from minigen.ops.linalg import linear
from minigen.ops.losses import binary_cross_entropy_with_logits, gaussian_kl, mse_loss
from minigen.ops.normalization import batch_norm, dropout
from minigen.tensor import Tensor

__all__ = [
    "batch_norm", "binary_cross_entropy_with_logits", "conv2d", "conv_transpose2d", "dropout",
    "gaussian_kl", "leaky_relu", "linear", "log_softmax", "mse_loss", "relu", "reparameterize",
    "sigmoid", "softmax", "tanh",
]


def reparameterize(mu: Tensor, logvar: Tensor) -> Tensor:
    """A sample z = mu + exp(0.5 * logvar) * eps, eps ~ N(0, I), differentiable in mu and
    logvar (the reparameterisation trick). Noise comes from the seeded generator."""
    # exercise 12: reparameterize, z = mu + sigma * eps
    eps = randn(*mu.shape, dtype=mu.dtype, device=mu.device)
    return mu + (logvar * 0.5).exp() * eps
    # end exercise 12


def __getattr__(name: str) -> Any:
    return lazy.find(__name__, name)  # a submodule, or an extra: see minigen/lazy.py
