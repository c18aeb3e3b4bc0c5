"""Speed tricks, each behind one function named for what it computes. An op calls one where
the plain array expression is measurably slow (``benchmarks/bench_ops.py``); the docstring
gives the plain version, which is also the result. A student may read the ops without these.
"""

from __future__ import annotations

from typing import Any

from minigen.backend.devices import namespace

__all__ = ["batch_last", "in_layout", "log1p_unit", "sum_of_products", "uniform_like"]


def batch_last(x: Any) -> bool:
    """Whether axis 0 (the batch) of ``x`` is innermost in memory: images held (C, H, W, N),
    as the conv ops leave them (see ops/conv.py), or their flattened (F, N) rows. Arrays
    without strides (array-api-strict) have no layout to tell: False."""
    strides = getattr(x, "strides", None)
    return (strides is not None and x.ndim >= 2 and x.shape[0] > 1 and x.shape[1] > 1
            and 0 < strides[0] < strides[1])


def in_layout(grad: Any, batch_last_: bool) -> Any:
    """``grad`` itself, held batch-last if ``batch_last_`` and in the usual C order if not:
    a copy only when its layout is the other one. The backward pass hands each op the
    gradient of its output in the output's own layout, because an elementwise op between a
    C-ordered and a batch-last array costs NumPy a strided pass, 10 to 15 times a contiguous
    one (the conv ops make batch-last outputs; a GEMM makes C-ordered gradients)."""
    if batch_last(grad) == batch_last_ or getattr(grad, "strides", None) is None:
        return grad
    xp = namespace(grad)
    if not batch_last_:
        return xp.ascontiguousarray(grad)
    order = tuple(range(1, grad.ndim)) + (0,)  # (N, ...) -> a (..., N) array, viewed back
    back = (grad.ndim - 1,) + tuple(range(grad.ndim - 1))
    return xp.permute_dims(xp.ascontiguousarray(xp.permute_dims(grad, order)), back)


def uniform_like(generator: Any, x: Any) -> Any:
    """``generator.uniform(x.shape, dtype)``, held in ``x``'s layout (for dropout's mask):
    drawn as (..., N) for a batch-last ``x`` and viewed back, so that ``x * mask`` is one
    contiguous pass and keeps the layout the next conv layer wants."""
    from minigen.backend.devices import dtype_of

    if not batch_last(x):
        return generator.uniform(tuple(x.shape), dtype_of(x))
    order = tuple(range(1, x.ndim)) + (0,)
    u = generator.uniform(tuple(x.shape[i] for i in order), dtype_of(x))
    return namespace(u).permute_dims(u, (x.ndim - 1,) + tuple(range(x.ndim - 1)))


def sum_of_products(a: Any, b: Any, axes: tuple[int, ...]) -> Any:
    """``sum(a * b, axis=axes)`` for batch norm's ``axes`` (every one but axis 1), in one pass.

    The plain version makes a temporary as large as ``a`` and takes two passes. A dot
    product per channel (``vecdot``) takes one, if each channel's values lie in rows: for
    images held batch-last, (C, H, W, N) in memory as conv layers leave them, they already
    do (4x faster than the plain version); for the usual order, (N, C, H*W) rows, summed
    over N.
    """
    xp = namespace(a)
    strides = [getattr(v, "strides", None) for v in (a, b)]
    if a.ndim > 2 and all(s is not None and 0 < s[0] < s[1] for s in strides):
        order = tuple(range(1, a.ndim)) + (0,)  # batch-last: (C, ..., N) is C rows
        rows = [xp.reshape(xp.permute_dims(v, order), (a.shape[1], -1)) for v in (a, b)]
        return xp.vecdot(rows[0], rows[1])
    if a.ndim > 2:
        rows = [xp.reshape(v, (a.shape[0], a.shape[1], -1)) for v in (a, b)]
        return xp.sum(xp.vecdot(rows[0], rows[1]), axis=0)
    return xp.sum(a * b, axis=axes)


def log1p_unit(e: Any) -> Any:
    """``log1p(e)`` = log(1 + e) for e in [0, 1], to the last digit, in a quarter of NumPy's
    time (its float32 ``log1p`` is not vectorised): u = 1 + e rounds, c = (u - 1) - e is what
    the rounding lost, and log(1 + e) = log(u) - c / u to first order in c. For e below the
    rounding unit, u = 1 and c = -e: the result is e, as it should be."""
    u = 1.0 + e
    return namespace(e).log(u) - ((u - 1.0) - e) / u
