"""``import minigen.functional as F``: the functions a model is written with.

Activations and losses re-exported from :mod:`minigen.ops`, plus thin compositions for the
report's models: the Gaussian KL divergence and the reparameterisation trick.
"""

from __future__ import annotations

from minigen.ops import (  # noqa: F401  (re-exported)
    batch_norm,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    conv2d,
    conv_transpose2d,
    dropout,
    leaky_relu,
    linear,
    log_sigmoid,
    log_softmax,
    mse_loss,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from minigen.tensor import Tensor, randn


def gaussian_kl(mu: Tensor, logvar: Tensor, reduction: str = "sum") -> Tensor:
    """KL( N(mu, diag(exp(logvar))) || N(0, I) ), summed over the latent dimensions.

    Closed form: 0.5 * sum(mu^2 + sigma^2 - log sigma^2 - 1). Returns one value per row
    (``reduction="none"``), their sum, or their mean. It is >= 0, and 0 exactly at the prior.
    """
    per_element = (mu * mu + logvar.exp() - logvar - 1.0) * 0.5
    per_row = per_element.sum(dim=-1)
    if reduction == "none":
        return per_row
    return per_row.sum() if reduction == "sum" else per_row.mean()


def reparameterize(mu: Tensor, logvar: Tensor) -> Tensor:
    """A sample z = mu + exp(0.5 * logvar) * eps, eps ~ N(0, I), differentiable in mu and
    logvar (the reparameterisation trick). Noise comes from the seeded generator."""
    eps = randn(*mu.shape, dtype=mu.dtype, device=mu.device)
    return mu + (logvar * 0.5).exp() * eps
