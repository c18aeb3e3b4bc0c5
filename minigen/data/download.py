"""Checksummed downloads of the MNIST and Fashion-MNIST files, with mirrors.

Each file is fetched from the first mirror that works, streamed to a temporary file in the
target folder while its SHA-256 is computed, and renamed into place (``os.replace``) only when
the size and the checksum are right, so a cache never holds a partial or corrupt file under the
real name; a temp file that a killed download left behind (SIGKILL gives it no chance to clean
up) is deleted by the next download of the same file. A mirror that fails (HTTP error, refused
connection, timeout, truncated or corrupt transfer) is skipped for the next; when all fail, the
error lists every attempt and says where to put the files by hand.

A mirror of your own (a university's, or a local copy served with ``python -m http.server``):
set ``MINIGEN_MIRROR`` to its URL prefix (several separated by spaces); it replaces the built-in
mirrors and must serve the same files, since the checksums are still verified. For files of
your own (other checksums), put them in the data folder by hand: files found are read, not
verified (unless they cannot be read: ``MNIST(download=True)`` then downloads again a ``.gz``
file whose checksum is wrong), or pass ``download_dataset`` a ``resource`` with their checksums.

Checksums are SHA-256 of the ``.gz`` files exactly as the mirrors serve them. The MD5 sums are
the ones the datasets' authors published (torchvision checks those); they are kept for
reference and for users who compare with them, but SHA-256 is what is verified.
"""

from __future__ import annotations

import glob
import hashlib
import os
import tempfile
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm.auto import tqdm

from minigen.errors import DataError
from minigen.io import _umask


@dataclass(frozen=True)
class FileInfo:
    """One published file: its SHA-256 (verified), MD5 (published) and size in bytes."""

    sha256: str
    md5: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class Resource:
    """A dataset's mirrors (URL prefixes, tried in order) and files."""

    mirrors: tuple[str, ...]
    files: dict[str, FileInfo]
    homepage: str = ""


