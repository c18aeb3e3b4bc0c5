"""Hypothesis strategies for property-based tests of minigen ops and models.

>>> from hypothesis import given
>>> import minigen
>>> from minigen.testing import strategies as mst
>>> @given(x=mst.tensors(elements=mst.positive))
... def test_log_gradient(x):
...     assert minigen.gradcheck(minigen.log, x)

Three kinds of strategy live here:

* **shapes**: :func:`shapes` and :func:`broadcastable_shapes` (pairs, triples... of shapes that
  broadcast together, with size-1 and missing leading dimensions);
* **domains**: named sets of input values, each a :class:`Domain` (``real``, ``positive``,
  ``unit_interval_open``, ``away_from_kinks``, ``distinct``, ``wide``, and :func:`away_from`
  / :func:`interval` / :func:`magnitudes` / :func:`exp_safe` to make more);
* **tensors**: :func:`tensors` draws a :class:`minigen.Tensor` of a shape, dtype and device,
  with values from a domain, and sometimes a NON-contiguous memory layout (a transposed,
  strided or reversed view), because ops that assume a contiguous array break on views.

Why domains matter. :func:`minigen.gradcheck` compares a gradient with the central difference
``(f(x + eps) - f(x - eps)) / (2 eps)``, ``eps = 1e-6``. That difference is wrong in two ways:
by truncation, about ``eps**2 / 6 * |f'''(x)|``, and by rounding, about ``1e-16 * |f(x)| / eps``.
Both stay far below gradcheck's tolerances (atol 1e-5, rtol 1e-3) only where ``f`` is smooth on
``[x - eps, x + eps]`` and of moderate size. A kink inside that interval (relu at 0, a tie in a
max) or a pole nearby (log at 0) makes the check fail for a correct backward. The domains keep
inputs where the check is meaningful; the margins are explained next to each one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigen import backend
from minigen.tensor import Tensor

__all__ = [
    "Domain", "away_from", "away_from_kinks", "broadcastable_shapes", "distinct", "exp_safe",
    "interval", "magnitudes", "positive", "real", "shapes", "tensors", "unit_interval_open",
    "wide",
]

Shape = tuple[int, ...]


# --------------------------------------------------------------------------- shapes


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1,
           max_side: int = 4) -> st.SearchStrategy[Shape]:
    """Shapes with ``min_dims..max_dims`` dimensions of ``min_side..max_side`` each.

    The defaults (at most 3 dimensions of at most 4) keep a full gradcheck, which runs two
    forward passes per input element, to at most 128 forward passes per input.
    """
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                            max_side=max_side)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3,
                         min_side: int = 1, max_side: int = 4) -> st.SearchStrategy[tuple]:
    """Tuples of ``num_shapes`` shapes that broadcast together under NumPy's rules.

    The shapes differ in their number of dimensions (missing leading dimensions) and have
    size-1 dimensions where another shape has a larger size: ``((3, 1), (2, 1, 4))``.
    Use ``num_shapes=3`` for ``where(condition, a, b)``.
    """
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=min_side,
        max_side=max_side).map(lambda b: tuple(b.input_shapes))


# --------------------------------------------------------------------------- domains


def _floats(low: float, high: float) -> st.SearchStrategy[float]:
    # No subnormals: some CPUs flush them to zero in float32, which would make the float32
    # forward check compare against a value that float32 cannot hold.
    return st.floats(low, high, allow_nan=False, allow_infinity=False, allow_subnormal=False)


class Domain:
    """A named set of real numbers that test inputs are drawn from.

    ``Domain.arrays(shape)`` is a strategy for float64 NumPy arrays of ``shape`` with values
    in the domain; ``Domain.elements()`` one for single Python floats. Values lie in
    ``[low, high]`` but never within ``margin`` of any point in ``avoid``. A ``distinct``
    domain gives arrays whose values are pairwise at least ``margin`` apart (no ties).
    """

    def __init__(self, name: str, low: float, high: float, avoid: tuple[float, ...] = (),
                 margin: float = 0.0, distinct: bool = False):
        self.name, self.low, self.high = name, float(low), float(high)
        self.avoid, self.margin, self.distinct = tuple(sorted(avoid)), float(margin), distinct
        # The allowed set as disjoint intervals: [low, high] minus (p - margin, p + margin).
        pieces, start = [], self.low
        for p in self.avoid:
            if p - self.margin > start:
                pieces.append((start, p - self.margin))
            start = max(start, p + self.margin)
        if start < self.high:
            pieces.append((start, self.high))
        if not pieces:
            raise ValueError(f"domain {name!r} is empty")
        self._pieces = tuple(pieces)

    def __repr__(self) -> str:
        return f"Domain({self.name!r}, [{self.low}, {self.high}])"

    def _from_unit(self, u: float) -> float:
        """Map u in [0, total length] onto the allowed intervals, end to end."""
        for a, b in self._pieces:
            if u <= b - a:
                return a + u
            u -= b - a
        a, b = self._pieces[-1]
        return b

    def elements(self) -> st.SearchStrategy[float]:
        """Single values from the domain."""
        if self.distinct:  # one value is always distinct from the others: use `real`'s range
            return _floats(-3.0, 3.0)
        if len(self._pieces) == 1:
            return _floats(*self._pieces[0])
        total = sum(b - a for a, b in self._pieces)
        return _floats(0.0, total).map(self._from_unit)

    def arrays(self, shape: Shape) -> st.SearchStrategy[np.ndarray]:
        """float64 NumPy arrays of ``shape`` with values from the domain."""
        shape = tuple(shape)
        if self.distinct:
            return _distinct_arrays(shape, self.margin)
        return hnp.arrays(np.float64, shape, elements=self.elements())


def interval(low: float, high: float, name: str | None = None) -> Domain:
    """Any value in ``[low, high]``."""
    return Domain(name or f"interval({low}, {high})", low, high)


def away_from(*points: float, margin: float = 0.01, low: float = -3.0,
              high: float = 3.0) -> Domain:
    """Values in ``[low, high]`` at least ``margin`` away from each of ``points``.

    For ops with kinks elsewhere than 0: ``clamp(x, lo, hi)`` is checked on
    ``away_from(lo, hi)``. See :data:`away_from_kinks` for why the margin is 0.01.
    """
    return Domain(f"away_from{points}", low, high, avoid=points, margin=margin)


class _Magnitudes(Domain):
    """``[-limit, limit]`` with magnitudes spread evenly on a log scale (see
    :func:`magnitudes`)."""

    def __init__(self, name: str, limit: float, smallest: float):
        super().__init__(name, -limit, limit)
        self.smallest = float(smallest)

    def elements(self) -> st.SearchStrategy[float]:
        limit = self.high
        exponents = st.floats(math.log10(self.smallest), math.log10(limit))
        sizes = exponents.map(lambda e: min(10.0 ** e, limit))
        signed = st.tuples(st.booleans(), sizes).map(lambda ns: -ns[1] if ns[0] else ns[1])
        return st.one_of(signed, st.sampled_from([0.0, limit, -limit]))


def magnitudes(limit: float, smallest: float = 1e-3, name: str | None = None) -> Domain:
    """Values of every size up to ``limit``: ``+-10**e`` with ``e`` uniform between
    ``log10(smallest)`` and ``log10(limit)``, plus 0 and the ends.

    A uniform draw from ``[-1e3, 1e3]`` would almost never come near 0, where the tails of
    sigmoid begin; drawn this way, each decade (0.001 to 0.01, ..., 100 to 1000) is as likely
    as any other, and so are the regions where a formula overflows, underflows or cancels.
    """
    return _Magnitudes(name or f"magnitudes({limit})", limit, smallest)


def exp_safe(dtype: Any = "float64") -> Domain:
    """:func:`magnitudes` up to ``log(max / 100)`` of ``dtype``: 704 in float64, 84 in
    float32. There ``exp`` and its gradient (times a cotangent up to 100) stay finite, and
    ``exp(-x)`` stays a normal number (no subnormal, which loses relative accuracy).
    """
    name = backend.as_dtype(dtype).name
    limit = math.floor(math.log(float(np.finfo(name).max) / 100))
    return magnitudes(limit, name=f"exp_safe({name})")


def _distinct_arrays(shape: Shape, gap: float) -> st.SearchStrategy[np.ndarray]:
    n = math.prod(shape)
    # Values sit on a grid of spacing 2 * gap, shuffled, then move by at most gap / 2 each:
    # neighbours stay at least 2 * gap - 2 * (gap / 2) = gap apart. Centred on 0.
    spacing = 2 * gap
    grid = (np.arange(n) - (n - 1) / 2) * spacing
    noise = hnp.arrays(np.float64, (n,), elements=_floats(-gap / 2, gap / 2))
    return st.tuples(st.permutations(range(n)), noise).map(
        lambda pn: (grid[np.asarray(pn[0], dtype=np.int64)] + pn[1]).reshape(shape)
        if n else np.zeros(shape))


real = interval(-3.0, 3.0, "real")
"""Moderate real numbers, ``[-3, 3]``: for ops defined everywhere (add, exp, tanh, matmul...).

