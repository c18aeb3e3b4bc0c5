"""``F.pad`` by PyTorch's rules: constant, reflect and replicate padding.

``pad`` lists (before, after) pairs from the LAST dimension backwards: ``(left, right)``,
then ``(top, bottom)``... A negative pad crops, as in PyTorch.

* constant: crop (a basic slice) for the negative pads, then pad with ``value``
  (:func:`minigen.ops.shape.pad`) for the positive ones;
* reflect and replicate: output position j of an axis reads input position ``p = j - left``,
  mirrored at the edges without repeating them (reflect: -p for p < 0, 2(n-1) - p past the
  end) or clamped to them (replicate). One gather with that index array per padded axis, so
  the backward is the gather's scatter-add: an edge pixel read k times gets k gradients.

Reflect and replicate keep at least one position on every padded axis: negative pads that crop
one to nothing are refused. (PyTorch 2.13 refuses that with 2 pads, but with 4 returns an empty
tensor unless H and W both empty; minigen keeps one rule.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from minigen import backend
from minigen.errors import DTypeError, ShapeError
from minigen.extras._common import check_tensor, is_int
from minigen.extras.elementwise import clone
from minigen.extras.indexing import Take
from minigen.ops.shape import getitem
from minigen.ops.shape import pad as constant_pad
from minigen.tensor import Tensor

MODES = ("constant", "reflect", "replicate")


def _pairs(pad: Any, ndim: int) -> list[tuple[int, int]]:
    """``pad`` as (before, after) per axis, first axis first (PyTorch lists the last first)."""
    if not isinstance(pad, (tuple, list)) or not all(is_int(p) for p in pad):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pad!r}")
    if len(pad) % 2:
        raise ValueError(f"pad: pad must hold (before, after) pairs, an even number of ints, "
                         f"got {len(pad)}: {tuple(pad)}")
    if len(pad) // 2 > ndim:
        raise ValueError(f"pad: {len(pad)} ints pad {len(pad) // 2} dimensions, but the input "
                         f"has {ndim} (pad length at most 2 * input dimensions)")
    widths = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        widths[ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    return widths


def _check_sizes(input: Tensor, widths: list[tuple[int, int]], mode: str) -> None:
    """Constant: the negative pads crop first, at most the whole dimension (PyTorch's
    narrow); reflect and replicate: at least one output position."""
    for axis, (n, (a, b)) in enumerate(zip(input.shape, widths)):
        crop = max(-a, 0) + max(-b, 0)
        if (a, b) != (0, 0) and (crop > n if mode == "constant" else n + a + b < 1):
            raise ShapeError(f"pad: dimension {axis} of size {n} padded by ({a}, {b}) would "
                             f"have size {n + a + b}" + (f" (cropping {crop} first)" if mode ==
                                                         "constant" else "")
                             + f", input shape {input.shape}")


def _index(n: int, before: int, size: int, mode: str, like: Any) -> Any:
    """The input position each of ``size`` output positions reads on one axis."""
    xp = backend.namespace(like)
    int64 = backend.device_of(like).dtype(backend.int64)
    p = xp.arange(size, dtype=int64, device=like.device) - before
    if mode == "replicate":
        return xp.clip(p, min=0, max=n - 1)
    return (n - 1) - xp.abs((n - 1) - xp.abs(p))  # reflect: -p below 0, 2(n-1) - p above


def _gather_pad(input: Tensor, widths: list[tuple[int, int]], mode: str) -> Tensor:
    out = input
    for axis, (a, b) in enumerate(widths):
        if (a, b) != (0, 0):
            n = out.shape[axis]
            out = Take.apply(out, axis, _index(n, a, n + a + b, mode, out.data))
    return out if out is not input else clone(input)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",
        value: float | None = None) -> Tensor:
    """Pad (or, with negative pads, crop) the last dimensions, as PyTorch's ``F.pad``.

    Parameters
    ----------
    input : Tensor; for reflect and replicate (N, C, W) or (C, W) with 2 pads, (N, C, H, W)
        or (C, H, W) with 4, dimensions other than N at least 1
    pad : (left, right), (left, right, top, bottom), ...: the last dimension first
    mode : 'constant' (``value``, default 0), 'reflect' (mirror, the edge not repeated:
        each pad less than its dimension) or 'replicate' (repeat the edge)
    value : the constant; reflect and replicate take none

    Returns
    -------
    Tensor, each padded dimension n grown to n + before + after

    Examples
    --------
    >>> pad(minigen.zeros(2, 3, 4, 5), (1, 2)).shape
    (2, 3, 4, 8)
    >>> pad(minigen.tensor([[[0.0, 1.0, 2.0]]]), (2, 1), mode="reflect")
    tensor([[[2., 1., 0., 1., 2., 1.]]])
    """
    check_tensor(input, "pad")
    if mode not in MODES:
        raise ValueError(f"pad: mode {mode!r} is not one of {', '.join(MODES)} "
                         "(minigen has no 'circular' padding)")
    widths = _pairs(pad, input.ndim)
    if mode == "constant":
        value = 0 if value is None else value
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise TypeError(f"pad: value must be a number, got {value!r}")
        if not input.dtype.is_floating_point and not (is_int(value) or float(value).is_integer()):
            raise DTypeError(f"pad: the value {value!r} does not fit a {input.dtype} tensor")
        _check_sizes(input, widths, mode)
        out = input
        if any(a < 0 or b < 0 for a, b in widths):  # crop first
            key = tuple(slice(max(-a, 0), n - max(-b, 0)) for n, (a, b) in
                        zip(input.shape, widths))
            out = getitem(out, key)
        grow = tuple(x for a, b in reversed(widths) for x in (max(a, 0), max(b, 0)))
        if any(grow):
            out = constant_pad(out, grow, value)
        return out if out is not input else clone(input)  # a new tensor, as PyTorch's
    if value is not None and value != 0:
        raise ValueError(f"pad: mode {mode!r} takes no value (got {value!r})")
    dims = len(pad) // 2
    if dims not in (1, 2) or input.ndim not in (dims + 1, dims + 2):
        raise ShapeError(
            f"pad: {mode} padding takes 2 pads for a 2-D or 3-D input, 4 for a 3-D or 4-D "
            f"one; got {len(pad)} pads for a {input.ndim}-D input of shape {input.shape}")
    batched = input.ndim == dims + 2
    if 0 in input.shape[int(batched):]:
        raise ShapeError(f"pad: {mode} padding needs dimensions of at least 1 (the batch may "
                         f"be 0), got {input.shape}")
    if mode == "reflect":
        for axis, (n, (a, b)) in enumerate(zip(input.shape, widths)):
            if (a, b) != (0, 0) and (a >= n or b >= n):
                raise ValueError(f"pad: reflect pads must be less than their dimension: "
                                 f"({a}, {b}) for dimension {axis} of size {n}, input "
                                 f"shape {input.shape}")
    _check_sizes(input, widths, mode)
    return _gather_pad(input, widths, mode)
