"""Samplers: the order in which a DataLoader visits a dataset, as ``torch.utils.data``'s.

A sampler is any iterable of indices (with ``__len__``); a batch sampler, any iterable of
lists of indices. :class:`RandomSampler` draws from a :class:`minigen.backend.Generator` (the
CPU's default one, seeded by ``minigen.manual_seed``, unless you pass one), one permutation per
pass: the same seed, the same order, though not PyTorch's order (another generator).

>>> from minigen.data import BatchSampler, SequentialSampler
>>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False))
[[0, 1, 2], [3, 4, 5], [6]]
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import numpy as np

from minigen import backend
from minigen.backend import Generator


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value!r}")
    return int(value)


def _generator(generator: Generator | None, who: str) -> Generator:
    if generator is None:
        return backend.default_generator("cpu")
    if not isinstance(generator, Generator):
        raise TypeError(f"{who}: generator must be a minigen.backend.Generator (e.g. "
                        f"Generator(minigen.device('cpu'), seed)), got "
                        f"{type(generator).__name__}; or pass seed= to the DataLoader")
    return generator


class Sampler:
    """The base class of samplers: a subclass defines ``__iter__`` (indices) and ``__len__``."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def _order(self) -> np.ndarray | None:
        """One pass's indices as an int64 array, drawn now (None: 0, 1, ..., n - 1)."""
        return np.fromiter((int(i) for i in self), dtype=np.int64)


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source: Any):
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)

    def _order(self) -> None:
        return None


class RandomSampler(Sampler):
    """The indices in a random order: a new permutation each pass (``num_samples`` of them,
    from as many permutations as that takes), or, with ``replacement``, ``num_samples``
    independent uniform draws."""

    def __init__(self, data_source: Any, replacement: bool = False,
                 num_samples: int | None = None, generator: Generator | None = None):
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={replacement!r}")
        self.data_source, self.replacement = data_source, replacement
        self._num_samples = None if num_samples is None else _positive_int("num_samples",
                                                                           num_samples)
        self.generator = generator
        _generator(generator, "RandomSampler")
        _positive_int("num_samples", self.num_samples)  # (PyTorch refuses an empty dataset)

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __len__(self) -> int:
        return self.num_samples

    def __iter__(self) -> Iterator[int]:
        return iter(self._order().tolist())

    def _order(self) -> np.ndarray:
        gen, n, k = _generator(self.generator, "RandomSampler"), len(self.data_source), 0
        if self.replacement:  # floor(n u), u uniform on [0, 1): uniform on 0..n-1
            u = backend.to_numpy(gen.uniform((self.num_samples,), backend.float64))
            return np.minimum((u * n).astype(np.int64), n - 1)
        parts = []
        while k < self.num_samples:
            parts.append(backend.to_numpy(gen.permutation(n)).astype(np.int64))
            k += n
        order = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        return order[:self.num_samples]


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order, a new one each pass (e.g. a validation split
    held out of one dataset)."""

    def __init__(self, indices: Any, generator: Generator | None = None):
        self.indices, self.generator = indices, generator
        _generator(generator, "SubsetRandomSampler")

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self) -> Iterator[Any]:
        return (self.indices[int(i)] for i in self._permutation())

    def _permutation(self) -> np.ndarray:
        gen = _generator(self.generator, "SubsetRandomSampler")
        return backend.to_numpy(gen.permutation(len(self.indices)))


class BatchSampler(Sampler):
    """The indices of ``sampler`` grouped into lists of ``batch_size`` (the last one shorter
    unless ``drop_last``)."""

    def __init__(self, sampler: Any, batch_size: int, drop_last: bool):
        self.batch_size = _positive_int("batch_size", batch_size)
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last!r}")
        self.sampler, self.drop_last = sampler, drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
