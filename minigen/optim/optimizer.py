"""The Optimizer base class: parameter groups, ``zero_grad``, ``step`` (which calls each
optimizer's ``_update`` on every parameter with a gradient), and the state that
``state_dict()`` saves, keyed by the parameter's position, so that a reloaded optimizer
continues bit for bit. The rules themselves: :mod:`.sgd`, :mod:`.adam`.

An update works on the arrays, under ``no_grad``: in place on the parameter's data and on the
optimizer's own buffers, never on the gradient (which may share memory with other arrays).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minigen import backend
from minigen.autograd import no_grad
from minigen.errors import ShapeError
from minigen.tensor import Tensor


class Optimizer:
    """Base class: holds parameter groups (each a dict of ``params`` and hyperparameters)
    and per-parameter ``state`` (a dict keyed by ``id(param)``).

    ``params`` is an iterable of parameters, or of dicts ``{"params": [...], "lr": ...}``
    whose hyperparameters override ``defaults`` for that group.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]):
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}
        if isinstance(params, Tensor):
            raise TypeError("an optimizer takes an iterable of parameters (model.parameters()),"
                            " not a single tensor: wrap it in a list")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list: does the "
                             "model have parameters, and was model.parameters() passed?")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (defaults fill the rest)."""
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p): (i, j) for i, g in enumerate(self.param_groups)
                for j, p in enumerate(g["params"])}
        for j, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__} can only optimize tensors, but "
                                f"parameter {j} is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"parameter {j} is not a leaf (it was computed from other "
                                 "tensors): optimize the leaves, e.g. model.parameters()")
            if id(p) in seen:  # by identity: Tensor == Tensor is elementwise
                group_index, position = seen[id(p)]
                raise ValueError(f"parameter {j} of shape {p.shape} appears twice in the "
                                 f"optimizer (first in group {group_index} at position "
                                 f"{position}): pass each parameter once")
            seen[id(p)] = (len(self.param_groups), j)
        if not params:
            raise ValueError(f"{type(self).__name__} got a parameter group with no parameters")
        full = {**self.defaults, **{k: v for k, v in group.items() if k != "params"}}
        full["params"] = params
        self.param_groups.append(full)

    def _params(self) -> list[Tensor]:
        return [p for g in self.param_groups for p in g["params"]]

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``None`` (the default), or fresh zero arrays (never a
        gradient array zeroed in place: it may be shared)."""
        for p in self._params():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor._make(backend.namespace(p.data).zeros_like(p.data))

    @no_grad()
    def step(self) -> None:
        """Update every parameter that has a gradient (parameters with ``grad=None`` are
        skipped, their state untouched)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.shape != p.shape:
                    raise ShapeError(f"the gradient of a parameter of shape {p.shape} has "
                                     f"shape {p.grad.shape}")
                self._update(p, p.grad.data, self.state.setdefault(id(p), {}), group)

    def _update(self, p: Tensor, grad: Any, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """``{"state": {position: {name: Tensor or int}}, "param_groups": [...]}``: the
        hyperparameters of each group, with ``params`` as positions (0, 1, ... across groups).
        Save it with ``minigen.save``."""
        state, groups, index = {}, [], 0
        for group in self.param_groups:
            positions = list(range(index, index + len(group["params"])))
            for i, p in zip(positions, group["params"]):
                if self.state.get(id(p)):
                    state[i] = {k: Tensor._make(v) if _is_array(v) else v
                                for k, v in self.state[id(p)].items()}
            groups.append({**{k: v for k, v in group.items() if k != "params"},
                           "params": positions})
            index += len(positions)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and per-parameter state saved by :meth:`state_dict`. The
        arrays are copied to each parameter's device (floating ones to its dtype)."""
        name = type(self).__name__
        groups = state_dict.get("param_groups") if isinstance(state_dict, dict) else None
        if groups is None or "state" not in state_dict:
            raise ValueError(f"{name}.load_state_dict needs a dict with 'state' and "
                             "'param_groups' (from optimizer.state_dict())")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"the saved {name} state has {len(groups)} parameter group(s), "
                             f"this optimizer has {len(self.param_groups)}")
        for i, (saved, own) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(own["params"]):
                raise ValueError(f"parameter group {i} has {len(saved['params'])} parameters in "
                                 f"the saved state, {len(own['params'])} here: is it the "
                                 "optimizer of another model?")
        params = {pos: p for saved, own in zip(groups, self.param_groups)
                  for pos, p in zip(saved["params"], own["params"])}
        new_state = {}
        for pos, entries in state_dict["state"].items():
            if int(pos) not in params:
                raise ValueError(f"the saved {name} state has an entry for parameter {pos}, "
                                 f"but this optimizer has {len(params)} parameters")
            p = params[int(pos)]
            new_state[id(p)] = {k: _state_copy(v, p, k, int(pos)) for k, v in entries.items()}
        for saved, own in zip(groups, self.param_groups):
            own.update({k: (tuple(v) if isinstance(v, list) else v)
                        for k, v in saved.items() if k != "params"})
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])


def _is_array(value: Any) -> bool:
    return hasattr(value, "shape") and hasattr(value, "dtype")


def _state_copy(value: Any, p: Tensor, key: str, pos: int) -> Any:
    """A saved state entry as an array of ``p``'s device (and dtype, if floating), copied."""
    if isinstance(value, Tensor):
        value = value.data
    if not _is_array(value):
        return value
    if key != "step" and tuple(value.shape) != p.shape:
        raise ShapeError(f"optimizer state {key!r} of parameter {pos} has shape "
                         f"{tuple(value.shape)}, but the parameter has shape {p.shape}")
    moved = backend.to_device(value, p.device)
    dtype = p.dtype if backend.dtype_of(moved).is_floating_point else backend.dtype_of(moved)
    return backend.namespace(moved).astype(moved, p.device.dtype(dtype), copy=True)

