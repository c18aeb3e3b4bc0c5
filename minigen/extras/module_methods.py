"""The Module methods of the extras, found by ``Module.__getattr__``: ``apply`` and the
forward hooks, functions minigen calls around ``forward`` for looking inside a model (a
layer's activations) without changing its code.

* ``module.register_forward_pre_hook(fn)``: ``fn(module, args)`` before ``forward``; a
  returned tuple (or one value) replaces the arguments.
* ``module.register_forward_hook(fn)``: ``fn(module, args, output)`` after ``forward``; a
  returned value replaces the output.

Each returns a :class:`~minigen.autograd.RemovableHandle`; ``handle.remove()`` takes the hook
away. As in PyTorch, hooks run in the order they were registered.
"""

from __future__ import annotations

from typing import Any

from minigen.autograd import RemovableHandle


class ForwardHooks:
    """A module's forward hooks (its ``_forward_hooks``, made on the first registration),
    and the call of ``forward`` between them."""

    def __init__(self) -> None:
        self.pre: dict[int, Any] = {}
        self.post: dict[int, Any] = {}

    def __bool__(self) -> bool:  # Module.__call__ takes the plain path once all are removed
        return bool(self.pre or self.post)

    def call(self, module: Any, args: tuple, kwargs: dict) -> Any:
        for hook in list(self.pre.values()):  # (a hook may remove itself)
            new = hook(module, args)
            if new is not None:
                args = new if isinstance(new, tuple) else (new,)
        out = module.forward(*args, **kwargs)
        for hook in list(self.post.values()):
            new = hook(module, args, out)
            out = out if new is None else new
        return out


def _add(module: Any, when: str, hook: Any) -> RemovableHandle:
    if not callable(hook):
        raise TypeError(f"a hook must be callable, got {type(hook).__name__}")
    hooks = module.__dict__.setdefault("_forward_hooks", ForwardHooks())
    return RemovableHandle(getattr(hooks, when), hook)


class ExtraMethods:
    """The methods, as plain functions of ``self`` (a Module)."""

    def register_forward_pre_hook(self, hook: Any) -> RemovableHandle:
        """Call ``hook(module, args)`` before each ``forward``; a returned tuple (or one
        value) replaces the positional arguments."""
        return _add(self, "pre", hook)

    def register_forward_hook(self, hook: Any) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each ``forward`` (to record activations,
        say); a returned value replaces the output.

        >>> layer, seen = nn.Linear(3, 2), []
        >>> handle = layer.register_forward_hook(lambda m, args, out: seen.append(out.shape))
        >>> _ = layer(minigen.randn(4, 3)); handle.remove(); _ = layer(minigen.randn(5, 3))
        >>> seen
        [(4, 2)]
        """
        return _add(self, "post", hook)

    def apply(self, fn: Any) -> Any:
        """Call ``fn(module)`` on every sub-module, then on this one (PyTorch's order: children
        first), and return this module: the DCGAN idiom ``model.apply(weights_init)``. A
        module reached twice (shared, or in a cycle) is visited once."""
        seen: set[int] = set()

        def visit(module: Any) -> None:
            seen.add(id(module))
            for child in module.children():
                if id(child) not in seen:
                    visit(child)
            fn(module)

        visit(self)
        return self


def method(module: Any, name: str) -> Any:
    """``module.<name>``, bound, or the AttributeError Python would have raised."""
    function = getattr(ExtraMethods, name, None)
    if function is None or name.startswith("_"):
        raise AttributeError(f"'{type(module).__name__}' object has no attribute {name!r}")
    return function.__get__(module)
