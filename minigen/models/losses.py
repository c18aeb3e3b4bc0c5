"""The losses of the report's three models, written for minimisation and averaged per image.

GAN (Section 1.2). With D(x) = sigmoid(logit), the discriminator ascends
    V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))],
i.e. it minimises the binary cross-entropy of "real" (label 1) on data and "fake" (label 0)
on samples. The generator of the minimax game descends E_z[log(1 - D(G(z)))] ("saturating":
when D confidently rejects early samples, D(G(z)) ~ 0 and this curve is flat, so G learns
nothing); the report's practical fix, used by default, maximises E_z[log D(G(z))] instead
("non-saturating"): the same fixed point, strong gradients early on.

VAE (Section 2.4). The loss is the negative ELBO of each image,
    BCE + KL = -sum_i [x_i log p_i + (1 - x_i) log(1 - p_i)]
               + 1/2 sum_j (sigma_j^2 + mu_j^2 - log sigma_j^2 - 1),
with p = sigmoid(logits). The report prints both lines with slips: its BCE has x' and x
swapped (the data x weighs the log of the reconstruction p, not the other way round) and
lacks the minus sign; its KL reads "sigma^2 + mu^2 + log(sigma) - 1", but the log term enters
with a minus sign, as log sigma^2, and the whole sum is halved.
"""

from __future__ import annotations

import math

from minigen import functional as F
from minigen.models.vae import VAEOutput
from minigen.tensor import Tensor


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor,
                       real_label: float = 1.0) -> Tensor:
    """-[mean log D(x) + mean log(1 - D(G(z)))]: the minimax loss D minimises.

    ``real_label`` < 1 is one-sided label smoothing (e.g. 0.9): D is never asked to be
    certain, which keeps its gradients for G informative.
    """
    real = F.binary_cross_entropy_with_logits(real_logits, real_label)
    fake = F.binary_cross_entropy_with_logits(fake_logits, 0.0)
    return real + fake


def generator_loss(fake_logits: Tensor, saturating: bool = False) -> Tensor:
    """The generator's loss on D's logits for its samples.

    Non-saturating (default): -mean log D(G(z)) = BCE(logits, 1).
    Saturating (the minimax original): mean log(1 - D(G(z))) = -BCE(logits, 0).
    """
    if saturating:
        return -F.binary_cross_entropy_with_logits(fake_logits, 0.0)
    return F.binary_cross_entropy_with_logits(fake_logits, 1.0)


def vae_loss(out: VAEOutput, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(loss, bce, kl), each averaged over the N images of ``x``; loss = bce + kl = -ELBO.

    Diagonal posterior: bce from one sample z and the closed-form KL. Full-covariance
    posterior: the single-sample ELBO of the report's Figure 11 (see
    :func:`full_covariance_terms`), reported as bce = -log p(x|z) and
    kl = log q(z|x) - log p(z), a one-sample estimate of the KL.
    """
    n = x.shape[0]
    target = x.reshape(n, 784)
    bce = F.binary_cross_entropy_with_logits(out.logits, target, reduction="sum") / n
    if out.L is None:
        kl = F.gaussian_kl(out.mu, out.logvar, reduction="sum") / n
    else:
        log_qz, log_pz = full_covariance_terms(out)
        kl = (log_qz - log_pz).sum() / n
    return bce + kl, bce, kl


def full_covariance_terms(out: VAEOutput) -> tuple[Tensor, Tensor]:
    """Per-image log q(z|x) and log p(z) (both (N,)) for z = L eps + mu.

    z is an invertible linear map of eps with Jacobian L, lower triangular with diagonal sigma,
    so log |det L| = sum_i log sigma_i and
        log q(z|x) = log N(eps; 0, I) - log |det L|
                   = -sum_i [eps_i^2 / 2 + log(2 pi) / 2 + log sigma_i].
    The report's Figure 11 writes log sigma_i INSIDE the 1/2 (...): that halves the Jacobian
    term, a slip. The prior term is log p(z) = -sum_i (z_i^2 + log 2 pi) / 2.
    """
    # exercise 13: full_covariance_terms, log q(z|x) and log p(z)
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    log_sigma = out.logvar * 0.5
    log_qz = -(out.eps * out.eps * 0.5 + half_log_2pi + log_sigma).sum(dim=-1)
    log_pz = -(out.z * out.z * 0.5 + half_log_2pi).sum(dim=-1)
    return log_qz, log_pz
    # end exercise 13
