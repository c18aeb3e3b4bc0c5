"""minigen: a teaching library for generative models on a from-scratch autograd engine.

>>> x = minigen.randn(3, requires_grad=True)
>>> (x * x).sum().backward()   # x.grad == 2 * x

The core: ``autograd`` (Function, the backward pass), ``tensor`` (Tensor), ``creation``,
``ops``, ``nn``, ``optim``, ``backend``. The everyday PyTorch API beyond the report's models
is in ``minigen.extras``, found here on first use (the ``__getattr__`` at the end).
"""

from typing import Any

from minigen import lazy

from minigen import backend
from minigen.autograd import Context, Function, enable_grad, is_grad_enabled, no_grad
from minigen.backend import (
    Device,
    DType,
    bool_,
    cuda_is_available,
    device,
    float32,
    float64,
    get_default_dtype,
    int32,
    int64,
    manual_seed,
    set_default_dtype,
    uint8,
)
from minigen.errors import (
    AnomalyError,
    CheckpointError,
    DataError,
    DeviceError,
    DTypeError,
    GraphError,
    MinigenError,
    ShapeError,
)
from minigen.tensor import Tensor  # noqa: I001  (Tensor before the ops and creation)
from minigen.ops import *  # noqa: F401,F403  (minigen.exp, minigen.matmul...)
from minigen.creation import (
    arange,
    from_numpy,
    full,
    full_like,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from minigen.gradcheck import gradcheck  # noqa: E402
from minigen.io import load, save  # noqa: E402
from minigen import data, functional, nn, optim  # noqa: E402,I001

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    return lazy.find(__name__, name)  # a submodule, or an extra: see minigen/lazy.py
