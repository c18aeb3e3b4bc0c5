"""Devices, array namespaces, dtypes and random generators.

This package is the only place that imports NumPy or CuPy by name. Everything else asks
``namespace(x)`` for the array-API namespace of an array and calls standard functions on it
(``xp.matmul``, ``xp.sum(x, axis=...)``, ``xp.permute_dims``...). The few things the standard
lacks (scatter-add, pad, random numbers) are shims here.

=============  ==============================================================
``dtypes``     ``DType``, ``float32``..., the default dtype, ``dtype_of(x)``
``devices``    ``Device``, ``device("cuda:0")``, ``namespace(x)``, host <-> device copies
``arrays``     shims: scatter-add, padding, gradient buffers, memory layout
``rng``        ``Generator``: one per device, seeded together by ``manual_seed``
``memory``     ``keep_freed_memory``: glibc keeps freed blocks (on at import)
=============  ==============================================================

Everything is re-exported here: the rest of minigen writes ``backend.namespace(x)``.

Three kinds of device exist:

==========  ===========================================  =====================================
name        arrays                                       use
==========  ===========================================  =====================================
``cpu``     NumPy                                        always
``cuda:i``  CuPy                                         when CuPy and a CUDA GPU are present
``strict``  array-api-strict on ``Device("device1")``    tests: a simulated non-CPU device that
                                                         refuses silent NumPy conversion
==========  ===========================================  =====================================
"""

import os

from minigen.backend.arrays import (
    batch_first,
    batch_last,
    pad,
    put,
    scatter_add,
    unpad,
    zeros,
)
from minigen.backend.devices import (
    Device,
    HostScalar,
    as_host_array,
    asarray,
    cuda_is_available,
    device,
    device_of,
    namespace,
    quiet_floating_point,
    to_device,
    to_numpy,
)
from minigen.backend.dtypes import (
    Array,
    DType,
    as_dtype,
    bool_,
    dtype_of,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from minigen.backend.memory import keep_freed_memory
from minigen.backend.rng import Generator, default_generator, manual_seed

__all__ = [
    "Array", "DType", "Device", "Generator", "HostScalar", "as_dtype", "as_host_array", "asarray",
    "batch_first", "batch_last", "bool_", "cuda_is_available", "default_generator", "device",
    "device_of", "dtype_of", "float32", "float64", "get_default_dtype", "int32", "int64",
    "keep_freed_memory", "manual_seed", "namespace", "pad", "quiet_floating_point",
    "put", "scatter_add", "set_default_dtype", "to_device", "to_numpy", "uint8", "unpad", "zeros",
]

if os.environ.get("MINIGEN_MALLOC", "").lower() != "system":
    keep_freed_memory(True)
