"""Helpers for testing code written on minigen (needs the ``test`` extra: hypothesis).

:mod:`minigen.testing.strategies` holds the hypothesis strategies the library's own tests use:
shapes, broadcastable shapes, tensors on any device (optionally non-contiguous), and named
input domains that keep finite differences away from kinks and poles.
"""

from minigen.testing import strategies

__all__ = ["strategies"]
