"""What the array-API standard lacks and minigen needs: scatter-add, assignment through an
index array, gradient buffers, constant padding, and the memory layout of an array."""

from __future__ import annotations

import array_api_compat
import numpy as np

from minigen.backend.devices import namespace
from minigen.backend.dtypes import Array


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


# --------------------------------------------------------------------------- memory layout
# The array API says nothing about memory layout, but an elementwise op between two arrays
# stored in different orders (one (N, C, H, W), one (C, H, W, N)) costs NumPy a strided pass,
# 10 to 15 times a contiguous one. So gradients are handed back in their input's layout. These
# two helpers read the layout where the array type shows it (NumPy's and CuPy's strides) and
# answer "no" / do nothing where it does not (array-api-strict).


def batch_last(x: Array) -> bool:
    """Whether axis 0 (the batch) of ``x`` is its innermost axis in memory: images stored as
    (C, H, W, N), features as (F, N), as minigen's conv layers leave them."""
    strides = getattr(x, "strides", None)
    return (strides is not None and x.ndim >= 2 and x.shape[0] > 1 and x.shape[1] > 1
            and 0 < strides[0] < strides[1])


def batch_first(x: Array) -> Array:
    """``x`` stored in the usual C order, (N, C, H, W): a copy if it is not already."""
    contiguous = getattr(namespace(x), "ascontiguousarray", None)  # NumPy's and CuPy's
    if contiguous is None or getattr(x, "strides", None) is None:
        return x
    return contiguous(x)


def pad(x: Array, widths: tuple[tuple[int, int], ...], value: float = 0.0) -> Array:
    """Constant padding: ``widths[i] = (before, after)`` for each axis of ``x``."""
    xp = namespace(x)
    shape = tuple(n + a + b for n, (a, b) in zip(x.shape, widths))
    out = xp.full(shape, value, dtype=x.dtype, device=array_api_compat.device(x))
    out[tuple(slice(a, a + n) for n, (a, _) in zip(x.shape, widths))] = x
    return out


def unpad(x: Array, widths: tuple[tuple[int, int], ...]) -> Array:
    """The inverse of :func:`pad`: cut ``widths`` off each axis."""
    return x[tuple(slice(a, n - b) for n, (a, b) in zip(x.shape, widths))]
