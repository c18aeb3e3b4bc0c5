"""Part of ``against_torch.py``: optimizers, initialisation, the Module API and the
three models end to end, each against PyTorch (see that file's docstring for how errors are
measured and which differences are deliberate)."""

# ruff: noqa: B023  (each lambda made in a loop here is called at once, in its iteration)

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from against_torch_harness import (
    Record,
    as_numpy,
    compare_module,
    copy_into_torch,
    forward_backward,
    normal,
    to_torch_dtype,
)

import minigen
from minigen import nn, optim
from minigen.models import dcgan, gan, vae_loss
from minigen.models.vae import VAE, VAEOutput

try:
    import torch
    import torch.nn as tnn
    import torch.nn.functional as tF
except ImportError:  # against_torch.main() says how to install it
    torch = None

# ------------------------------------------------------------------ optimizers

OPTIMIZERS = [  # (class name, hyperparameters): every option each optimizer has
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.5, 0.999)}),
    ("Adam", {"lr": 0.01, "eps": 1e-3, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.003, "betas": (0.8, 0.9), "weight_decay": 0.05, "amsgrad": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("AdamW", {"lr": 0.01, "betas": (0.8, 0.99), "amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.005, "alpha": 0.9, "eps": 1e-4, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.003, "alpha": 0.95, "centered": True}),
    ("RMSprop", {"lr": 0.003, "momentum": 0.5, "centered": True, "weight_decay": 0.05}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.1}),
    ("Adagrad", {"lr": 0.05, "initial_accumulator_value": 0.5, "eps": 1e-3}),
    ("Adadelta", {}),
    ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.1}),
]
REFUSED = [("SGD", {"lr": -1.0}), ("SGD", {"momentum": -0.5}), ("SGD", {"nesterov": True}),
           ("SGD", {"momentum": 0.9, "dampening": 0.5, "nesterov": True}),
           ("Adam", {"betas": (1.0, 0.9)}), ("Adam", {"eps": -1.0}),
           ("AdamW", {"weight_decay": -0.1}), ("RMSprop", {"alpha": -0.5}),
           ("RMSprop", {"momentum": -0.1}), ("RMSprop", {"eps": -1.0}),
           ("Adagrad", {"lr_decay": -0.1}), ("Adagrad", {"initial_accumulator_value": -1.0}),
           ("Adagrad", {"weight_decay": -0.1}), ("Adadelta", {"rho": 1.5}),
           ("Adadelta", {"eps": -1.0})]


def trajectory(library: Any, name: str, options: dict[str, Any], start: list[np.ndarray],
               grads: list[list[Any]], state: Any = None) -> tuple[list[list[Any]], Any]:
    """Parameters after each step of ``library``'s optimizer fed the gradients ``grads``
    (None: that parameter has no gradient at that step). Two groups, the second at half the
    learning rate. ``state``: a state_dict to load first. Returns (trajectory, optimizer)."""
    if library is minigen:
        params = [nn.Parameter(minigen.tensor(a.copy())) for a in start]
        make_grad = minigen.tensor
    else:
        params = [torch.tensor(a.copy(), requires_grad=True) for a in start]
        make_grad = torch.from_numpy
    lr = options.get("lr", 1e-3)
    groups = [{"params": params[:2]}, {"params": params[2:], "lr": lr / 2}]
    opt = getattr(library.optim, name)(groups, **options)
    if state is not None:
        opt.load_state_dict(state)
    path = []
    for step in grads:
        for p, g in zip(params, step):
            p.grad = None if g is None else make_grad(g.copy())
        opt.step()
        path.append([as_numpy(p).copy() for p in params])
    return path, opt


