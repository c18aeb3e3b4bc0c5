"""Part of ``against_torch.py``: embedding, padding, resizing and the dict/list containers
against PyTorch.

F.embedding and nn.Embedding (index tensors of several shapes, repeated indices, padding_idx),
F.pad (constant with negative pads, reflect, replicate) and the Pad2d layers, F.interpolate
and nn.Upsample (nearest, linear, bilinear, align_corners, size or scale_factor),
F.adaptive_avg_pool2d and nn.AdaptiveAvgPool2d (output sizes that divide the input or not,
None entries): values and gradients over random sizes, module reprs; then refusals and output
shapes over arguments valid or not (except where PyTorch's shortcut for an output size of 1, a
mean, accepts what its general path refuses: a 5-D input, an empty H or W), 5-D inputs of
interpolate (minigen resizes 1 or 2 spatial dimensions) and reflect / replicate pads that
crop an axis to nothing (PyTorch refuses that for 2 pads, and for 4 only when H and W both
empty; minigen always: ``crops_to_nothing``); 1-D nearest resizes whose PyTorch backward is not
the gradient of its forward are judged against that forward as a gather
(``nearest_1d_gather``); then
ModuleDict, ParameterList and ParameterDict's
parameter names, state_dict keys and reprs.
"""

# ruff: noqa: B023  (each lambda made in a loop here is called at once, in its iteration)

from __future__ import annotations

from typing import Any

import numpy as np
from against_torch_harness import Record, compare_module, forward_backward, normal

import minigen
import minigen.nn as mnn
import minigen.nn.functional as mF

try:
    import torch
    import torch.nn as tnn
    import torch.nn.functional as tF
except ImportError:  # against_torch.main() says how to install it
    torch = None


def _int(rng: np.random.Generator, low: int, high: int) -> int:
    return int(rng.integers(low, high + 1))


def check_embedding(rec: Record, rng: np.random.Generator, n: int) -> None:
    for _ in range(n):
        rows, dim = _int(rng, 1, 12), _int(rng, 1, 6)
        shape = [(), (5,), (3, 4), (2, 3, 2)][_int(rng, 0, 3)]
        index = rng.integers(0, rows, size=shape)
        pad = None if rng.random() < 0.5 else _int(rng, -rows, rows - 1)
        forward_backward(rec, "F.embedding", lambda i, w: mF.embedding(i, w, pad),
                         lambda i, w: tF.embedding(i, w, pad),
                         [index, normal(rng, rec.dtype, rows, dim)], rng, grads=[False, True],
                         label=f"{rows}x{dim} {shape} padding_idx={pad}")
        mine = mnn.Embedding(rows, dim, pad, dtype=rec.dtype)
        peer = tnn.Embedding(rows, dim, pad, dtype=getattr(torch, rec.dtype))
        rec.expect("nn.Embedding", repr(mine) == repr(peer), f"{mine!r} against {peer!r}")
        if pad is not None:
            rec.expect("nn.Embedding", not mine.weight.detach().numpy()[pad].any(),
                       f"{mine!r}: the padding row is not zero")
        peer.load_state_dict({"weight": torch.from_numpy(mine.weight.detach().numpy().copy())})
        forward_backward(rec, "nn.Embedding", mine, peer, [index], rng, grads=[False],
                         params=[("weight", mine.weight, peer.weight)], label=repr(mine))


PAD_MODES = ["constant", "constant", "reflect", "replicate"]


def pad_case(rng: np.random.Generator) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """A mode, a shape and pads PyTorch accepts (drawn again until it does)."""
    while True:
        mode = PAD_MODES[_int(rng, 0, 3)]
        dims = _int(rng, 1, 2)
        ndim = dims + _int(rng, 1, 2) if mode != "constant" else _int(rng, dims, 4)
        shape = tuple(_int(rng, 1, 6) for _ in range(ndim))
        pads = tuple(_int(rng, -3, 4) for _ in range(2 * dims))
        try:
            out = tF.pad(torch.zeros(shape, dtype=torch.float64), pads, mode)
        except (RuntimeError, ValueError):
            continue
        if mode == "constant" or 0 not in out.shape:  # (see the module's docstring)
            return mode, shape, pads


