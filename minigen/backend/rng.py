"""Random numbers: one generator per device, seeded together by ``manual_seed``."""

from __future__ import annotations

import numpy as np

from minigen.backend.devices import Array, Device, DType, device, int64


class Generator:
    """One random generator per device; every random draw in minigen goes through one.

    NumPy's PCG64 on the CPU (and, copied over, for the strict test device); CuPy's generator
    on CUDA. ``get_state``/``set_state`` make a resumed training run repeat exactly.

    CuPy's generator keeps its state on the GPU (XORWOW: 48 bytes for each of 2.56 million
    threads, 120 MB) and has no way to read it back, so on CUDA a saved state is a *restart
    point* instead: ``get_state`` reseeds the generator from its seed and a counter and
    returns those two numbers; ``set_state`` reseeds from them. The run that goes on and the
    run resumed from the checkpoint then draw the same numbers from there on: exactly so after
    a whole epoch; after a Ctrl-C in mid-epoch the resumed run repeats itself but not the run
    that was never stopped, which set no restart point there. (A CPU generator restarts the
    same way when ``restart_on_save=True``: how the tests check the CUDA path.)
    """

    def __init__(self, dev: Device, seed: int | None = None,
                 restart_on_save: bool | None = None):
        self.device = dev
        self.restart_on_save = dev.type == "cuda" if restart_on_save is None else restart_on_save
        self.manual_seed(seed)

    def manual_seed(self, seed: int | None) -> Generator:
        self.seed = seed
        # the 128-bit entropy a restart starts from (fresh from the OS when seed is None)
        self._entropy, self._restarts = np.random.SeedSequence(seed).entropy, 0
        self._rng = self._new(np.random.SeedSequence(self._entropy))
        return self

    def _new(self, seeds: np.random.SeedSequence) -> object:
        """A NumPy or CuPy generator seeded by ``seeds`` (same stream as seeding by the int)."""
        if self.device.type == "cuda":
            import cupy

            with self.device.native:
                return cupy.random.default_rng(seeds)
        return np.random.default_rng(seeds)

    def _restart(self, entropy: int, restarts: int) -> None:
        self._entropy, self._restarts = entropy, restarts
        self._rng = self._new(np.random.SeedSequence(entropy, spawn_key=(restarts,)))

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
        if self.device.type == "cuda":  # (CuPy's Generator has no permutation: the order
            import cupy  # that sorts n uniforms is a uniformly random permutation)

            with self.device.native:
                return cupy.argsort(self._rng.random(n)).astype(cupy.int64)
        return self._finish(self._rng.permutation(n), int64)

    def get_state(self) -> dict:
        """A state to resume from: the bit generator's own (CPU), or a restart point (CUDA:
        this reseeds the generator, see the class docstring)."""
        if not self.restart_on_save:
            return self._rng.bit_generator.state
        self._restart(self._entropy, self._restarts + 1)
        return {"restart": {"entropy": self._entropy, "restarts": self._restarts}}

    def set_state(self, state: dict) -> None:
        """Resume from :meth:`get_state` of a generator of any device: a restart point
        reseeds; a NumPy state is set as it is on the CPU, and becomes a restart point's entropy
        on CUDA (a run saved on the CPU resumes on a GPU repeatably, if not identically)."""
        if not isinstance(state, dict) or not ("restart" in state or "bit_generator" in state):
            raise ValueError(f"not a generator state (from Generator.get_state): {state!r:.80}")
        if "restart" in state:
            self._restart(int(state["restart"]["entropy"]), int(state["restart"]["restarts"]))
        elif self.restart_on_save:
            self._restart(int(state["state"]["state"]), 0)
        else:
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
