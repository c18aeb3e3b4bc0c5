"""MNIST and Fashion-MNIST as two in-memory arrays: images (N, 1, 28, 28) and labels (N,).

Where the files are looked for, in order (the first folder holding both files of the split
wins; each file may be gzipped or not):

1. ``root``, the folder you pass (or its subfolder named after the dataset);
2. ``$MINIGEN_DATA/<name>`` when that variable is set;
3. the user cache, ``$XDG_CACHE_HOME/minigen/<name>`` (default ``~/.cache/minigen/<name>``);
4. system folders, e.g. ``/usr/share/datasets/fashion-mnist`` (Debian's
   ``dataset-fashion-mnist`` package);
5. a download into ``root`` (else ``$MINIGEN_DATA/<name>``, else the cache), only when
   ``download=True``;
6. for MNIST, the real sample bundled with minigen (4,000 train + 1,000 test digits), with a
   one-time notice that it is the sample.

``<name>`` is ``mnist`` or ``fashion-mnist``. The files are decoded once, to float32. Files
found are not hashed (Debian's package recompressed its ``.gz``: another checksum is no sign of
damage); gzip's CRC and the IDX sizes catch a truncated or corrupt one. When one cannot be read
and ``download=True``, each ``.gz`` with a wrong SHA-256 is downloaded again, with a warning.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from minigen.data import download as _download
from minigen.data.dataset import Dataset
from minigen.data.idx import read_images_labels
from minigen.errors import DataError

SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SAMPLE_FOLDER = Path(__file__).resolve().parent / "mnist_sample"
SYSTEM_FOLDERS: dict[str, list[str]] = {  # known places packages install to
    "mnist": ["/usr/share/datasets/mnist", "/usr/local/share/datasets/mnist"],
    "fashion-mnist": ["/usr/share/datasets/fashion-mnist",
                      "/usr/local/share/datasets/fashion-mnist"],
}
# SHA-256 of the label arrays (the bytes after the IDX header) of the full datasets, so that a
# folder of one dataset given to the other's class is refused (Fashion-MNIST's train, test).
LABEL_FINGERPRINTS = {
    "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7": "fashion-mnist",
    "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9": "fashion-mnist",
}
_sample_notice_shown = False


def cache_dir(name: str) -> Path:
    """The user cache folder of dataset ``name``: ``$XDG_CACHE_HOME/minigen/<name>``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "minigen" / name


def _split_files(folder: Path, split: str) -> tuple[list[Path], list[str]]:
    """The split's (images, labels) files found in ``folder``, and the names not found.

    Each file may be gzipped or not, and spelled ``train-images.idx3-ubyte`` too (a dot
    where the canonical name has a dash: how several unofficial copies, Kaggle's among them,
    name the files).
    """
    found, missing = [], []
    for base in SPLITS[split]:
        names = (base, base.replace("-idx", ".idx"))
        candidates = [folder / f"{n}{gz}" for n in names for gz in (".gz", "")]
        hit = next((c for c in candidates if c.is_file()), None)
        if hit is None:
            missing.append(f"{base}(.gz)")
        else:
            found.append(hit)
    return found, missing


def candidate_folders(name: str, root: str | os.PathLike | None) -> list[tuple[str, Path]]:
    """The folders searched for dataset ``name``, in order, as ``(source, folder)`` pairs."""
    places: list[tuple[str, Path]] = []
    if root is not None:
        root = Path(root).expanduser()
        places += [("root", root), ("root", root / name)]
    if os.environ.get("MINIGEN_DATA"):
        places.append(("env", Path(os.environ["MINIGEN_DATA"]).expanduser() / name))
    places.append(("cache", cache_dir(name)))
    places += [("system", Path(p)) for p in SYSTEM_FOLDERS.get(name, [])]
    return places


def download_folder(name: str, root: str | os.PathLike | None) -> Path:
    """Where ``download=True`` puts the files: root, else ``$MINIGEN_DATA/<name>``, else cache."""
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get("MINIGEN_DATA"):
        return Path(os.environ["MINIGEN_DATA"]).expanduser() / name
    return cache_dir(name)


