"""Datasets as PyTorch's ``torch.utils.data`` has them: :class:`Dataset` (the base of your own,
map-style: ``dataset[i]`` and ``len(dataset)``), :class:`IterableDataset` (a stream of
samples) and :class:`TensorDataset` (arrays that share their first dimension).

A dataset of your own needs no base class: a :class:`~minigen.data.DataLoader` takes any
object with ``__getitem__`` and ``__len__``, as PyTorch's does.

>>> from minigen.data import Dataset, DataLoader
>>> class Squares(Dataset):
...     def __len__(self):
...         return 10
...     def __getitem__(self, i):           # one sample: (a float32 tensor (1,), an int)
...         return minigen.tensor([float(i)]), i * i
>>> x, y = next(iter(DataLoader(Squares(), batch_size=4)))
>>> x.shape, y
((4, 1), tensor([0, 1, 4, 9]))
"""

from __future__ import annotations

from typing import Any

from minigen.errors import ShapeError


class Dataset:
    """The base class of map-style datasets, as ``torch.utils.data.Dataset``.

    A subclass defines ``__getitem__(index)``, returning one sample (a Tensor, a NumPy array,
    a number, or a tuple, list or dict of them), and ``__len__``. ``a + b`` is
    ``ConcatDataset([a, b])``.
    """

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} is a Dataset: it must define "
                                  "__getitem__(self, index) (and __len__)")

    def __add__(self, other: Any) -> Any:
        from minigen.data.subset import ConcatDataset

        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """The base class of datasets that are a stream of samples, as PyTorch's: a subclass
    defines ``__iter__``. A DataLoader groups the samples into batches in the order they come
    (``shuffle``, ``sampler`` and ``batch_sampler`` do not apply, as in PyTorch)."""

    def __iter__(self) -> Any:
        raise NotImplementedError(f"{type(self).__name__} is an IterableDataset: it must "
                                  "define __iter__(self)")

    def __add__(self, other: Any) -> Any:
        raise TypeError("IterableDataset + IterableDataset (PyTorch's ChainDataset) is not in "
                        "minigen: write one IterableDataset whose __iter__ yields from both "
                        "(itertools.chain)")


class TensorDataset(Dataset):
    """Tensors (or arrays) that share their first dimension, as one dataset of samples, as
    PyTorch's ``TensorDataset``: ``dataset[i]`` is the tuple of each one's row i, and a
    :class:`DataLoader` batches them all (each batch with one array operation per tensor).

    >>> from minigen.data import TensorDataset, DataLoader
    >>> data = TensorDataset(minigen.randn(10, 3), minigen.arange(10))
    >>> len(data), [t.shape for t in data[0]]
    (10, [(3,), ()])
    >>> x, y = next(iter(DataLoader(data, batch_size=4)))
    >>> x.shape, y.shape
    ((4, 3), (4,))
    """

    def __init__(self, *tensors: Any):
        sizes = [t.shape[0] if len(getattr(t, "shape", ())) else None for t in tensors]
        if not tensors or None in sizes or len(set(sizes)) != 1:
            raise ShapeError("TensorDataset needs tensors with the same first dimension (the "
                             f"samples), got shapes "
                             f"{[tuple(getattr(t, 'shape', ())) for t in tensors]}")
        self.tensors = tensors

    def __len__(self) -> int:
        return int(self.tensors[0].shape[0])

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        return tuple(t[index] for t in self.tensors)