def check_pad(rec: Record, rng: np.random.Generator, n: int) -> None:
    for _ in range(2 * n):
        mode, shape, pads = pad_case(rng)
        value = float(rng.integers(-2, 3)) if mode == "constant" else None
        forward_backward(rec, "F.pad", lambda t: mF.pad(t, pads, mode, value),
                         lambda t: tF.pad(t, pads, mode, value),
                         [normal(rng, rec.dtype, *shape)], rng, label=f"{shape} {pads} {mode}")
    for _ in range(n):
        padding = _int(rng, 0, 3) if rng.random() < 0.5 else tuple(
            _int(rng, 0, 3) for _ in range(4))
        shape = (_int(rng, 1, 3), _int(rng, 1, 3), _int(rng, 4, 7), _int(rng, 4, 7))
        for name, args in (("ZeroPad2d", ()), ("ConstantPad2d", (1.5,)),
                           ("ReflectionPad2d", ()), ("ReplicationPad2d", ())):
            mine, peer = getattr(mnn, name)(padding, *args), getattr(tnn, name)(padding, *args)
            rec.expect("nn.*Pad2d", repr(mine) == repr(peer), f"{mine!r} against {peer!r}")
            compare_module(rec, "nn.*Pad2d", mine, peer, normal(rng, rec.dtype, *shape), rng)


def interpolate_case(rng: np.random.Generator) -> tuple[tuple[int, ...], dict[str, Any]]:
    mode = ["nearest", "nearest", "linear", "bilinear", "bilinear"][_int(rng, 0, 4)]
    ndim = {"linear": 3, "bilinear": 4}.get(mode, _int(rng, 3, 4))
    shape = (_int(rng, 1, 3), _int(rng, 1, 3)) + tuple(_int(rng, 1, 9)
                                                       for _ in range(ndim - 2))
    kw: dict[str, Any] = {"mode": mode}
    if rng.random() < 0.5:
        sizes = tuple(_int(rng, 1, 13) for _ in range(ndim - 2))
        kw["size"] = sizes if rng.random() < 0.5 else sizes[0]
    else:
        scale = [2, 3, 0.5, 1.5, 2.5, 0.7, 1.3, 1.0, 4][_int(rng, 0, 8)]
        kw["scale_factor"] = (scale if rng.random() < 0.5 else
                              tuple(float(scale) for _ in range(ndim - 2)))
        shape = shape[:2] + tuple(max(m, 2) for m in shape[2:])
    if mode != "nearest":
        kw["align_corners"] = [None, False, True][_int(rng, 0, 2)]
    return shape, kw


def nearest_1d_gather(shape: tuple[int, ...], kw: dict[str, Any], dtype: str) -> Any:
    """For a 1-D nearest resize whose PyTorch backward is not the gradient of its forward,
    that forward as a gather (a torch function), else None. PyTorch 2.13's CPU 1-D forward
    reads ``floor(j / scale)`` (3 * 1.3 -> 0, 0, 1), but its backward routes the gradient by
    the 2-D rule (``j`` for an unchanged size, ``j // 2`` for a doubled one, float32), so
    for 3 * 1.3 input 0 gets out[0]'s gradient, not out[0] + out[1]'s. minigen's gradient is
    its forward's (a deliberate difference): such cases are judged against the gradient of
    PyTorch's own forward, written as a gather."""
    if kw["mode"] != "nearest" or len(shape) != 3:
        return None
    n = shape[-1]
    src = torch.arange(n, dtype=getattr(torch, dtype)).expand(shape).clone()
    idx = tF.interpolate(src, **kw)[0, 0].long()
    noise = np.random.default_rng(0)  # not the check's generator: its draws stay as they were
    x = torch.tensor(noise.standard_normal(shape), requires_grad=True)
    y = tF.interpolate(x, **kw)
    g = torch.tensor(noise.standard_normal(tuple(y.shape)))
    (grad,) = torch.autograd.grad(y, x, g)
    (want,) = torch.autograd.grad(x[..., idx], x, g)
    return None if torch.equal(grad, want) else (lambda t: t[..., idx])


class _Gather(tnn.Module if torch is not None else object):
    def __init__(self, fn: Any) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, t: Any) -> Any:
        return self.fn(t)


