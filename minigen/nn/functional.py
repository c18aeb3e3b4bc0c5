"""``minigen.nn.functional``: :mod:`minigen.functional` under PyTorch's path, so that
``import minigen.nn.functional as F`` works as ``import torch.nn.functional as F`` does."""

import importlib
from typing import Any

from minigen.functional import *  # noqa: F403
from minigen.functional import __all__  # noqa: F401


def __getattr__(name: str) -> Any:
    # PEP 562, as in minigen/__init__.py: the extras are found in minigen.extras on first use.
    if name.startswith("_"):  # private, or Python asking (__path__...): not an extra
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return importlib.import_module("minigen.extras").lookup(__name__, name)
