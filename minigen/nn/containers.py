"""Sequential and ModuleList: containers whose layers are named by position ("0.weight").
(ModuleDict, ParameterList and ParameterDict are extras.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from minigen.nn.module import Module, _walk


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(Linear(784, 256), ReLU())``.

    Indexable (``seq[0]``, ``seq[1:]``), iterable, and ``len(seq)`` is the number of layers.
    The parameters are named by position: ``"0.weight"``, ``"2.bias"``.
    """

    def __init__(self, *layers: Module):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential takes modules; argument {i} is "
                                f"{type(layer).__name__}")
        self.layers = list(layers)

    def _members(self) -> Iterator[tuple[str, Any]]:
        for i, layer in enumerate(self.layers):
            yield str(i), layer

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def append(self, layer: Module) -> Sequential:
        self.layers.append(layer)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are found (named ``"0.weight"``...); it has no
    ``forward``: index it or loop over it in your own forward."""

    def __init__(self, modules: Any = ()):
        super().__init__()
        self.layers = list(modules)

    def _members(self) -> Iterator[tuple[str, Any]]:
        for i, layer in enumerate(self.layers):
            yield from _walk(str(i), layer)

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ModuleList(self.layers[index])
        return self.layers[index]

    def __setitem__(self, index: int, module: Module) -> None:
        self.layers[index] = module

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def append(self, module: Module) -> ModuleList:
        self.layers.append(module)
        return self

    def extend(self, modules: Any) -> ModuleList:
        self.layers.extend(modules)
        return self
