"""The DataLoader's fast path: datasets that are whole arrays in memory.

minigen's own datasets (MNIST, FashionMNIST, :class:`TensorDataset`, a Tensor or array, and
Subsets and ConcatDatasets of these) hold their samples as arrays, so a batch needs no Python
loop over samples: it is one slice of each array (in order) or one ``take`` (shuffled, or a
Subset's rows), on arrays moved to the device once. The batches are the ones the dataset's
``__getitem__`` and :func:`default_collate` would give, only faster. A subclass that overrides
``__getitem__`` (a transform, say) takes the general path, through its ``__getitem__``.
"""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

from minigen import backend
from minigen.data.dataset import TensorDataset
from minigen.data.datasets import _IDXDataset
from minigen.data.subset import ConcatDataset, Subset
from minigen.tensor import Tensor


def _own(data: Any, cls: type) -> bool:
    """``data`` is a ``cls`` that still fetches its samples with ``cls.__getitem__``."""
    return isinstance(data, cls) and type(data).__getitem__ is cls.__getitem__


def _is_array(data: Any) -> bool:
    """A Tensor or a NumPy, CuPy or array-API array, of at least one dimension."""
    return ((isinstance(data, Tensor) or array_api_compat.is_array_api_obj(data))
            and data.ndim >= 1)


def as_dataset(data: Any) -> Any:
    """minigen's shorthand ``DataLoader((x, y))``, a tuple of arrays or Tensors with the same
    first dimension, as the ``TensorDataset(x, y)`` it stands for; anything else as it is (a
    list is a list of samples, as in PyTorch)."""
    if isinstance(data, tuple) and data and all(_is_array(a) for a in data):
        return TensorDataset(*data)
    return data


def arrays_of(data: Any) -> tuple[list[Any], bool, np.ndarray | None] | None:
    """The arrays a batch is cut from, whether the dataset is one array (batches are Tensors,
    not lists), and the rows of them that make the dataset (an int64 array; None for all);
    None when ``data`` is not made of whole arrays (the general path)."""
    if _own(data, Subset):
        inner = arrays_of(data.dataset)
        if inner is None:
            return None
        arrays, single, index = inner
        return arrays, single, data._index if index is None else index[data._index]
    if _own(data, ConcatDataset):
        parts = [arrays_of(d) for d in data.datasets]
        if None in parts or len({(len(p[0]), p[1]) for p in parts}) != 1:
            return None  # (datasets of different kinds: their samples decide, one by one)
        joined = [np.concatenate([_rows(p[0][k], p[2]) for p in parts])
                  for k in range(len(parts[0][0]))]
        return joined, parts[0][1], None  # (joined once, on the host)
    if _own(data, _IDXDataset):  # MNIST, FashionMNIST
        return [data.images, data.labels], False, None
    if _own(data, TensorDataset):
        return [_raw(t) for t in data.tensors], False, None
    if _is_array(data):
        return [_raw(data)], True, None
    return None


def _raw(a: Any) -> Any:
    return a.data if isinstance(a, Tensor) else a


def _rows(array: Any, index: np.ndarray | None) -> np.ndarray:
    host = backend.to_numpy(array)
    return host if index is None else np.take(host, index, axis=0)


class ArrayBatches:
    """Batches cut from arrays already on ``device`` (see the module docstring)."""

    def __init__(self, arrays: list[Any], single: bool, index: np.ndarray | None,
                 device: Any):
        # (device None: where the data is, the first array's device)
        self.device = backend.device_of(arrays[0]) if device is None else device
        self.arrays = [backend.to_device(a, self.device) for a in arrays]
        self.single = single
        self.index = None if index is None else backend.to_device(index, self.device)

    def batches(self, order: np.ndarray | None, bounds: Any) -> Any:
        """For each ``(start, stop)`` of ``bounds``, the batch of rows ``order[start:stop]``
        (``start:stop`` when ``order`` is None) of the dataset."""
        order = None if order is None else backend.to_device(order, self.device)  # once
        for start, stop in bounds:
            yield self.batch(start, stop, order)

    def batch(self, start: int, stop: int, order: Any) -> Any:
        if order is None and self.index is None:  # views; `...` for the array API
            batch = [a[start:stop, ...] for a in self.arrays]
        else:
            xp = backend.namespace(self.arrays[0])
            rows = None if order is None else order[start:stop]
            if self.index is not None:  # a Subset: its rows at those positions
                rows = (self.index[start:stop] if rows is None
                        else xp.take(self.index, rows, axis=0))
            batch = [xp.take(a, rows, axis=0) for a in self.arrays]  # one gather each
        tensors = [Tensor._make(a) for a in batch]
        return tensors[0] if self.single else tensors
