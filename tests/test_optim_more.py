"""RMSprop, Adagrad and Adadelta against their update rules written out in NumPy (float64, on
a small quadratic), state_dict round trips mid-run, ReduceLROnPlateau and OneCycleLR against closed
forms, and the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigen
from minigen import nn, optim
from minigen.optim import lr_scheduler

STEPS = 12
SCALE = np.array([0.5, 1.0, 2.0, 4.0])  # the quadratic's curvature per coordinate
TARGET = np.array([1.0, -2.0, 0.5, 3.0])
START = np.array([0.3, 0.7, -1.2, 2.0])


def _quadratic_grad(x: np.ndarray) -> np.ndarray:
    """Gradient of 0.5 * sum(SCALE * (x - TARGET)^2)."""
    return SCALE * (x - TARGET)


def _run(make_opt, steps: int, start: np.ndarray = START, state=None):
    """minigen's path on the quadratic (gradients by autograd, float64)."""
    p = nn.Parameter(minigen.tensor(start.copy(), dtype=minigen.float64))
    opt = make_opt([p])
    if state is not None:
        opt.load_state_dict(state)
    path = []
    for _ in range(steps):
        opt.zero_grad()
        loss = (0.5 * minigen.tensor(SCALE) * (p - minigen.tensor(TARGET)) ** 2).sum()
        loss.backward()
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path), opt


def rmsprop_reference(steps, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                      centered=False):
    x = START.copy()
    v, a, b = np.zeros_like(x), np.zeros_like(x), np.zeros_like(x)
    path = []
    for _ in range(steps):
        g = _quadratic_grad(x) + weight_decay * x
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            a = alpha * a + (1 - alpha) * g
            d = np.sqrt(v - a * a) + eps
        else:
            d = np.sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / d
            x = x - lr * b
        else:
            x = x - lr * g / d
        path.append(x.copy())
    return np.array(path)


def adagrad_reference(steps, lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                      initial_accumulator_value=0.0, eps=1e-10):
    x = START.copy()
    s = np.full_like(x, initial_accumulator_value)
    path = []
    for t in range(1, steps + 1):
        g = _quadratic_grad(x) + weight_decay * x
        s = s + g * g
        x = x - lr / (1 + (t - 1) * lr_decay) * g / (np.sqrt(s) + eps)
        path.append(x.copy())
    return np.array(path)


