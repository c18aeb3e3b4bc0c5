"""Resizing images by PyTorch's rules: ``interpolate`` (nearest, linear, bilinear) and
``adaptive_avg_pool2d``.

Both work one spatial axis at a time, with no loop over pixels:

* nearest: output position j reads input ``min(floor(j * scale), n - 1)`` (PyTorch's CPU
  forward, ``scale = 1 / scale_factor`` when a scale factor is given, else ``n / out``: for
  2-D in float32, with ``j`` for an axis of unchanged size and ``j // 2`` for a doubled one;
  for 1-D with no such shortcut, the product in float64 for float64, then rounded to
  float32): one gather with that index array per axis, so an integer factor repeats
  each pixel. The backward is the gather's scatter-add, the gradient of this forward (in 1-D
  PyTorch's backward uses the 2-D rule instead, so for 3 * 1.3 the two differ).
* (bi)linear: output j sits at input position ``x = (j + 0.5) * scale - 0.5`` (at least 0),
  or ``j * (n - 1) / (out - 1)`` with ``align_corners``; it is the blend
  ``(1 - t) * in[i0] + t * in[i1]`` of its two neighbours (i0 = floor(x), i1 = i0 + 1 but
  at most n - 1, t = x - i0): two gathers per axis, H then W.
* adaptive average pooling: output i averages input ``[floor(i*n/out), ceil((i+1)*n/out))``,
  a fixed (out, n) averaging matrix A, so the pooled image is ``A_h @ x @ A_w^T``.

Each is composed of gathers, products and matmuls, so its gradient comes with them.
"""

from __future__ import annotations

import math
from typing import Any

from minigen import backend
from minigen.errors import ShapeError
from minigen.extras._common import check_floating, is_int
from minigen.extras.elementwise import clone
from minigen.extras.indexing import Take
from minigen.ops.arithmetic import add, mul
from minigen.ops.linalg import matmul
from minigen.tensor import Tensor

MODES = ("nearest", "linear", "bilinear")


def _per_axis(value: Any, dims: int, name: str, kind: str, shape: tuple[int, ...]) -> list:
    """An int/float or a sequence of one per spatial dimension, as a list of ``dims``."""
    if isinstance(value, (tuple, list)):
        if len(value) != dims:
            raise ValueError(
                f"interpolate: the input has {dims} spatial dimension(s) {list(shape[2:])}, "
                f"but {name} {tuple(value)} has {len(value)}: give one {name} per spatial "
                "dimension (input (N, C, H, W) for two)")
        values = list(value)
    else:
        values = [value] * dims
    if kind == "int" and not all(is_int(v) for v in values):
        raise TypeError(f"interpolate: size must be an int or a tuple of ints, got {value!r}")
    if kind == "float" and not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                   for v in values):
        raise TypeError(f"interpolate: scale_factor must be a number or a tuple of numbers, "
                        f"got {value!r}")
    return values


def _like(x: Any, values: Any, dtype: Any) -> Any:
    xp = backend.namespace(x)
    return xp.asarray(values, dtype=backend.device_of(x).dtype(dtype), device=x.device)


def _nearest_index(x: Any, n: int, out: int, scale: float | None, one_d: bool) -> Any:
    """PyTorch 2.13's CPU forward: ``min(floor(float32(j * step)), n - 1)`` with
    ``step = 1 / scale_factor`` when a scale factor is given, else ``n / out``.

    2-D (``nearest_idx``): in float32, and an axis whose size is kept (``out == n``) or
    doubled (``out == 2 n``) reads ``j`` or ``j // 2`` whatever the factor. 1-D (the generic
    kernel): no such shortcut (3 * 1.3 -> 3 reads 0, 0, 1) and the product in float64 for a
    float64 input, rounded to float32 before the floor."""
    xp = backend.namespace(x)
    dev = backend.device_of(x)
    int64 = dev.dtype(backend.int64)
    j = xp.arange(out, dtype=int64, device=x.device)
    if not one_d and out == n:
        return j
    if not one_d and out == 2 * n:
        return j // 2
    f32 = backend.float32
    op = backend.float64 if one_d and backend.dtype_of(x) == backend.float64 else f32
    step = (_like(x, 1.0 / scale, op) if scale is not None and scale > 0
            else _like(x, n, op) / _like(x, out, op))
    real = xp.astype(xp.astype(j, dev.dtype(op)) * step, dev.dtype(f32))
    return xp.clip(xp.astype(xp.floor(real), int64), max=n - 1)


