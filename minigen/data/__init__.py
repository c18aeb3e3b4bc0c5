"""Data: the IDX reader, MNIST and Fashion-MNIST, checksummed downloads, the DataLoader, and
Subset, random_split and ConcatDataset (as ``torch.utils.data``'s).

>>> from minigen.data import MNIST, DataLoader
>>> train = MNIST()                        # full MNIST if found, else the bundled sample
>>> loader = DataLoader(train, batch_size=64, shuffle=True, seed=0)
>>> images, labels = next(iter(loader))    # (64, 1, 28, 28) float32, (64,) int64
"""

from minigen.data.datasets import MNIST, FashionMNIST, cache_dir
from minigen.data.download import RESOURCES, download_dataset, download_file
from minigen.data.idx import read_idx, read_images_labels, write_idx
from minigen.data.loader import DataLoader, TensorDataset
from minigen.data.subset import ConcatDataset, Subset, random_split

__all__ = [
    "MNIST", "FashionMNIST", "DataLoader", "TensorDataset", "cache_dir", "RESOURCES",
    "download_dataset", "download_file", "read_idx", "read_images_labels", "write_idx",
    "Subset", "ConcatDataset", "random_split",
]