def check_optimizers(rec: Record, rng: np.random.Generator, n: int) -> None:
    """SGD, Adam, AdamW, RMSprop, Adagrad and Adadelta: parameter trajectories over 20 steps of
    the same gradients (two parameter groups, a parameter that skips steps), the state after
    them, a state_dict round trip (10 steps, save, load into a new optimizer, 10 more: the same
    path), the constructors' defaults, and the hyperparameters both refuse."""
    check = "optimizers"
    rec.loose.update({(check, "float64"): 1e-12, (check, "float32"): 1e-5})
    for name, options in OPTIMIZERS:
        rec.case(check)
        start = [normal(rng, rec.dtype, *s) for s in ((3, 4), (5,), (2, 1, 3))]
        grads = [[normal(rng, rec.dtype, *a.shape) for a in start] for _ in range(20)]
        for step in grads[3::4]:
            step[1] = None  # parameter 1 sits these steps out
        ours, opt = trajectory(minigen, name, options, start, grads)
        theirs, peer = trajectory(torch, name, options, start, grads)
        for i, (a, b) in enumerate(zip(ours, theirs)):
            for j, (p, q) in enumerate(zip(a, b)):
                rec.close(check, f"{name}{options} step {i + 1} param {j}", p, q)
        for i, entries in peer.state_dict()["state"].items():
            mine = opt.state_dict()["state"].get(i, {})
            rec.expect(check, sorted(mine) == sorted(entries),
                       f"{name}: state keys {sorted(mine)} against {sorted(entries)}")
            for key in set(mine) & set(entries):
                rec.close(check, f"{name} state {key}", mine[key], entries[key])
        first, opt = trajectory(minigen, name, options, start, grads[:10])
        rest, _ = trajectory(minigen, name, options, [as_numpy(p) for p in first[-1]],
                             grads[10:], opt.state_dict())
        for j, p in enumerate(rest[-1]):
            rec.expect(check, np.array_equal(p, ours[-1][j]),
                       f"{name}{options}: the state_dict round trip changes the path")
        opt.zero_grad()  # PyTorch 2's default: set_to_none
        rec.expect(check, all(p.grad is None for g in opt.param_groups for p in g["params"]),
                   f"{name}: zero_grad() leaves gradients")
        defaults = getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)]).defaults
        mine = getattr(optim, name)([nn.Parameter(minigen.zeros(1))]).defaults
        for key, value in mine.items():
            rec.expect(check, defaults.get(key) == value,
                       f"{name}: default {key}={value!r}, PyTorch's {defaults.get(key)!r}")
    for name, options in REFUSED:
        rec.same_refusal(check, f"{name}{options}",
                         lambda: getattr(optim, name)([nn.Parameter(minigen.zeros(1))],
                                                      **options),
                         lambda: getattr(torch.optim, name)(
                             [torch.zeros(1, requires_grad=True)], **options))


SCHEDULERS = [  # (name, arguments): every schedule, past its turning points
    ("StepLR", {"step_size": 3, "gamma": 0.5}), ("StepLR", {"step_size": 1}),
    ("MultiStepLR", {"milestones": [2, 5, 5, 9], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.9}), ("CosineAnnealingLR", {"T_max": 10}),
    ("CosineAnnealingLR", {"T_max": 7, "eta_min": 1e-3}),
    ("LinearLR", {}), ("LinearLR", {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 8}),
    ("LambdaLR", {"lr_lambda": lambda epoch: 0.97 ** epoch / (1 + epoch % 3)}),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 25}),
    ("OneCycleLR", {"max_lr": [0.05, 0.5], "epochs": 5, "steps_per_epoch": 6,
                    "pct_start": 0.4, "anneal_strategy": "linear", "div_factor": 10.0}),
    ("OneCycleLR", {"max_lr": 0.2, "total_steps": 30, "three_phase": True,
                    "final_div_factor": 100.0}),
    ("OneCycleLR", {"max_lr": 0.1, "total_steps": 26, "cycle_momentum": False}),
    ("ReduceLROnPlateau", {}), ("ReduceLROnPlateau", {"patience": 2, "factor": 0.5}),
    ("ReduceLROnPlateau", {"mode": "max", "patience": 1, "threshold": 0.05,
                           "threshold_mode": "abs", "cooldown": 2, "min_lr": [0.003, 0.01]}),
    ("ReduceLROnPlateau", {"patience": 0, "cooldown": 1, "factor": 0.3, "min_lr": 1e-3}),
]
# the metric fed to ReduceLROnPlateau.step each epoch: falls, stalls (within the threshold),
# rises, falls again, so every schedule above reduces, waits and cools down
PLATEAU_METRICS = [1.0, 0.9, 0.9, 0.89995, 0.95, 0.8, 0.8, 0.81, 0.85, 0.7, 0.69999, 0.7,
                   0.72, 0.75, 0.6, 0.6, 0.61, 0.62, 0.5, 0.55, 0.56, 0.57, 0.58, 0.4, 0.41]


