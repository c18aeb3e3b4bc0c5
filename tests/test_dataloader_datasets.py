"""DataLoader over datasets of one's own, as PyTorch's: map-style datasets (``__getitem__`` and
``__len__``) fetched sample by sample and collated, samplers, ``batch_size=None``, ``collate_fn``,
IterableDatasets, PyTorch's defaults and refusals; and the fast path for minigen's datasets
giving the very batches the general path gives."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigen
from minigen import backend
from minigen.data import (
    MNIST,
    BatchSampler,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
)


class Numbers(Dataset):
    """Sample i: ``{"x": float32 (2,) [i, -i], "y": i, "name": "n<i>"}``; counts its fetches."""

    def __init__(self, n: int):
        self.n, self.fetched = n, []

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.fetched.append(i)
        return {"x": np.array([i, -i], np.float32), "y": i, "name": f"n{i}"}


class Transformed(MNIST):
    """MNIST with a transform in __getitem__: the loader must call it (no fast path)."""

    def __getitem__(self, index):
        image, label = super().__getitem__(index)
        return image * 2 - 1, label


def test_a_map_style_dataset_is_fetched_and_collated():
    data = Numbers(7)
    batches = list(DataLoader(data, batch_size=3))
    assert [b["y"].tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    assert batches[0]["x"].dtype == minigen.float32 and batches[0]["x"].shape == (3, 2)
    assert batches[2]["name"] == ["n6"] and data.fetched == list(range(7))
    assert all(type(i) is int for i in data.fetched)  # plain ints, as PyTorch's samplers give
    assert len(DataLoader(data)) == 7  # batch_size=1 by default, as in PyTorch


def test_shuffled_batches_are_the_fast_paths_for_the_same_seed(device):
    mnist = MNIST(split="test", source="sample")
    own = Transformed(split="test", source="sample")
    fast = DataLoader(mnist, batch_size=100, shuffle=True, seed=3, device=device)
    slow = DataLoader(own, batch_size=100, shuffle=True, seed=3, device=device)
    assert fast._arrays is not None and slow._arrays is None
    for (x, y), (tx, ty) in zip(fast, slow):
        assert tx.device == minigen.device(device)
        np.testing.assert_array_equal(backend.to_numpy(tx.data), x.numpy() * 2 - 1)
        np.testing.assert_array_equal(ty.numpy(), y.numpy())


def test_a_dataset_with_images_and_labels_attributes_is_read_through_getitem():
    """A student's dataset holding .images and .labels and a transform: the batches are its
    __getitem__'s, not the raw arrays (minigen used to slice those, skipping the transform)."""

    class Digits(Dataset):
        def __init__(self):
            self.images = np.arange(12, dtype=np.uint8).reshape(6, 2)
            self.labels = np.arange(6)

        def __len__(self):
            return 6

        def __getitem__(self, i):
            return minigen.tensor(self.images[i], dtype=minigen.float32) / 10, int(self.labels[i])

    x, y = next(iter(DataLoader(Digits(), batch_size=4)))
    np.testing.assert_allclose(x.numpy(), np.arange(8).reshape(4, 2) / 10, rtol=1e-6)
    assert x.dtype == minigen.float32 and y.tolist() == [0, 1, 2, 3]


def test_samplers():
    data = Numbers(10)
    ys = [b["y"].tolist() for b in DataLoader(data, batch_size=4, sampler=range(9, -1, -1))]
    assert ys == [[9, 8, 7, 6], [5, 4, 3, 2], [1, 0]]
    batches = DataLoader(data, batch_sampler=[[0, 5], [1, 2, 3]])
    assert [b["y"].tolist() for b in batches] == [[0, 5], [1, 2, 3]] and len(batches) == 2
    assert batches.batch_size is None  # as PyTorch sets it
    gen = backend.Generator(backend.device("cpu"), 0)
    picked = DataLoader(data, batch_size=10, sampler=SubsetRandomSampler([1, 3, 5], gen))
    assert sorted(next(iter(picked))["y"].tolist()) == [1, 3, 5]
    draws = list(RandomSampler(range(5), replacement=True, num_samples=50, generator=gen))
    assert len(draws) == 50 and set(draws) <= set(range(5)) and len(set(draws)) > 1
    longer = list(RandomSampler(range(4), num_samples=10, generator=gen))
    assert sorted(longer[:4]) == sorted(longer[4:8]) == [0, 1, 2, 3] and len(longer) == 10
    assert list(BatchSampler(SequentialSampler(range(5)), 2, True)) == [[0, 1], [2, 3]]


def test_a_sampler_on_the_fast_path():
    x = np.arange(10)
    loader = DataLoader(TensorDataset(x), batch_size=3, sampler=[9, 0, 4, 4])
    assert [b.tolist() for (b,) in loader] == [[9, 0, 4], [4]]


def test_no_batching_and_collate_fn():
    data = Numbers(3)
    samples = list(DataLoader(data, batch_size=None))
    assert samples[1]["x"].tolist() == [1.0, -1.0] and samples[1]["y"] == 1
    pairs = DataLoader(data, batch_size=2, collate_fn=lambda s: [d["name"] for d in s])
    assert list(pairs) == [["n0", "n1"], ["n2"]]
    arrays = DataLoader(TensorDataset(np.arange(4)), batch_size=3, collate_fn=len)
    assert list(arrays) == [3, 1]  # a collate_fn of its own: never the fast path


