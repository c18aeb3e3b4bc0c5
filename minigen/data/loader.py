"""DataLoader: mini-batches of any map-style dataset, as PyTorch's, and fast for arrays.

Any dataset with ``__getitem__`` and ``__len__`` (your own :class:`~minigen.data.Dataset`,
a list of samples...) is batched as PyTorch batches it: a sampler picks the indices, the
samples are fetched one by one and ``collate_fn`` (:func:`~minigen.data.default_collate`)
makes them one batch. An :class:`~minigen.data.IterableDataset` is read in its own order.

minigen's own datasets (MNIST, TensorDataset, a Tensor or array, Subsets and ConcatDatasets
of them) take a fast path with the same batches (:mod:`minigen.data.arrays`): the arrays are
moved to the device once, and each batch is one slice (in order) or one ``take`` (shuffled) of
each array, with no Python loop over samples and no copy to the device per batch.

Shuffling draws one permutation per epoch, on the host, from a NumPy generator, when the
epoch starts: a seed gives the same batches on every device, and ``state_dict`` saves the
generator's state, so a resumed run sees the batches the uninterrupted one would have.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from minigen import backend
from minigen.backend import Generator
from minigen.data.arrays import ArrayBatches, arrays_of, as_dataset
from minigen.data.collate import default_collate, default_convert, same_container
from minigen.data.dataset import IterableDataset
from minigen.data.sampler import BatchSampler, RandomSampler, SequentialSampler
from minigen.errors import DataError
from minigen.tensor import Tensor


def _check_workers(num_workers: Any, pin_memory: Any, timeout: Any, prefetch_factor: Any,
                   persistent_workers: Any, worker_init_fn: Any) -> None:
    """PyTorch's options for worker processes, accepted so that PyTorch code runs, and
    checked as PyTorch checks them. minigen loads every batch in the main process."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError(f"num_workers must be an integer >= 0, got {num_workers!r}")
    if not isinstance(pin_memory, bool):
        raise ValueError(f"pin_memory must be True or False, got {pin_memory!r}")
    if not timeout >= 0:
        raise ValueError(f"timeout option should be non-negative, got {timeout!r}")
    if num_workers == 0 and (prefetch_factor is not None or persistent_workers):
        what = "prefetch_factor" if prefetch_factor is not None else "persistent_workers"
        raise ValueError(f"DataLoader: {what} needs num_workers > 0 (as in PyTorch): leave it "
                         "out")
    if num_workers > 0:
        also = (" worker_init_fn is not called either (there are no workers to start)."
                if worker_init_fn is not None else "")
        warnings.warn(f"DataLoader(num_workers={num_workers}): minigen loads every batch in the "
                      "main process, as num_workers=0 does (a batch of minigen's datasets is one "
                      "slice of arrays already in memory; worker processes would only add "
                      f"overhead). The batches are the same.{also} Leave num_workers out to "
                      "silence this", UserWarning, stacklevel=3)


def _order(sampler: Any) -> np.ndarray | None:
    """One epoch's indices from ``sampler``, drawn now: None for 0..n-1 in order."""
    own = getattr(sampler, "_order", None)
    return own() if own is not None else np.fromiter((int(i) for i in sampler), np.int64)


