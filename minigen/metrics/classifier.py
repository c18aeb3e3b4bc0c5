"""The digit classifier that the scores look through, built and trained with minigen itself.

FID looks at images through Inception-v3, a network trained on ImageNet photographs; for 28x28
digits we train our own, small one, LeNet's layout:

    x (1, 28, 28) -> Conv2d(1, 32, 5) -> ReLU -> 2x2 max pool: (32, 12, 12)
                  -> Conv2d(32, 64, 5) -> ReLU -> 2x2 max pool: (64, 4, 4)
                  -> Flatten -> Linear(1024, 128) -> ReLU: the 128 FEATURES
                  -> Dropout -> Linear(128, 10): the 10 LOGITS

(``pool=False`` swaps the pooling for stride-2 convolutions, 28 -> 14 -> 7: about as fast, but on
the 4,000-digit sample it reached 97.2 % against the pooled network's 97.8 %.) The 128 features
feed the Fréchet distance; the softmax of the logits, p(y|x), feeds the classifier score and
the class histogram. A classifier that cannot tell the digits apart would make every score
meaningless, so its test accuracy travels with it (``model.meta["test_accuracy"]``) and is
printed next to every score.

Shipped: weights trained on the bundled sample (4,000 training digits), in
``minigen/metrics/weights/classifier_mnist_sample.npz``. Retrain (on full MNIST or
Fashion-MNIST when you have them) with one command:

    python -m minigen.metrics train-classifier --dataset fashion-mnist
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np  # only for the host-side results of predict (float64, see scores.py)
from tqdm import tqdm

import minigen
from minigen import backend, nn, optim
from minigen import functional as F
from minigen.data import MNIST, DataLoader, FashionMNIST, cache_dir
from minigen.errors import CheckpointError
from minigen.tensor import Tensor

SHIPPED_WEIGHTS = Path(__file__).resolve().parent / "weights" / "classifier_mnist_sample.npz"
DATASETS = {"mnist": MNIST, "fashion-mnist": FashionMNIST}
FORMAT = "minigen-classifier"


class DigitClassifier(nn.Module):
    """The LeNet-like classifier: images (N, 1, 28, 28) in [0, 1] -> logits (N, 10).

    ``features(x)`` gives the (N, 128) penultimate activations used by the Fréchet distance.

    >>> DigitClassifier()(minigen.rand(8, 1, 28, 28)).shape
    (8, 10)
    """

    feature_dim = 128

    def __init__(self, channels: tuple[int, int] = (32, 64), hidden: int = 128,
                 num_classes: int = 10, dropout: float = 0.5, pool: bool = True):
        super().__init__()
        c1, c2 = channels
        self.channels, self.hidden, self.num_classes = (c1, c2), hidden, num_classes
        self.pool = pool
        if pool:  # LeNet's layout: 28 -conv-> 24 -pool-> 12 -conv-> 8 -pool-> 4
            self.conv1, self.conv2 = nn.Conv2d(1, c1, 5), nn.Conv2d(c1, c2, 5)
            side = 4
        else:
            self.conv1 = nn.Conv2d(1, c1, 5, stride=2, padding=2)  # 28x28 -> 14x14
            self.conv2 = nn.Conv2d(c1, c2, 5, stride=2, padding=2)  # 14x14 -> 7x7
            side = 7
        self.fc1 = nn.Linear(c2 * side * side, hidden)
        self.dropout = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, num_classes)
        self.meta: dict[str, Any] = {}  # where the weights came from, and their accuracy

    def features(self, x: Tensor) -> Tensor:
        """(N, 1, 28, 28) -> (N, 128): the ReLU activations of the hidden layer."""
        h = F.relu(self.conv1(x))
        h = F.relu(self.conv2(F.max_pool2d(h, 2) if self.pool else h))
        h = F.max_pool2d(h, 2) if self.pool else h
        return F.relu(self.fc1(h.reshape(x.shape[0], -1)))

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(self.dropout(self.features(x)))


def random_shift(images: Tensor, max_shift: int, generator: backend.Generator) -> Tensor:
    """Move each image by its own random (dy, dx) in [-max_shift, max_shift], zero-filled.

    No loop over images: pad once, then for each of the (2s+1)^2 possible offsets take the
    shifted crop and keep it where an image drew that offset (a mask). (N, C, H, W) -> same.
    """
    if max_shift == 0:
        return images
    x, s = images.data, max_shift
    xp = backend.namespace(x)
    n, _, h, w = x.shape
    padded = backend.pad(x, ((0, 0), (0, 0), (s, s), (s, s)))
    # integer offsets 0..2s per image and axis, from uniforms on [0, 1)
    draws = xp.floor(generator.uniform((2, n), backend.dtype_of(x)) * (2 * s + 1))
    out = xp.zeros_like(x)
    for dy in range(2 * s + 1):
        for dx in range(2 * s + 1):
            chosen = xp.astype((draws[0, :] == dy) & (draws[1, :] == dx), x.dtype)
            out = out + chosen[:, None, None, None] * padded[:, :, dy:dy + h, dx:dx + w]
    return Tensor._make(out)


def predict(model: DigitClassifier, images: Any, batch_size: int = 500,
            value_range: tuple[float, float] = (0.0, 1.0)) -> tuple[Any, Any]:
    """Features (N, 128) and class probabilities (N, 10) of ``images`` as float64 NumPy arrays.

    ``images``: (N, 1, 28, 28) or (N, 784), a Tensor or an array, with pixels in
    ``value_range`` (use (-1, 1) for a GAN's tanh output); moved to the model's device and
    rescaled to the [0, 1] the classifier was trained on. Eval mode, no gradients, batched.
    """
    weight = model.fc2.weight
    data = images.data if isinstance(images, Tensor) else images
    x = Tensor._make(backend.to_device(data, weight.device))  # one explicit transfer
    if x.dtype != weight.dtype:
        x = x.to(weight.dtype)
    x = x.reshape(x.shape[0], 1, 28, 28)
    low, high = value_range
    if (low, high) != (0.0, 1.0):
        x = (x - low) / (high - low)
    was_training = model.training
    model.eval()
    features, probs = [], []
    with minigen.no_grad():
        for start in range(0, x.shape[0], batch_size):
            h = model.features(x[start:start + batch_size])
            features.append(backend.to_numpy(h.data))
            probs.append(backend.to_numpy(F.softmax(model.fc2(h), 1).data))
    model.train(was_training)
    return (np.concatenate(features).astype(np.float64),
            np.concatenate(probs).astype(np.float64))


def accuracy(model: DigitClassifier, images: Any, labels: Any, batch_size: int = 500) -> float:
    """The fraction of ``images`` whose most probable class is ``labels`` (host ints)."""
    _, probs = predict(model, images, batch_size)
    return float((probs.argmax(axis=1) == backend.to_numpy(labels)).mean())


def load_dataset(dataset: str, split: str, source: str = "auto", root: Any = None) -> Any:
    """The ``split`` of ``dataset`` ("mnist" or "fashion-mnist") in [0, 1]."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {dataset!r}")
    return DATASETS[dataset](root, split=split, source=source)


