"""The differentiable primitives. Each op is one :class:`~minigen.autograd.Function` subclass
(forward and backward together) and a lowercase function that users call."""

import importlib
from typing import Any

from minigen.ops.activations import (
    leaky_relu,
    log_sigmoid,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from minigen.ops.arithmetic import add, div, floor_divide, mul, neg, pow, remainder, sub
from minigen.ops.assignment import inplace, setitem
from minigen.ops.conv import conv2d, conv_transpose2d
from minigen.ops.conv_geometry import (
    conv2d_output_size,
    conv_transpose2d_output_padding,
    conv_transpose2d_output_size,
)
from minigen.ops.elementwise import (
    abs,
    astype,
    clamp,
    exp,
    log,
    log1p,
    maximum,
    minimum,
    sqrt,
    to_device,
    where,
)
from minigen.ops.indexing import getitem
from minigen.ops.linalg import linear, matmul
from minigen.ops.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    gaussian_kl,
    mse_loss,
)
from minigen.ops.normalization import batch_norm, dropout
from minigen.ops.reductions import (
    ValuesIndices,
    amax,
    amin,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    std,
    sum,
    var,
)
from minigen.ops.shape import (
    cat,
    clone,
    expand,
    flatten,
    pad,
    permute,
    reshape,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)

__all__ = [
    "abs", "add", "astype", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cat",
    "clamp", "div", "exp", "expand", "flatten", "gaussian_kl", "getitem", "leaky_relu",
    "linear", "log", "log1p", "log_sigmoid", "log_softmax", "logsumexp", "matmul", "max",
    "maximum", "mean", "min", "minimum", "mse_loss", "mul", "neg", "pad", "permute", "pow",
    "relu", "reshape", "sigmoid", "softmax", "softplus", "sqrt", "squeeze", "stack", "sub",
    "sum", "tanh", "to_device", "transpose", "unsqueeze", "var", "where", "amax", "amin",
    "argmax", "argmin", "std", "batch_norm", "conv2d", "conv2d_output_size",
    "conv_transpose2d", "conv_transpose2d_output_padding", "conv_transpose2d_output_size",
    "dropout", "setitem", "inplace", "clone", "remainder", "floor_divide",
]


def __getattr__(name: str) -> Any:
    # PEP 562: Python calls a module's __getattr__ only for a name the module lacks. The
    # everyday PyTorch API beyond the report's models lives in minigen.extras, imported here
    # on first use: `import minigen` loads the core alone.
    if name.startswith("_"):  # private, or Python asking (__path__...): not an extra
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module("minigen.extras").lookup(__name__, name)
