"""The variational autoencoder of the report's Section 2, layer for layer as its Figure 12.

Encoder q(z|x):  x (784) -> fc1 (512) -> ReLU -> fc2 (256) -> ReLU -> fc31: mu (d)
                                                                    -> fc32: log sigma^2 (d)
Decoder p(x|z):  z (d) -> fc4 (256) -> ReLU -> fc5 (512) -> ReLU -> fc6: logits (784)

The decoder returns LOGITS; p = sigmoid(logits) is each pixel's Bernoulli mean, and the loss
computes the binary cross-entropy from the logits (stable for any logit).

Two posteriors, as the report describes them:

* ``posterior="diagonal"`` (Sections 2.1-2.4): q(z|x) = N(mu, diag(sigma^2)), sampled by the
  reparameterisation z = mu + sigma * eps, eps ~ N(0, I), with sigma = exp(0.5 * logvar).
* ``posterior="full"`` (the algorithm of its Figure 11): the encoder also outputs a d x d
  matrix L' (head ``fc33``), and L = L_mask * L' + diag(sigma) is lower triangular with
  positive diagonal, so q(z|x) = N(mu, L L^T) and z = L eps + mu. L_mask keeps the entries
  strictly below the diagonal; the d(d+1)/2 outputs of fc33 on and above it are masked away
  (their gradient is zero, so they never change).
"""

from __future__ import annotations

from dataclasses import dataclass

import minigen
from minigen import functional as F
from minigen import nn
from minigen.tensor import Tensor


@dataclass
class VAEOutput:
    """What one forward pass gives (shapes for a batch of N images and a d-D latent)."""

    logits: Tensor  # (N, 784) decoder output; sigmoid(logits) is the reconstruction
    mu: Tensor  # (N, d) posterior mean
    logvar: Tensor  # (N, d) log sigma^2, the diagonal of the posterior (or of L)
    z: Tensor  # (N, d) the reparameterised sample fed to the decoder
    eps: Tensor  # (N, d) the N(0, I) noise behind z
    L: Tensor | None = None  # (N, d, d) the full-covariance factor, posterior="full" only


def strictly_lower_mask(d: int, like: Tensor) -> Tensor:
    """(d, d) float tensor with ones strictly below the diagonal: the report's L_mask."""
    rows = [[1.0 if i > j else 0.0 for j in range(d)] for i in range(d)]
    return minigen.tensor(rows, dtype=like.dtype, device=like.device)


def identity(d: int, like: Tensor) -> Tensor:
    rows = [[1.0 if i == j else 0.0 for j in range(d)] for i in range(d)]
    return minigen.tensor(rows, dtype=like.dtype, device=like.device)


class VAE(nn.Module):
    """The report's VAE (784-512-256-(d+d) / d-256-512-784).

    Parameters
    ----------
    latent_dim : d, the size of z (2 in the report, which makes the latent space drawable).
    posterior : "diagonal" (default) or "full" (adds the head fc33: 256 -> d*d for L').

    >>> out = VAE()(minigen.rand(8, 1, 28, 28))
    >>> out.logits.shape, out.mu.shape
    ((8, 784), (8, 2))
    """

    def __init__(self, latent_dim: int = 2, posterior: str = "diagonal"):
        super().__init__()
        if posterior not in ("diagonal", "full"):
            raise ValueError(f"posterior must be 'diagonal' or 'full', got {posterior!r}")
        self.latent_dim, self.posterior = latent_dim, posterior
        self.fc1 = nn.Linear(784, 512)
        self.fc2 = nn.Linear(512, 256)
        self.fc31 = nn.Linear(256, latent_dim)  # mu
        self.fc32 = nn.Linear(256, latent_dim)  # log sigma^2
        if posterior == "full":
            self.fc33 = nn.Linear(256, latent_dim * latent_dim)  # L', masked below
        self.fc4 = nn.Linear(latent_dim, 256)
        self.fc5 = nn.Linear(256, 512)
        self.fc6 = nn.Linear(512, 784)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
        """x (N, 1, 28, 28) or (N, 784) -> mu (N, d), logvar (N, d), L' (N, d, d) or None."""
        h = F.relu(self.fc2(F.relu(self.fc1(x.reshape(x.shape[0], 784)))))
        mu, logvar = self.fc31(h), self.fc32(h)
        if self.posterior == "diagonal":
            return mu, logvar, None
        d = self.latent_dim
        return mu, logvar, self.fc33(h).reshape(x.shape[0], d, d)

    def decode(self, z: Tensor) -> Tensor:
        """z (N, d) -> logits (N, 784). Use :meth:`generate` for pixels in [0, 1]."""
        return self.fc6(F.relu(self.fc5(F.relu(self.fc4(z)))))

    def generate(self, z: Tensor) -> Tensor:
        """Decode z (N, d) to images (N, 1, 28, 28) with pixel means sigmoid(logits)."""
        return F.sigmoid(self.decode(z)).reshape(z.shape[0], 1, 28, 28)

    def forward(self, x: Tensor) -> VAEOutput:
        mu, logvar, L_prime = self.encode(x)
        sigma = (logvar * 0.5).exp()
        eps = minigen.randn(*mu.shape, dtype=mu.dtype, device=mu.device)
        if L_prime is None:
            z = mu + sigma * eps  # the reparameterisation trick
            return VAEOutput(self.decode(z), mu, logvar, z, eps)
        d = self.latent_dim
        # exercise 13: L = L_mask * L' + diag(sigma), and z = L eps + mu
        # L = L_mask (.) L' + diag(sigma): (N, d, d), lower triangular, diagonal sigma > 0
        L = L_prime * strictly_lower_mask(d, mu) + sigma.unsqueeze(-1) * identity(d, mu)
        z = (L * eps.unsqueeze(1)).sum(dim=-1) + mu  # z_i = sum_j L_ij eps_j + mu_i
        # end exercise 13
        return VAEOutput(self.decode(z), mu, logvar, z, eps, L)

    def reconstruct(self, x: Tensor) -> Tensor:
        """Decode the posterior mean: x (N, 1, 28, 28) -> reconstructions in [0, 1]."""
        mu, _, _ = self.encode(x)
        return self.generate(mu)
