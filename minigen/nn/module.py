"""Module: how a model holds its weights (Parameter is in parameter.py, containers in
containers.py).

A :class:`Module` finds its parameters by walking its attributes: a :class:`Parameter`, a
sub-module, or a list, tuple or dict of them, at any depth. There is no ``__setattr__`` magic:
``self.fc1 = Linear(784, 512)`` is a plain attribute, and ``parameters()`` looks at
``vars(self)`` when asked. Buffers (state that is saved but not trained, like BatchNorm's running
statistics) are plain attributes too, named once with :meth:`Module.register_buffer`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from minigen import backend
from minigen.autograd import no_grad
from minigen.backend import Device, DType
from minigen.errors import DTypeError, ShapeError
from minigen.hooks import ModuleHooks
from minigen.nn.parameter import Parameter
from minigen.tensor import Tensor


def _walk(prefix: str, value: Any) -> Iterator[tuple[str, Any]]:
    """(dotted name, member) for the Parameters and Modules inside ``value``, which may be one
    of them or a list, tuple or dict of them (nested at any depth). Modules are not entered."""
    if isinstance(value, (Parameter, Module)):
        yield prefix, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _walk(f"{prefix}.{i}", item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(f"{prefix}.{key}", item)


class Module(ModuleHooks):
    """Base class of every layer and model: subclass it, build layers in ``__init__``, and
    write ``forward``. Calling the module calls ``forward``.

    >>> class Net(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.fc1 = Linear(784, 512)
    ...     def forward(self, x):
    ...         return self.fc1(x).relu()
    """

    training: bool = True

    def __init__(self) -> None:
        self.training = True
        self._buffer_names: list[str] = []

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __setattr__(self, name: str, value: Any) -> None:
        # Replacing a Parameter with a plain tensor would silently drop it from parameters()
        # and state_dict() (not trained, not saved): refused, as PyTorch refuses it.
        if isinstance(self.__dict__.get(name), Parameter) and value is not None and \
                not isinstance(value, Parameter):
            raise TypeError(
                f"cannot assign a {type(value).__name__} as parameter {name!r} of "
                f"{type(self).__name__} (a Parameter or None expected): wrap it, "
                f"self.{name} = nn.Parameter(t), or change the weights in place under "
                f"minigen.no_grad(): self.{name}[...] = t")
        object.__setattr__(self, name, value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.__dict__.get("_forward_hooks"):  # (None for a module never hooked)
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ discovery
    def register_buffer(self, name: str, value: Tensor | None) -> None:
        """Set ``self.<name> = value`` and record it as a buffer: saved in ``state_dict`` and
        moved by ``to()``, but not returned by ``parameters()`` and never trained."""
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"buffer {name!r} must be a Tensor or None, got {type(value)}")
        names = self.__dict__.setdefault("_buffer_names", [])
        if name not in names:
            names.append(name)
        setattr(self, name, value)

    def _members(self) -> Iterator[tuple[str, Any]]:
        """This module's direct parameters and sub-modules, with their names."""
        for name, value in vars(self).items():
            yield from _walk(name, value)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for name, member in self._members():
            if isinstance(member, Module):
                yield name, member

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def named_modules(self, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every module inside it, depth first; a module reached twice (a
        shared layer) comes once, unless ``remove_duplicate=False``. A module that refers
        back to one of its ancestors is never entered again."""
        seen: set[int] = set()
        stack: list[tuple[str, Module, frozenset[int]]] = [(prefix, self, frozenset())]
        while stack:
            name, module, ancestors = stack.pop()
            if id(module) in ancestors or (remove_duplicate and id(module) in seen):
                continue
            seen.add(id(module))
            yield name, module
            inside = ancestors | {id(module)}
            kids = [(f"{name}.{n}" if name else n, m, inside)
                    for n, m in module.named_children()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def apply(self, fn: Any) -> Module:
        """Call ``fn(module)`` on every sub-module, then on this one (PyTorch's order: children
        first), and return this module. The DCGAN idiom: ``model.apply(weights_init)``.
        A module reached twice (shared, or in a cycle) is visited once."""
        seen: set[int] = set()

        def visit(module: Module) -> None:
            seen.add(id(module))
            for child in module.children():
                if id(child) not in seen:
                    visit(child)
            fn(module)

        visit(self)
        return self

    def _named_tensors(self, kind: str, recurse: bool = True) -> Iterator[tuple[str, Any]]:
        """Every parameter (``kind="param"``) or buffer (``"buffer"``) with its dotted name,
        a shared one under each of its names."""
        modules = self.named_modules(remove_duplicate=False) if recurse else [("", self)]
        for prefix, module in modules:
            dot = prefix + "." if prefix else ""
            if kind == "param":
                for name, member in module._members():
                    if isinstance(member, Parameter):
                        yield dot + name, member
            else:
                for name in module.__dict__.get("_buffer_names", []):
                    yield dot + name, getattr(module, name)

    def named_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """``("fc1.weight", Parameter)`` pairs; a parameter shared by two layers comes once."""
        seen: set[int] = set()
        for name, p in self._named_tensors("param"):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def parameters(self) -> list[Parameter]:
        """Every trainable parameter, each once, in a stable order (for the optimizer)."""
        return [p for _, p in self.named_parameters()]

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        for name, b in self._named_tensors("buffer"):
            if b is not None:
                yield name, b

    def buffers(self) -> list[Tensor]:
        return [b for _, b in self.named_buffers()]

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Tensor]:
        """Parameters and buffers by dotted name, as tensors that share the module's memory
        (save them with ``minigen.save``, which copies to disk)."""
        out: dict[str, Tensor] = {}
        # PyTorch's order, module by module; a shared layer is saved under each of its names.
        for prefix, module in self.named_modules(remove_duplicate=False):
            for name, value in module._named_tensors("param", recurse=False):
                out[prefix + "." + name if prefix else name] = value.detach()
            for name, value in module._named_tensors("buffer", recurse=False):
                if value is not None:
                    out[prefix + "." + name if prefix else name] = value.detach()
        return out

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> dict:
        """Copy values into this module's parameters and buffers, keeping their dtype and
        device. With ``strict`` (the default) every key must match and every shape fit; all
        the problems are named in one error. Returns ``{"missing_keys", "unexpected_keys"}``.
        """
        own = dict(self._named_tensors("param"))
        own.update(self.named_buffers())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mis_shaped = [
            f"{k}: saved {tuple(_shape(state_dict[k]))}, model {own[k].shape}"
            for k in own if k in state_dict and tuple(_shape(state_dict[k])) != own[k].shape
        ]
        problems = []
        if strict and missing:
            problems.append("missing keys (in the model, not in the state dict): "
                            + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys (in the state dict, not in the model): "
                            + ", ".join(unexpected))
        if mis_shaped:
            problems.append("shapes that differ: " + "; ".join(mis_shaped))
        if problems:
            raise ShapeError(f"load_state_dict into {type(self).__name__} failed (is this state "
                             "dict from another architecture?):\n  " + "\n  ".join(problems))
        with no_grad():
            for key, target in own.items():
                if key in state_dict:
                    target.data = _copy_like(state_dict[key], target)
        return {"missing_keys": missing, "unexpected_keys": unexpected}

    # ------------------------------------------------------------------ modes and moves
    def train(self, mode: bool = True) -> Module:
        """Training mode (batch statistics in BatchNorm, dropout on) for this module and all
        modules inside it; ``eval()`` switches both off."""
        for module in self.modules():
            module.training = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def to(self, device_or_dtype: Any = None, dtype: Any = None) -> Module:
        """Move every parameter and buffer (and gradient) to a device and/or cast the floating
        ones to a dtype, in place: the Parameter objects stay the same, so an optimizer built
        before the move still holds them."""
        dev, dt = _device_and_dtype(device_or_dtype, dtype)
        tensors = [p for _, p in self._named_tensors("param")] + self.buffers()
        for t in {id(t): t for t in tensors}.values():
            t.data = _moved(t.data, dev, dt)
            if t.grad is not None:
                t.grad = Tensor._make(_moved(t.grad.data, dev, dt))
        return self

    def cpu(self) -> Module:
        return self.to("cpu")

    def float(self) -> Module:
        return self.to(backend.float32)

    def double(self) -> Module:
        return self.to(backend.float64)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``None`` (the default), or fresh zero arrays."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor._make(backend.namespace(p.data).zeros_like(p.data))

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze every parameter."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # ------------------------------------------------------------------ repr
    def extra_repr(self) -> str:
        """The arguments shown inside ``Name(...)``; layers override it."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, child in self.named_children():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ")" if not lines else head + "\n" + "\n".join(lines) + "\n)"


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(getattr(value, "shape", ()))


