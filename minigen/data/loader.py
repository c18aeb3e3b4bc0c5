"""DataLoader: mini-batches as slices of arrays that live on the device.

The whole dataset is moved to the device once, when the loader is made (the MNIST training set
is 60,000 x 784 float32 = 188 MB; the bundled sample 12.5 MB). Each batch is then a slice of
that array (no shuffle) or one ``take`` with a slice of a permutation (shuffle): one array
operation per batch, no Python loop over samples and no host-to-device copy per batch, which is
what costs most on a GPU.

The shuffling permutation is drawn on the host by a NumPy generator and moved to the device,
so a seed gives the same batches on every device, and the generator's state can be saved and
restored (``state_dict``) on every device, CUDA included.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np

from minigen import backend
from minigen.backend import Generator
from minigen.data.subset import ConcatDataset, Subset
from minigen.errors import DataError, ShapeError
from minigen.tensor import Tensor


class TensorDataset:
    """Tensors (or arrays) that share their first dimension, as one dataset of samples, as
    PyTorch's ``TensorDataset``: ``dataset[i]`` is the tuple of each one's row i, and a
    :class:`DataLoader` batches them all.

    >>> from minigen.data import TensorDataset, DataLoader
    >>> data = TensorDataset(minigen.randn(10, 3), minigen.arange(10))
    >>> len(data), [t.shape for t in data[0]]
    (10, [(3,), ()])
    >>> x, y = next(iter(DataLoader(data, batch_size=4)))
    >>> x.shape, y.shape
    ((4, 3), (4,))
    """

    def __init__(self, *tensors: Any):
        sizes = [t.shape[0] if len(t.shape) else None for t in tensors]
        if not tensors or None in sizes or len(set(sizes)) != 1:
            raise ShapeError("TensorDataset needs tensors with the same first dimension (the "
                             f"samples), got shapes {[tuple(t.shape) for t in tensors]}")
        self.tensors = tensors

    def __len__(self) -> int:
        return int(self.tensors[0].shape[0])

    def __getitem__(self, index: Any) -> tuple[Any, ...]:
        return tuple(t[index] for t in self.tensors)


def _arrays_of(data: Any) -> tuple[list[Any], bool, Any]:
    """The arrays to batch, whether ``data`` was a single array (yield Tensors, not tuples),
    and the rows of the arrays that make the dataset (a NumPy int64 array), or None for all:
    a :class:`Subset`'s indices, composed through nested subsets."""
    if isinstance(data, Subset):
        arrays, single, index = _arrays_of(data.dataset)
        return arrays, single, data._index if index is None else index[data._index]
    if isinstance(data, ConcatDataset):
        parts = [_arrays_of(d) for d in data.datasets]
        if len({(len(a), single) for a, single, _ in parts}) != 1:
            raise DataError("DataLoader: the datasets of a ConcatDataset must hold the same "
                            "arrays (e.g. images and labels in each), got "
                            f"{[len(a) for a, _, _ in parts]} arrays")
        joined = [np.concatenate([backend.to_numpy(a[k]) if index is None else
                                  np.take(backend.to_numpy(a[k]), index, axis=0)
                                  for a, _, index in parts]) for k in range(len(parts[0][0]))]
        return joined, parts[0][1], None  # (joined once, on the host)
    return (*_arrays_of_whole(data), None)


def _arrays_of_whole(data: Any) -> tuple[list[Any], bool]:
    if hasattr(data, "images") and hasattr(data, "labels"):  # MNIST, FashionMNIST
        return [data.images, data.labels], False
    if isinstance(data, TensorDataset):
        data = data.tensors
    if isinstance(data, (tuple, list)):
        if data and isinstance(data[0], (tuple, list)) and any(hasattr(e, "shape")
                                                                for e in data[0]):
            raise DataError("DataLoader takes whole arrays, not a list of samples such as "
                            "[(x, y), ...]: stack them first, e.g. TensorDataset("
                            "minigen.stack([x for x, _ in pairs]), minigen.tensor([y for _, y "
                            "in pairs]))")
        arrays, single = list(data), False
    else:
        arrays, single = [data], True
    if not arrays:
        raise DataError("DataLoader needs a dataset or at least one array")
    cpu = backend.device("cpu")
    return [a.data if isinstance(a, Tensor) else a if hasattr(a, "shape")
            else backend.asarray(a, None, cpu) for a in arrays], single  # lists -> arrays


def _check_workers(num_workers: Any, pin_memory: Any) -> None:
    """PyTorch's ``num_workers`` and ``pin_memory``, accepted so that PyTorch code runs."""
    if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
        raise ValueError(f"num_workers must be an integer >= 0, got {num_workers!r}")
    if num_workers > 0:
        warnings.warn(f"DataLoader(num_workers={num_workers}): minigen loads every batch in the "
                      "main process, as num_workers=0 does (a batch is one slice of arrays "
                      "already in memory: worker processes would only add overhead). The "
                      "batches are the same; leave num_workers out to silence this",
                      UserWarning, stacklevel=3)
    if not isinstance(pin_memory, bool):
        raise ValueError(f"pin_memory must be True or False, got {pin_memory!r}")


