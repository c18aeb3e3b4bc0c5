"""``minigen.save`` and ``minigen.load``: checkpoints as ``.npz`` files, with no pickle.

What can be saved: a (nested) dict, list or tuple of tensors, arrays, numbers, strings,
booleans and None; a model's ``state_dict()``, an optimizer's, or a checkpoint dict holding
both with the RNG state and the loss history.

The file format (one ``.npz``, i.e. a zip of ``.npy`` arrays, each with a CRC-32):

- every tensor or array is one entry, named by its path in the object (``"model/fc1.weight"``,
  ``"optimizer/state/0/exp_avg"``), stored on the host;
- the entry ``__minigen__`` is a JSON string: a format marker and version, and the tree of the
  object, in which every leaf is either a JSON value or a reference to an array entry.

Loading never unpickles (``allow_pickle=False``), so a crafted file cannot run code, and entry
names are only looked up, never used as file paths. Saving is atomic: the file is written to
a temporary file in the same folder, flushed to disk, then renamed over the target, so a crash
leaves either the old file or the new one, never half of one.

NumPy is imported here by name: this module reads and writes host files, not device arrays.
"""

from __future__ import annotations

import glob
import json
import os
import tempfile
from typing import Any

import numpy as np

from minigen import backend
from minigen.errors import CheckpointError
from minigen.tensor import Tensor

FORMAT = "minigen-checkpoint"
VERSION = 1
META = "__minigen__"
_ZIP_MAGIC = b"PK\x03\x04"
_RESERVED = {META, "file", "allow_pickle"}  # names np.savez would misread as its own arguments


# ----------------------------------------------------------------------------- save


def _entry_name(path: str, arrays: dict[str, np.ndarray]) -> str:
    name, n = path or "value", 1
    while name in arrays or name in _RESERVED:
        name, n = f"{path or 'value'}~{n}", n + 1
    return name


def _host_array(value: Any, where: str) -> np.ndarray:
    array = backend.to_numpy(value)
    if array.dtype.hasobject:
        raise TypeError(f"minigen.save: the array at {where!r} holds Python objects, which "
                        "cannot be stored without pickle; store numbers, strings or tensors")
    return array