# The checksums below were checked against several independent public sources (torchvision's
# MD5 list, and SHA-256 lists in other projects that agree with each other); the MNIST sizes are
# the ones on LeCun's page. tests/test_download.py checks that the table is self-consistent.
RESOURCES: dict[str, Resource] = {
    "mnist": Resource(
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",  # PyTorch's mirror
            "https://storage.googleapis.com/cvdf-datasets/mnist/",  # TensorFlow's mirror
        ),
        files={
            "train-images-idx3-ubyte.gz": FileInfo(
                "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9_912_422),
            "train-labels-idx1-ubyte.gz": FileInfo(
                "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                "d53e105ee54ea40749a09fcbcd1e9432", 28_881),
            "t10k-images-idx3-ubyte.gz": FileInfo(
                "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                "9fb629c4189551a2d022fa330f9573f3", 1_648_877),
            "t10k-labels-idx1-ubyte.gz": FileInfo(
                "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                "ec29112dd5afa0611ce80d1b7f02629c", 4_542),
        },
        homepage="http://yann.lecun.com/exdb/mnist/",
    ),
    "fashion-mnist": Resource(
        mirrors=(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        files={
            "train-images-idx3-ubyte.gz": FileInfo(
                "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
                "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
            "train-labels-idx1-ubyte.gz": FileInfo(
                "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
                "25c81989df183df01b3e8a0aad5dffbe"),
            "t10k-images-idx3-ubyte.gz": FileInfo(
                "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
                "bef4ecab320f06d8554ea6380940ec79"),
            "t10k-labels-idx1-ubyte.gz": FileInfo(
                "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
                "bb300cfdad3c16e7a12a480ee83cd310"),
        },
        homepage="https://github.com/zalandoresearch/fashion-mnist",
    ),
}

CHUNK = 1 << 16  # bytes read per step of a transfer
STALE_PART_AGE = 600.0  # seconds untouched after which a temp .part file is a dead download's


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def mirrors_of(resource: Resource) -> tuple[str, ...]:
    """The URL prefixes to try: ``$MINIGEN_MIRROR`` (split on spaces) when set, else the
    resource's own mirrors."""
    return tuple(os.environ.get("MINIGEN_MIRROR", "").split()) or resource.mirrors


def _fetch(url: str, dest: Path, sha256: str, timeout: float, progress: bool) -> None:
    """One attempt: stream ``url`` into a temp file next to ``dest``, check it, rename it.

    Raises DataError (bad size or checksum) or an OSError/URLError (network) on failure, and
    never leaves the temp file behind.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as r:
            length = r.headers.get("Content-Length")
            total = int(length) if length is not None and length.isdigit() else None
            digest, received = hashlib.sha256(), 0
            with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                      desc=dest.name, disable=not progress, leave=False) as bar:
                while block := r.read(CHUNK):  # each read waits at most `timeout` seconds
                    out.write(block)
                    digest.update(block)
                    received += len(block)
                    bar.update(len(block))
            out.flush()
            os.fsync(out.fileno())
        if total is not None and received != total:
            raise DataError(f"truncated transfer: got {received} of {total} bytes")
        if digest.hexdigest() != sha256:
            raise DataError(f"checksum mismatch: SHA-256 {digest.hexdigest()}, expected {sha256}")
        # mkstemp made it private (0600): the usual mode, so a shared data folder stays shared
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, dest)  # atomic: dest is either absent or complete and verified
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _remove_stale_parts(dest: Path) -> None:
    """Delete the temp files ``.<name>.*.part`` that killed downloads of ``dest`` left behind.

    A download killed outright (SIGKILL, a power cut) cannot run its cleanup, so its temp file
    would stay forever. One that another process is writing right now must survive: a live
    transfer writes to it at least every read timeout (30 s by default) or gives up, so a temp
    file untouched for ``STALE_PART_AGE`` (10 minutes) belongs to no running download. Simpler
    than a lock file, which a killed process would leave behind as well.
    """
    cutoff = time.time() - STALE_PART_AGE
    for part in dest.parent.glob(f".{glob.escape(dest.name)}.*.part"):
        try:
            if part.stat().st_mtime < cutoff:
                part.unlink()
        except OSError:  # already deleted by another process, or not ours to delete: harmless
            pass


def _try_mirrors(urls: Sequence[str], dest: Path, sha256: str, timeout: float,
                 progress: bool) -> list[str]:
    """Try each URL in turn until one gives the file; the failures (empty on success)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_parts(dest)
    failures = []
    for url in urls:
        try:
            _fetch(url, dest, sha256.lower(), timeout, progress)
            return []
        except urllib.error.HTTPError as e:
            failures.append(f"{url}: HTTP {e.code} {e.reason}")
        except urllib.error.URLError as e:  # refused, unknown host, connect timeout
            failures.append(f"{url}: {e.reason}")
        except TimeoutError:
            failures.append(f"{url}: no answer within {timeout} s")
        except (DataError, OSError, ValueError) as e:  # bad size or checksum, dropped link
            failures.append(f"{url}: {e}")
    return failures


def download_file(urls: Sequence[str], dest: str | os.PathLike, sha256: str, *,
                  timeout: float = 30.0, progress: bool = True) -> Path:
    """Download one file from the first of ``urls`` that gives the right bytes.

    Parameters
    ----------
    urls : full URLs of the same file on different mirrors, tried in order.
    dest : where the verified file goes (its folder is created).
    sha256 : the expected SHA-256 hex digest.
    timeout : seconds to wait for a connection and for each read before giving up on a mirror.
    progress : show a tqdm progress bar.

    Returns the path of the verified file. Raises :class:`~minigen.errors.DataError` listing
    every failed attempt when no mirror gives the file.
    """
    dest = Path(dest)
    failures = _try_mirrors(urls, dest, sha256, timeout, progress)
    if failures:
        raise DataError(
            f"could not download {dest.name}:\n  " + "\n  ".join(failures)
            + f"\nWithout network, put the file by hand at {dest} (SHA-256 {sha256})."
        )
    return dest


def _present_and_good(name: str, dest: Path, sha256: str) -> bool:
    """Whether ``dest`` is there with the right checksum; warn when it is there but damaged.

    Raises DataError when it is another known dataset's file: replacing it would destroy data
    that is not damaged, only in the wrong folder (or loaded with the wrong class).
    """
    if not dest.is_file():
        return False
    digest = sha256_of(dest)
    if digest == sha256:
        return True
    other = next((other for other, r in RESOURCES.items() if other != name
                  and any(info.sha256 == digest for info in r.files.values())), None)
    if other is not None:
        raise DataError(f"{dest} is {other}'s {dest.name}, not {name}'s: not replacing it. "
                        f"Download {name} into another folder, or load this one as {other}")
    warnings.warn(f"{dest} is damaged (SHA-256 {digest}, expected {sha256}: truncated or "
                  "corrupt); downloading it again", stacklevel=3)
    return False


def download_dataset(name: str, folder: str | os.PathLike, filenames: Sequence[str] | None = None,
                     *, resource: Resource | None = None, timeout: float = 30.0,
                     progress: bool = True) -> Path:
    """Download the files of dataset ``name`` ("mnist", "fashion-mnist") into ``folder``.

    Files already there with the right checksum are kept; one with another checksum is
    damaged (truncated, corrupt) and is downloaded again, with a warning, unless it is another
    dataset's file (never overwritten: a DataError says so). ``filenames`` limits the download
    (default: all four files); ``resource`` replaces the ``RESOURCES[name]`` entry (its own
    files and checksums; tests point it at a local server). The mirrors tried are
    :func:`mirrors_of` it: ``$MINIGEN_MIRROR`` when set. Returns ``folder``.
    """
    resource = resource or RESOURCES[name]
    mirrors = mirrors_of(resource)
    folder = Path(folder)
    wanted = list(filenames) if filenames is not None else list(resource.files)
    report = []
    for filename in wanted:
        info = resource.files[filename]
        dest = folder / filename
        if _present_and_good(name, dest, info.sha256):
            continue
        urls = [mirror.rstrip("/") + "/" + filename for mirror in mirrors]
        failures = _try_mirrors(urls, dest, info.sha256, timeout, progress)
        if failures:
            report.append(f"{filename}:\n    " + "\n    ".join(failures))
    if report:
        by_hand = "\n".join(f"  {f}  (SHA-256 {resource.files[f].sha256})" for f in wanted)
        raise DataError(
            f"downloading {name} failed:\n  " + "\n  ".join(report)
            + f"\nWithout network, download these files by hand (from "
            f"{resource.homepage or mirrors[0]}) and put them in {folder}, or set "
            f"MINIGEN_MIRROR to a mirror's URL:\n{by_hand}"
        )
    return folder
