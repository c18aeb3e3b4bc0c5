"""What the array-API standard lacks and the extras need: scatter-add (the gradient of a
gather), assignment through an index array, and gradient buffers. Like the backend, this
module may name NumPy and CuPy."""

from __future__ import annotations

import array_api_compat
import numpy as np

from minigen.backend import Array, namespace


def scatter_add(shape: tuple[int, ...], axis: int, index: Array, values: Array) -> Array:
    """``out = zeros(shape); out[..., index[j], ...] += values[..., j, ...]`` along ``axis``.

    Repeated indices add up (the gradient of a gather). ``index`` is 1-D.
    """
    xp = namespace(values)
    if isinstance(values, np.ndarray):
        out = np.zeros(shape, dtype=values.dtype)
        np.add.at(out, (slice(None),) * axis + (index,), values)
        return out
    if "cupy" in xp.__name__:
        import cupy

        out = cupy.zeros(shape, dtype=values.dtype)
        where = (slice(None),) * axis + (index,)
        if hasattr(cupy.add, "at"):  # (CuPy 14 deprecates cupyx.scatter_add for ufunc.at)
            cupy.add.at(out, where, values)
        else:
            import cupyx

            cupyx.scatter_add(out, where, values)
        return out
    # Generic array-API path: a one-hot matrix (n, k) times the values moved to the front.
    n = shape[axis]
    positions = xp.arange(n, dtype=index.dtype, device=index.device)
    one_hot = xp.astype(positions[:, None] == index[None, :], values.dtype)
    moved = xp.moveaxis(values, axis, 0)
    summed = xp.tensordot(one_hot, moved, axes=1)
    return xp.moveaxis(summed, 0, axis)


def put(flat: Array, positions: Array, values: Array) -> Array:
    """A copy of the 1-D ``flat`` with ``values`` written at the (distinct) ``positions``.

    NumPy and CuPy assign through an index array; the array API has no such assignment, so
    elsewhere it is a scatter-add of the values beside a scatter-add of ones (where to write).
    """
    xp = namespace(flat)
    if isinstance(flat, np.ndarray) or "cupy" in xp.__name__:
        out = xp.asarray(flat, copy=True)
        out[positions] = values
        return out
    n = flat.shape[0]
    hit = scatter_add((n,), 0, positions, xp.ones(values.shape, dtype=xp.float32,
                                                  device=array_api_compat.device(flat))) > 0
    return xp.where(hit, scatter_add((n,), 0, positions, values), flat)


def zeros(shape: tuple[int, ...], like: Array) -> Array:
    """Zeros of ``shape`` with the dtype of ``like``, on its device (gradient buffers)."""
    return namespace(like).zeros(shape, dtype=like.dtype, device=array_api_compat.device(like))
