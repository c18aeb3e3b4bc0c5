"""IDX files, MNIST / Fashion-MNIST: the bundled sample, the search order, bad files.

The DataLoader is tested in test_dataloader.py, downloads in test_download.py.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigen
from minigen.data import MNIST, FashionMNIST, datasets, read_idx, write_idx
from minigen.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_images_labels
from minigen.errors import DataError

SAMPLE = datasets.SAMPLE_FOLDER
DEBIAN = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def _isolated(tmp_path_factory, monkeypatch):
    """No test sees the machine's own data: empty cache, no $MINIGEN_DATA, no system folders."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg")))
    monkeypatch.delenv("MINIGEN_DATA", raising=False)
    monkeypatch.setattr(datasets, "SYSTEM_FOLDERS", {})


def _fake_split(folder: Path, n: int, split: str = "train", gz: bool = True) -> None:
    """Write n random 28x28 images with labels 0..9 as the split's two IDX files."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(n)
    images, labels = datasets.SPLITS[split]
    suffix = ".gz" if gz else ""
    write_idx(folder / (images + suffix), rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
    write_idx(folder / (labels + suffix), rng.integers(0, 10, n, dtype=np.uint8))


# --------------------------------------------------------------------------- IDX files

IDX_DTYPES = st.sampled_from([np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])


@settings(max_examples=30)
@given(array=IDX_DTYPES.flatmap(lambda dt: hnp.arrays(
    dt, hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=5),
    elements={"allow_nan": False} if np.dtype(dt).kind == "f" else None)),
    gz=st.booleans())
def test_idx_round_trip(tmp_path_factory, array, gz):
    path = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if gz else "a.idx")
    write_idx(path, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == gz
    back = read_idx(path)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_magic_numbers_of_images_and_labels(tmp_path):
    write_idx(tmp_path / "i", np.zeros((2, 28, 28), np.uint8))
    write_idx(tmp_path / "l", np.zeros(2, np.uint8))
    assert int.from_bytes((tmp_path / "i").read_bytes()[:4], "big") == IMAGES_MAGIC == 2051
    assert int.from_bytes((tmp_path / "l").read_bytes()[:4], "big") == LABELS_MAGIC == 2049


def test_gzip_is_recognised_by_its_bytes_not_its_name(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    write_idx(tmp_path / "plain-name", array, compress=True)
    np.testing.assert_array_equal(read_idx(tmp_path / "plain-name"), array)


def test_writer_is_deterministic_and_refuses_int64(tmp_path):
    a = np.arange(6, dtype=np.uint8)
    assert write_idx(tmp_path / "a.gz", a).read_bytes() == write_idx(tmp_path / "b.gz",
                                                                      a).read_bytes()
    with pytest.raises(DataError, match="cannot store dtype int64"):
        write_idx(tmp_path / "c", np.arange(3))


def _good_images() -> bytes:
    return (2051).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in (2, 28, 28)) \
        + bytes(2 * 784)


BAD_FILES = {  # name -> (bytes, words the error must contain)
    "empty": (b"", "truncated"),
    "header-only-half": (_good_images()[:10], "truncated IDX header"),
    "truncated-payload": (_good_images()[:-1], "truncated"),
    "trailing-bytes": (_good_images() + b"\0", "unexpected bytes"),
    "html-page": (b"<html><body>404 Not Found</body></html>", "wrong magic number"),
    "bad-type-code": (b"\x00\x00\x07\x01" + (1).to_bytes(4, "big") + b"\0", "wrong magic"),
    "not-gzip.gz": (_good_images(), "named .gz but it is not gzip"),
    "truncated-gzip.gz": (gzip.compress(_good_images())[:-30], "truncated gzip"),
    "bad-crc.gz": (gzip.compress(_good_images())[:-8] + b"\0" * 8, "corrupt gzip"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_each_bad_file_is_a_data_error_naming_it(tmp_path, name):
    data, words = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DataError, match=re.escape(words)) as info:
        read_idx(path, magic=IMAGES_MAGIC)
    assert str(path) in str(info.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_idx(tmp_path / "nope.gz")
    with pytest.raises(DataError, match="not a file"):
        read_idx(tmp_path)


def test_labels_where_images_are_expected(tmp_path):
    write_idx(tmp_path / "labels", np.zeros(5, np.uint8))
    with pytest.raises(DataError, match="2049.*start with 2051.*looks like a labels file"):
        read_idx(tmp_path / "labels", magic=IMAGES_MAGIC)


def test_image_and_label_counts_must_agree(tmp_path):
    write_idx(tmp_path / "i.gz", np.zeros((5, 28, 28), np.uint8))
    write_idx(tmp_path / "l.gz", np.zeros(4, np.uint8))
    with pytest.raises(DataError, match="5 images but .*l.gz has 4 labels"):
        read_images_labels(tmp_path / "i.gz", tmp_path / "l.gz")


# --------------------------------------------------------------------------- the bundled sample


def test_sample_files_match_their_readme_checksums():
    table = re.findall(r"\| (\S+\.gz) \| .*? \| ([0-9a-f]{64}) \|", (SAMPLE / "README.md")
                       .read_text())
    assert len(table) == 4
    for name, sha in table:
        assert hashlib.sha256((SAMPLE / name).read_bytes()).hexdigest() == sha, name


@pytest.mark.parametrize("split, n", [("train", 4000), ("test", 1000)])
def test_sample_shapes_values_and_classes(split, n):
    ds = MNIST(split=split, source="sample")
    assert (ds.source, ds.folder, len(ds)) == ("sample", SAMPLE, n)
    assert ds.images.shape == (n, 1, 28, 28) and ds.images.dtype == np.float32
    assert ds.labels.shape == (n,) and ds.labels.dtype == np.int64
    assert ds.images.min() == 0.0 and ds.images.max() == 1.0
    np.testing.assert_array_equal(np.bincount(ds.labels, minlength=10), [n // 10] * 10)
    # exactly the byte values / 255, decoded once
    np.testing.assert_array_equal(ds.images * 255, np.round(ds.images * 255))
    image, label = ds[7]
    assert isinstance(image, minigen.Tensor) and image.shape == (1, 28, 28)
    assert label == ds.labels[7] and isinstance(label, int)
    batch, labels = ds[:5]
    assert batch.shape == (5, 1, 28, 28) and labels.tolist() == ds.labels[:5].tolist()


def test_pixel_range_for_gans():
    unit = MNIST(split="test", source="sample")
    gan = MNIST(split="test", source="sample", pixel_range=(-1, 1))
    assert gan.images.min() == -1.0 and gan.images.max() == 1.0
    np.testing.assert_allclose(gan.images, 2 * unit.images - 1, atol=1e-6)
    with pytest.raises(ValueError, match="low < high"):
        MNIST(source="sample", pixel_range=(1, 0))


def test_sample_is_announced_once(monkeypatch, capsys):
    monkeypatch.setattr(datasets, "_sample_notice_shown", False)
    MNIST(split="test")
    MNIST(split="train")
    err = capsys.readouterr().err
    assert err.count("using the bundled MNIST sample") == 1
    assert "download=True" in err
    MNIST(split="test", source="sample")  # asked for explicitly: nothing to announce
    assert capsys.readouterr().err == ""


# --------------------------------------------------------------------------- the search order


def test_search_order(tmp_path, monkeypatch, capsys):
    root, env, cache, system = (tmp_path / p for p in ("root", "env", "xdg", "sys"))
    monkeypatch.setenv("MINIGEN_DATA", str(env))
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    monkeypatch.setattr(datasets, "SYSTEM_FOLDERS", {"mnist": [str(system)]})
    _fake_split(root, 3)
    _fake_split(env / "mnist", 5)
    _fake_split(cache / "minigen" / "mnist", 7)
    _fake_split(system, 9)
    for folder, n, source in [(root, 3, "root"), (env / "mnist", 5, "env"),
                              (cache / "minigen" / "mnist", 7, "cache"), (system, 9, "system")]:
        ds = MNIST(root)
        assert (ds.source, ds.folder, len(ds)) == (source, folder, n)
        for f in folder.iterdir():
            f.unlink()  # remove this place: the next one must be found
    assert MNIST(root).source == "sample"


def test_a_root_that_does_not_exist_is_an_error_not_a_fallback(tmp_path, capsys):
    with pytest.raises(DataError, match="does not exist"):
        MNIST(tmp_path / "typo")  # would otherwise train on the sample without a word
    (tmp_path / "empty").mkdir()
    assert MNIST(tmp_path / "empty").source == "sample"  # an empty root falls back, saying so
    assert f"{tmp_path / 'empty'} holds no MNIST train files" in capsys.readouterr().err


def test_a_root_that_is_a_file_says_so(tmp_path):
    _fake_split(tmp_path, 2)
    with pytest.raises(DataError, match="is a file; pass the folder"):
        MNIST(tmp_path / "train-images-idx3-ubyte.gz")  # not "does not exist"


def test_file_names_with_a_dot_as_in_unofficial_copies_are_found(tmp_path):
    _fake_split(tmp_path, 5, gz=False)
    for f in tmp_path.iterdir():  # Kaggle's spelling: train-images.idx3-ubyte
        f.rename(tmp_path / f.name.replace("-idx", ".idx"))
    ds = MNIST(tmp_path, source="full")
    assert (ds.source, len(ds)) == ("root", 5)
    assert ds.files[0].name == "train-images.idx3-ubyte"


def test_a_folder_of_the_other_dataset_is_refused(tmp_path, monkeypatch):
    """Both are 10 classes of 28x28 images: only the labels' fingerprint tells them apart."""
    _fake_split(tmp_path, 6)
    labels = read_idx(tmp_path / "train-labels-idx1-ubyte.gz")
    monkeypatch.setitem(datasets.LABEL_FINGERPRINTS,
                        hashlib.sha256(labels.tobytes()).hexdigest(), "fashion-mnist")
    with pytest.raises(DataError, match=r"holds Fashion-MNIST, not MNIST .*FashionMNIST\(\.\.\.\)"
                                        r".*--dataset fashion-mnist"):
        MNIST(tmp_path)
    assert len(FashionMNIST(tmp_path)) == 6