def train_classifier(dataset: str = "mnist", *, source: str = "auto", root: Any = None,
                     epochs: int = 20, batch_size: int = 64, lr: float = 1e-3,
                     weight_decay: float = 0.0, max_shift: int = 1, dropout: float = 0.5,
                     pool: bool = True, cosine: bool = True, seed: int = 0,
                     device: Any = "cpu", out: str | os.PathLike | None = None,
                     limit: int | None = None,
                     progress: bool = True) -> DigitClassifier:
    """Train a :class:`DigitClassifier` on the training split of ``dataset``.

    Adam (``lr``, decayed along a half cosine when ``cosine``; optional L2 ``weight_decay``),
    cross-entropy, dropout on the features and random shifts of up to ``max_shift`` pixels
    (the only augmentation: a shifted digit is still the same digit). ``limit``: use only the
    first ``limit`` training images (for quick runs).
    The final epoch's weights are kept (the test split is never used to choose anything).

    Returns the model in eval mode with ``model.meta``: the dataset, its source, train and test
    sizes, the settings, the training time and ``test_accuracy``. With ``out`` the weights and
    meta are saved there (:func:`save_classifier`).
    """
    minigen.manual_seed(seed)
    train = load_dataset(dataset, "train", source, root)
    test = load_dataset(dataset, "test", source, root)
    images, labels = train.images[:limit], train.labels[:limit]
    model = DigitClassifier(dropout=dropout, pool=pool).to(device)
    opt = optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    # lr * (1 + cos(pi t / T)) / 2 at epoch t: large steps first, fine ones at the end
    schedule = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs) if cosine else None
    loader = DataLoader((images, labels), batch_size=batch_size, shuffle=True, seed=seed,
                        device=device)
    shifts = backend.Generator(backend.device(device), seed + 1)
    started = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        total, count = 0.0, 0
        bar = tqdm(loader, desc=f"classifier epoch {epoch + 1}/{epochs}", disable=not progress,
                   dynamic_ncols=True)
        for x, y in bar:
            loss = F.cross_entropy(model(random_shift(x, max_shift, shifts)), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, count = total + loss.item() * x.shape[0], count + x.shape[0]
            bar.set_postfix(train_loss=f"{total / count:.4f}", refresh=False)
        if schedule is not None:
            schedule.step()
    model.eval()
    model.meta = {
        "dataset": dataset, "source": train.source, "folder": str(train.folder),
        "train_size": int(len(labels)), "test_size": len(test), "epochs": epochs,
        "batch_size": batch_size, "lr": lr,
        "weight_decay": weight_decay, "cosine": cosine, "max_shift": max_shift,
        "dropout": dropout, "pool": pool, "seed": seed,
        "train_seconds": round(time.perf_counter() - started, 1),
        "test_accuracy": accuracy(model, test.images, test.labels),
    }
    if progress:
        print(f"test accuracy {model.meta['test_accuracy']:.4f} on {len(test)} "
              f"{dataset} ({train.source}) test images", flush=True)
    if out is not None:
        save_classifier(model, out)
    return model


def save_classifier(model: DigitClassifier, path: str | os.PathLike) -> None:
    """Weights, architecture and meta in one ``.npz`` (``minigen.save``: no pickle)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    arch = {"channels": list(model.channels), "hidden": model.hidden,
            "num_classes": model.num_classes, "dropout": model.dropout.p, "pool": model.pool}
    minigen.save({"format": FORMAT, "arch": arch, "meta": model.meta,
                  "model": model.state_dict()}, path)


def default_weights(dataset: str) -> Path:
    """Where weights for ``dataset`` are looked for: a classifier you trained with
    ``python -m minigen.metrics train-classifier`` (in the user cache), else, for MNIST, the
    shipped one trained on the bundled sample."""
    trained = cache_dir("classifiers") / f"classifier_{dataset}.npz"
    if trained.is_file() or dataset != "mnist":
        return trained
    return SHIPPED_WEIGHTS


def load_classifier(dataset: str = "mnist", path: str | os.PathLike | None = None,
                    device: Any = "cpu") -> DigitClassifier:
    """The trained classifier for ``dataset``, in eval mode, with its ``meta``.

    ``path`` picks a weights file; otherwise :func:`default_weights` (the shipped sample
    classifier for MNIST unless you trained one on full MNIST).
    """
    path = Path(path) if path is not None else default_weights(dataset)
    if not path.is_file():
        raise CheckpointError(f"no classifier weights at {path}: train them with "
                              f"python -m minigen.metrics train-classifier --dataset {dataset}")
    saved = minigen.load(path, device=device)
    if not isinstance(saved, dict) or saved.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a minigen classifier file")
    arch = saved["arch"]
    model = DigitClassifier(tuple(arch["channels"]), arch["hidden"], arch["num_classes"],
                            arch["dropout"], arch["pool"]).to(device)
    model.load_state_dict(saved["model"])
    model.meta = dict(saved["meta"], weights=str(path))
    return model.eval()
