"""The report's three models and their losses.

>>> from minigen.models import gan, dcgan, VAE
>>> G, D = gan.Generator(), gan.Discriminator()
"""

from minigen.models import dcgan, gan, losses
from minigen.models.losses import discriminator_loss, generator_loss, vae_loss
from minigen.models.vae import VAE, VAEOutput

__all__ = ["VAE", "VAEOutput", "dcgan", "discriminator_loss", "gan", "generator_loss",
           "losses", "vae_loss"]
