"""The IDX file format of MNIST and Fashion-MNIST: a reader that checks everything, a writer.

An IDX file is a tiny header followed by the raw numbers, all big-endian::

    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    4*d bytes   the size of each dimension, as big-endian uint32
    the rest    prod(sizes) elements, row-major

Read as one big-endian int32, the first four bytes are the "magic number": 2051 (0x00000803,
uint8, 3 dims) for images ``(N, rows, cols)`` and 2049 (0x00000801, uint8, 1 dim) for labels
``(N,)``. Files are usually gzipped; the reader recognises gzip by its first two bytes
(0x1f 0x8b), not by the file name.

This module works on host memory with NumPy: file parsing is not array code, and the decoded
arrays are moved to a device later, once (see :class:`minigen.data.DataLoader`).
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from minigen.errors import DataError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049
GZIP_MAGIC = b"\x1f\x8b"

# IDX type code -> big-endian NumPy dtype
_IDX_DTYPES = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}
_IDX_CODES = {dt.newbyteorder("="): code for code, dt in _IDX_DTYPES.items()}


def read_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of ``path``, gunzipped when the file starts with the gzip magic bytes.

    Raises :class:`~minigen.errors.DataError` naming the file when it is missing, is a folder,
    is named ``.gz`` but is not gzip, or is a damaged gzip stream.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if not path.is_file():
        raise DataError(f"{path}: not a file")
    raw = path.read_bytes()
    if raw[:2] != GZIP_MAGIC:
        if path.suffix == ".gz":
            raise DataError(
                f"{path}: named .gz but it is not gzip (it starts with {raw[:4]!r}, not "
                "1f 8b); it may be an HTML error page saved by a failed download: delete it"
            )
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError as e:  # the stream stops before its end marker
        raise DataError(f"{path}: truncated gzip file ({len(raw)} bytes): {e}") from e
    except (gzip.BadGzipFile, zlib.error, OSError) as e:  # bad CRC, bad deflate data...
        raise DataError(f"{path}: corrupt gzip file: {e}") from e


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode IDX bytes (already gunzipped) into a NumPy array of the file's shape.

    Checks the zero bytes and type code of the magic number, and that the payload holds exactly
    ``prod(sizes)`` elements: fewer means a truncated file, more means it is not IDX at all.
    Multi-byte types are converted to native byte order. ``name`` is used in error messages.
    """
    if len(data) < 4:
        raise DataError(f"{name}: truncated IDX file: {len(data)} bytes, not even a header")
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in _IDX_DTYPES:
        magic = struct.unpack(">i", data[:4])[0]
        raise DataError(
            f"{name}: wrong magic number {magic} (bytes {data[:4].hex(' ')}): not an IDX file "
            f"(images start with {IMAGES_MAGIC}, labels with {LABELS_MAGIC})"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{name}: truncated IDX header: {len(data)} bytes, need {header}")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    payload = len(data) - header
    if payload < expected:
        raise DataError(
            f"{name}: truncated: the header says shape {shape} ({expected} bytes of data) but "
            f"only {payload} bytes follow it"
        )
    if payload > expected:
        raise DataError(
            f"{name}: {payload - expected} unexpected bytes after the data of shape {shape}: "
            "not a well-formed IDX file"
        )
    array = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize, offset=header)
    return array.reshape(shape).astype(dtype.newbyteorder("="), copy=False)


def read_idx(path: str | os.PathLike, magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzipped or not) into a NumPy array.

    Parameters
    ----------
    path : the file.
    magic : if given, the magic number the file must have (``IMAGES_MAGIC`` = 2051 or
        ``LABELS_MAGIC`` = 2049); another one raises :class:`~minigen.errors.DataError`.

    Returns
    -------
    The array, of the shape in the header, in native byte order (read-only for uint8 files).

    >>> images = read_idx("train-images-idx3-ubyte.gz", magic=IMAGES_MAGIC)  # doctest: +SKIP
    >>> images.shape, images.dtype                                             # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'))
    """
    data = read_bytes(path)
    if magic is not None and len(data) >= 4:
        found = struct.unpack(">i", data[:4])[0]
        if found != magic:
            kind = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}.get(magic, "this kind")
            raise DataError(
                f"{path}: wrong magic number {found}: IDX {kind} files start with {magic}"
                + (" (this looks like a labels file)" if found == LABELS_MAGIC else "")
                + (" (this looks like an images file)" if found == IMAGES_MAGIC else "")
            )
    return parse_idx(data, name=str(path))


def read_images_labels(images_path: str | os.PathLike,
                       labels_path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read a pair of IDX files: uint8 images ``(N, rows, cols)`` and uint8 labels ``(N,)``.

    Checks both magic numbers and that the two files hold the same number of items.
    """
    images = read_idx(images_path, magic=IMAGES_MAGIC)
    labels = read_idx(labels_path, magic=LABELS_MAGIC)
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f"counts disagree: {images_path} has {images.shape[0]} images but {labels_path} "
            f"has {labels.shape[0]} labels; the two files must come from the same split"
        )
    return images, labels


def write_idx(path: str | os.PathLike, array: np.ndarray, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file (gzipped when ``compress``, default: name ends in .gz).

    The dtype must be one IDX can hold (uint8, int8, int16, int32, float32, float64); uint8
    arrays of 3 and 1 dimensions get the image and label magic numbers 2051 and 2049. The gzip
    stream has no name and mtime 0, so the same array always gives the same bytes.

    >>> write_idx("labels-idx1-ubyte.gz", np.array([3, 1, 4], dtype=np.uint8))  # doctest: +SKIP
    """
    path = Path(path)
    array = np.asarray(array)
    native = array.dtype.newbyteorder("=")
    if native not in _IDX_CODES:
        raise DataError(
            f"{path}: IDX cannot store dtype {array.dtype}; use uint8, int8, int16, int32, "
            "float32 or float64"
        )
    if array.ndim > 255:
        raise DataError(f"{path}: IDX holds at most 255 dimensions, got {array.ndim}")
    header = struct.pack(f">HBB{array.ndim}I", 0, _IDX_CODES[native], array.ndim, *array.shape)
    body = np.ascontiguousarray(array, dtype=_IDX_DTYPES[_IDX_CODES[native]]).tobytes()
    data = header + body
    if compress is None:
        compress = path.suffix == ".gz"
    if compress:
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path