def check_interpolate(rec: Record, rng: np.random.Generator, n: int) -> None:
    for _ in range(3 * n):
        shape, kw = interpolate_case(rng)
        try:
            tF.interpolate(torch.zeros(shape, dtype=torch.float64), **kw)
        except RuntimeError:
            continue  # an output size of 0
        gather = nearest_1d_gather(shape, kw, rec.dtype)
        label = f"{shape} {kw}" + (" (against PyTorch's forward as a gather)" if gather else "")
        forward_backward(rec, "F.interpolate", lambda t: mF.interpolate(t, **kw),
                         gather or (lambda t: tF.interpolate(t, **kw)),
                         [normal(rng, rec.dtype, *shape)], rng, label=label)
        mine, peer = mnn.Upsample(**kw), tnn.Upsample(**kw)
        rec.expect("nn.Upsample", repr(mine) == repr(peer), f"{mine!r} against {peer!r}")
        compare_module(rec, "nn.Upsample", mine, _Gather(gather) if gather else peer,
                       normal(rng, rec.dtype, *shape), rng,
                       label=f"{mine!r} on {shape}" + (" (as a gather)" if gather else ""))


def check_adaptive_pool(rec: Record, rng: np.random.Generator, n: int) -> None:
    for _ in range(2 * n):
        shape = ((_int(rng, 1, 3),) if rng.random() < 0.25 else
                 (_int(rng, 1, 3), _int(rng, 1, 3))) + (_int(rng, 1, 12), _int(rng, 1, 12))
        out: Any = _int(rng, 1, 8)
        if rng.random() < 0.5:
            out = (out, [None, _int(rng, 1, 8)][_int(rng, 0, 1)])
        forward_backward(rec, "F.adaptive_avg_pool2d",
                         lambda t: mF.adaptive_avg_pool2d(t, out),
                         lambda t: tF.adaptive_avg_pool2d(t, out),
                         [normal(rng, rec.dtype, *shape)], rng, label=f"{shape} -> {out}")
        mine, peer = mnn.AdaptiveAvgPool2d(out), tnn.AdaptiveAvgPool2d(out)
        rec.expect("nn.AdaptiveAvgPool2d", repr(mine) == repr(peer),
                   f"{mine!r} against {peer!r}")
        compare_module(rec, "nn.AdaptiveAvgPool2d", mine, peer,
                       normal(rng, rec.dtype, *shape), rng)


JUNK = [0, -1, 1.5, (2, 0), (1, 2, 3), (2,), None]


