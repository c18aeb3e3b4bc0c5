"""The errors minigen raises. Each subclasses the built-in error a Python user would expect, so
``except ValueError`` still works, and :class:`MinigenError`, so one ``except`` catches them all.
"""


class MinigenError(Exception):
    """Base class of every error minigen raises on purpose."""


class ShapeError(MinigenError, ValueError):
    """Shapes that do not fit together (the message shows them)."""


class DTypeError(MinigenError, TypeError):
    """A dtype that is wrong for the operation, or two dtypes mixed in one op."""


class DeviceError(MinigenError, RuntimeError):
    """An unknown or unavailable device, or arrays of two devices mixed in one op."""


class GraphError(MinigenError, RuntimeError):
    """Misuse of the autograd graph: a freed graph, a non-scalar backward, higher order."""


class AnomalyError(MinigenError, FloatingPointError):
    """A NaN or infinity found by :func:`minigen.detect_anomaly`."""


class DataError(MinigenError, ValueError):
    """A data file that is missing, truncated, corrupt or not what it claims to be."""


class CheckpointError(MinigenError, ValueError):
    """A saved file that cannot be loaded: not ours, damaged, or for another model."""
