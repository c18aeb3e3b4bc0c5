"""``minigen.nn``: modules, layers, activations, losses and initialisation, with PyTorch's
names, constructor arguments and default initialisation.

>>> from minigen import nn
>>> model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 1))
>>> [name for name, _ in model.named_parameters()]
['0.weight', '0.bias', '2.weight', '2.bias']
"""

from minigen.nn import functional, init, utils
from minigen.nn.activation import (
    ELU,
    GELU,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from minigen.nn.containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from minigen.nn.conv import Conv2d, ConvTranspose2d
from minigen.nn.layers import CosineSimilarity, Dropout, Flatten, Identity, Linear, Unflatten
from minigen.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from minigen.nn.module import Module
from minigen.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from minigen.nn.parameter import Parameter
from minigen.nn.pooling import AvgPool2d, MaxPool2d
from minigen.nn.resample import (
    AdaptiveAvgPool2d,
    ConstantPad2d,
    ReflectionPad2d,
    ReplicationPad2d,
    Upsample,
    ZeroPad2d,
)
from minigen.nn.sparse import Embedding

__all__ = [
    "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv2d",
    "ConvTranspose2d", "CrossEntropyLoss", "Dropout", "Flatten", "Identity", "LeakyReLU",
    "Linear", "LogSigmoid", "LogSoftmax", "MSELoss", "MaxPool2d", "Module", "ModuleList",
    "NLLLoss", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "Softplus", "Tanh",
    "Unflatten",
    "AdaptiveAvgPool2d", "ConstantPad2d", "Embedding", "ModuleDict", "ParameterDict",
    "ParameterList", "ReflectionPad2d", "ReplicationPad2d", "Upsample", "ZeroPad2d",
    "functional", "init", "utils",
    "ELU", "GELU", "L1Loss", "LayerNorm", "SiLU", "SmoothL1Loss",
    "CosineSimilarity", "KLDivLoss",
]