def _linear_weights(x: Any, n: int, out: int, scale: float | None,
                    align_corners: bool) -> tuple[Any, Any, Any]:
    """(i0, i1, t): each output's two neighbours and the weight of the second, PyTorch's
    ``area_pixel_compute_source_index`` in the input's dtype."""
    xp = backend.namespace(x)
    dt = backend.device_of(x).dtype(backend.dtype_of(x))
    j = xp.arange(out, dtype=dt, device=x.device)
    if align_corners:
        real = j * ((n - 1) / (out - 1)) if out > 1 else j * 0
    else:
        step = (_like(x, 1.0 / scale, backend.dtype_of(x)) if scale is not None and scale > 0
                else _like(x, n, backend.dtype_of(x)) / _like(x, out, backend.dtype_of(x)))
        real = xp.clip((j + 0.5) * step - 0.5, min=0.0)
    int64 = backend.device_of(x).dtype(backend.int64)
    i0 = xp.clip(xp.astype(xp.floor(real), int64), max=n - 1)
    i1 = xp.where(i0 < n - 1, i0 + 1, i0)
    t = xp.clip(real - xp.astype(i0, dt), min=0.0, max=1.0)
    return i0, i1, t


def _along(weights: Any, axis: int, ndim: int) -> Tensor:
    """Weights (out,) as a constant tensor that broadcasts along ``axis``."""
    xp = backend.namespace(weights)
    return Tensor._make(xp.reshape(weights, (-1,) + (1,) * (ndim - 1 - axis)))


def _resize_axis(x: Tensor, axis: int, out: int, scale: float | None, mode: str,
                 align_corners: bool) -> Tensor:
    n = x.shape[axis]
    if out == n and mode != "nearest":
        return x  # PyTorch copies an axis of unchanged size, whatever the scale factor
    if mode == "nearest":
        return Take.apply(x, axis,
                              _nearest_index(x.data, n, out, scale, x.ndim == 3))
    i0, i1, t = _linear_weights(x.data, n, out, scale, align_corners)
    low, high = (Take.apply(x, axis, i) for i in (i0, i1))
    return add(mul(low, _along(1.0 - t, axis, x.ndim)), mul(high, _along(t, axis, x.ndim)))


def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None,
                mode: str = "nearest", align_corners: bool | None = None) -> Tensor:
    """Resize the spatial dimensions, as PyTorch's ``F.interpolate``.

    Parameters
    ----------
    input : Tensor (N, C, W) or (N, C, H, W), floating point
    size : the output's spatial size: an int, or one per spatial dimension
    scale_factor : or a multiplier (one, or one per dimension): output ``floor(n * s)``, and
        the positions are computed with ``1 / s`` (PyTorch's rule), not ``n / out``
    mode : 'nearest' (input ``floor(j * n / out)``: an integer factor repeats pixels),
        'linear' (3-D input) or 'bilinear' (4-D input)
    align_corners : (bi)linear only: map the corner pixels' centres onto each other
        (positions ``j * (n - 1) / (out - 1)``); default False, pixel areas aligned

    Returns
    -------
    Tensor (N, C, *size)

    Examples
    --------
    >>> interpolate(minigen.randn(8, 64, 7, 7), scale_factor=2).shape
    (8, 64, 14, 14)
    """
    check_floating(input, "interpolate")
    if mode not in MODES:
        raise ValueError(f"interpolate: mode {mode!r} is not one of {', '.join(MODES)}")
    if input.ndim not in (3, 4):
        raise ShapeError(f"interpolate takes 3-D (N, C, W) or 4-D (N, C, H, W) input, "
                         f"got {input.ndim}-D of shape {input.shape}")
    if mode == "nearest" and align_corners is not None:
        raise ValueError("interpolate: align_corners can only be set with the interpolating "
                         "modes linear and bilinear")
    want = {"linear": 3, "bilinear": 4}.get(mode, input.ndim)
    if input.ndim != want:
        raise ShapeError(f"interpolate: got {input.ndim}-D input, but {mode} mode "
                         f"needs {want}-D input (shape {input.shape})")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give either size or scale_factor" if size is None else
                         "interpolate: only one of size or scale_factor should be given")
    dims = input.ndim - 2
    spatial = input.shape[2:]
    if size is not None:
        sizes = [int(s) for s in _per_axis(size, dims, "size", "int", input.shape)]
        scales: list[float | None] = [None] * dims
    else:
        scales = [float(s) for s in _per_axis(scale_factor, dims, "scale_factor", "float",
                                              input.shape)]
        if not all(math.isfinite(s) and s > 0 for s in scales):
            raise ValueError(f"interpolate: scale_factor must be positive and finite, got "
                             f"{scale_factor!r}")
        sizes = [math.floor(n * s) for n, s in zip(spatial, scales)]
    if min(spatial) < 1 or min(sizes) < 1:
        raise ShapeError(f"interpolate: input and output sizes must be at least 1, got input "
                         f"{tuple(spatial)} and output {tuple(sizes)}")
    if input.shape[1] == 0:
        raise ShapeError(f"interpolate: the input has no channels, shape {input.shape}")
    out = input
    for a in range(dims):
        out = _resize_axis(out, 2 + a, sizes[a], scales[a], mode, bool(align_corners))
    return out if out is not input else clone(input)  # a new tensor, as PyTorch's