def adadelta_reference(steps, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
    x = START.copy()
    v, u = np.zeros_like(x), np.zeros_like(x)
    path = []
    for _ in range(steps):
        g = _quadratic_grad(x) + weight_decay * x
        v = rho * v + (1 - rho) * g * g
        d = np.sqrt(u + eps) / np.sqrt(v + eps) * g
        u = rho * u + (1 - rho) * d * d
        x = x - lr * d
        path.append(x.copy())
    return np.array(path)


RMSPROP_OPTIONS = [
    {}, {"lr": 0.05}, {"lr": 0.02, "alpha": 0.9, "eps": 1e-3},
    {"lr": 0.02, "weight_decay": 0.1}, {"lr": 0.01, "momentum": 0.9},
    {"lr": 0.01, "centered": True}, {"lr": 0.01, "alpha": 0.8, "centered": True},
    {"lr": 0.005, "momentum": 0.5, "centered": True, "weight_decay": 0.05, "eps": 1e-6},
]
ADAGRAD_OPTIONS = [
    {}, {"lr": 0.5}, {"lr": 0.3, "lr_decay": 0.1}, {"lr": 0.3, "weight_decay": 0.2},
    {"lr": 0.3, "initial_accumulator_value": 2.0}, {"lr": 0.3, "eps": 0.5},
    {"lr": 0.2, "lr_decay": 0.05, "weight_decay": 0.1, "initial_accumulator_value": 0.1,
     "eps": 1e-6},
]
ADADELTA_OPTIONS = [
    {}, {"lr": 0.5}, {"rho": 0.5}, {"eps": 1e-3}, {"weight_decay": 0.2},
    {"lr": 2.0, "rho": 0.95, "eps": 1e-4, "weight_decay": 0.05},
]
CASES = ([(optim.RMSprop, o, rmsprop_reference) for o in RMSPROP_OPTIONS]
         + [(optim.Adagrad, o, adagrad_reference) for o in ADAGRAD_OPTIONS]
         + [(optim.Adadelta, o, adadelta_reference) for o in ADADELTA_OPTIONS])


@pytest.mark.parametrize("cls, options, reference", CASES)
def test_path_matches_the_rule_written_out(cls, options, reference) -> None:
    path, opt = _run(lambda ps: cls(ps, **options), STEPS)
    np.testing.assert_allclose(path, reference(STEPS, **options), rtol=1e-12, atol=1e-14)
    assert opt.state[id(opt.param_groups[0]["params"][0])]["step"] == STEPS


@pytest.mark.parametrize("cls, options, reference", CASES)
def test_state_dict_round_trip_mid_run(cls, options, reference) -> None:
    straight, _ = _run(lambda ps: cls(ps, **options), STEPS)
    first, opt = _run(lambda ps: cls(ps, **options), 5)
    saved = opt.state_dict()
    rest, _ = _run(lambda ps: cls(ps, **options), STEPS - 5, start=first[-1], state=saved)
    np.testing.assert_array_equal(np.concatenate([first, rest]), straight)


def test_state_keys_and_gradient_untouched() -> None:
    p = nn.Parameter(minigen.tensor([1.0, 2.0]))
    for opt, keys in ((optim.RMSprop([p], momentum=0.5, centered=True),
                       {"step", "square_avg", "momentum_buffer", "grad_avg"}),
                      (optim.RMSprop([p]), {"step", "square_avg"}),
                      (optim.Adagrad([p]), {"step", "sum"}),
                      (optim.Adadelta([p]), {"step", "square_avg", "acc_delta"})):
        grad = minigen.tensor([0.5, -1.0])
        p.grad = grad
        opt.step()
        np.testing.assert_array_equal(grad.numpy(), [0.5, -1.0])
        assert set(opt.state_dict()["state"][0]) == keys


def test_adagrad_state_exists_from_construction() -> None:
    p = nn.Parameter(minigen.zeros(3))
    opt = optim.Adagrad([p], initial_accumulator_value=0.25)
    state = opt.state_dict()["state"][0]
    assert state["step"] == 0
    np.testing.assert_array_equal(state["sum"].numpy(), [0.25] * 3)


def test_param_groups_and_skipped_parameters() -> None:
    a, b = nn.Parameter(minigen.ones(2)), nn.Parameter(minigen.ones(2))
    opt = optim.RMSprop([{"params": [a]}, {"params": [b], "lr": 0.1}], lr=0.01)
    a.grad = minigen.ones(2)
    opt.step()  # b has no gradient: untouched, no state
    np.testing.assert_allclose(a.detach().numpy(), 1 - 0.01 / (0.1 + 1e-8), rtol=1e-6)
    np.testing.assert_array_equal(b.detach().numpy(), [1.0, 1.0])
    assert id(b) not in opt.state or not opt.state[id(b)]
    assert opt.param_groups[1]["lr"] == 0.1 and opt.param_groups[1]["alpha"] == 0.99


@pytest.mark.parametrize("cls, options", [
    (optim.RMSprop, {"lr": -1.0}), (optim.RMSprop, {"alpha": -0.1}),
    (optim.RMSprop, {"eps": -1.0}), (optim.RMSprop, {"momentum": -0.5}),
    (optim.RMSprop, {"weight_decay": -0.1}), (optim.Adagrad, {"lr": -1.0}),
    (optim.Adagrad, {"lr_decay": -0.1}), (optim.Adagrad, {"weight_decay": -1.0}),
    (optim.Adagrad, {"initial_accumulator_value": -1.0}), (optim.Adagrad, {"eps": -1.0}),
    (optim.Adadelta, {"lr": -1.0}), (optim.Adadelta, {"rho": 1.5}),
    (optim.Adadelta, {"eps": -1.0}), (optim.Adadelta, {"weight_decay": -0.1}),
])
def test_bad_hyperparameters_are_refused(cls, options) -> None:
    name = next(iter(options))
    with pytest.raises(ValueError, match=name):
        cls([nn.Parameter(minigen.zeros(1))], **options)


def test_defaults_are_pytorchs() -> None:
    p = [nn.Parameter(minigen.zeros(1))]
    assert optim.RMSprop(p).defaults == dict(lr=1e-2, momentum=0, alpha=0.99, eps=1e-8,
                                             centered=False, weight_decay=0)
    assert optim.Adagrad(p).defaults == dict(lr=1e-2, lr_decay=0, eps=1e-10, weight_decay=0,
                                             initial_accumulator_value=0)
    assert optim.Adadelta(p).defaults == dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0)


# ------------------------------------------------------------------ schedulers

