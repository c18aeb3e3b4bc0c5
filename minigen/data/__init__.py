"""Data: datasets (your own :class:`Dataset`, :class:`TensorDataset`, MNIST and Fashion-MNIST
read from IDX files, checksummed downloads), the :class:`DataLoader` with PyTorch's arguments
and default collation, samplers, and Subset, random_split and ConcatDataset: the names of
``torch.utils.data`` (also importable as ``minigen.utils.data``).

>>> from minigen.data import MNIST, DataLoader
>>> train = MNIST()                        # full MNIST if found, else the bundled sample
>>> loader = DataLoader(train, batch_size=64, shuffle=True, seed=0)
>>> images, labels = next(iter(loader))    # (64, 1, 28, 28) float32, (64,) int64
"""

from minigen.data.collate import default_collate, default_convert
from minigen.data.dataset import Dataset, IterableDataset, TensorDataset
from minigen.data.datasets import MNIST, FashionMNIST, cache_dir
from minigen.data.download import RESOURCES, download_dataset, download_file
from minigen.data.idx import read_idx, read_images_labels, write_idx
from minigen.data.loader import DataLoader
from minigen.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
)
from minigen.data.subset import ConcatDataset, Subset, random_split

__all__ = [
    "MNIST", "FashionMNIST", "DataLoader", "Dataset", "IterableDataset", "TensorDataset",
    "default_collate", "default_convert", "Sampler", "SequentialSampler", "RandomSampler",
    "SubsetRandomSampler", "BatchSampler", "cache_dir", "RESOURCES", "download_dataset",
    "download_file", "read_idx", "read_images_labels", "write_idx", "Subset", "ConcatDataset",
    "random_split",
]
