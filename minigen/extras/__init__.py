"""``minigen.extras``: the everyday PyTorch API beyond the report's three models.

The core (``import minigen``) holds what the GAN, the DCGAN and the VAE need. Everything else
that a PyTorch user reaches for (sorting and ordering, rounding and norms, pooling, resampling,
padding modes, layer norm, more activations and losses, comparisons by name, the dict
containers, more optimizers, learning-rate schedules, averaged weights...) lives here, and is
found where PyTorch has it: ``minigen.flip``, ``F.gelu``, ``nn.LayerNorm``,
``optim.lr_scheduler``, ``x.topk(2)``.

Nothing here is imported by ``import minigen``: each namespace of the core ends with a module
``__getattr__`` (PEP 562) that asks :func:`lookup` for a name it lacks (see minigen/lazy.py);
``Tensor.__getattr__`` and ``Module.__getattr__`` do the same for methods. The core never
imports this package otherwise: training the report's models does not load it.

This module's own names are the extras of ``minigen`` and ``minigen.ops``; those of
``minigen.functional``, ``minigen.nn`` and ``minigen.optim`` are in :mod:`.functional`,
:mod:`.nn` and :mod:`.optim`, the Tensor methods in :mod:`.tensor_methods`.
"""

from __future__ import annotations

from typing import Any

from minigen.extras.activations import log_sigmoid, softplus
from minigen.extras.anomaly import detect_anomaly, set_detect_anomaly
from minigen.extras.arithmetic import (
    floor_divide,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    remainder,
)
from minigen.extras.assignment import inplace, setitem
from minigen.extras.classification import cross_entropy, nll_loss, one_hot
from minigen.extras.comparison import (
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
from minigen.extras.creation import (
    empty,
    eye,
    linspace,
    logspace,
    randint,
    randint_like,
    randperm,
)
from minigen.extras.elementwise import clamp, clone, log1p, maximum, minimum, where
from minigen.extras.embedding import embedding
from minigen.extras.grad_mode import inference_mode, set_grad_enabled
from minigen.extras.layer_norm import layer_norm
from minigen.extras.logic import all, any, isfinite, isnan
from minigen.extras.numeric import (
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
from minigen.extras.ordering import argsort, flip, index_select, repeat, roll, sort, topk
from minigen.extras.pooling import avg_pool2d, max_pool2d, pool2d_output_size
from minigen.extras.probability_losses import binary_cross_entropy
from minigen.extras.reductions import amax, amin, argmax, argmin, logsumexp, std, var
from minigen.extras.regression_losses import l1_loss, smooth_l1_loss
from minigen.extras.resample import adaptive_avg_pool2d, interpolate
from minigen.extras.selection import chunk, gather, masked_fill, split, unbind
from minigen.extras.similarity import bmm, cosine_similarity, kl_div, normalize
from minigen.extras.smooth_activations import elu, gelu, silu

__all__ = [
    "detect_anomaly", "set_detect_anomaly", "log_sigmoid", "softplus", "floor_divide",
    "logical_and", "logical_not", "logical_or",
    "logical_xor", "remainder", "inplace", "setitem", "empty", "eye", "linspace", "logspace",
    "randint", "randint_like", "randperm", "clamp", "clone", "log1p", "maximum", "minimum",
    "where", "inference_mode", "set_grad_enabled", "binary_cross_entropy", "amax", "amin",
    "argmax", "argmin", "logsumexp", "std", "var",
    "cross_entropy", "nll_loss", "one_hot",
    "eq", "equal", "ge", "greater", "greater_equal", "gt", "le", "less", "less_equal", "lt",
    "ne", "not_equal",
    "embedding", "layer_norm", "all", "any", "isfinite", "isnan",
    "ceil", "cumsum", "floor", "norm", "prod", "reciprocal", "round", "rsqrt", "sign",
    "argsort", "flip", "index_select", "repeat", "roll", "sort", "topk",
    "avg_pool2d", "max_pool2d", "pool2d_output_size", "l1_loss", "smooth_l1_loss",
    "adaptive_avg_pool2d", "interpolate", "chunk", "gather", "masked_fill", "split", "unbind",
    "bmm", "cosine_similarity", "kl_div", "normalize", "elu", "gelu", "silu",
]


def lookup(namespace: str, name: str) -> Any:
    """The extra called ``name`` in the core namespace ``namespace`` ("minigen", "minigen.nn",
    ...), or the AttributeError Python would have raised for that module."""
    import importlib

    module = importlib.import_module(_HOMES.get(namespace, __name__))
    if name in getattr(module, "__all__", ()):
        return getattr(module, name)
    raise AttributeError(f"module {namespace!r} has no attribute {name!r}")


_HOMES = {"minigen.functional": "minigen.extras.functional",
          "minigen.nn.functional": "minigen.extras.functional",
          "minigen.nn": "minigen.extras.nn", "minigen.optim": "minigen.extras.optim"}