def _optimizer(lr: float = 0.1, cls=optim.SGD, **kwargs):
    return cls([nn.Parameter(minigen.zeros(2))], lr=lr, **kwargs)


def test_reduce_on_plateau_min_rel() -> None:
    opt = _optimizer(1.0)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=2, factor=0.5)
    # 1.0 is the best; 0.99995 is within the relative threshold (1e-4): not an improvement
    metrics = [1.0, 0.99995, 1.2, 1.1, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
    seen = []
    for m in metrics:
        sched.step(m)
        seen.append(opt.param_groups[0]["lr"])
    # bad epochs: 2, 3, 4 -> reduce at the 4th; best 0.5 at the 5th; bad 6..8 -> reduce at
    # the 8th; 9..11 -> reduce at the 11th
    assert seen == [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.125]
    assert sched.get_last_lr() == [0.125]


def test_reduce_on_plateau_max_abs_cooldown_min_lr() -> None:
    opt = optim.SGD([{"params": [nn.Parameter(minigen.zeros(1))]},
                     {"params": [nn.Parameter(minigen.zeros(1))], "lr": 1.0}], lr=0.1)
    sched = lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=0, threshold=0.1,
                                           threshold_mode="abs", cooldown=1,
                                           min_lr=[0.005, 0.5])
    seen = []
    for m in [1.0, 1.05, 1.2, 1.2, 1.2, 1.2, 1.2]:
        sched.step(m)
        seen.append([g["lr"] for g in opt.param_groups])
    # 1.05 is not above 1.0 + 0.1: reduce (cooldown 1); 1.2 improves; then bad, reduce,
    # cooldown epoch ignored, reduce (group 2 held at its min_lr)...
    expected = [[0.1, 1.0], [0.01, 0.5], [0.01, 0.5], [0.005, 0.5], [0.005, 0.5],
                [0.005, 0.5], [0.005, 0.5]]
    np.testing.assert_allclose(seen, expected)


def test_reduce_on_plateau_eps_skips_tiny_reductions() -> None:
    opt = _optimizer(1e-9)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    sched.step(1.0)
    sched.step(2.0)
    assert opt.param_groups[0]["lr"] == 1e-9  # 1e-9 - 1e-10 < eps = 1e-8


def test_reduce_on_plateau_state_dict_resume() -> None:
    metrics = [1.0, 0.9, 0.95, 0.97, 0.99, 0.7, 0.8, 0.9, 0.9, 0.9]

    def run(resume_at=None):
        opt = _optimizer(1.0)
        sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, cooldown=1)
        seen = []
        for i, m in enumerate(metrics):
            sched.step(m)
            seen.append(opt.param_groups[0]["lr"])
            if i + 1 == resume_at:
                saved = opt.state_dict(), sched.state_dict()
                opt = _optimizer(1.0)
                opt.load_state_dict(saved[0])
                sched = lr_scheduler.ReduceLROnPlateau(opt, patience=1, cooldown=1)
                sched.load_state_dict(saved[1])
        return seen

    assert run(resume_at=4) == run()
    assert run() != [1.0] * len(metrics)


def test_reduce_on_plateau_errors() -> None:
    opt = _optimizer()
    for kwargs, match in (({"factor": 1.0}, "factor"), ({"mode": "lowest"}, "mode"),
                          ({"threshold_mode": "pct"}, "threshold_mode"),
                          ({"min_lr": [0.1, 0.2]}, "min_lr")):
        with pytest.raises(ValueError, match=match):
            lr_scheduler.ReduceLROnPlateau(opt, **kwargs)


def _one_cycle_closed_form(t, total, max_lr, pct=0.3, strategy="cos", div=25.0,
                           final_div=1e4, three_phase=False):
    initial, top = max_lr / div, max_lr
    low = initial / final_div
    up = pct * total - 1
    if three_phase:
        phases = [(up, initial, top), (2 * up, top, initial), (total - 1, initial, low)]
    else:
        phases = [(up, initial, top), (total - 1, top, low)]
    start = 0.0
    for i, (end, a, b) in enumerate(phases):
        if t <= end or i == len(phases) - 1:
            f = (t - start) / (end - start)
            if strategy == "cos":
                return b + (a - b) * (1 + math.cos(math.pi * f)) / 2
            return a + (b - a) * f
        start = end
    raise AssertionError