Moderate so that ``exp``, ``pow`` and products of a few of them stay below about 1e3: the
rounding error of a central difference (about 1e-16 * |f| / eps = 1e-10 * |f|) then stays
below gradcheck's atol of 1e-5, and float32 forward values can be compared with float64 ones
at a relative tolerance of 1e-4.
"""

positive = interval(0.1, 3.0, "positive")
"""Positive numbers, ``[0.1, 3]``: for log, sqrt, the base of pow and the denominator of div.

The lower end is 0.1, not 0: near a pole the derivatives explode. At 0.1, ``1/x`` is 10 and
the truncation error of the central difference for log (``eps**2 / 6 * 2 / x**3``) is 3e-10,
tiny against gradcheck's tolerances; sqrt and 1/x are similar. At 1e-4 the gradients of 1/x
would be 1e8 and the check would measure rounding, not the backward.
"""

unit_interval_open = interval(0.01, 0.99, "unit_interval_open")
"""Probabilities away from 0 and 1, ``[0.01, 0.99]``: the input of binary_cross_entropy.

The BCE derivative ``(p - y) / (p (1 - p))`` is at most about 100 here. The margin of 0.01
also keeps ``log(p) >= -4.6``, far from PyTorch's clamp of each log at -100 and from the 1e-12
floor on the denominator, so the test checks the formula rather than the clamps (which have
their own example test).
"""

away_from_kinks = away_from(0.0, margin=0.01)
"""Values in ``[-3, 3]`` with ``|x| >= 0.01``: for relu, leaky_relu and abs (kinks at 0).