def check_schedulers(rec: Record, rng: np.random.Generator, n: int) -> None:
    """Each learning-rate schedule over 25 epochs (two parameter groups, Adam): the rate of
    each group every epoch, get_last_lr(), and a resumed schedule (state_dicts of both the
    optimizer and the scheduler, loaded after 10 epochs) going on as the uninterrupted one."""
    check = "lr_scheduler"
    rec.loose.update({(check, "float64"): 1e-13, (check, "float32"): 1e-13})

    def rates(lib: Any, name: str, options: dict[str, Any], resume_at: int | None = None):
        params = [lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)]
        groups = [{"params": [params[0]]}, {"params": [params[1]], "lr": 0.3}]
        opt = lib.optim.Adam(groups, lr=0.01)
        schedule = getattr(lib.optim.lr_scheduler, name)(opt, **options)
        seen = []
        for epoch in range(25):
            seen.append([g["lr"] for g in opt.param_groups] + schedule.get_last_lr())
            opt.step()
            schedule.step(*([PLATEAU_METRICS[epoch]] if name == "ReduceLROnPlateau" else []))
            if epoch + 1 == resume_at:
                saved = opt.state_dict(), schedule.state_dict()
                opt = lib.optim.Adam(groups, lr=0.01)
                opt.load_state_dict(saved[0])
                schedule = getattr(lib.optim.lr_scheduler, name)(opt, **options)
                schedule.load_state_dict(saved[1])
        return np.array(seen)

    for name, options in SCHEDULERS:
        rec.case(check)
        ours = rates(minigen, name, options)
        rec.close(check, f"{name}{options}", ours, rates(torch, name, options))
        rec.expect(check, np.array_equal(rates(minigen, name, options, resume_at=10), ours),
                   f"{name}{options}: resuming from the state_dicts changes the rates")


def check_clipping(rec: Record, rng: np.random.Generator, n: int) -> None:
    """nn.utils.clip_grad_norm_ (norm types 1, 2, 3, inf; gradients small and large, so it
    clips and does not) and clip_grad_value_: the returned norm and every gradient after."""
    check = "nn.utils clipping"
    for _ in range(n):
        shapes = [tuple(int(v) for v in rng.integers(1, 4, size=int(rng.integers(1, 3))))
                  for _ in range(3)]
        grads = [normal(rng, rec.dtype, *s, scale=float(rng.choice([0.01, 1.0, 100.0])))
                 for s in shapes]
        norm_type = float(rng.choice([1.0, 2.0, 3.0, np.inf]))
        max_norm = float(rng.choice([0.5, 1.0, 10.0]))
        for name, mine, theirs in (
                ("clip_grad_norm_", lambda ps: nn.utils.clip_grad_norm_(ps, max_norm, norm_type),
                 lambda ps: torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)),
                ("clip_grad_value_", lambda ps: nn.utils.clip_grad_value_(ps, 0.3),
                 lambda ps: torch.nn.utils.clip_grad_value_(ps, 0.3))):
            rec.case(check)
            ours = [nn.Parameter(minigen.zeros(*g.shape, dtype=rec.dtype)) for g in grads]
            peer = [torch.zeros(g.shape, dtype=to_torch_dtype(rec.dtype), requires_grad=True)
                    for g in grads]
            for p, q, g in zip(ours, peer, grads):
                p.grad, q.grad = minigen.tensor(g), torch.from_numpy(g.copy())
            a, b = mine(ours), theirs(peer)
            if a is not None:
                rec.close(check, f"{name} norm (p={norm_type})", a, b)
            for i, (p, q) in enumerate(zip(ours, peer)):
                rec.close(check, f"{name} grad {i}", p.grad, q.grad)


