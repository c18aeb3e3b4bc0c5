"""``minigen.nn``: Module and Parameter, the layers, and initialisation, with PyTorch's names,
constructor arguments and default initialisation. (More layers, LayerNorm, MaxPool2d,
ModuleDict..., are found here too, in minigen.extras.)

>>> from minigen import nn
>>> model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 1))
>>> [name for name, _ in model.named_parameters()]
['0.weight', '0.bias', '2.weight', '2.bias']
"""

from typing import Any

from minigen import lazy
from minigen.nn import functional, init
from minigen.nn.activation import Flatten, Identity, LeakyReLU, ReLU, Sigmoid, Tanh, Unflatten
from minigen.nn.containers import ModuleList, Sequential
from minigen.nn.layers import Conv2d, ConvTranspose2d, Linear
from minigen.nn.loss import BCEWithLogitsLoss, MSELoss
from minigen.nn.module import Module, Parameter
from minigen.nn.normalization import BatchNorm1d, BatchNorm2d, Dropout

__all__ = [
    "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "Conv2d", "ConvTranspose2d", "Dropout",
    "Flatten", "Identity", "LeakyReLU", "Linear", "MSELoss", "Module", "ModuleList",
    "Parameter", "ReLU", "Sequential", "Sigmoid", "Tanh", "Unflatten", "functional", "init",
]


def __getattr__(name: str) -> Any:
    return lazy.find(__name__, name)  # a submodule, or an extra: see minigen/lazy.py