A central difference with step eps = 1e-6 that straddles a kink averages the two one-sided
slopes and disagrees with either. Any margin above eps avoids that; 0.01 (10 000 eps) also
survives the input being rounded to float32 (relative error 6e-8) in the dtype tests.
"""

distinct = Domain("distinct", -math.inf, math.inf, margin=0.05, distinct=True)
"""Arrays whose values are pairwise at least 0.05 apart: for max and min (no ties).

At a tie the gradient is split between the tied elements, but a finite difference of size
eps = 1e-6 moves all of it to one of them, so the check would fail for a correct backward.
Values are a shuffled grid of spacing 0.1 plus noise of at most +-0.025 each (so the grid
order is only ever a starting point). The range is about +-0.05 * n for n elements: +-3.2
for the largest default shape of 64 elements.
"""


wide = magnitudes(1e3, name="wide")
"""Values of every size up to 1e3 (:func:`magnitudes`): for the tails of sigmoid, tanh,
softplus, log_sigmoid, BCE with logits, logsumexp, softmax and log_softmax.

There e^x overflows (past 88.7 in float32, 709.8 in float64), 1 - sigmoid(x) rounds to 0, and
sums of exponentials are dominated by one term: a formula that is right on :data:`real` can
give inf, NaN or a gradient with no correct digit here. Check values and gradients against a
stably computed reference rather than with gradcheck alone: at |x| = 1e3 the rounding of
x + eps is already 1e-7 of the step.
"""


# --------------------------------------------------------------------------- tensors


def _axes_over_one(shape: Shape) -> list[int]:
    return [i for i, n in enumerate(shape) if n > 1]


@st.composite
def _laid_out(draw: Any, host: np.ndarray, dev: backend.Device, dtype: backend.DType,
              contiguous: bool | None) -> Any:
    """``host``'s values on ``dev``, as a contiguous array or as a view of a bigger one."""
    big_axes = _axes_over_one(host.shape)
    layouts = [] if contiguous is False else ["contiguous"]
    if contiguous is not True:
        if len(big_axes) >= 2:
            layouts.append("permuted")
        if big_axes:
            layouts += ["strided", "reversed"]
    if not layouts:
        raise ValueError(f"no non-contiguous layout exists for shape {host.shape}: it needs "
                         "an axis longer than 1")
    layout = draw(st.sampled_from(layouts))
    if layout == "contiguous":
        return backend.asarray(host, dtype, dev)
    xp = dev.xp
    if layout == "permuted":
        # Store the transpose contiguously, then permute it back: a view whose strides are
        # not C-ordered (minitorch's permuted-layout trick).
        order = tuple(reversed(range(host.ndim)))
        stored = backend.asarray(np.ascontiguousarray(np.transpose(host, order)), dtype, dev)
        return xp.permute_dims(stored, order)  # reversing the axes is its own inverse
    axis = draw(st.sampled_from(big_axes))
    before = (slice(None),) * axis
    if layout == "strided":
        # Every other element of an array twice as long; the elements in between are NaN,
        # so an op that reads past the view's strides gives NaN and fails loudly.
        shape = host.shape[:axis] + (2 * host.shape[axis],) + host.shape[axis + 1:]
        stored = np.full(shape, np.nan)
        stored[before + (slice(None, None, 2),)] = host
        return backend.asarray(stored, dtype, dev)[before + (slice(None, None, 2), ...)]
    # "reversed": store the values back to front and view them with a negative stride.
    stored = backend.asarray(np.ascontiguousarray(np.flip(host, axis)), dtype, dev)
    return stored[before + (slice(None, None, -1), ...)]