class DataLoader:
    """Iterate over a dataset in mini-batches, with PyTorch's arguments and defaults.

    Parameters
    ----------
    dataset : a map-style dataset (``__getitem__`` and ``__len__``: your own
        :class:`~minigen.data.Dataset`, ``MNIST``, a :class:`TensorDataset`, a list of
        samples, a Tensor or array of N rows), an :class:`~minigen.data.IterableDataset`, or
        minigen's shorthand for ``TensorDataset(x, y)``: a tuple ``(x, y)`` of arrays or
        Tensors with the same first dimension N.
    batch_size : samples per batch (1 by default, as in PyTorch); the last batch is smaller
        unless ``drop_last``. ``None``: no batching, each sample as it is (NumPy made Tensors).
    shuffle : a new random order each epoch (each pass over the loader).
    sampler, batch_sampler : PyTorch's: the indices to visit (an iterable of ints), or the
        batches of indices (an iterable of lists; then leave batch_size, shuffle, sampler and
        drop_last out). See :mod:`minigen.data.sampler`.
    collate_fn : makes a list of samples one batch; :func:`default_collate` by default.
    drop_last : drop the last batch when it is smaller than ``batch_size``.
    generator : a :class:`minigen.backend.Generator` to shuffle with. Without it or ``seed``,
        the CPU's default generator (seeded by ``minigen.manual_seed``).
    seed : minigen's: shuffle with a generator of the loader's own, seeded, so its epochs
        repeat whatever else draws random numbers.
    device : minigen's: where the batches are put ("cpu", "cuda", "strict"). None: where the
        data is (the host for NumPy arrays and samples from ``__getitem__``).
    num_workers, pin_memory, timeout, worker_init_fn, multiprocessing_context,
        prefetch_factor, persistent_workers, pin_memory_device, in_order : PyTorch's options
        for worker processes; minigen loads every batch in the main process, so a
        ``num_workers`` above 0 gives the same batches and a warning that it is ignored.

    Yields
    ------
    What ``collate_fn`` makes of each batch of samples: for samples ``(image, label)`` a list
    ``[images, labels]`` (``(B, 1, 28, 28)`` float32 and ``(B,)`` int64 for MNIST); a
    Tensor for a dataset of single Tensors or arrays. Batches of minigen's own datasets taken
    in order are views of the data: do not modify them in place.

    >>> from minigen.data import MNIST, DataLoader
    >>> loader = DataLoader(MNIST(source="sample"), batch_size=64, shuffle=True, seed=0)
    >>> len(loader)                      # batches per epoch: ceil(4000 / 64)
    63
    >>> for images, labels in loader:    # images (64, 1, 28, 28), labels (64,)
    ...     pass
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Any = None, batch_sampler: Any = None, num_workers: int = 0,
                 collate_fn: Any = None, pin_memory: bool = False, drop_last: bool = False,
                 timeout: float = 0, worker_init_fn: Any = None,
                 multiprocessing_context: Any = None, generator: Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True, seed: int | None = None,
                 device: Any = None):
        _check_workers(num_workers, pin_memory, timeout, prefetch_factor, persistent_workers,
                       worker_init_fn)
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        if isinstance(sampler, bool):
            raise TypeError("DataLoader's fourth argument is PyTorch's sampler, got "
                            f"{sampler}: pass drop_last={sampler} by keyword")
        if seed is not None and generator is not None:
            raise ValueError("pass seed or generator, not both")
        self.dataset = dataset = as_dataset(dataset)
        self._iterable = isinstance(dataset, IterableDataset)
        if not self._iterable and not (hasattr(dataset, "__getitem__")
                                       and hasattr(dataset, "__len__")):
            raise TypeError(f"DataLoader takes a dataset with __getitem__ and __len__ (or an "
                            f"IterableDataset), got {type(dataset).__name__}")
        self.seed = seed
        if generator is None:
            generator = (Generator(backend.device("cpu"), seed) if seed is not None
                         else backend.default_generator("cpu"))
        self.generator = generator
        if batch_size is not None and (isinstance(batch_size, bool) or not
                                       isinstance(batch_size, int) or batch_size < 1):
            raise ValueError(f"batch_size should be a positive integer value (or None), but "
                             f"got batch_size={batch_size!r}")
        self._check_sampling(shuffle, sampler, batch_sampler, batch_size, drop_last)
        shuffle = bool(shuffle)
        if batch_sampler is not None:
            batch_size, drop_last = None, False
        if sampler is None and not self._iterable:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        self._own_batches = (batch_size is not None and batch_sampler is None
                             and not self._iterable)
        if self._own_batches:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.sampler, self.batch_sampler = sampler, batch_sampler
        batching = batch_size is not None or batch_sampler is not None
        if collate_fn is None:
            collate_fn = default_collate if batching else default_convert
        self.collate_fn = collate_fn
        self.device = None if device is None else backend.device(device)
        fast = self._own_batches and self.collate_fn is default_collate
        found = arrays_of(dataset) if fast else None
        self._arrays = None if found is None else ArrayBatches(*found, self.device)
        self.epoch = 0  # epochs started so far

    def _check_sampling(self, shuffle: Any, sampler: Any, batch_sampler: Any,
                        batch_size: Any, drop_last: Any) -> None:
        """PyTorch's refusals of options that contradict each other."""
        if self._iterable and (shuffle not in (False, None) or sampler is not None
                               or batch_sampler is not None):
            raise ValueError("DataLoader with an IterableDataset reads it in its own order: "
                             "leave shuffle, sampler and batch_sampler out (as PyTorch)")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                             "shuffle, sampler, and drop_last")
        if batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")

    @property
    def num_samples(self) -> int:
        """The samples one epoch visits (its sampler's length)."""
        return len(self.sampler) if self.sampler is not None else len(self.dataset)

    def __len__(self) -> int:
        """The number of batches in one epoch."""
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        if self._iterable and self.batch_size is not None:
            n = len(self.dataset)
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return self.num_samples

    def __iter__(self) -> Iterator[Any]:
        self.epoch += 1
        if self._iterable:
            return self._stream()
        if not self._own_batches:  # a batch sampler of yours, or no batching
            chunks = self.batch_sampler if self.batch_sampler is not None else (
                [int(i)] for i in self.sampler)
            return (self._fetch(list(c), batched=self.batch_sampler is not None)
                    for c in chunks)
        order = _order(self.sampler)  # drawn now, when the epoch starts
        n, size = (self.num_samples if order is None else len(order)), self.batch_size
        bounds = [(s, min(s + size, n)) for s in range(0, n, size)]
        if self.drop_last and bounds and bounds[-1][1] - bounds[-1][0] < size:
            bounds.pop()
        if self._arrays is not None:
            return self._arrays.batches(order, bounds)
        rows = list(range(n)) if order is None else order.tolist()
        return (self._fetch(rows[start:stop]) for start, stop in bounds)

    def _fetch(self, indices: Any, batched: bool = True) -> Any:
        """The samples at ``indices``, collated, on the device."""
        if not batched:
            return self._to_device(self.collate_fn(self.dataset[indices[0]]))
        getitems = getattr(self.dataset, "__getitems__", None)  # (PyTorch's batched fetch)
        samples = getitems(indices) if getitems else [self.dataset[i] for i in indices]
        return self._to_device(self.collate_fn(samples))

    def _stream(self) -> Iterator[Any]:
        samples = iter(self.dataset)
        if self.batch_size is None:
            yield from (self._to_device(self.collate_fn(s)) for s in samples)
            return
        while chunk := list(itertools.islice(samples, self.batch_size)):
            if len(chunk) < self.batch_size and self.drop_last:
                return
            yield self._to_device(self.collate_fn(chunk))

    def _to_device(self, batch: Any) -> Any:
        """Every Tensor in ``batch`` (and in its lists, tuples and dicts) on ``device``."""
        if self.device is None:
            return batch
        if isinstance(batch, Tensor):
            return batch.to(self.device)
        if isinstance(batch, dict):
            moved = {k: self._to_device(v) for k, v in batch.items()}
            return moved if type(batch) is dict else same_container(batch, moved, mapping=True)
        if isinstance(batch, list):
            return [self._to_device(v) for v in batch]
        if isinstance(batch, tuple):
            items = [self._to_device(v) for v in batch]
            return type(batch)(*items) if hasattr(batch, "_fields") else tuple(items)
        return batch

    # ---------------------------------------------------------------- resuming
    def state_dict(self) -> dict:
        """The epoch count and the shuffling generator's state (take it between epochs).

        A sampler or batch sampler of your own keeps its own state, if it has one."""
        return {"epoch": self.epoch, "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`: the next epoch is the one the saved run would have seen.

        Without ``seed`` or ``generator`` the loader draws from the CPU's default generator, so
        this sets that shared generator's state (as restoring a whole checkpoint would).
        """
        try:
            epoch, generator_state = int(state["epoch"]), state["generator"]
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(f"not a DataLoader state dict (keys 'epoch', 'generator'): {e}") from e
        self.generator.set_state(generator_state)
        self.epoch = epoch

    def __repr__(self) -> str:
        where = "" if self.device is None else f", device='{self.device}'"
        return (f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}{where})")