def _copy_like(value: Any, target: Tensor) -> Any:
    """A copy of ``value`` (Tensor, array or number) with ``target``'s device and dtype."""
    if isinstance(value, Tensor):
        value = value.data
    if not hasattr(value, "shape"):
        value = backend.asarray(value, None, backend.device("cpu"))
    moved = backend.to_device(value, target.device)
    xp = backend.namespace(moved)
    return xp.astype(moved, target.device.dtype(target.dtype), copy=True)


def _device_and_dtype(device_or_dtype: Any, dtype: Any) -> tuple[Device | None, DType | None]:
    dev = None
    if isinstance(device_or_dtype, DType):
        dtype = device_or_dtype
    elif isinstance(device_or_dtype, str) and _is_dtype_name(device_or_dtype):
        dtype = device_or_dtype
    elif device_or_dtype is not None:
        dev = backend.device(device_or_dtype)
    dt = None if dtype is None else backend.as_dtype(dtype)
    if dt is not None and not dt.is_floating_point:
        raise DTypeError(f"Module.to() casts only to a floating dtype, got {dt}")
    return dev, dt


def _is_dtype_name(name: str) -> bool:
    try:
        backend.as_dtype(name)
    except DTypeError:
        return False
    return True


def _moved(array: Any, dev: Device | None, dt: DType | None) -> Any:
    if dev is not None:
        array = backend.to_device(array, dev)
    if dt is not None and backend.dtype_of(array).is_floating_point:
        here = backend.device_of(array)
        if backend.dtype_of(array) != dt:
            array = backend.namespace(array).astype(array, here.dtype(dt))
    return array