# ------------------------------------------------------------------ adaptive average pooling


def adaptive_pool_output_size(input_size: Any, output_size: Any) -> tuple[int, int]:
    """(H_out, W_out) from ``output_size``: an int, or a pair whose None entries keep the
    input's size."""
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or 2 values, "
                             f"got {output_size!r}")
        pair = list(output_size)
    elif output_size is None:
        raise ValueError("adaptive_avg_pool2d: output_size must be an int or 2 values, got "
                         "None")
    else:
        pair = [output_size, output_size]
    out = [input_size[a] if pair[a] is None else pair[a] for a in (0, 1)]
    if not all(is_int(v) and v >= 0 for v in out):
        raise ValueError(f"adaptive_avg_pool2d: output_size must be ints >= 0 (or None, keep "
                         f"the input's), got {output_size!r}")
    return int(out[0]), int(out[1])


def _averaging_matrix(x: Any, n: int, out: int) -> Any:
    """(out, n): row i is 1 / len over input ``[floor(i*n/out), ceil((i+1)*n/out))``."""
    xp = backend.namespace(x)
    int64 = backend.device_of(x).dtype(backend.int64)
    i = xp.arange(out, dtype=int64, device=x.device)
    start, end = (i * n) // out, ((i + 1) * n + out - 1) // out
    k = xp.arange(n, dtype=int64, device=x.device)
    inside = (k[None, :] >= start[:, None]) & (k[None, :] < end[:, None])
    dt = backend.device_of(x).dtype(backend.dtype_of(x))
    return xp.astype(inside, dt) / xp.astype(end - start, dt)[:, None]


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """Average pooling to a fixed output size, as PyTorch's ``F.adaptive_avg_pool2d``.

    Parameters
    ----------
    input : Tensor (N, C, H, W) or (C, H, W), floating point, H and W at least 1
    output_size : an int, or (H_out, W_out) where None keeps the input's size

    Returns
    -------
    Tensor (N, C, H_out, W_out): output (i, j) is the mean of rows
    ``[floor(i*H/H_out), ceil((i+1)*H/H_out))`` and the columns likewise (windows may overlap)

    Examples
    --------
    >>> adaptive_avg_pool2d(minigen.randn(8, 64, 7, 7), 1).shape
    (8, 64, 1, 1)
    """
    check_floating(input, "adaptive_avg_pool2d")
    if input.ndim not in (3, 4):
        raise ShapeError(f"adaptive_avg_pool2d expected input of shape (N, C, H, W) or "
                         f"(C, H, W), got {input.shape}")
    if 0 in input.shape[-2:]:
        raise ShapeError(f"adaptive_avg_pool2d: H and W must be at least 1, got {input.shape}")
    h, w = input.shape[-2:]
    oh, ow = adaptive_pool_output_size((h, w), output_size)
    rows = Tensor._make(_averaging_matrix(input.data, h, oh))
    cols = Tensor._make(_averaging_matrix(input.data, w, ow).T)
    return matmul(matmul(rows, input), cols)
