"""Subset, random_split and ConcatDataset as PyTorch's; the DataLoader batches them with one
gather per batch; its num_workers and pin_memory; MNIST's train= as PyTorch's."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import minigen
from minigen.data import MNIST, ConcatDataset, DataLoader, Subset, TensorDataset, random_split


def _numbered(n: int) -> TensorDataset:
    return TensorDataset(minigen.arange(n), minigen.arange(n) * 10)


def _torch_lengths(n: int, fractions: list[float]) -> list[int]:
    """PyTorch's rule, written out: floor each, then the rest one each, round robin."""
    counts = [math.floor(n * f) for f in fractions]
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


@given(st.integers(0, 300), st.lists(st.integers(0, 100), min_size=1, max_size=5))
def test_random_split_by_counts_is_a_partition(seed, counts):
    minigen.manual_seed(seed)
    n = sum(counts)
    parts = random_split(range(n), counts)
    got = [list(p[i] for i in range(len(p))) for p in parts]
    assert [len(p) for p in parts] == counts
    assert sorted(v for g in got for v in g) == list(range(n))  # disjoint and complete


@given(st.integers(0, 500), st.lists(st.integers(1, 20), min_size=1, max_size=5))
def test_random_split_by_fractions_follows_pytorchs_rounding(n, weights):
    fractions = [w / sum(weights) for w in weights]
    assume(math.isclose(sum(fractions), 1) and sum(fractions) <= 1)  # else refused, as PyTorch
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (empty splits warn, as PyTorch's)
        parts = random_split(_numbered(n), fractions)
    assert [len(p) for p in parts] == _torch_lengths(n, fractions)
    indices = np.concatenate([p._index for p in parts])
    assert sorted(indices.tolist()) == list(range(n))


def test_random_split_examples_and_seeding():
    assert [len(p) for p in random_split(range(10), [0.33, 0.33, 0.34])] == [4, 3, 3]
    minigen.manual_seed(1)
    a = [p.indices.tolist() for p in random_split(range(20), [0.5, 0.5])]
    minigen.manual_seed(1)
    assert a == [p.indices.tolist() for p in random_split(range(20), [10, 10])]
    gen = minigen.backend.Generator(minigen.device("cpu"), 7)
    b = random_split(range(20), [5, 15], generator=gen)[0].indices.tolist()
    gen.manual_seed(7)
    assert b == random_split(range(20), [5, 15], generator=gen)[0].indices.tolist()
    with pytest.warns(UserWarning, match="index 0 is empty"):
        assert [len(p) for p in random_split(range(5), [0, 1])] == [0, 5]  # PyTorch's too


@pytest.mark.parametrize("lengths, match", [
    ([5, 4], r"sum to 9, but the dataset has 10 samples.*\[0\.9, 0\.1\]"),
    ([0.5, 0.6], r"counts \(ints >= 0\) summing to the 10 samples, or fractions summing to 1"),
    ([0.5, 0.5 + 1e-15], "rounds above 1, which PyTorch refuses too"),
    ([12, -2], "counts"),
    ([], "at least one length"),
])
def test_random_split_refuses_lengths_that_do_not_add_up(lengths, match):
    with pytest.raises(minigen.DataError, match=match):
        random_split(range(10), lengths)
    with pytest.raises(TypeError, match="minigen.backend.Generator"):
        random_split(range(10), [5, 5], generator=np.random.default_rng(0))


def test_subset_indexes_its_dataset():
    ds = _numbered(10)
    s = Subset(ds, [9, -1, 3])
    assert len(s) == 3 and s[0][1].item() == 90 and s[1][0].item() == 9
    assert s[2][0].item() == 3 and s[-1][0].item() == 3
    assert s[0:2][0].tolist() == [9, 9]
    assert len(Subset(ds, range(2, 8, 2))) == 3 and len(Subset(ds, minigen.tensor([1, 2]))) == 2
    with pytest.raises(minigen.DataError, match="index 10 is out of range"):
        Subset(ds, [0, 10])
    with pytest.raises(minigen.DataError, match="flatnonzero"):
        Subset(ds, np.ones(10, bool))


def test_mnist_subset_and_slices():
    mnist = MNIST(source="sample", split="test")
    s = Subset(mnist, [5, 2])
    image, label = s[0]
    assert image.shape == (1, 28, 28) and label == int(mnist.labels[5])
    images, labels = mnist[[5, 2]]
    assert images.shape == (2, 1, 28, 28) and labels.tolist() == mnist.labels[[5, 2]].tolist()


@pytest.mark.parametrize("shuffle", [False, True])
def test_loader_over_a_subset_gives_its_samples(device, shuffle):
    ds = _numbered(50)
    sub = Subset(Subset(ds, list(range(49, -1, -1))), list(range(0, 30, 2)))  # nested
    want = [49 - i for i in range(0, 30, 2)]
    loader = DataLoader(sub, batch_size=4, shuffle=shuffle, seed=0, device=device)
    assert len(loader) == 4 and loader.num_samples == 15
    xs, ys = [], []
    for x, y in loader:
        assert x.device == minigen.device(device)
        xs += x.tolist()
        ys += y.tolist()
    assert (sorted(xs) if shuffle else xs) == (sorted(want) if shuffle else want)
    assert ys == [10 * v for v in xs]


def test_loader_over_a_random_split_of_mnist(device):
    mnist = MNIST(source="sample", split="test")
    train, val = random_split(mnist, [0.8, 0.2])
    loader = DataLoader(val, batch_size=64, shuffle=True, seed=1, device=device)
    labels = np.concatenate([y.numpy() for _, y in loader])
    assert len(labels) == 200
    np.testing.assert_array_equal(np.sort(labels), np.sort(mnist.labels[val.indices]))
    images, _ = next(iter(DataLoader(train, batch_size=8, device=device)))
    np.testing.assert_array_equal(images.numpy(), mnist.images[train.indices[:8]])


def test_subset_batches_are_gathered_not_looped(monkeypatch):
    """One gather per array and batch: Subset.__getitem__ is never called by the loader."""
    calls = []
    monkeypatch.setattr(Subset, "__getitem__", lambda self, i: calls.append(i))
    list(DataLoader(Subset(_numbered(100), list(range(0, 100, 3))), batch_size=5))
    assert calls == []


def test_concat_dataset():
    a, b = _numbered(3), _numbered(5)
    c = ConcatDataset([a, Subset(b, [4, 0])])
    assert len(c) == 5 and c[3][0].item() == 4 and c[-1][0].item() == 0
    assert c.cumulative_sizes == [3, 5]
    with pytest.raises(IndexError):
        c[5]
    x, y = next(iter(DataLoader(c, batch_size=10)))
    assert x.tolist() == [0, 1, 2, 4, 0] and y.tolist() == [0, 10, 20, 40, 0]
    # Datasets of different kinds: their samples are fetched and collated one by one, as in
    # PyTorch; a batch that mixes (x, y) samples with (x,) ones cannot be collated.
    mixed = ConcatDataset([a, TensorDataset(minigen.arange(2))])
    assert [len(b) for b in DataLoader(mixed, batch_size=3)] == [2, 1]
    with pytest.raises(minigen.ShapeError, match="equal size"):
        list(DataLoader(mixed, batch_size=4))


def test_num_workers_warns_that_it_is_ignored_and_pin_memory_is_accepted():
    ds = _numbered(6)
    with pytest.warns(UserWarning, match="main process.*same"):
        loader = DataLoader(ds, batch_size=4, num_workers=4, pin_memory=True)
    assert [x.tolist() for x, _ in loader] == [[0, 1, 2, 3], [4, 5]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        DataLoader(ds, num_workers=0, pin_memory=False)
    with pytest.raises(ValueError, match="num_workers must be an integer >= 0"):
        DataLoader(ds, num_workers=-1)


def test_mnist_takes_pytorchs_train_argument():
    assert MNIST(source="sample", train=False).split == "test"
    assert MNIST(None, False, source="sample").split == "test"  # PyTorch's second argument
    assert MNIST(source="sample", train=True).split == "train"
    assert MNIST(source="sample", split="test", train=False).split == "test"  # agree: fine
    assert MNIST(source="sample").split == "train"
    with pytest.raises(ValueError, match="split='test' and train=True disagree"):
        MNIST(source="sample", split="test", train=True)
    with pytest.raises(ValueError, match="disagree"):
        MNIST(None, True, train=False, source="sample")
    with pytest.raises(ValueError, match="train must be True or False"):
        MNIST(source="sample", train="test")


def test_random_split_with_a_generator_of_any_device(device):
    gen = minigen.backend.Generator(minigen.device(device), 2)
    parts = random_split(range(30), [0.5, 0.3, 0.2], generator=gen)
    assert [len(p) for p in parts] == [15, 9, 6]
    assert sorted(int(p[i]) for p in parts for i in range(len(p))) == list(range(30))