def test_root_may_hold_a_subfolder_named_after_the_dataset(tmp_path):
    _fake_split(tmp_path / "fashion-mnist", 4, split="test", gz=False)  # not gzipped
    ds = FashionMNIST(tmp_path, split="test")
    assert (ds.source, ds.folder, len(ds)) == ("root", tmp_path / "fashion-mnist", 4)
    assert ds.classes[9] == "Ankle boot"


def test_user_cache_defaults_to_home(tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert datasets.cache_dir("mnist") == tmp_path / ".cache" / "minigen" / "mnist"
    _fake_split(tmp_path / ".cache" / "minigen" / "fashion-mnist", 6)
    assert FashionMNIST().source == "cache"


def test_missing_dataset_lists_every_place_searched(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGEN_DATA", str(tmp_path / "env"))
    monkeypatch.setattr(datasets, "SYSTEM_FOLDERS", {"fashion-mnist": [str(tmp_path / "sys")]})
    (tmp_path / "root").mkdir()
    write_idx(tmp_path / "root" / "train-images-idx3-ubyte.gz", np.zeros((1, 28, 28), np.uint8))
    with pytest.raises(DataError) as info:
        FashionMNIST(tmp_path / "root")
    message = str(info.value)
    for place in ["root", "root/fashion-mnist", "env/fashion-mnist", "sys",
                  str(datasets.cache_dir("fashion-mnist"))]:
        assert str(tmp_path / place) in message or place in message
    assert "missing train-labels-idx1-ubyte(.gz)" in message  # the half-filled root
    assert "download=True" in message and "apt-get install dataset-fashion-mnist" in message


def test_source_full_never_uses_the_sample_and_sample_ignores_folders(tmp_path):
    with pytest.raises(DataError, match="MNIST \\(test\\) not found"):
        MNIST(split="test", source="full")
    _fake_split(tmp_path, 2)
    assert MNIST(tmp_path, source="sample").source == "sample"
    with pytest.raises(DataError, match="no bundled sample"):
        FashionMNIST(source="sample")


def test_files_that_are_not_mnist(tmp_path):
    (tmp_path / "a").mkdir()
    write_idx(tmp_path / "a" / "train-images-idx3-ubyte", np.zeros((2, 32, 32), np.uint8))
    write_idx(tmp_path / "a" / "train-labels-idx1-ubyte", np.zeros(2, np.uint8))
    with pytest.raises(DataError, match="expected 28x28"):
        MNIST(tmp_path / "a")
    _fake_split(tmp_path / "b", 3)
    write_idx(tmp_path / "b" / "train-labels-idx1-ubyte.gz", np.array([1, 12, 3], np.uint8))
    with pytest.raises(DataError, match="label 12 out of range"):
        MNIST(tmp_path / "b")


@pytest.mark.skipif(not DEBIAN.is_dir(), reason=f"{DEBIAN} absent: "
                    "apt-get install dataset-fashion-mnist to run this test")
def test_debian_fashion_mnist(monkeypatch):
    monkeypatch.setattr(datasets, "SYSTEM_FOLDERS", {"fashion-mnist": [str(DEBIAN)]})
    for split, n in [("train", 60_000), ("test", 10_000)]:
        ds = FashionMNIST(split=split)
        assert (ds.source, ds.folder) == ("system", DEBIAN)
        assert ds.images.shape == (n, 1, 28, 28) and ds.labels.shape == (n,)
        np.testing.assert_array_equal(np.bincount(ds.labels), [n // 10] * 10)
        assert 0.0 <= ds.images.min() and ds.images.max() <= 1.0
    with pytest.raises(DataError, match="holds Fashion-MNIST, not MNIST"):  # real fingerprints
        MNIST(DEBIAN, split="test")
