"""Training loops for the report's models: seeded, resumable, NaN-guarded, Ctrl-C safe.

>>> from minigen.data import MNIST, DataLoader
>>> from minigen.models import VAE
>>> from minigen.train import train_gan, train_vae
>>> loader = DataLoader(MNIST(split="train"), 128, shuffle=True, seed=0)
>>> test_loader = DataLoader(MNIST(split="test"), 128)
>>> history = train_vae(VAE(), loader, test_loader, epochs=30, out="runs/vae")  # doctest: +SKIP
>>> history = train_vae(VAE(), loader, test_loader, epochs=40,
...                     resume="runs/vae/checkpoint.npz")  # doctest: +SKIP
"""

from minigen.train.gan import train_gan
from minigen.train.run import CHECKPOINT, NonFiniteLossError, Run, TrainingInterrupted
from minigen.train.vae import evaluate_vae, train_vae

__all__ = ["CHECKPOINT", "NonFiniteLossError", "Run", "TrainingInterrupted", "evaluate_vae",
           "train_gan", "train_vae"]
