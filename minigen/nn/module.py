"""Module and Parameter: how a model holds its weights.

A Module finds its parameters by walking its attributes: a Parameter, a sub-module, or a list,
tuple or dict of them, at any depth. ``self.fc1 = Linear(784, 512)`` is a plain attribute, and
``parameters()`` looks at ``vars(self)`` when asked. Buffers (state saved but not trained, as
BatchNorm's running statistics) are plain attributes too, named with ``register_buffer``.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator
from typing import Any

from minigen import backend
from minigen.autograd import no_grad
from minigen.errors import DTypeError
from minigen.nn import state
from minigen.tensor import Tensor


class Parameter(Tensor):
    """A tensor that is a trainable weight of a module: a leaf with ``requires_grad=True``.
    ``Parameter(t)`` shares ``t``'s array; ops on a parameter give plain tensors."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True):
        if not isinstance(data, Tensor):
            from minigen.creation import tensor, zeros  # (creation.py builds on nn's modules)

            data = zeros(0) if data is None else tensor(data)
        self.data, self.grad, self.requires_grad = data.data, None, False  # (data shared)
        self._ctx, self._hooks, self._is_view = None, {}, False
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self.detach())


def _walk(prefix: str, value: Any) -> Iterator[tuple[str, Any]]:
    """(dotted name, member) for the Parameters and Modules in ``value``: one of them, or a
    list, tuple or dict of them, nested at any depth. Modules are not entered."""
    if isinstance(value, (Parameter, Module)):
        yield prefix, value
    elif isinstance(value, (list, tuple, dict)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            yield from _walk(f"{prefix}.{key}", item)


class Module:
    """Base class of every layer and model: build the layers in ``__init__``, write
    ``forward``; calling the module calls ``forward``.

    >>> class Net(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc1 = Linear(784, 512)
    ...     def forward(self, x):
    ...         return self.fc1(x).relu()
    """

    def __init__(self) -> None:
        self.training = True
        self._buffer_names: list[str] = []

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.__dict__.get("_forward_hooks"):  # (see minigen.extras.module_methods)
            return self._forward_hooks.call(self, args, kwargs)
        return self.forward(*args, **kwargs)

    def __setattr__(self, name: str, value: Any) -> None:
        # Replacing a Parameter by a plain tensor would silently drop it from parameters()
        # and state_dict(): refused, as PyTorch refuses it.
        if isinstance(self.__dict__.get(name), Parameter) and value is not None and \
                not isinstance(value, Parameter):
            raise TypeError(f"cannot assign a {type(value).__name__} as parameter {name!r} of "
                            f"{type(self).__name__} (a Parameter or None expected): wrap it, "
                            f"self.{name} = nn.Parameter(t), or change the weights in place "
                            f"under minigen.no_grad(): self.{name}[...] = t")
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only for an attribute the module lacks: the methods of minigen.extras (forward
        # hooks, apply), imported on first use, as Tensor.__getattr__ does.
        if name.startswith("_"):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")
        return importlib.import_module("minigen.extras.module_methods").method(self, name)

    # ------------------------------------------------------------------ what it holds
    def register_buffer(self, name: str, value: Tensor | None) -> None:
        """``self.<name> = value``, saved in ``state_dict`` and moved by ``to()``, but not a
        parameter: never trained."""
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"buffer {name!r} must be a Tensor or None, got {type(value)}")
        names = self.__dict__.setdefault("_buffer_names", [])
        if name not in names:
            names.append(name)
        setattr(self, name, value)

    def _members(self) -> Iterator[tuple[str, Any]]:
        """This module's own parameters and sub-modules, with their names."""
        for name, value in vars(self).items():
            yield from _walk(name, value)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        return ((name, m) for name, m in self._members() if isinstance(m, Module))

    def children(self) -> Iterator[Module]:
        return (m for _, m in self.named_children())

    def named_modules(self, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every module inside it, depth first; a shared one comes once
        (unless ``remove_duplicate=False``), and one that contains its ancestor is not
        entered again."""
        seen: set[int] = set()
        stack = [(prefix, self, frozenset())]
        while stack:
            name, module, ancestors = stack.pop()
            if id(module) in ancestors or (remove_duplicate and id(module) in seen):
                continue
            seen.add(id(module))
            yield name, module
            inside = ancestors | {id(module)}
            stack += reversed([(f"{name}.{n}" if name else n, m, inside)
                               for n, m in module.named_children()])

    def modules(self) -> Iterator[Module]:
        return (m for _, m in self.named_modules())

    def _tensors(self) -> Iterator[tuple[str, Tensor, bool]]:
        """(dotted name, tensor, is a parameter) for every parameter and buffer, module by
        module in PyTorch's order; a shared one under each of its names."""
        for prefix, module in self.named_modules(remove_duplicate=False):
            dot = prefix + "." if prefix else ""
            for name, member in module._members():
                if isinstance(member, Parameter):
                    yield dot + name, member, True
            for name in module.__dict__.get("_buffer_names", []):
                if getattr(module, name) is not None:
                    yield dot + name, getattr(module, name), False

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """``("fc1.weight", Parameter)`` pairs; a parameter shared by two layers comes once."""
        seen: set[int] = set()
        for name, p, is_parameter in self._tensors():
            if is_parameter and id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def parameters(self) -> list[Parameter]:
        """Every trainable parameter, each once, in a stable order (for the optimizer)."""
        return [p for _, p in self.named_parameters()]

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        return ((name, b) for name, b, is_parameter in self._tensors() if not is_parameter)

    def buffers(self) -> list[Tensor]:
        return [b for _, b in self.named_buffers()]

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Tensor]:
        """Parameters and buffers by dotted name, sharing the module's arrays (save them with
        ``minigen.save``, which writes a copy)."""
        return {name: t.detach() for name, t, _ in self._tensors()}

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> dict:
        """Copy the values into this module's parameters and buffers (keeping their dtype and
        device). A ShapeError names every mismatch: keys on one side only (with ``strict``),
        shapes. Returns ``{"missing_keys": ..., "unexpected_keys": ...}``."""
        own = {name: t for name, t, _ in self._tensors()}
        report = state.check_state_dict(self, own, state_dict, strict)
        with no_grad():
            for name, target in own.items():
                if name in state_dict:
                    target.data = state.copy_like(state_dict[name], target)
        return report

    # ------------------------------------------------------------------ modes and moves
    def train(self, mode: bool = True) -> Module:
        """Training mode (batch statistics in BatchNorm, dropout on), here and in every module
        inside; ``eval()`` switches both off."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def to(self, device_or_dtype: Any = None, dtype: Any = None) -> Module:
        """Move every parameter and buffer (and gradient) to a device and/or cast the floating
        ones, in place: an optimizer built before still holds the same Parameter objects."""
        if backend.is_dtype(device_or_dtype):
            device_or_dtype, dtype = None, device_or_dtype
        dev = None if device_or_dtype is None else backend.device(device_or_dtype)
        if dtype is not None and not backend.as_dtype(dtype).is_floating_point:
            raise DTypeError(f"Module.to() casts only to a floating dtype, got {dtype}")
        for t in {id(t): t for _, t, _ in self._tensors()}.values():
            t.data = state.moved(t.data, dev, dtype)
            if t.grad is not None:
                t.grad = Tensor._make(state.moved(t.grad.data, dev, dtype))
        return self

    cpu = functools.partialmethod(to, "cpu")  # module.cpu() is module.to("cpu"), and so on
    float = functools.partialmethod(to, backend.float32)
    double = functools.partialmethod(to, backend.float64)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: None (the default), or fresh zero arrays."""
        for p in self.parameters():
            p.grad = None if set_to_none or p.grad is None else Tensor._make(
                backend.namespace(p.data).zeros_like(p.data))

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def extra_repr(self) -> str:
        """The arguments shown inside ``Name(...)``: layers override it."""
        return ""

    def __repr__(self) -> str:
        lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ")
                 for name, child in self.named_children()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ")" if not lines else head + "\n" + "\n".join(lines) + "\n)"

