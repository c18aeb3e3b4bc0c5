"""Hooks: functions minigen calls at a point of a computation, for looking inside it (a
gradient's norm, a layer's activations) without changing the model's code.

* ``tensor.register_hook(fn)``: ``fn(grad)`` when the tensor's gradient is complete in a
  backward pass; returning a tensor replaces the gradient that flows on.
* ``module.register_forward_pre_hook(fn)``: ``fn(module, args)`` before ``forward``;
  returning a tuple (or one value) replaces the arguments.
* ``module.register_forward_hook(fn)``: ``fn(module, args, output)`` after ``forward``;
  returning a value replaces the output.

Each returns a :class:`RemovableHandle`; ``handle.remove()`` takes the hook away. As in
PyTorch, hooks run in the order they were registered.

>>> x = minigen.tensor([1.0, 2.0], requires_grad=True)
>>> handle = x.register_hook(lambda g: g * 10)       # scale the gradient on its way to x
>>> (x * x).sum().backward()
>>> x.grad
tensor([20., 40.])
>>> handle.remove()
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

_ids = itertools.count()


class RemovableHandle:
    """What ``register_*hook`` returns: ``remove()`` unregisters the hook (twice is fine)."""

    def __init__(self, hooks: dict[int, Callable[..., Any]], hook: Callable[..., Any]):
        self._hooks, self.id = hooks, next(_ids)
        hooks[self.id] = hook

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


class ModuleHooks:
    """The forward hooks of :class:`minigen.nn.Module` (a mixin): kept in the module's
    ``_forward_hooks`` attribute, made on the first registration."""

    def register_forward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, args)`` before each ``forward``; a returned tuple (or one
        value) replaces the positional arguments. Returns a handle (``.remove()``)."""
        return self._add_forward_hook("pre", hook)

    def register_forward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each ``forward`` (to record activations,
        say); a returned value replaces the output. Returns a handle (``.remove()``).

        >>> layer, seen = nn.Linear(3, 2), []
        >>> handle = layer.register_forward_hook(lambda m, args, out: seen.append(out.shape))
        >>> _ = layer(minigen.randn(4, 3)); handle.remove(); _ = layer(minigen.randn(5, 3))
        >>> seen
        [(4, 2)]
        """
        return self._add_forward_hook("post", hook)

    def _add_forward_hook(self, when: str, hook: Callable[..., Any]) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
        hooks = self.__dict__.setdefault("_forward_hooks", {"pre": {}, "post": {}})
        return RemovableHandle(hooks[when], hook)

    def _call_with_hooks(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``forward`` between its pre-hooks and its hooks, each allowed to replace what it
        was given."""
        hooks = self.__dict__["_forward_hooks"]
        for hook in list(hooks["pre"].values()):  # (a hook may remove itself)
            new = hook(self, args)
            if new is not None:
                args = new if isinstance(new, tuple) else (new,)
        out = self.forward(*args, **kwargs)  # type: ignore[attr-defined]
        for hook in list(hooks["post"].values()):
            new = hook(self, args, out)
            out = out if new is None else new
        return out
