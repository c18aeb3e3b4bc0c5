"""The differentiable primitives. Each op is one :class:`~minigen.autograd.Function` subclass
(forward and backward together) and a lowercase function that users call."""

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
from minigen.ops.classification import cross_entropy, nll_loss, one_hot
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
from minigen.ops.embedding import embedding
from minigen.ops.indexing import getitem
from minigen.ops.layer_norm import layer_norm
from minigen.ops.linalg import linear, matmul
from minigen.ops.logic import all, any, isfinite, isnan
from minigen.ops.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    gaussian_kl,
    mse_loss,
)
from minigen.ops.normalization import batch_norm, dropout
from minigen.ops.numeric import (
    ceil,
    cumsum,
    floor,
    norm,
    prod,
    reciprocal,
    round,
    rsqrt,
    sign,
)
from minigen.ops.ordering import (
    argsort,
    flip,
    index_select,
    repeat,
    roll,
    sort,
    topk,
)
from minigen.ops.pooling import avg_pool2d, max_pool2d, pool2d_output_size
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
from minigen.ops.regression_losses import l1_loss, smooth_l1_loss
from minigen.ops.resample import adaptive_avg_pool2d, interpolate
from minigen.ops.selection import chunk, gather, masked_fill, split, unbind
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
from minigen.ops.similarity import bmm, cosine_similarity, kl_div, normalize
from minigen.ops.smooth_activations import elu, gelu, silu

__all__ = [
    "abs", "add", "astype", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cat",
    "clamp", "div", "exp", "expand", "flatten", "gaussian_kl", "getitem", "leaky_relu",
    "linear", "log",
    "log1p", "log_sigmoid", "log_softmax", "logsumexp", "matmul", "max", "maximum", "mean",
    "min", "minimum", "mse_loss", "mul", "neg", "pad", "permute", "pow", "relu", "reshape",
    "sigmoid", "softmax", "softplus", "sqrt", "squeeze", "stack", "sub", "sum", "tanh",
    "to_device", "transpose", "unsqueeze", "var", "where",
    "amax", "amin", "argmax", "argmin", "std",
    "batch_norm", "conv2d", "conv2d_output_size", "conv_transpose2d",
    "conv_transpose2d_output_padding", "conv_transpose2d_output_size", "dropout",
    "cross_entropy", "nll_loss", "one_hot", "avg_pool2d", "max_pool2d", "pool2d_output_size",
    "setitem", "inplace", "clone", "chunk", "gather", "masked_fill", "split", "unbind", "all",
    "any", "isfinite", "isnan", "remainder", "floor_divide",
    "embedding", "interpolate", "adaptive_avg_pool2d",
    "argsort", "ceil", "cumsum", "flip", "floor", "index_select", "norm", "prod", "reciprocal",
    "repeat", "roll", "round", "rsqrt", "sign", "sort", "topk",
    "gelu", "elu", "silu", "layer_norm", "l1_loss", "smooth_l1_loss",
    "bmm", "cosine_similarity", "kl_div", "normalize",
]
