"""``minigen.cuda``: the ``torch.cuda`` calls that PyTorch programs make to pick a device.

>>> minigen.cuda.is_available() in (True, False)
True
"""

from __future__ import annotations

from minigen import backend


def is_available() -> bool:
    """True when CuPy is installed and sees a CUDA GPU (``device="cuda"`` then works)."""
    return backend.cuda_is_available()


def device_count() -> int:
    """The number of CUDA GPUs CuPy sees (0 without CuPy or a GPU)."""
    if not is_available():
        return 0
    import cupy

    return int(cupy.cuda.runtime.getDeviceCount())


def manual_seed(seed: int) -> None:
    """Seed the CUDA generator; without a GPU this does nothing, as in PyTorch.

    ``minigen.manual_seed`` seeds every device's generator, the CUDA one included.
    """
    if is_available():
        backend.default_generator("cuda").manual_seed(int(seed))


manual_seed_all = manual_seed  # (minigen uses one GPU)
