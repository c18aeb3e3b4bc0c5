"""``minigen.nn.functional``: :mod:`minigen.functional` under PyTorch's path, so that
``import minigen.nn.functional as F`` works as ``import torch.nn.functional as F`` does."""

from minigen.functional import *  # noqa: F403
from minigen.functional import __all__  # noqa: F401
