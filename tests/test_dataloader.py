"""DataLoader: every sample once per epoch, seeded shuffles, resuming, batches on a device."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigen
from minigen import backend
from minigen.data import MNIST, DataLoader, TensorDataset
from minigen.errors import DataError, ShapeError


def _epoch(loader: DataLoader) -> list[np.ndarray]:
    return [backend.to_numpy((b[0] if isinstance(b, list) else b).data) for b in loader]


@settings(max_examples=25)
@given(n=st.integers(1, 40), batch_size=st.integers(1, 12), shuffle=st.booleans(),
       drop_last=st.booleans())
def test_every_sample_once_per_epoch(n, batch_size, shuffle, drop_last):
    ids = np.arange(n, dtype=np.int64)
    loader = DataLoader((ids, ids * 10), batch_size, shuffle, drop_last=drop_last, seed=1)
    for _ in range(2):
        batches = list(loader)
        assert len(batches) == len(loader) == (n // batch_size if drop_last
                                               else -(-n // batch_size))
        seen = np.concatenate([b.numpy() for b, _ in batches]) if batches else ids[:0]
        for b, tens in batches:
            np.testing.assert_array_equal(tens.numpy(), b.numpy() * 10)  # rows stay paired
            assert b.shape[0] == batch_size or (not drop_last and b is batches[-1][0])
        assert len(np.unique(seen)) == len(seen)  # never twice
        assert len(seen) == (n - n % batch_size if drop_last else n)
        if not drop_last:
            np.testing.assert_array_equal(np.sort(seen), ids)
        if not shuffle:
            np.testing.assert_array_equal(seen, ids[:len(seen)])


def test_seeds_repeat_and_differ():
    ids = np.arange(100)
    first = [_epoch(DataLoader(ids, 10, shuffle=True, seed=s)) for s in (3, 3, 4)]
    np.testing.assert_array_equal(np.concatenate(first[0]), np.concatenate(first[1]))
    assert not np.array_equal(np.concatenate(first[0]), np.concatenate(first[2]))
    loader = DataLoader(ids, 10, shuffle=True, seed=3)
    assert not np.array_equal(np.concatenate(_epoch(loader)), np.concatenate(_epoch(loader)))


def test_default_generator_follows_manual_seed():
    ids = np.arange(50)
    minigen.manual_seed(7)
    a = _epoch(DataLoader(ids, 8, shuffle=True))
    minigen.manual_seed(7)
    b = _epoch(DataLoader(ids, 8, shuffle=True))
    np.testing.assert_array_equal(np.concatenate(a), np.concatenate(b))


def test_state_dict_resumes_the_same_batches(tmp_path):
    ids = np.arange(30)
    run = DataLoader(ids, 7, shuffle=True, seed=11)
    _epoch(run)
    minigen.save({"loader": run.state_dict()}, tmp_path / "checkpoint.npz")  # JSON-safe state
    expected = _epoch(run)
    resumed = DataLoader(ids, 7, shuffle=True, seed=999)
    resumed.load_state_dict(minigen.load(tmp_path / "checkpoint.npz")["loader"])
    assert resumed.epoch == 1
    np.testing.assert_array_equal(np.concatenate(_epoch(resumed)), np.concatenate(expected))
    with pytest.raises(DataError, match="not a DataLoader state dict"):
        resumed.load_state_dict({"epoch": 1})


@pytest.mark.parametrize("shuffle", [True, False])
def test_mnist_batches_on_a_device(device, shuffle):
    ds = MNIST(split="test", source="sample")
    loader = DataLoader(ds, batch_size=128, shuffle=shuffle, seed=0, device=device)
    assert len(loader) == 8
    order = np.random.default_rng(0).permutation(1000)  # what seed=0 draws on the host
    order = order if shuffle else np.arange(1000)
    for b, (images, labels) in enumerate(loader):
        assert images.device == minigen.device(device) == labels.device
        assert images.dtype == minigen.float32 and labels.dtype == minigen.int64
        index = order[b * 128:(b + 1) * 128]
        np.testing.assert_array_equal(images.numpy(), ds.images[index])
        np.testing.assert_array_equal(labels.numpy(), ds.labels[index])
    assert images.shape == (1000 - 7 * 128, 1, 28, 28)


def test_loader_accepts_tensors_and_rejects_bad_input():
    x = minigen.randn(10, 3)
    (batch,) = next(iter(DataLoader((x,), batch_size=4)))
    np.testing.assert_array_equal(batch.numpy(), x.numpy()[:4])
    labels = next(iter(DataLoader((np.arange(10),), batch_size=3)))[0]
    assert labels.tolist() == [0, 1, 2]
    with pytest.raises(ShapeError, match=r"\(10, 3\), \(9,\)"):
        DataLoader((x, np.zeros(9)))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(x, batch_size=0)
    with pytest.raises(ValueError, match="seed or generator"):
        DataLoader(x, seed=1, generator=backend.Generator(backend.device("cpu"), 1))


def test_a_tensor_dataset_batches_as_its_tensors_do(device):
    x = minigen.randn(10, 3, device=device)
    y = minigen.arange(10, device=device)
    data = TensorDataset(x, y)
    assert len(data) == 10
    row = data[3]
    assert row[0].shape == (3,) and row[1].item() == 3
    ours = list(DataLoader(data, 4, shuffle=True, seed=1, device=device))
    plain = list(DataLoader((x, y), 4, shuffle=True, seed=1, device=device))
    assert len(ours) == 3
    for (a, b), (c, d) in zip(ours, plain):
        assert a.tolist() == c.tolist() and b.tolist() == d.tolist()
    with pytest.raises(ShapeError, match="same first dimension"):
        TensorDataset(x, minigen.arange(9))


def test_a_list_of_samples_is_a_dataset_as_in_pytorch():
    pairs = [(minigen.randn(3), 1), (minigen.randn(3), 0), (minigen.randn(3), 1)]
    x, y = next(iter(DataLoader(pairs, batch_size=2)))
    np.testing.assert_array_equal(x.numpy(), np.stack([p[0].numpy() for p in pairs[:2]]))
    assert y.tolist() == [1, 0] and y.dtype == minigen.int64
    # [[0, ..., 9]] is one sample, a list of ten ints: collated item by item, as PyTorch does
    (sample,) = DataLoader([list(range(10))], batch_size=3)
    assert len(sample) == 10 and sample[3].tolist() == [3]
