"""Samples to batches: PyTorch's ``default_collate`` and ``default_convert``, rule for rule.

A :class:`~minigen.data.DataLoader` over a dataset of its own (a class with ``__getitem__``
and ``__len__``) fetches ``batch_size`` samples and hands the list to ``collate_fn``, by
default :func:`default_collate`, which works on the first sample's type:

=====================================  ==================================================
each sample is                          the batch is
=====================================  ==================================================
a Tensor of shape S                     a Tensor (B, *S): the samples stacked
a NumPy array (not strings/objects)     the same, as Tensors of the array's dtype
a NumPy scalar (``np.float32(1)``...)   a Tensor (B,) of its dtype
a Python ``float``                      a float64 Tensor (B,) (PyTorch's choice, not float32)
a Python ``int`` / ``bool``             an int64 / bool Tensor (B,)
a ``str`` or ``bytes``                  the samples as they came (a list)
a dict (any mapping)                    the same mapping, each key's values collated
a namedtuple                            the same namedtuple, field by field
a tuple or list of n items              a list of n collated items (a tuple becomes a list)
=====================================  ==================================================

>>> from minigen.data import default_collate
>>> batch = default_collate([(minigen.zeros(2), 1), (minigen.ones(2), 0)])
>>> type(batch).__name__, batch[0].shape, batch[1]
('list', (2, 2), tensor([1, 0]))
>>> default_collate([{"x": 1.5, "name": "a"}, {"x": 2.5, "name": "b"}])
{'x': tensor([1.5, 2.5], dtype=minigen.float64), 'name': ['a', 'b']}
"""

from __future__ import annotations

import collections.abc
import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigen import backend
from minigen.creation import tensor
from minigen.errors import ShapeError
from minigen.ops import stack
from minigen.tensor import Tensor

_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists;"
          " found {}")


def _is_text_array(array: np.ndarray) -> bool:
    return array.dtype.kind in "SaUO"  # strings and objects: no tensor holds them


def _one_shape(batch: list[Any]) -> None:
    shapes = {tuple(x.shape) for x in batch}
    if len(shapes) != 1:
        raise ShapeError(f"default_collate: the samples' {type(batch[0]).__name__}s must "
                         f"have one shape to be stacked, got {sorted(shapes)}: resize them "
                         "in the dataset's transform, or pass a collate_fn that pads them")


def _stack(batch: list[Tensor]) -> Tensor:
    """The tensors stacked along a new first axis; one array operation when none needs a
    gradient (the usual case: samples are data), else minigen.stack, which keeps the graph."""
    _one_shape(batch)
    if any(t.requires_grad for t in batch):
        return stack(batch)
    arrays = [t.data for t in batch]
    return Tensor._make(backend.namespace(arrays[0]).stack(arrays))


def _same_size(batch: list[Any]) -> None:
    sizes = {len(sample) for sample in batch}
    if len(sizes) != 1:
        raise ShapeError(f"default_collate: each element in the list of samples should be of "
                         f"equal size, got sequences of lengths {sorted(sizes)}")


def default_collate(batch: Sequence[Any]) -> Any:
    """The list of samples ``batch`` as one batch, by PyTorch's rules (module docstring)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack(batch)
    if isinstance(elem, np.ndarray):
        if _is_text_array(elem):
            raise TypeError(_ERROR.format(elem.dtype))
        _one_shape(batch)
        return tensor(np.stack(batch))  # (tensor() refuses a dtype minigen does not hold)
    if isinstance(elem, (np.bool_, np.number, np.object_)):
        return tensor(np.asarray(batch))  # one dtype for all, as torch.as_tensor
    if isinstance(elem, float):
        return tensor(batch, dtype=backend.float64)
    if isinstance(elem, int):  # (bool included: a bool Tensor; ints then floats: float32)
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        return same_container(elem, collated, mapping=True)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        _same_size(batch)
        collated_items = [default_collate(s) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return collated_items  # a list, as PyTorch's
        return same_container(elem, collated_items, mapping=False)
    raise TypeError(_ERROR.format(type(elem)))


def same_container(elem: Any, items: Any, mapping: bool) -> Any:
    """``items`` (a dict or list) in ``elem``'s own container type where it can be made, as
    PyTorch does: a copy of a mutable one with the items put in, else ``type(elem)(items)``,
    else a plain dict or list."""
    try:
        if mapping and isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(items)
            return clone
        if not mapping and isinstance(elem, collections.abc.MutableSequence):
            clone = copy.copy(elem)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(elem)(items)
    except TypeError:  # (a type that cannot be copied or built from items, e.g. range)
        return items


def default_convert(data: Any) -> Any:
    """One sample without batching (``DataLoader(batch_size=None)``): NumPy arrays and
    scalars become Tensors, in any dict, namedtuple, tuple (made a list) or list; the rest
    (Tensors, Python numbers, strings) is left as it is, as PyTorch's ``default_convert``."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _is_text_array(data) else tensor(data)
    if isinstance(data, (np.bool_, np.number)):
        return tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return same_container(data, {k: default_convert(v) for k, v in data.items()}, mapping=True)
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return same_container(data, [default_convert(d) for d in data], mapping=False)
    return data
