"""``minigen.accelerator``: PyTorch 2.6's device-agnostic ``torch.accelerator`` calls.

minigen's one accelerator is CUDA (through CuPy).

>>> device = minigen.accelerator.current_accelerator() or minigen.device("cpu")
"""

from __future__ import annotations

from minigen import backend, cuda
from minigen.backend import Device


def is_available() -> bool:
    """True when a CUDA GPU is usable (see :func:`minigen.cuda.is_available`)."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> Device | None:
    """The accelerator's device (``cuda``), or None when there is none, as PyTorch's.

    PyTorch returns its build's accelerator even when no GPU is present unless
    ``check_available``; minigen's build is the machine's, so it returns None without one.
    """
    return backend.device("cuda") if is_available() else None


def device_count() -> int:
    return cuda.device_count()
