"""What ``Module.load_state_dict`` and ``Module.to`` need beside the module's own code: the
check that names every mismatch between a state dict and a module, and the copy of one array
to a device and dtype."""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.errors import ShapeError
from minigen.tensor import Tensor


def check_state_dict(module: Any, own: dict[str, Tensor], state_dict: dict[str, Any],
                     strict: bool) -> dict[str, list[str]]:
    """``{"missing_keys": ..., "unexpected_keys": ...}``, or one ShapeError naming every
    problem: keys on one side only (with ``strict``) and shapes that differ (always)."""
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    shapes = [f"{k}: saved {tuple(getattr(v, 'shape', ()))}, model {own[k].shape}"
              for k, v in state_dict.items()
              if k in own and tuple(getattr(v, "shape", ())) != own[k].shape]
    problems = []
    if strict and missing:
        problems.append("missing keys (in the model, not in the state dict): "
                        + ", ".join(missing))
    if strict and unexpected:
        problems.append("unexpected keys (in the state dict, not in the model): "
                        + ", ".join(unexpected))
    if shapes:
        problems.append("shapes that differ: " + "; ".join(shapes))
    if problems:
        raise ShapeError(f"load_state_dict into {type(module).__name__} failed (is this state "
                         "dict from another architecture?):\n  " + "\n  ".join(problems))
    return {"missing_keys": missing, "unexpected_keys": unexpected}


def copy_like(value: Any, target: Tensor) -> Any:
    """A copy of ``value`` (a Tensor, an array or a number) with ``target``'s device and
    dtype."""
    array = backend.asarray(value.data if isinstance(value, Tensor) else value, None,
                            target.device)  # (moved to the device)
    return backend.namespace(array).astype(array, target.device.dtype(target.dtype), copy=True)


def moved(array: Any, device: Any, dtype: Any) -> Any:
    """``array`` on ``device`` (if given) and, if floating, of ``dtype`` (if given)."""
    if device is not None:
        array = backend.to_device(array, device)
    if dtype is not None and backend.dtype_of(array).is_floating_point and \
            backend.as_dtype(dtype) != backend.dtype_of(array):
        array = backend.namespace(array).astype(array, backend.device_of(array).dtype(
            backend.as_dtype(dtype)))
    return array
