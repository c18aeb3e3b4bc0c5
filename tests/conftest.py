"""Shared fixtures: the array kinds every op test runs on, and hypothesis profiles.

``device`` parametrises a test over NumPy ("cpu"), array-api-strict on its simulated non-CPU
device ("strict": refuses silent NumPy conversion and device mixing, as CuPy would) and CuPy
("cuda", skipped with the reason when CuPy or a GPU is missing).
"""

from __future__ import annotations

import pytest

import minigen
from tests import profiles

profiles.load()  # dev (derandomized) by default, ci under CI: see tests/profiles.py


def _cuda_skip_reason() -> str | None:
    try:
        minigen.device("cuda")
    except minigen.DeviceError as e:
        return f"no CUDA device: {e}"
    return None


DEVICES = [
    "cpu",
    "strict",
    pytest.param("cuda", marks=[pytest.mark.cuda, pytest.mark.skipif(
        _cuda_skip_reason() is not None, reason=str(_cuda_skip_reason()))]),
]


# Session-scoped: it is only a name, and hypothesis refuses function-scoped fixtures in @given
# tests (their state would be shared by all the examples of one test).
@pytest.fixture(params=DEVICES, scope="session")
def device(request: pytest.FixtureRequest) -> str:
    """The array kind under test: 'cpu' (NumPy), 'strict' (array-api-strict), 'cuda' (CuPy)."""
    return request.param


@pytest.fixture(autouse=True)
def _seeded() -> None:
    """Every test starts from the same generator state."""
    minigen.manual_seed(0)
