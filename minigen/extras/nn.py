"""The extras of ``minigen.nn`` (``nn.LayerNorm``, ``nn.MaxPool2d``, ``nn.ModuleDict``,
``nn.utils``...): see :mod:`minigen.extras`."""

from minigen.extras import nn_utils as utils
from minigen.extras.nn_layers import (
    ELU,
    GELU,
    BCELoss,
    CosineSimilarity,
    CrossEntropyLoss,
    KLDivLoss,
    L1Loss,
    LayerNorm,
    LogSigmoid,
    LogSoftmax,
    ModuleDict,
    NLLLoss,
    ParameterDict,
    ParameterList,
    SiLU,
    SmoothL1Loss,
    Softmax,
    Softplus,
)
from minigen.extras.nn_pooling import AvgPool2d, MaxPool2d
from minigen.extras.nn_resample import (
    AdaptiveAvgPool2d,
    ConstantPad2d,
    ReflectionPad2d,
    ReplicationPad2d,
    Upsample,
    ZeroPad2d,
)
from minigen.extras.nn_sparse import Embedding

__all__ = [
    "utils", "ELU", "GELU", "BCELoss", "CosineSimilarity", "CrossEntropyLoss", "KLDivLoss",
    "L1Loss", "LayerNorm", "LogSigmoid", "LogSoftmax", "ModuleDict", "NLLLoss",
    "ParameterDict", "ParameterList", "SiLU", "SmoothL1Loss", "Softmax", "Softplus",
    "AvgPool2d", "MaxPool2d", "AdaptiveAvgPool2d", "ConstantPad2d", "ReflectionPad2d",
    "ReplicationPad2d", "Upsample", "ZeroPad2d", "Embedding",
]
