"""``minigen.nn.functional``: :mod:`minigen.functional` under PyTorch's path, so that
``import minigen.nn.functional as F`` works as ``import torch.nn.functional as F`` does."""

from typing import Any

from minigen import lazy
from minigen.functional import *  # noqa: F403
from minigen.functional import __all__  # noqa: F401


def __getattr__(name: str) -> Any:
    return lazy.find(__name__, name)  # a submodule, or an extra: see minigen/lazy.py