def _encode(obj: Any, path: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The JSON tree of ``obj``; its arrays are added to ``arrays`` under their paths."""
    where = path or "(top level)"
    if isinstance(obj, Tensor) or (hasattr(obj, "shape") and hasattr(obj, "dtype")):
        kind = "tensor" if isinstance(obj, Tensor) else "array"
        if isinstance(obj, np.generic):
            kind = "scalar"
        data = obj.data if isinstance(obj, Tensor) else obj
        name = _entry_name(path, arrays)
        arrays[name] = _host_array(np.asarray(data) if kind == "scalar" else data, where)
        return {"t": kind, "entry": name}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"t": "value", "v": obj}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"minigen.save: dict keys must be str or int, got {key!r} at "
                                f"{where!r}")
            items.append([key, _encode(value, f"{path}/{key}" if path else str(key), arrays)])
        return {"t": "dict", "items": items}
    if isinstance(obj, (list, tuple)):
        items = [_encode(v, f"{path}/{i}" if path else str(i), arrays) for i, v in
                 enumerate(obj)]
        return {"t": "list" if isinstance(obj, list) else "tuple", "items": items}
    raise TypeError(f"minigen.save cannot store a {type(obj).__name__} (at {where!r}): use "
                    "tensors, arrays, numbers, strings, and dicts/lists of them")


def save(obj: Any, path: str | os.PathLike) -> None:
    """Write ``obj`` (a state dict, or a dict of them) to ``path`` atomically.

    The file is exactly ``path`` (no ``.npz`` is appended). Tensors are copied to the host;
    :func:`load` gives them back on the CPU, or on the device asked for.

    >>> import tempfile, os
    >>> model = minigen.nn.Linear(3, 2)
    >>> path = os.path.join(tempfile.mkdtemp(), "checkpoint.npz")
    >>> minigen.save({"model": model.state_dict(), "epoch": 3}, path)
    >>> minigen.load(path)["epoch"]
    3
    """
    path = os.fspath(path)
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(obj, "", arrays)
    meta = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private (0600); use the usual mode
        with os.fdopen(fd, "wb") as f:
            np.savez(f, allow_pickle=False, **{META: np.asarray(meta)}, **arrays)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the rename makes them visible
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)
    _remove_leftovers(folder, os.path.basename(path))


def _remove_leftovers(folder: str, name: str) -> None:
    """Delete temp files of earlier saves to the same path that were killed mid-write (a
    SIGKILL leaves them behind; they were never renamed, so nothing refers to them)."""
    for leftover in glob.glob(os.path.join(glob.escape(folder), f".{glob.escape(name)}.*.tmp")):
        try:
            os.unlink(leftover)
        except OSError:
            pass


def _umask() -> int:
    mask = os.umask(0)  # reading the umask means setting it: put it straight back
    os.umask(mask)
    return mask


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------- load


def _read_entry(npz: Any, name: Any, path: str) -> np.ndarray:
    if not isinstance(name, str) or name not in npz.files:
        raise CheckpointError(f"{path}: damaged checkpoint: entry {name!r} is missing")
    try:
        return npz[name]
    except ValueError as e:
        if "pickle" in str(e):
            raise CheckpointError(
                f"{path}: entry {name!r} holds pickled Python objects; minigen refuses to load "
                "them (unpickling a crafted file can run code)") from e
        raise


def _decode(node: Any, npz: Any, path: str, dev: backend.Device | None) -> Any:
    kind = node.get("t") if isinstance(node, dict) else None
    if kind == "value":
        return node["v"]
    if kind in ("tensor", "array", "scalar"):
        array = _read_entry(npz, node.get("entry"), path)
        if kind == "scalar":
            return array[()]
        if kind == "array":
            return array
        return Tensor._make(array if dev is None else backend.to_device(array, dev))
    if kind == "dict":
        return {key: _decode(value, npz, path, dev) for key, value in node["items"]}
    if kind in ("list", "tuple"):
        items = [_decode(value, npz, path, dev) for value in node["items"]]
        return items if kind == "list" else tuple(items)
    raise CheckpointError(f"{path}: damaged checkpoint: unknown node {str(node)[:80]!r}")


def load(path: str | os.PathLike, device: Any = None, map_location: Any = None) -> Any:
    """Read an object written by :func:`save`. Tensors come back on the CPU, or on
    ``device`` (``map_location`` is an alias, as in PyTorch).

    Raises :class:`~minigen.CheckpointError`, naming the file and the problem, for a missing
    file, a file that is not a minigen checkpoint, a truncated or corrupted one, and one that
    holds pickled objects.
    """
    path = os.fspath(path)
    target = device if device is not None else map_location
    dev = None if target is None else backend.device(target)
    if not os.path.isfile(path):
        what = "is a folder, not a file" if os.path.isdir(path) else "does not exist"
        raise CheckpointError(f"{path}: cannot load a checkpoint: the path {what}")
    with open(path, "rb") as f:
        head = f.read(4)
    if head != _ZIP_MAGIC:
        problem = "it is empty" if not head else f"it starts with {head!r}, not a zip header"
        raise CheckpointError(f"{path}: not a minigen checkpoint (.npz): {problem}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if META not in npz.files:
                raise CheckpointError(f"{path}: not a minigen checkpoint: a .npz file without "
                                      f"the {META!r} entry (saved by numpy.savez directly?)")
            meta_array = _read_entry(npz, META, path)
            if meta_array.dtype.kind != "U" or meta_array.ndim != 0:
                raise CheckpointError(f"{path}: damaged checkpoint: bad {META!r} entry")
            meta = json.loads(str(meta_array[()]))
            marker = meta.get("format") if isinstance(meta, dict) else None
            if marker != FORMAT:
                raise CheckpointError(f"{path}: not a minigen checkpoint (format marker "
                                      f"{marker!r}, expected {FORMAT!r})")
            if not isinstance(meta.get("version"), int) or meta["version"] > VERSION:
                raise CheckpointError(f"{path}: checkpoint format version "
                                      f"{meta.get('version')!r} is newer than this minigen's "
                                      f"({VERSION}): upgrade minigen")
            return _decode(meta.get("tree"), npz, path, dev)
    except CheckpointError:
        raise
    except Exception as e:  # zip, CRC, npy header, JSON: every way a damaged file can fail
        raise CheckpointError(f"{path}: damaged or truncated checkpoint, cannot be read "
                              f"({type(e).__name__}: {e})") from e