class DataLoader:
    """Iterate over a dataset in mini-batches of Tensors on a device.

    Parameters
    ----------
    data : a dataset with ``.images`` and ``.labels`` (``MNIST``, ``FashionMNIST``), a
        :class:`TensorDataset`, a tuple of arrays or Tensors with the same first dimension N,
        or a single array; or a :class:`Subset` (e.g. from :func:`random_split`) or
        :class:`ConcatDataset` of these (a subset's batches are gathered with one array
        operation each too; a ConcatDataset's arrays are joined once, here).
    batch_size : samples per batch; the last batch is smaller unless ``drop_last``.
    shuffle : a new random order each epoch (each pass over the loader).
    drop_last : drop the last batch when it is smaller than ``batch_size``.
    seed : seed the loader's own generator, so its epochs repeat whatever else draws random
        numbers. Without ``seed`` or ``generator``, the CPU's default generator is used (seeded
        by ``minigen.manual_seed``).
    generator : a :class:`minigen.backend.Generator` to draw permutations from.
    device : where the batches live ("cpu", "cuda", "strict"); the data is moved there once.
    num_workers : PyTorch's; minigen always loads in the main process (each batch is one
        array operation on data already in memory), so a value above 0 gives the same batches
        and a warning that it is ignored.
    pin_memory : PyTorch's; accepted and ignored (it speeds up host-to-GPU copies, and minigen
        copies the data to the device once, not per batch).

    Yields
    ------
    A tuple of Tensors, one per array (``(images, labels)`` for a dataset): images
    ``(B, 1, 28, 28)`` float32 and labels ``(B,)`` int64 for MNIST; a single Tensor when
    ``data`` was one array. Unshuffled batches are views of the data: do not modify them in
    place.

    >>> from minigen.data import MNIST, DataLoader
    >>> loader = DataLoader(MNIST(source="sample"), batch_size=64, shuffle=True, seed=0)
    >>> len(loader)                      # batches per epoch: ceil(4000 / 64)
    63
    >>> for images, labels in loader:    # images (64, 1, 28, 28), labels (64,)
    ...     pass
    """

    def __init__(self, data: Any, batch_size: int = 64, shuffle: bool = False,
                 drop_last: bool = False, *, seed: int | None = None,
                 generator: Generator | None = None, device: Any = "cpu",
                 num_workers: int = 0, pin_memory: bool = False):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if seed is not None and generator is not None:
            raise ValueError("pass seed or generator, not both")
        _check_workers(num_workers, pin_memory)
        self.num_workers, self.pin_memory = num_workers, pin_memory
        arrays, self._single, index = _arrays_of(data)
        sizes = [int(a.shape[0]) if a.ndim else -1 for a in arrays]
        if min(sizes) < 0 or len(set(sizes)) != 1:
            shapes = ", ".join(str(tuple(a.shape)) for a in arrays)
            raise ShapeError(f"DataLoader: the arrays must share their first dimension (the "
                             f"samples), got shapes {shapes}")
        self.dataset = data
        self.num_samples = sizes[0] if index is None else int(index.shape[0])
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.device = backend.device(device)
        self.seed = seed
        if generator is None:
            generator = (Generator(backend.device("cpu"), seed) if seed is not None
                         else backend.default_generator("cpu"))
        self.generator = generator
        self.epoch = 0  # epochs started so far
        # Moved once (a no-op for NumPy arrays on the CPU, which are shared, not copied).
        self._arrays = [backend.to_device(a, self.device) for a in arrays]
        # A Subset's rows of them (on the device too): each batch gathers its rows of the
        # arrays with one take, composed with the shuffling permutation when there is one.
        self._index = None if index is None else backend.to_device(index, self.device)

    def __len__(self) -> int:
        """The number of batches in one epoch."""
        if self.drop_last:
            return self.num_samples // self.batch_size
        return math.ceil(self.num_samples / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        # The permutation is drawn now, when the epoch starts, not at the first next().
        order = None
        if self.shuffle:
            order = backend.to_device(self.generator.permutation(self.num_samples), self.device)
        self.epoch += 1
        return self._batches(order)

    def _batches(self, order: Any) -> Iterator[Any]:
        xp = backend.namespace(self._arrays[0])
        for b in range(len(self)):
            start, stop = b * self.batch_size, min((b + 1) * self.batch_size, self.num_samples)
            if order is None and self._index is None:
                batch = [a[start:stop, ...] for a in self._arrays]  # views; ... for the array API
            else:
                index = order[start:stop] if order is not None else None
                if self._index is not None:  # a Subset: its rows at those positions
                    index = (self._index[start:stop] if index is None
                             else xp.take(self._index, index, axis=0))
                batch = [xp.take(a, index, axis=0) for a in self._arrays]  # one gather each
            tensors = tuple(Tensor._make(a) for a in batch)
            yield tensors[0] if self._single else tensors

    # ---------------------------------------------------------------- resuming
    def state_dict(self) -> dict:
        """The epoch count and the shuffling generator's state (take it between epochs)."""
        state = self.generator.get_state()
        return {"epoch": self.epoch, "generator": state}

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
        return (f"DataLoader({self.num_samples} samples, batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, device='{self.device}')")
