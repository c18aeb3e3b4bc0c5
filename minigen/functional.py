"""``import minigen.functional as F``: the functions a model is written with.

Activations and losses (the Gaussian KL divergence and a classifier's cross-entropy among
them) re-exported from :mod:`minigen.ops`, plus the reparameterisation trick, a thin
composition.

>>> import minigen.functional as F
>>> logits = minigen.tensor([[2.0], [-1.0]])           # D's output for two images, (N, 1)
>>> labels = minigen.tensor([[1.0], [0.0]])            # real, fake: the same shape
>>> round(F.binary_cross_entropy_with_logits(logits, labels).item(), 4)
0.2201
>>> F.relu(minigen.tensor([-1.0, 2.0]))
tensor([0., 2.])
>>> mu, logvar = minigen.zeros(3, 2), minigen.zeros(3, 2)
>>> F.reparameterize(mu, logvar).shape, F.gaussian_kl(mu, logvar).item()   # KL at the prior
((3, 2), 0.0)
"""

from __future__ import annotations

from minigen.creation_random import randn
from minigen.ops import (  # noqa: F401  (re-exported)
    adaptive_avg_pool2d,
    avg_pool2d,
    batch_norm,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    conv2d,
    conv_transpose2d,
    cross_entropy,
    dropout,
    embedding,
    gaussian_kl,
    interpolate,
    leaky_relu,
    linear,
    log_sigmoid,
    log_softmax,
    max_pool2d,
    mse_loss,
    nll_loss,
    one_hot,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from minigen.ops.layer_norm import layer_norm  # noqa: F401  (re-exported)
from minigen.ops.padding import pad  # noqa: F401  (re-exported)
from minigen.ops.regression_losses import l1_loss, smooth_l1_loss  # noqa: F401
from minigen.ops.similarity import cosine_similarity, kl_div, normalize  # noqa: F401
from minigen.ops.smooth_activations import elu, gelu, silu  # noqa: F401  (re-exported)
from minigen.tensor import Tensor

__all__ = [
    "avg_pool2d", "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "conv2d", "conv_transpose2d", "cross_entropy", "dropout", "gaussian_kl", "leaky_relu",
    "linear", "log_sigmoid", "log_softmax", "logsigmoid", "max_pool2d", "mse_loss", "nll_loss",
    "one_hot", "relu", "reparameterize", "sigmoid", "softmax", "softplus", "tanh",
    "adaptive_avg_pool2d", "embedding", "interpolate", "pad",
    "elu", "gelu", "l1_loss", "layer_norm", "silu", "smooth_l1_loss",
    "cosine_similarity", "kl_div", "normalize",
]

logsigmoid = log_sigmoid  # PyTorch's spelling (torch.nn.functional.logsigmoid)


def reparameterize(mu: Tensor, logvar: Tensor) -> Tensor:
    """A sample z = mu + exp(0.5 * logvar) * eps, eps ~ N(0, I), differentiable in mu and
    logvar (the reparameterisation trick). Noise comes from the seeded generator."""
    eps = randn(*mu.shape, dtype=mu.dtype, device=mu.device)
    return mu + (logvar * 0.5).exp() * eps
