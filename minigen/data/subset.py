"""Parts and unions of datasets, as PyTorch's ``torch.utils.data``: :class:`Subset`,
:func:`random_split` (e.g. a validation set held out of the training set) and
:class:`ConcatDataset`.

A :class:`~minigen.data.DataLoader` batches them as fast as the datasets they are made of: it
gathers the arrays of the whole dataset at the subset's indices with one array operation per
batch, never a Python loop over samples.

>>> from minigen.data import MNIST, DataLoader, random_split
>>> train, val = random_split(MNIST(source="sample"), [0.9, 0.1])
>>> len(train), len(val)
(3600, 400)
>>> images, labels = next(iter(DataLoader(val, batch_size=64)))
"""

from __future__ import annotations

import bisect
import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigen import backend
from minigen.backend import Generator
from minigen.data.dataset import Dataset
from minigen.errors import DataError


def _as_indices(indices: Any) -> np.ndarray:
    """``indices`` (a list, range, NumPy array or minigen Tensor of ints) as an int64 array."""
    from minigen.tensor import Tensor

    if isinstance(indices, Tensor):
        indices = indices.numpy()
    elif hasattr(indices, "shape") and not isinstance(indices, np.ndarray):
        indices = backend.to_numpy(indices)  # a CuPy or array-API array
    array = np.asarray(indices if not isinstance(indices, range) else np.arange(
        indices.start, indices.stop, indices.step))
    if array.ndim != 1:
        raise DataError(f"Subset: indices must be a 1-D sequence of ints, got shape "
                        f"{array.shape}")
    if array.size and array.dtype.kind not in "iu":
        what = "booleans (a mask)" if array.dtype.kind == "b" else f"{array.dtype} values"
        fix = (": pass the positions, e.g. np.flatnonzero(mask)" if array.dtype.kind == "b"
               else "")
        raise DataError(f"Subset: indices must be ints, got {what}{fix}")
    return array.astype(np.int64)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order, as PyTorch's ``Subset``:
    ``Subset(ds, indices)[i]`` is ``ds[indices[i]]``.

    ``indices`` is any 1-D sequence of ints (a list, ``range``, NumPy array or Tensor);
    negative ones count from the end, as Python's. An index out of range is refused here, when
    the subset is made, rather than at some later batch.
    """

    def __init__(self, dataset: Any, indices: Sequence[int] | Any):
        self.dataset, self.indices = dataset, indices
        index = _as_indices(indices)
        n = len(dataset)
        bad = (index < -n) | (index >= n)
        if bad.any():
            raise DataError(f"Subset: index {int(index[bad][0])} is out of range for a dataset "
                            f"of {n} samples")
        self._index = index % n if n else index  # (non-negative, for the DataLoader)

    def __len__(self) -> int:
        return int(self._index.shape[0])

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, numbers.Integral):
            return self.dataset[int(self._index[idx])]
        return self.dataset[self._index[idx]]  # a slice, list or array: the parent's indices

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {len(self.dataset)} samples of {self.dataset!r:.60})"


class ConcatDataset(Dataset):
    """Datasets one after the other, as PyTorch's ``ConcatDataset``: ``len`` is the sum of
    theirs, and ``ConcatDataset([a, b])[len(a)]`` is ``b[0]``. A DataLoader over one joins
    their arrays once, when it is made (when they are all minigen datasets of the same kind of
    arrays; otherwise it fetches their samples one by one)."""

    def __init__(self, datasets: Any):
        self.datasets = list(datasets)
        if not self.datasets:
            raise DataError("ConcatDataset needs at least one dataset")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self) -> int:
        return int(self.cumulative_sizes[-1])

    def __getitem__(self, idx: int) -> Any:
        if not isinstance(idx, numbers.Integral):
            raise TypeError(f"ConcatDataset takes one int index, got {type(idx).__name__}")
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for a ConcatDataset of {n} samples")
        idx = int(idx) % n
        part = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[part - 1] if part else 0
        return self.datasets[part][idx - start]


def _split_lengths(n: int, lengths: Sequence[Any]) -> list[int]:
    """PyTorch's rule: fractions summing to 1 become ``floor(n * f)`` each, then the samples
    left over go one each to the first splits, round robin; counts must sum to ``n``."""
    lengths = list(lengths)
    if not lengths:
        raise DataError("random_split needs at least one length")
    total = sum(lengths)  # (a float sum, as PyTorch's: the same lengths pass as fractions)
    if math.isclose(total, 1) and total <= 1:  # (so [0, 1] too, as PyTorch: [0, n])
        for i, f in enumerate(lengths):
            if not 0 <= f <= 1:
                raise DataError(f"random_split: fraction {f} at index {i} is not between 0 "
                                "and 1")
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"random_split: the split at index {i} is empty (0 of {n} "
                              "samples)", stacklevel=3)
        return counts
    if any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0
           for v in lengths):
        over = (f" (their float sum {total!r} rounds above 1, which PyTorch refuses too: make "
                "the last one 1 minus the sum of the others)" if math.isclose(total, 1) else "")
        raise DataError(f"random_split: lengths must be counts (ints >= 0) summing to the "
                        f"{n} samples, or fractions summing to 1, got {lengths} (sum "
                        f"{total:g}){over}")
    if sum(lengths) != n:
        raise DataError(f"random_split: the lengths {lengths} sum to {sum(lengths)}, but the "
                        f"dataset has {n} samples. Give counts that sum to {n}, or fractions "
                        f"that sum to 1 (e.g. [0.9, 0.1])")
    return [int(v) for v in lengths]


def random_split(dataset: Any, lengths: Sequence[int | float],
                 generator: Generator | None = None) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping :class:`Subset` s of ``lengths``, as
    PyTorch's ``random_split``.

    ``lengths`` are counts summing to ``len(dataset)`` (``[50_000, 10_000]``) or fractions
    summing to 1 (``[0.9, 0.1]``: each split gets ``floor(fraction * n)`` samples, then what
    is left over goes one sample each to the first splits, in turn, exactly as PyTorch). The
    order is one permutation drawn from ``generator``, a :class:`minigen.backend.Generator`,
    or else from the CPU's default generator (seeded by ``minigen.manual_seed``: the same
    seed, the same split). The samples differ from PyTorch's for the same seed (another
    generator); the sizes do not.
    """
    n = len(dataset)
    counts = _split_lengths(n, lengths)
    gen = generator if generator is not None else backend.default_generator("cpu")
    if not isinstance(gen, Generator):
        raise TypeError(f"random_split: generator must be a minigen.backend.Generator (seed "
                        f"with minigen.manual_seed, or Generator(minigen.device('cpu'), seed)),"
                        f" got {type(gen).__name__}")
    order = backend.to_numpy(gen.permutation(n)).astype(np.int64)
    stops = np.cumsum(counts)
    return [Subset(dataset, order[stop - c:stop]) for stop, c in zip(stops, counts,
                                                                     strict=True)]