# ------------------------------------------------------------------ initialisation

INITS = [  # (function, arguments)
    ("uniform_", {"a": -2.0, "b": 3.0}), ("normal_", {"mean": 1.0, "std": 2.0}),
    ("constant_", {"val": 0.3}), ("zeros_", {}), ("ones_", {}),
    ("xavier_uniform_", {"gain": 2.0}), ("xavier_normal_", {}),
    ("kaiming_uniform_", {}), ("kaiming_uniform_", {"a": 5 ** 0.5}),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {"a": 0.2, "mode": "fan_out"}),
    ("kaiming_normal_", {"nonlinearity": "tanh"}),
]
GAINS = [("linear", None), ("conv2d", None), ("conv_transpose2d", None), ("sigmoid", None),
         ("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
         ("selu", None)]
LAYERS = [  # (layer, arguments): default initialisation of every parameter
    ("Linear", (300, 200)), ("Linear", (7, 500)), ("Conv2d", (16, 32, 3)),
    ("Conv2d", (3, 64, (5, 2))), ("ConvTranspose2d", (16, 32, 3)),
    ("ConvTranspose2d", (128, 3, 4)), ("ConvTranspose2d", (2, 64, (3, 5))),
]


def same_distribution(rec: Record, check: str, what: str, a: Any, b: Any,
                      bounded: bool = False) -> None:
    """Two samples of one distribution (sizes >= 2000): their means and their standard
    deviations within 5 standard errors of each other (a wrong fan or gain moves the standard
    deviation by a factor, tens of standard errors). ``bounded`` (a uniform distribution):
    the extremes too, which lie within a few (range / size) of the bounds."""
    a, b = as_numpy(a).ravel().astype(np.float64), as_numpy(b).ravel().astype(np.float64)
    std = max(b.std(), 1e-12)
    rec.expect(check, abs(a.mean() - b.mean()) <= 5 * std * np.sqrt(2 / b.size) + 1e-12,
               f"{what}: mean {a.mean():.4g} against {b.mean():.4g}")
    rec.expect(check, abs(a.std() - b.std()) <= 5 * std / np.sqrt(b.size) + 1e-12,
               f"{what}: std {a.std():.4g} against {b.std():.4g}")
    if bounded:
        slack = 20 * (b.max() - b.min()) / b.size + 1e-12
        rec.expect(check, abs(a.max() - b.max()) <= slack and abs(a.min() - b.min()) <= slack,
                   f"{what}: range [{a.min():.5g}, {a.max():.5g}] against "
                   f"[{b.min():.5g}, {b.max():.5g}]")


def check_init(rec: Record, rng: np.random.Generator, n: int) -> None:
    """nn.init: fan-in/fan-out of every layer's weight layout (ConvTranspose2d's
    (in, out, kH, kW) included), the gains, each init function's distribution (statistically),
    and every layer's default initialisation of weight and bias."""
    check = "nn.init"
    for shape in ((5, 3), (4, 3, 2, 2), (2, 7, 3, 5), (6, 1), (3, 4, 5), (7,)):
        rec.case(check)
        rec.same_refusal(check, f"fans of {shape}",
                         lambda: nn.init.calculate_fan_in_and_fan_out(minigen.zeros(*shape)),
                         lambda: tnn.init._calculate_fan_in_and_fan_out(torch.zeros(shape)))
        if len(shape) > 1:
            ours = nn.init.calculate_fan_in_and_fan_out(minigen.zeros(*shape))
            theirs = tnn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
            rec.expect(check, ours == theirs, f"fans of {shape}: {ours} against {theirs}")
    for name, param in GAINS:
        ours, theirs = nn.init.calculate_gain(name, param), tnn.init.calculate_gain(name, param)
        rec.close(check, f"gain {name}", ours, theirs)
    minigen.manual_seed(int(rng.integers(1 << 30)))
    for name, options in INITS:
        rec.case(check)
        shape = (64, 48, 3, 3)
        ours = getattr(nn.init, name)(minigen.zeros(*shape, dtype=rec.dtype), **options)
        theirs = getattr(tnn.init, name)(torch.zeros(shape, dtype=to_torch_dtype(rec.dtype)),
                                         **options)
        same_distribution(rec, check, f"{name}{options}", ours, theirs, "uniform" in name)
    for name, args in LAYERS:
        rec.case(check)
        # many layers at once, so that even a bias has 2000 values to compare
        count = -(-2000 // args[1])
        ours = [getattr(nn, name)(*args, dtype=rec.dtype) for _ in range(count)]
        theirs = [getattr(tnn, name)(*args, dtype=to_torch_dtype(rec.dtype))
                  for _ in range(count)]
        for key in ("weight", "bias"):
            a = np.concatenate([as_numpy(getattr(m, key)).ravel() for m in ours])
            b = np.concatenate([as_numpy(getattr(m, key)).ravel() for m in theirs])
            same_distribution(rec, check, f"{name}{args}.{key}", a, b, bounded=True)
    for name in ("BatchNorm1d", "BatchNorm2d"):
        ours, theirs = getattr(nn, name)(5), getattr(tnn, name)(5)
        for key, value in theirs.state_dict().items():
            rec.close(check, f"{name}.{key}", ours.state_dict()[key], value)


# ------------------------------------------------------------------ Module API and models


class Wrapped(tnn.Module if torch is not None else object):
    """A torch Sequential held as ``.net``, as minigen's GAN and DCGAN hold theirs."""

    def __init__(self, net: Any) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Any) -> Any:
        return self.net(x)


def model_pairs(dtype: str) -> list[tuple[str, Any, Any]]:
    """minigen's models and their PyTorch peers (benchmarks/run.py's), weights copied across,
    in ``dtype``; the GAN's discriminator in eval mode (no dropout), the rest training."""
    from run import torch_models

    minigen.manual_seed(0)
    g, d = torch_models("gan")
    dg, dd = torch_models("dcgan")
    pairs = [("GAN generator", gan.Generator(), Wrapped(g)),
             ("GAN discriminator", gan.Discriminator().eval(), Wrapped(d).eval()),
             ("DCGAN generator", dcgan.Generator(), Wrapped(dg)),
             ("DCGAN discriminator", dcgan.Discriminator(), Wrapped(dd)),
             ("VAE", VAE(), torch_models("vae"))]
    for _, mine, theirs in pairs:
        mine.to(dtype)
        theirs.to(to_torch_dtype(dtype))
        copy_into_torch(mine, theirs)
    return pairs


def check_module_api(rec: Record, rng: np.random.Generator, n: int) -> None:
    """On the three models and their peers: state_dict keys in order, parameters() order and
    shapes, named_modules, buffers, train()/eval() reaching every submodule and returning the
    module, zero_grad (set_to_none by default, zeros without), apply() (children first),
    requires_grad_, and strict load_state_dict refusing a missing or an unexpected key."""
    check = "Module API"
    for name, mine, theirs in model_pairs("float64"):
        rec.case(check)
        for what, ours, peer in (
                ("state_dict keys", list(mine.state_dict()), list(theirs.state_dict())),
                ("parameters", [(k, p.shape) for k, p in mine.named_parameters()],
                 [(k, tuple(p.shape)) for k, p in theirs.named_parameters()]),
                ("named_modules", [k for k, _ in mine.named_modules()],
                 [k for k, _ in theirs.named_modules()]),
                ("buffers", [k for k, _ in mine.named_buffers()],
                 [k for k, _ in theirs.named_buffers()])):
            rec.expect(check, ours == peer, f"{name} {what}: {ours} against PyTorch's {peer}")
        for mode in (False, True):
            rec.expect(check, mine.train(mode) is mine, f"{name}: train() returns the module")
            theirs.train(mode)
            flags = [m.training for _, m in mine.named_modules()]
            rec.expect(check, flags == [m.training for _, m in theirs.named_modules()],
                       f"{name}: train({mode}) flags {flags}")
        for p, q in zip(mine.parameters(), theirs.parameters()):
            p.grad, q.grad = minigen.ones(*p.shape, dtype="float64"), torch.ones_like(q)
        mine.zero_grad(set_to_none=False)
        theirs.zero_grad(set_to_none=False)
        rec.expect(check, all(float(abs(p.grad).sum()) == 0 for p in mine.parameters()),
                   f"{name}: zero_grad(set_to_none=False) leaves zeros")
        mine.zero_grad()
        theirs.zero_grad()
        rec.expect(check, [p.grad for p in mine.parameters()]
                   == [q.grad for q in theirs.parameters()], f"{name}: zero_grad() -> None")
        visits: tuple[list, list] = ([], [])
        mine.apply(lambda m: visits[0].append(type(m).__name__))
        theirs.apply(lambda m: visits[1].append(type(m).__name__))
        rec.expect(check, visits[0][:-1] == visits[1][:-1],  # (the last is the model itself)
                   f"{name}: apply() visits {visits[0]}, PyTorch {visits[1]}")
        rec.expect(check, mine.requires_grad_(False) is mine and not any(
            p.requires_grad for p in mine.parameters()), f"{name}: requires_grad_(False)")
        mine.requires_grad_(True)
        state = {k: v.numpy() for k, v in theirs.state_dict().items()}
        mine.load_state_dict(state)
        first = next(iter(state))
        rec.same_refusal(check, f"{name}: a missing key",
                         lambda: mine.load_state_dict({k: v for k, v in state.items()
                                                       if k != first}),
                         lambda: theirs.load_state_dict({k: torch.from_numpy(v) for k, v
                                                         in state.items() if k != first}))
        rec.same_refusal(check, f"{name}: an unexpected key",
                         lambda: mine.load_state_dict({**state, "extra": state[first]}),
                         lambda: theirs.load_state_dict(
                             {**{k: torch.from_numpy(v) for k, v in state.items()},
                              "extra": torch.from_numpy(state[first])}))


def check_hooks(rec: Record, rng: np.random.Generator, n: int) -> None:
    """Hooks on the models: a forward pre-hook that scales the input, forward hooks that
    record every Linear/Conv output and one that replaces the last layer's output, and
    gradient hooks on the output (scaled) and on an input (recorded): the recorded
    activations, the output, and every gradient as PyTorch's."""
    check = "hooks"
    for name, mine, theirs in model_pairs("float64"):
        if name == "VAE":
            continue  # (its forward draws noise)
        rec.case(check)
        x = normal(rng, "float64", *((4, 100) if "generator" in name else (4, 1, 28, 28)))
        seen: tuple[list, list] = ([], [])
        handles = []
        for i, model in enumerate((mine, theirs)):
            layers = [m for _, m in model.named_modules()
                      if type(m).__name__ in ("Linear", "Conv2d", "ConvTranspose2d")]
            handles += [m.register_forward_hook(
                lambda m, args, out, i=i: seen[i].append(out.detach())) for m in layers]
            handles.append(layers[0].register_forward_pre_hook(lambda m, args: args[0] * 0.5))
            handles.append(layers[-1].register_forward_hook(lambda m, args, out: out * 1.5))
        ours, peer = minigen.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        got = []
        for lib, t, model in ((minigen, ours, mine), (torch, peer, theirs)):
            out = model(t)
            out.register_hook(lambda g: g * 3)
            t.register_hook(lambda g: got.append(g * 1))
            out.backward(lib.ones_like(out))
        for handle in handles:
            handle.remove()
        for i, (a, b) in enumerate(zip(*seen)):
            rec.close(check, f"{name}: activation {i}", a, b)
        rec.close(check, f"{name}: input gradient seen by its hook", got[0], got[1])
        rec.close(check, f"{name}: input gradient", ours.grad, peer.grad)
        for (k, p), q in zip(mine.named_parameters(), theirs.parameters()):
            rec.close(check, f"{name}: grad of {k}", p.grad, q.grad)


def vae_pair(mine: Any, theirs: Any, eps: np.ndarray) -> tuple[Any, Any]:
    """The VAE's loss (-ELBO per image) as a function of the images, in each library, with
    the same noise ``eps`` (each VAE draws its own in forward)."""
    def ours(x: Any) -> Any:
        mu, logvar, _ = mine.encode(x)
        e = minigen.tensor(eps)
        z = mu + (logvar * 0.5).exp() * e
        return vae_loss(VAEOutput(mine.decode(z), mu, logvar, z, e), x)[0]

    def peer(x: Any) -> Any:
        h = tF.relu(theirs.fc2(tF.relu(theirs.fc1(x.view(-1, 784)))))
        mu, logvar = theirs.fc31(h), theirs.fc32(h)
        z = mu + torch.exp(0.5 * logvar) * torch.from_numpy(eps)
        logits = theirs.fc6(tF.relu(theirs.fc5(tF.relu(theirs.fc4(z)))))
        bce = tF.binary_cross_entropy_with_logits(logits, x.view(-1, 784), reduction="sum")
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return (bce + kl) / x.shape[0]

    return ours, peer


def check_models(rec: Record, rng: np.random.Generator, n: int) -> None:
    """The GAN, DCGAN and VAE with identical weights: one forward and backward (every
    parameter's gradient), one Adam step (2e-4, betas (0.5, 0.999)), the weights and BatchNorm
    running statistics after it.

    In float32, minigen's outputs and gradients are judged against PyTorch's float64 ones
    (the same weights and inputs, widened), not against PyTorch's float32 ones: an
    activation within float32 rounding of a ReLU or LeakyReLU kink can land on either side,
    and the gradient through it jumps by the slope. Measured on one draw of the DCGAN
    generator: PyTorch's float32 gradients were up to 1.8e-2 (scaled) from the float64 ones,
    minigen's 5e-7. float64 holds the two libraries to 1e-10."""
    check = "models end to end"
    for name, mine, theirs in model_pairs(rec.dtype):
        batch = 5
        wide = copy.deepcopy(theirs).to(torch.float64) if rec.dtype == "float32" else None
        if name == "VAE":
            x = rng.random((batch, 1, 28, 28)).astype(rec.dtype)
            eps = normal(rng, rec.dtype, batch, 2)
            ours, peer = vae_pair(mine, theirs, eps)
            params = [(k, p, dict(theirs.named_parameters())[k])
                      for k, p in mine.named_parameters()]
            truth = None if wide is None else (
                vae_pair(mine, wide, eps.astype(np.float64))[1],
                [dict(wide.named_parameters())[k] for k, _, _ in params])
            forward_backward(rec, check, ours, peer, [x], rng, params, label=name, truth=truth)
        else:
            x = normal(rng, rec.dtype, batch, 100) if "generator" in name else (
                rng.random((batch, 1, 28, 28)).astype(rec.dtype) * 2 - 1)
            compare_module(rec, check, mine, theirs, x, rng, label=name, wide=wide)
        adam_step(rec, check, name, mine, theirs)


def adam_step(rec: Record, check: str, name: str, mine: Any, theirs: Any) -> None:
    """One Adam step on each model's own gradients, then every parameter and buffer compared.

    Adam's first step moves each weight by lr * g / (|g| + eps): a gradient that is rounding
    noise (a conv bias just before a BatchNorm, whose exact gradient is 0) moves by up to
    lr * noise / eps, and two libraries' noises differ. So each weight may differ by
    min(2 lr, lr |g_minigen - g_torch| / eps) more than the tolerance: no more than its two
    gradients' own difference explains."""
    lr, eps = 2e-4, 1e-8
    peer_params = dict(theirs.named_parameters())
    gaps = {k: np.minimum(2 * lr, lr * np.abs(as_numpy(p.grad) - as_numpy(peer_params[k].grad))
                          / eps) for k, p in mine.named_parameters()}
    optim.Adam(mine.parameters(), lr=lr, betas=(0.5, 0.999), eps=eps).step()
    torch.optim.Adam(theirs.parameters(), lr=lr, betas=(0.5, 0.999), eps=eps).step()
    peer_state = theirs.state_dict()
    for key, value in mine.state_dict().items():
        a, b = as_numpy(value).astype(np.float64), as_numpy(peer_state[key]).astype(np.float64)
        allowed = rec.tolerance(check) * max(1.0, float(np.abs(b).max())) + gaps.get(key, 0.0)
        rec.expect(check, bool(np.all(np.abs(a - b) <= allowed)),
                   f"{name} {key} after a step: {np.abs(a - b).max():.2e} apart")

def check_averaged_model(rec: Record, rng: np.random.Generator, n: int) -> None:
    """optim.swa_utils.AveragedModel (EMA through avg_fn and multi_avg_fn, the SWA running
    mean; buffers averaged or copied) beside PyTorch's, fed the same sequence of weights and
    BatchNorm statistics: every entry of the state_dict after each update. One deliberate
    difference: with use_buffers, BatchNorm's integer step count is copied from the model
    (an average of a count means nothing); PyTorch averages it in floating point and
    truncates. That entry is compared with the model's own."""
    from torch.optim import swa_utils as theirs

    from minigen.optim import swa_utils as ours

    check = "AveragedModel"
    for _ in range(n):
        decay = float(rng.uniform(0.5, 0.999))
        kind = str(rng.choice(["ema multi", "ema", "swa"]))
        use_buffers = bool(rng.integers(2))
        mine = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).to(rec.dtype)
        peer = tnn.Sequential(tnn.Linear(3, 4), tnn.BatchNorm1d(4), tnn.Linear(4, 2)).to(
            to_torch_dtype(rec.dtype))
        pick = {"ema multi": ("multi_avg_fn", "get_ema_multi_avg_fn", (decay,)),
                "ema": ("avg_fn", "get_ema_avg_fn", (decay,)), "swa": (None, None, ())}[kind]
        fns = [{pick[0]: getattr(lib, pick[1])(*pick[2])} if pick[0] else {}
               for lib in (ours, theirs)]
        a = ours.AveragedModel(mine, use_buffers=use_buffers, **fns[0])
        b = theirs.AveragedModel(peer, use_buffers=use_buffers, **fns[1])
        for step in range(int(rng.integers(1, 5))):
            rec.case(check)
            for p in mine.parameters():
                p.data = minigen.tensor(normal(rng, rec.dtype, *p.shape)).data
            copy_into_torch(mine, peer)
            x = normal(rng, rec.dtype, 5, 3)
            mine(minigen.tensor(x)), peer(torch.from_numpy(x))  # BatchNorm statistics move
            a.update_parameters(mine)
            b.update_parameters(peer)
            theirs_state = b.state_dict()
            for key, value in a.state_dict().items():
                if use_buffers and key.endswith("num_batches_tracked"):  # deliberate: see the
                    rec.close(check, key, value, peer.state_dict()[key[7:]])  # docstring
                    continue
                rec.close(check, f"{kind}, use_buffers={use_buffers}, update {step}: {key}",
                          value, theirs_state[key])


CHECKS = [check_optimizers, check_schedulers, check_init, check_models, check_clipping,
          check_averaged_model]
FLOAT64_ONLY = [check_module_api, check_hooks]