def crops_to_nothing(mode: str, shape: tuple[int, ...], pads: tuple[int, ...]) -> bool:
    """Reflect or replicate pads that crop some axis to size 0 or below: minigen refuses them
    (every padded axis keeps at least one position); PyTorch 2.13 refuses them with 2 pads, and
    with 4 when H and W both empty, but returns an empty tensor ((3, 4, 3) by (-1, -2, 2, 0):
    (3, 6, 0)) when only one of them does, and on an empty batch even a negative size ((0, 2,
    1, 2) by (1, -1, -2, -4): (0, 2, -5, 2))."""
    if mode not in ("reflect", "replicate") or len(pads) % 2 or len(pads) // 2 > len(shape):
        return False
    return any(shape[-1 - i] + pads[2 * i] + pads[2 * i + 1] <= 0 and pads[2 * i: 2 * i + 2]
               != (0, 0) for i in range(len(pads) // 2))


def check_refusals(rec: Record, rng: np.random.Generator, n: int) -> None:
    """Arguments valid or not: both refuse, or both give the same shape."""
    check = "resample sizes and refusals"
    for _ in range(20 * n):
        shape = tuple(_int(rng, 0, 4) for _ in range(_int(rng, 1, 5)))
        mode = PAD_MODES[_int(rng, 0, 3)]
        pads = tuple(_int(rng, -4, 4) for _ in range(_int(rng, 0, 5)))
        size = [_int(rng, -1, 5), (_int(rng, 0, 5), _int(rng, 1, 5)), None][_int(rng, 0, 2)]
        scale = [None, 2, 0.5, 0.0, -1.0, (2.0,)][_int(rng, 0, 5)]
        kind = ["nearest", "linear", "bilinear"][_int(rng, 0, 2)]
        out = [_int(rng, 0, 4), (2, None), JUNK[_int(rng, 0, len(JUNK) - 1)]][_int(rng, 0, 2)]
        calls = [("pad", lambda lib, x: lib.pad(x, pads, mode)),
                 ("interpolate", lambda lib, x: lib.interpolate(x, size, scale, kind)),
                 ("adaptive_avg_pool2d", lambda lib, x: lib.adaptive_avg_pool2d(x, out))]
        for name, fn in calls:
            if name == "interpolate" and len(shape) == 5:
                continue  # minigen resizes 1 or 2 spatial dimensions, not 3
            if name == "pad" and crops_to_nothing(mode, shape, pads):
                continue  # deliberate: minigen refuses an emptied reflect / replicate axis
            if name == "adaptive_avg_pool2d" and out in (1, (1, 1)) and (
                    len(shape) not in (3, 4) or 0 in shape[-2:]):
                continue  # PyTorch's mean shortcut for output 1: a 5-D input, an empty plane
            rec.case(check)
            ours, theirs = rec.same_refusal(
                check, f"{name} {shape} pads={pads} mode={mode} size={size} scale={scale} "
                f"kind={kind} out={out}",
                lambda: fn(mF, minigen.zeros(*shape, dtype="float64")).shape,
                lambda: tuple(fn(tF, torch.zeros(shape, dtype=torch.float64)).shape))
            rec.expect(check, ours == theirs, f"{name} {shape}: shape {ours} against {theirs}")
        rows = _int(rng, 1, 4)
        index = rng.integers(-1, rows + 1, size=_int(rng, 0, 3))
        pad = [None, _int(rng, -rows - 1, rows)][_int(rng, 0, 1)]

        def torch_embedding() -> Any:
            try:
                return tuple(tF.embedding(torch.tensor(index), torch.zeros(rows, 2), pad).shape)
            except AssertionError as e:  # PyTorch asserts padding_idx's range
                raise ValueError(str(e)) from e

        rec.case(check)
        ours, theirs = rec.same_refusal(
            check, f"embedding {index} rows={rows} padding_idx={pad}",
            lambda: mF.embedding(minigen.tensor(index), minigen.zeros(rows, 2), pad).shape,
            torch_embedding)
        rec.expect(check, ours == theirs, f"embedding: shape {ours} against {theirs}")


def _torch_repr(text: str) -> str:
    return text.replace("minigen.float32", "torch.float32")


def check_containers(rec: Record, rng: np.random.Generator, n: int) -> None:
    """Parameter names, state_dict keys and reprs of the dict and list containers."""
    check = "ModuleDict, ParameterList, ParameterDict"
    for _ in range(n):
        keys = [f"k{i}" for i in rng.permutation(5)[:_int(rng, 1, 4)]]
        sizes = [(_int(rng, 1, 4), _int(rng, 1, 4)) for _ in keys]
        mine = mnn.ModuleDict({k: mnn.Linear(*s) for k, s in zip(keys, sizes)})
        peer = tnn.ModuleDict({k: tnn.Linear(*s) for k, s in zip(keys, sizes)})
        plist = mnn.ParameterList([minigen.zeros(*s) for s in sizes])
        tlist = tnn.ParameterList([torch.zeros(s) for s in sizes])
        pdict = mnn.ParameterDict({k: minigen.zeros(s[0]) for k, s in zip(keys, sizes)})
        tdict = tnn.ParameterDict({k: torch.zeros(s[0]) for k, s in zip(keys, sizes)})
        for ours, theirs in ((mine, peer), (plist, tlist), (pdict, tdict)):
            rec.case(check)
            rec.expect(check, list(ours.state_dict()) == list(theirs.state_dict()),
                       f"state_dict keys {list(ours.state_dict())} against "
                       f"{list(theirs.state_dict())}")
            rec.expect(check, [k for k, _ in ours.named_parameters()] ==
                       [k for k, _ in theirs.named_parameters()], "parameter names differ")
        rec.expect(check, repr(mine) == repr(peer), f"{mine!r} against {peer!r}")
        rec.expect(check, _torch_repr(repr(plist)) == repr(tlist), f"{plist!r} against {tlist!r}")
        want = repr(tdict).replace("torch.FloatTensor", "torch.float32")
        rec.expect(check, _torch_repr(repr(pdict)) == want, f"{pdict!r} against {tdict!r}")


CHECKS = [check_embedding, check_pad, check_interpolate, check_adaptive_pool]
FLOAT64_ONLY = [check_refusals, check_containers]  # no arithmetic to compare: run once
