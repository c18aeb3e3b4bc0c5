"""Random numbers: one generator per device, seeded together by ``manual_seed``."""

from __future__ import annotations

import numpy as np

from minigen.backend.devices import Device, device
from minigen.backend.dtypes import Array, DType, int64


class Generator:
    """One random generator per device; every random draw in minigen goes through one.

    NumPy's PCG64 on the CPU (and, copied over, for the strict test device); CuPy's generator
    on CUDA. ``get_state``/``set_state`` make a resumed training run repeat exactly.
    """

    def __init__(self, dev: Device, seed: int | None = None):
        self.device = dev
        self.manual_seed(seed)

    def manual_seed(self, seed: int | None) -> Generator:
        self.seed = seed
        if self.device.type == "cuda":
            import cupy

            with self.device.native:
                self._rng = cupy.random.default_rng(seed)
        else:
            self._rng = np.random.default_rng(seed)
        return self

    def _finish(self, host_or_device: Array, dtype: DType) -> Array:
        if self.device.type == "strict":
            return self.device.xp.asarray(host_or_device, device=self.device.native)
        return host_or_device

    def normal(self, shape: tuple[int, ...], dtype: DType) -> Array:
        """Standard normal samples of ``shape``."""
        if self.device.type == "cuda":
            with self.device.native:
                return self._rng.standard_normal(shape, dtype=self.device.dtype(dtype))
        return self._finish(self._rng.standard_normal(shape, dtype=getattr(np, dtype.name)), dtype)

    def uniform(self, shape: tuple[int, ...], dtype: DType) -> Array:
        """Uniform samples on [0, 1)."""
        if self.device.type == "cuda":
            with self.device.native:
                return self._rng.random(shape, dtype=self.device.dtype(dtype))
        return self._finish(self._rng.random(shape, dtype=getattr(np, dtype.name)), dtype)

    def permutation(self, n: int) -> Array:
        """A random permutation of ``range(n)`` as an int64 array on this device."""
        if self.device.type == "cuda":
            with self.device.native:
                return self._rng.permutation(n)
        return self._finish(self._rng.permutation(n), int64)

    def get_state(self) -> dict:
        if self.device.type == "cuda":
            raise NotImplementedError("saving the CUDA generator's state is not supported yet")
        return self._rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        if self.device.type == "cuda":
            raise NotImplementedError("restoring the CUDA generator's state is not supported yet")
        self._rng.bit_generator.state = state


_generators: dict[Device, Generator] = {}
_seed: int | None = None  # the last manual_seed: generators made later start from it too


def default_generator(dev: Device | str | None = None) -> Generator:
    """The generator of ``dev``, created on first use (seeded by the last ``manual_seed``)."""
    dev = device(dev)
    if dev not in _generators:
        _generators[dev] = Generator(dev, _seed)
    return _generators[dev]


def manual_seed(seed: int) -> None:
    """Seed the generator of every device, so that a seeded run repeats exactly."""
    global _seed
    _seed = seed
    default_generator("cpu")
    for gen in _generators.values():
        gen.manual_seed(seed)
