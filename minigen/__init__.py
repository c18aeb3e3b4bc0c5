"""minigen: a teaching library for generative models on a from-scratch autograd engine.

>>> import minigen
>>> x = minigen.randn(3, requires_grad=True)
>>> (x * x).sum().backward()   # x.grad == 2 * x
"""

from minigen import backend
from minigen.autograd import (
    Context,
    Function,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
)
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
from minigen.tensor import Tensor  # noqa: I001  (Tensor first: ops and creation need it)
from minigen.ops import *  # noqa: F401,F403  (exp, matmul, cat... as minigen.exp etc.)
from minigen.creation import (
    arange,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from minigen.creation_random import (
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
)
from minigen.comparison import (  # noqa: E402  (minigen.eq(a, b) etc., as torch.eq)
    eq,
    equal,
    ge,
    greater,
    greater_equal,
    gt,
    le,
    less,
    less_equal,
    lt,
    ne,
    not_equal,
)
from minigen.grad_mode import inference_mode, set_grad_enabled  # noqa: E402
from minigen.gradcheck import gradcheck  # noqa: E402
from minigen.io import load, save  # noqa: E402
from minigen import data, functional, nn, optim  # noqa: E402,I001
from minigen import accelerator, cuda, utils  # noqa: E402  (torch.cuda, torch.utils.data...)

__version__ = "0.1.0"