class _IDXDataset(Dataset):
    """What MNIST and Fashion-MNIST share; see :class:`MNIST` for the parameters."""

    name = ""
    title = ""
    classes: tuple[str, ...] = ()
    has_sample = False

    def __init__(self, root: str | os.PathLike | None = None, split: str | bool | None = None,
                 *, train: bool | None = None, download: bool = False, source: str = "auto",
                 pixel_range: tuple[float, float] = (0.0, 1.0), timeout: float = 30.0,
                 progress: bool = True):
        split = _split_of(split, train, type(self).__name__)
        if split not in SPLITS:
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        if source not in ("auto", "full", "sample"):
            raise ValueError(f"source must be 'auto', 'full' or 'sample', got {source!r}")
        lo, hi = (float(v) for v in pixel_range)
        if not lo < hi:
            raise ValueError(f"pixel_range must be (low, high) with low < high, got {pixel_range}")
        self.split, self.pixel_range = split, (lo, hi)
        self.source, self.folder, files = self._locate(root, split, download, source, timeout,
                                                       progress)
        self.files = tuple(files)
        raw_images, raw_labels = self._read(files, download, timeout, progress)
        if raw_images.shape[1:] != (28, 28):
            raise DataError(f"{files[0]}: images of {raw_images.shape[1:]} pixels, expected "
                            f"28x28 for {self.title}")
        if raw_labels.size and int(raw_labels.max()) >= len(self.classes):
            raise DataError(f"{files[1]}: label {int(raw_labels.max())} out of range: "
                            f"{self.title} has {len(self.classes)} classes")
        other = LABEL_FINGERPRINTS.get(hashlib.sha256(raw_labels.tobytes()).hexdigest())
        if other is not None and other != self.name:
            # both datasets have 10 classes of 28x28 images: nothing else would tell them apart
            cls = next(c for c in _IDXDataset.__subclasses__() if c.name == other)
            raise DataError(f"{self.folder} holds {cls.title}, not {self.title} (its labels "
                            f"file {files[1].name} is {cls.title}'s): load it with "
                            f"{cls.__name__}(...), or on the command line pass --dataset {other}")
        # Decoded once: uint8 0..255 -> float32 lo..hi, with a channel axis for conv layers.
        images = raw_images.astype(np.float32).reshape(-1, 1, 28, 28)
        images /= np.float32(255.0)
        if (lo, hi) != (0.0, 1.0):
            images *= np.float32(hi - lo)  # [0, 1] -> [lo, hi], e.g. [-1, 1] for a tanh output
            images += np.float32(lo)
        self.images: np.ndarray = images
        self.labels: np.ndarray = raw_labels.astype(np.int64)

    def _checkable(self, files: list[Path]) -> list[str]:
        """The names among ``files`` that have a known checksum (the published ``.gz``)."""
        known = _download.RESOURCES[self.name].files
        return [f.name for f in files if f.name in known]

    def _read(self, files: list[Path], download: bool, timeout: float,
              progress: bool) -> tuple[np.ndarray, np.ndarray]:
        """The raw arrays. When a file cannot be read, ``download=True`` downloads again the
        ones with a wrong checksum (damaged), then reads once more; without it, the error
        says so."""
        checkable = self._checkable(files) if self.source != "sample" else []
        try:
            return read_images_labels(*files)
        except DataError as e:
            if len(checkable) < len(files):
                raise  # other names (not gzipped, Kaggle's): no checksum to check them with
            if not download:
                raise DataError(f"{e}\nIf the file is damaged, {type(self).__name__}(..., "
                                "download=True) checks the files and downloads a damaged one "
                                "again") from e
        _download.download_dataset(self.name, self.folder, checkable, timeout=timeout,
                                   progress=progress)
        return read_images_labels(*files)

    # ---------------------------------------------------------------- where the data is
    def _locate(self, root: Any, split: str, download: bool, source: str, timeout: float,
                progress: bool) -> tuple[str, Path, list[Path]]:
        if source == "sample":
            if not self.has_sample:
                raise DataError(f"{self.title} has no bundled sample (only MNIST has one); use "
                                "source='auto' (on the command line: not --data sample)")
            return "sample", SAMPLE_FOLDER, _split_files(SAMPLE_FOLDER, split)[0]
        if root is not None and Path(root).expanduser().is_file():
            raise DataError(f"{self.title}: root {root} is a file; pass the folder that holds "
                            "the IDX files")
        if root is not None and not download and not Path(root).expanduser().is_dir():
            # a typo in root must not quietly train on whatever else is found
            raise DataError(f"{self.title}: root {root} does not exist (no such folder). Fix "
                            "the path, leave root out to search the usual places (see "
                            "minigen.data.datasets), or pass download=True to fetch into it")
        searched = []
        for kind, folder in candidate_folders(self.name, root):
            found, missing = _split_files(folder, split)
            if not missing:
                if root is not None and kind != "root":
                    print(f"minigen: {root} holds no {self.title} {split} files; using "
                          f"{folder} ({kind})", file=sys.stderr)
                return kind, folder, found
            state = "no such folder" if not folder.is_dir() else "missing " + ", ".join(missing)
            searched.append(f"{kind:>8}: {folder} ({state})")
        if download:
            folder = download_folder(self.name, root)
            names = [f"{base}.gz" for base in SPLITS[split]]
            _download.download_dataset(self.name, folder, names, timeout=timeout,
                                       progress=progress)
            return "download", folder, [folder / n for n in names]
        if self.has_sample and source == "auto":
            if root is not None:
                print(f"minigen: {root} holds no {self.title} {split} files", file=sys.stderr)
            _announce_sample()
            return "sample", SAMPLE_FOLDER, _split_files(SAMPLE_FOLDER, split)[0]
        raise DataError(self._not_found_message(root, split, searched))

    def _not_found_message(self, root: Any, split: str, searched: list[str]) -> str:
        names = ", ".join(f"{base}.gz" for base in SPLITS[split])
        fixes = [
            f"pass download=True to fetch it into {download_folder(self.name, root)}",
            f"or put {names} (gzipped or not) in one of the folders above, or set "
            f"MINIGEN_DATA to a folder holding a '{self.name}' subfolder",
        ]
        if self.name == "fashion-mnist":
            fixes.append("or, on Debian/Ubuntu: sudo apt-get install dataset-fashion-mnist")
        if self.has_sample:
            fixes.append("or use source='auto' to fall back to the bundled sample")
        return (f"{self.title} ({split}) not found. Searched, in order:\n  "
                + "\n  ".join(searched) + "\nTo fix: " + "\n        ".join(fixes))

    # ---------------------------------------------------------------- the sequence protocol
    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def __getitem__(self, index: Any) -> tuple[Any, Any]:
        """``ds[i]`` -> (image Tensor (1, 28, 28), int label); ``ds[a:b]`` or ``ds[indices]``
        (a list or array of ints) -> two Tensors, the images and the labels."""
        from minigen.tensor import Tensor

        if isinstance(index, (int, np.integer)):
            return Tensor._make(self.images[index]), int(self.labels[index])
        return Tensor._make(self.images[index]), Tensor._make(self.labels[index])

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(split={self.split!r}, {len(self)} images, "
                f"pixel_range={self.pixel_range}, source={self.source!r}, "
                f"folder='{self.folder}')")


