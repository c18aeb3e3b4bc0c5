"""The differentiable primitives of the core. Each op is one :class:`~minigen.autograd.Function`
subclass (forward and backward together) and a lowercase function that users call, also as
``minigen.X``: ``arithmetic`` (+ - * / **), ``elementwise`` (exp, log, sqrt, abs),
``activations``, ``reductions``, ``shape`` (reshape, indexing, moves between devices...),
``linalg``, ``conv``, ``normalization`` and ``losses``."""

from typing import Any

from minigen import lazy
from minigen.ops.activations import leaky_relu, log_softmax, relu, sigmoid, softmax, tanh
from minigen.ops.arithmetic import add, div, mul, neg, pow, sub
from minigen.ops.conv import conv2d, conv_transpose2d
from minigen.ops.conv_geometry import (
    conv2d_output_size,
    conv_transpose2d_output_padding,
    conv_transpose2d_output_size,
)
from minigen.ops.elementwise import abs, exp, log, sqrt
from minigen.ops.linalg import linear, matmul
from minigen.ops.losses import binary_cross_entropy_with_logits, gaussian_kl, mse_loss
from minigen.ops.normalization import batch_norm, dropout
from minigen.ops.reductions import ValuesIndices, max, mean, min, sum
from minigen.ops.shape import (
    astype,
    cat,
    expand,
    flatten,
    getitem,
    pad,
    permute,
    reshape,
    squeeze,
    stack,
    to_device,
    transpose,
    unsqueeze,
)

__all__ = [
    "abs", "add", "astype", "batch_norm", "binary_cross_entropy_with_logits", "cat",
    "conv2d", "conv2d_output_size", "conv_transpose2d", "conv_transpose2d_output_padding",
    "conv_transpose2d_output_size", "div", "dropout", "exp", "expand", "flatten",
    "gaussian_kl", "getitem", "leaky_relu", "linear", "log", "log_softmax", "matmul", "max",
    "mean", "min", "mse_loss", "mul", "neg", "pad", "permute", "pow", "relu", "reshape",
    "sigmoid", "softmax", "sqrt", "squeeze", "stack", "sub", "sum", "tanh", "to_device",
    "transpose", "unsqueeze",
]


def __getattr__(name: str) -> Any:
    return lazy.find(__name__, name)  # a submodule, or an extra: see minigen/lazy.py
