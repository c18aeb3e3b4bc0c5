"""Training loops for the report's models: seeded, resumable, NaN-guarded, Ctrl-C safe.

>>> from minigen.train import train_gan, train_vae
>>> history = train_vae(VAE(), loader, test_loader, epochs=30, out="runs/vae")
>>> history = train_vae(VAE(), loader, test_loader, epochs=40, resume="runs/vae/checkpoint.npz")
"""

from minigen.train.gan import train_gan
from minigen.train.loop import CHECKPOINT, NonFiniteLossError, Run, TrainingInterrupted, fit
from minigen.train.vae import evaluate_vae, train_vae

__all__ = ["CHECKPOINT", "NonFiniteLossError", "Run", "TrainingInterrupted", "evaluate_vae",
           "fit", "train_gan", "train_vae"]