def test_getitems_fetches_a_batch_at_once():
    class Batched(Numbers):
        def __getitems__(self, indices):
            return [{"x": np.zeros(2, np.float32), "y": -i, "name": ""} for i in indices]

    assert next(iter(DataLoader(Batched(4), batch_size=3)))["y"].tolist() == [0, -1, -2]


def test_iterable_dataset():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    dropped = DataLoader(Stream(), batch_size=3, drop_last=True)
    assert len(dropped) == 2 and len(list(dropped)) == 2
    assert list(DataLoader(Stream(), batch_size=None))[:2] == [0, 1]
    with pytest.raises(ValueError, match="IterableDataset"):
        DataLoader(Stream(), shuffle=True)
    with pytest.raises(TypeError, match="ChainDataset"):
        Stream() + Stream()


def test_batches_of_samples_go_to_the_device():
    data = Numbers(4)
    batch = next(iter(DataLoader(data, batch_size=2, device="strict")))
    assert batch["x"].device == batch["y"].device == minigen.device("strict")
    assert batch["name"] == ["n0", "n1"]
    assert next(iter(DataLoader(data, batch_size=2)))["x"].device == minigen.device("cpu")


def test_resuming_a_shuffled_dataset_of_ones_own():
    run = DataLoader(Numbers(20), batch_size=6, shuffle=True, seed=5)
    list(run)
    state = run.state_dict()
    expected = [b["y"].tolist() for b in run]
    resumed = DataLoader(Numbers(20), batch_size=6, shuffle=True, seed=0)
    resumed.load_state_dict(state)
    assert [b["y"].tolist() for b in resumed] == expected


def test_dataset_base_class_and_concatenation():
    with pytest.raises(NotImplementedError, match="must define __getitem__"):
        Dataset()[0]
    both = Numbers(2) + Numbers(3)
    assert len(both) == 5 and both[4]["y"] == 2
    assert isinstance(Subset(Numbers(3), [0]), Dataset)
    assert isinstance(MNIST(source="sample"), Dataset)


@pytest.mark.parametrize("kwargs, match", [
    ({"shuffle": True, "sampler": [0]}, "mutually exclusive with shuffle"),
    ({"batch_sampler": [[0]], "batch_size": 2}, "batch_sampler option is mutually exclusive"),
    ({"batch_sampler": [[0]], "drop_last": True}, "batch_sampler option is mutually exclusive"),
    ({"batch_size": None, "drop_last": True}, "mutually exclusive with drop_last"),
    ({"batch_size": 0}, "batch_size"), ({"batch_size": 2.0}, "batch_size"),
    ({"persistent_workers": True}, "persistent_workers needs num_workers > 0"),
    ({"prefetch_factor": 2}, "prefetch_factor needs num_workers > 0"),
    ({"timeout": -1}, "timeout"),
])
def test_pytorchs_refusals(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(Numbers(3), **kwargs)


def test_other_refusals_name_the_fix():
    with pytest.raises(TypeError, match="__getitem__ and __len__"):
        DataLoader(object())
    with pytest.raises(TypeError, match="pass drop_last=True by keyword"):
        DataLoader(Numbers(3), 2, False, True)  # minigen's old 4th argument, drop_last
    with pytest.raises(TypeError, match="minigen.backend.Generator"):
        DataLoader(Numbers(3), shuffle=True, generator=np.random.default_rng(0))
    with pytest.raises(ValueError, match="num_samples"):
        DataLoader(Numbers(0), shuffle=True)  # (PyTorch refuses an empty shuffled dataset)


def test_worker_options_are_accepted_with_a_warning():
    with pytest.warns(UserWarning, match="worker_init_fn is not called"):
        loader = DataLoader(Numbers(4), batch_size=2, num_workers=2, worker_init_fn=print,
                            persistent_workers=True, prefetch_factor=4, pin_memory=True)
    assert len(list(loader)) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DataLoader(Numbers(4), num_workers=0, timeout=0, pin_memory_device="", in_order=True)


def _plain(batch):
    """A batch of either library as plain Python: tensors as (dtype name, shape, values)."""
    if hasattr(batch, "tolist") and hasattr(batch, "shape"):
        return (str(batch.dtype).split(".")[-1], tuple(batch.shape), batch.tolist())
    if isinstance(batch, dict):
        return {k: _plain(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(_plain(v) for v in batch)
    return batch


@pytest.mark.parametrize("kwargs", [
    {}, {"batch_size": 3}, {"batch_size": 3, "drop_last": True}, {"batch_size": None},
    {"batch_sampler": [[0, 5], [1]]}, {"sampler": [4, 2, 6], "batch_size": 2},
    {"batch_size": 4, "collate_fn": lambda s: [d["y"] for d in s]},
])
def test_the_same_batches_as_torchs_dataloader(kwargs):
    """A dataset of one's own, in order: the very batches (types, dtypes, values) and lengths
    PyTorch's DataLoader gives (when torch is installed)."""
    pytest.importorskip("torch")
    from torch.utils.data import DataLoader as TorchLoader

    ours, theirs = DataLoader(Numbers(7), **kwargs), TorchLoader(Numbers(7), **kwargs)
    assert len(ours) == len(theirs)
    assert [_plain(b) for b in ours] == [_plain(b) for b in theirs]