@st.composite
def tensors(draw: Any, shape: Shape | st.SearchStrategy[Shape] | None = None,
            dtype: Any = "float64", device: Any = "cpu",
            elements: Domain | st.SearchStrategy[float] = real, requires_grad: bool = True,
            contiguous: bool | None = None) -> Tensor:
    """A floating :class:`minigen.Tensor` for property tests.

    Parameters
    ----------
    shape : tuple or strategy of tuples, optional
        Default: :func:`shapes` (0 to 3 dimensions of 1 to 4).
    dtype : minigen dtype or name
        float64 (the default, what gradcheck needs) or float32.
    device : str or Device
        "cpu", "strict" or "cuda"; values are drawn on the host and moved there.
    elements : Domain or strategy of floats
        Where the values come from; default :data:`real`.
    requires_grad : bool
        Whether the result is a leaf that requires grad (default True).
    contiguous : bool, optional
        True: a contiguous array. False: a view with non-contiguous strides (transposed,
        every-other-element, or reversed); needs an axis longer than 1. None (default): drawn.
    """
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    elif shape is None:
        shape = draw(shapes())
    dtype, dev = backend.as_dtype(dtype), backend.device(device)
    if not dtype.is_floating_point:
        raise ValueError(f"tensors() draws floating tensors, not {dtype}")
    domain = elements if isinstance(elements, Domain) else None
    arrays = domain.arrays(shape) if domain else hnp.arrays(np.float64, shape, elements=elements)
    host = draw(arrays)
    t = Tensor._make(draw(_laid_out(host, dev, dtype, contiguous)))
    return t.requires_grad_(True) if requires_grad else t