def _split_of(split: Any, train: Any, name: str) -> str:
    """The split asked for with minigen's ``split=`` or PyTorch's ``train=`` (a bool as the
    second argument, PyTorch's place for ``train``, counts as ``train``)."""
    if isinstance(split, bool):
        if train is not None and train != split:
            raise ValueError(f"{name}: the second argument {split} (PyTorch's train) and "
                             f"train={train} disagree: give one of them")
        split, train = None, split
    if train is not None and not isinstance(train, bool):
        raise ValueError(f"{name}: train must be True or False, got {train!r}")
    if train is None:
        return "train" if split is None else split
    if split is not None and split != ("train" if train else "test"):
        raise ValueError(f"{name}: split={split!r} and train={train} disagree: give one of "
                         f"them (split='train' is train=True, split='test' is train=False)")
    return "train" if train else "test"


def _announce_sample() -> None:
    """Say once per process that the bundled sample stands in for full MNIST."""
    global _sample_notice_shown
    if _sample_notice_shown:
        return
    _sample_notice_shown = True
    print("minigen: using the bundled MNIST sample (4,000 train / 1,000 test real digits); "
          "for full MNIST run MNIST(download=True) once in Python, or put the four files in "
          f"{cache_dir('mnist')}", file=sys.stderr)


class MNIST(_IDXDataset):
    """The MNIST handwritten digits: 60,000 train / 10,000 test, or the bundled sample.

    Parameters
    ----------
    root : a folder holding the four IDX files (or a ``mnist`` subfolder of it); searched
        first, and where ``download=True`` puts the files. See the module docstring for the
        whole search order.
    split : "train" (the default) or "test"; or PyTorch's ``train=True`` / ``train=False``
        (keyword, or a bool as the second argument as in PyTorch). Giving both is allowed only
        when they agree.
    download : fetch the files (checksummed, from mirrors) when no folder has them, and
        download again a ``.gz`` file found that cannot be read and has a wrong checksum.
    source : "auto" (the search order, ending with the bundled sample), "full" (never the
        sample: raise if full MNIST is not found) or "sample" (always the bundled sample, e.g.
        for results that must not depend on what is installed).
    pixel_range : the values 0 and 255 map to; ``(-1, 1)`` matches a GAN generator's tanh.
    timeout, progress : for the download (seconds per network read; a progress bar).

    Attributes
    ----------
    images : float32 NumPy array (N, 1, 28, 28), in ``pixel_range``, decoded once.
    labels : int64 NumPy array (N,), digits 0-9.
    source : where the data came from: "root", "env", "cache", "system", "download", "sample".
    folder : the folder the files were read from; ``files``: the two files.

    >>> train = MNIST(source="sample")
    >>> train.images.shape, train.labels.shape
    ((4000, 1, 28, 28), (4000,))
    >>> image, label = train[0]
    """

    name = "mnist"
    title = "MNIST"
    classes = tuple(str(d) for d in range(10))
    has_sample = True


class FashionMNIST(_IDXDataset):
    """Zalando's Fashion-MNIST: 60,000 train / 10,000 test 28x28 images of 10 clothing classes.

    The same parameters as :class:`MNIST` (the subfolder and cache name is ``fashion-mnist``),
    but there is no bundled sample: if the files are in no folder of the search order and
    ``download`` is False, a :class:`~minigen.errors.DataError` lists the folders searched.
    Debian's and Ubuntu's ``dataset-fashion-mnist`` package is found where it installs.
    """

    name = "fashion-mnist"
    title = "Fashion-MNIST"
    classes = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")
    has_sample = False
