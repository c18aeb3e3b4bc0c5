"""How the core finds what it lacks, on first use (PEP 562: Python calls a module's
``__getattr__`` only for a name the module does not have).

The core's namespaces (``minigen``, ``minigen.ops``, ``minigen.functional``, ``minigen.nn``,
``minigen.optim``) each end with ``def __getattr__(name): return lazy.find(__name__, name)``.
A name that is a submodule not imported yet (``minigen.viz``, ``minigen.cuda``) is imported;
any other is looked up in :mod:`minigen.extras`, the everyday PyTorch API beyond the report's
models (``minigen.flip``, ``F.gelu``, ``nn.LayerNorm``...), which ``import minigen`` does not
load. ``Tensor.__getattr__`` and ``Module.__getattr__`` find their extra methods the same way.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any


def find(namespace: str, name: str) -> Any:
    """``<namespace>.<name>``, found as the module docstring says, or Python's AttributeError."""
    if name.startswith("_"):  # private, or Python asking (__path__, __wrapped__...)
        raise AttributeError(f"module {namespace!r} has no attribute {name!r}")
    module = importlib.import_module(namespace)
    if hasattr(module, "__path__") and importlib.util.find_spec(f"{namespace}.{name}"):
        return importlib.import_module(f"{namespace}.{name}")  # (from minigen import viz)
    value = importlib.import_module("minigen.extras").lookup(namespace, name)
    setattr(module, name, value)  # found once: the next minigen.flip needs no lookup
    return value
