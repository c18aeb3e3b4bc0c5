"""Sequential and ModuleList: containers whose layers are named by position ("0.weight");
ModuleDict, ParameterList and ParameterDict, whose members are named by key or position."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from minigen import backend
from minigen.nn.module import Module, _walk
from minigen.nn.parameter import Parameter
from minigen.tensor import Tensor


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


def _check_key(key: Any, what: str) -> str:
    """A name for a member: a string without '.' (the separator of state_dict keys)."""
    if not isinstance(key, str):
        raise TypeError(f"{what} name should be a string, got {type(key).__name__} {key!r}")
    if "." in key or not key:
        raise KeyError(f"{what} name can't be empty or contain '.', got {key!r}")
    return key


def _as_parameter(value: Any) -> Any:
    """A tensor becomes a Parameter (sharing its data), as PyTorch's containers do; anything
    else is kept as it is (and is no parameter)."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _describe(value: Any) -> str:
    """PyTorch's line for a member of ParameterList / ParameterDict."""
    if not isinstance(value, Tensor):
        return f"Object of type: {type(value).__name__}"
    size = "x".join(str(n) for n in value.shape)
    where = "" if value.device == backend.device("cpu") else f" ({value.device})"
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    return f"{kind} containing: [{value.dtype} of size {size}{where}]"


def _listing(name: str, items: Iterator[tuple[Any, Any]]) -> str:
    """PyTorch's layout: one member on the same line, several on lines of their own."""
    lines = [f"({key}): {_describe(value)}" for key, value in items]
    if len(lines) < 2:
        return f"{name}(" + "".join(f"  {line}" for line in lines) + ")"
    return f"{name}(\n" + "\n".join(f"    {line}" for line in lines) + "\n)"


class _Entries:
    """The dict protocol over ``self.entries`` (name -> member), shared by ModuleDict and
    ParameterDict; each says how a member goes in (``__setitem__``) and is listed."""

    entries: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.entries[key]

    def __delitem__(self, key: str) -> None:
        del self.entries[key]

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def keys(self) -> Any:
        return self.entries.keys()

    def values(self) -> Any:
        return self.entries.values()

    def items(self) -> Any:
        return self.entries.items()

    def get(self, key: str, default: Any = None) -> Any:
        return self.entries.get(key, default)

    def pop(self, key: str) -> Any:
        return self.entries.pop(key)

    def clear(self) -> None:
        self.entries.clear()


class ModuleDict(_Entries, Module):
    """Modules by name, in insertion order (``d["generator"]``); their parameters are named
    ``"generator.weight"``... It has no ``forward``: pick the module you need."""

    def __init__(self, modules: Any = None):
        super().__init__()
        self.entries: dict[str, Module] = {}
        if modules is not None:
            self.update(modules)

    def _members(self) -> Iterator[tuple[str, Any]]:
        yield from self.entries.items()

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: {type(module).__name__} is not a Module subclass "
                            f"(key {key!r})")
        self.entries[_check_key(key, "module")] = module

    def update(self, modules: Any) -> None:
        """Add (name, module) pairs from a dict, a ModuleDict or an iterable of pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module


class ParameterList(Module):
    """A list of parameters, named ``"0"``, ``"1"``...: a tensor put in becomes a Parameter.
    Index it or loop over it in your own ``forward``."""

    def __init__(self, values: Any = None):
        super().__init__()
        self.entries: list[Any] = []
        if values is not None:
            self.extend(values)

    def _members(self) -> Iterator[tuple[str, Any]]:
        for i, value in enumerate(self.entries):
            if isinstance(value, (Parameter, Module)):
                yield str(i), value

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ParameterList(self.entries[index])
        return self.entries[index]

    def __setitem__(self, index: int, value: Any) -> None:
        self.entries[index] = _as_parameter(value)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.entries)

    def append(self, value: Any) -> ParameterList:
        self.entries.append(_as_parameter(value))
        return self

    def extend(self, values: Any) -> ParameterList:
        for value in values:
            self.append(value)
        return self

    def __repr__(self) -> str:
        return _listing("ParameterList", enumerate(self.entries))


class ParameterDict(_Entries, Module):
    """Parameters by name, in insertion order (``d["scale"]``): a tensor put in becomes a
    Parameter."""

    def __init__(self, parameters: Any = None):
        super().__init__()
        self.entries: dict[str, Any] = {}
        if parameters is not None:
            self.update(parameters)

    def _members(self) -> Iterator[tuple[str, Any]]:
        for key, value in self.entries.items():
            if isinstance(value, (Parameter, Module)):
                yield key, value

    def __setitem__(self, key: str, value: Any) -> None:
        self.entries[_check_key(key, "parameter")] = _as_parameter(value)

    def update(self, parameters: Any) -> None:
        """Add (name, tensor) pairs from a dict (in sorted order, as PyTorch), an OrderedDict
        or ParameterDict (in their order) or an iterable of pairs."""
        pairs = parameters.items() if hasattr(parameters, "items") else parameters
        if type(parameters) is dict:
            pairs = sorted(pairs)
        for key, value in pairs:
            self[key] = value

    def __repr__(self) -> str:
        return _listing("ParameterDict", iter(self.entries.items()))
