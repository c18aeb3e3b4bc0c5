"""The backend: devices, dtypes, array namespaces and random generators. The only part of
minigen that imports NumPy or CuPy by name (with its extension, ``minigen.extras._arrays``).

Everything else asks ``namespace(x)`` for the array-API namespace of an array and calls
standard functions on it (``xp.matmul``, ``xp.sum(x, axis=...)``, ``xp.permute_dims``...), so
one op's code runs on three kinds of arrays:

==========  ===========================================  =====================================
device      arrays                                       use
==========  ===========================================  =====================================
``cpu``     NumPy                                        always
``cuda:i``  CuPy                                         when CuPy and a CUDA GPU are present
``strict``  array-api-strict on ``Device("device1")``    tests: a simulated non-CPU device that
                                                         refuses silent NumPy conversion
==========  ===========================================  =====================================

``devices`` holds dtypes, devices and transfers; ``rng`` the seeded generators; ``fast`` the
speed tricks the ops call by name; ``memory`` the allocator setting (on at import).
"""

import os

from minigen.backend.devices import *  # noqa: F403
from minigen.backend.fast import batch_last, in_layout, log1p_unit, sum_of_products, uniform_like
from minigen.backend.memory import keep_freed_memory
from minigen.backend.rng import Generator, default_generator, manual_seed

if os.environ.get("MINIGEN_MALLOC", "").lower() != "system":
    keep_freed_memory(True)