@pytest.mark.parametrize("kwargs", [
    dict(max_lr=0.1, total_steps=20),
    dict(max_lr=1.0, epochs=4, steps_per_epoch=5, pct_start=0.25, anneal_strategy="linear"),
    dict(max_lr=0.5, total_steps=30, three_phase=True, div_factor=10.0, final_div_factor=50.0),
    dict(max_lr=0.5, total_steps=31, three_phase=True, anneal_strategy="linear",
         pct_start=0.4),
])
def test_one_cycle_matches_closed_form(kwargs) -> None:
    opt = _optimizer(cls=optim.SGD, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, **kwargs)
    total = kwargs.get("total_steps") or kwargs["epochs"] * kwargs["steps_per_epoch"]
    form = dict(max_lr=kwargs["max_lr"], pct=kwargs.get("pct_start", 0.3),
                strategy=kwargs.get("anneal_strategy", "cos"),
                div=kwargs.get("div_factor", 25.0),
                final_div=kwargs.get("final_div_factor", 1e4),
                three_phase=kwargs.get("three_phase", False))
    for t in range(total):
        assert opt.param_groups[0]["lr"] == pytest.approx(
            _one_cycle_closed_form(t, total, **form), rel=1e-12, abs=1e-15)
        opt.step()
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(
        _one_cycle_closed_form(total, total, **form), rel=1e-12, abs=1e-15)
    with pytest.raises(ValueError, match="total_steps"):
        sched.step()  # one past the end, as PyTorch refuses


def test_one_cycle_cycles_momentum_inversely() -> None:
    sgd = _optimizer(cls=optim.SGD, momentum=0.9)
    adam = _optimizer(cls=optim.Adam, betas=(0.9, 0.999))
    s1 = lr_scheduler.OneCycleLR(sgd, max_lr=0.1, total_steps=10, pct_start=0.5,
                                 anneal_strategy="linear")
    s2 = lr_scheduler.OneCycleLR(adam, max_lr=0.1, total_steps=10, pct_start=0.5,
                                 anneal_strategy="linear", base_momentum=0.8)
    assert sgd.param_groups[0]["momentum"] == pytest.approx(0.95)
    assert adam.param_groups[0]["betas"] == (pytest.approx(0.95), 0.999)
    for _ in range(4):  # the peak: step 4 = pct_start * 10 - 1
        s1.step()
        s2.step()
    assert sgd.param_groups[0]["lr"] == pytest.approx(0.1)
    assert sgd.param_groups[0]["momentum"] == pytest.approx(0.85)
    assert adam.param_groups[0]["betas"][0] == pytest.approx(0.8)
    plain = _optimizer(cls=optim.Adagrad)
    with pytest.raises(ValueError, match="cycle_momentum"):
        lr_scheduler.OneCycleLR(plain, max_lr=0.1, total_steps=10)
    lr_scheduler.OneCycleLR(plain, max_lr=0.1, total_steps=10, cycle_momentum=False)
    assert "momentum" not in plain.param_groups[0]


def test_one_cycle_state_dict_resume_and_groups() -> None:
    def make():
        opt = optim.Adam([{"params": [nn.Parameter(minigen.zeros(1))]},
                          {"params": [nn.Parameter(minigen.zeros(1))]}])
        return opt, lr_scheduler.OneCycleLR(opt, max_lr=[0.1, 1.0], total_steps=15)

    def run(resume_at=None):
        opt, sched = make()
        seen = []
        for i in range(15):
            seen.append([g["lr"] for g in opt.param_groups] + [opt.param_groups[0]["betas"]])
            sched.step()
            if i + 1 == resume_at:
                saved = opt.state_dict(), sched.state_dict()
                opt, sched = make()
                opt.load_state_dict(saved[0])
                sched.load_state_dict(saved[1])
        return seen

    straight = run()
    assert run(resume_at=6) == straight
    assert straight[0][1] == pytest.approx(10 * straight[0][0])


def test_one_cycle_errors() -> None:
    opt = _optimizer(cls=optim.SGD, momentum=0.9)
    for kwargs, match in (({}, "total_steps"), ({"total_steps": 0}, "total_steps"),
                          ({"epochs": 2}, "total_steps"),
                          ({"epochs": 2, "steps_per_epoch": -1}, "steps_per_epoch"),
                          ({"total_steps": 10, "pct_start": 1.5}, "pct_start"),
                          ({"total_steps": 10, "anneal_strategy": "exp"}, "anneal_strategy"),
                          ({"total_steps": 10, "max_lr": [0.1, 0.2]}, "max_lr")):
        with pytest.raises(ValueError, match=match):
            lr_scheduler.OneCycleLR(opt, **{"max_lr": 0.1, **kwargs})
