"""minigen.optim.lr_scheduler: each schedule's rates against its formula written out here,
per parameter group, and a schedule that resumes from its state_dict continues exactly."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen
from minigen import nn, optim
from minigen.optim import lr_scheduler as L

FORMULAS = {  # name: (make the scheduler, the rate at epoch t from the initial rate)
    "StepLR": (lambda o: L.StepLR(o, step_size=3, gamma=0.5), lambda lr, t: lr * 0.5 ** (t // 3)),
    "MultiStepLR": (lambda o: L.MultiStepLR(o, [4, 2, 7], gamma=0.1),
                    lambda lr, t: lr * 0.1 ** sum(t >= m for m in (2, 4, 7))),
    "ExponentialLR": (lambda o: L.ExponentialLR(o, gamma=0.9), lambda lr, t: lr * 0.9 ** t),
    "CosineAnnealingLR": (lambda o: L.CosineAnnealingLR(o, T_max=8, eta_min=1e-4),
                          lambda lr, t: 1e-4 + (lr - 1e-4) * (1 + math.cos(math.pi * t / 8)) / 2),
    "LinearLR": (lambda o: L.LinearLR(o, start_factor=0.2, total_iters=4),
                 lambda lr, t: lr * (0.2 + 0.8 * min(t, 4) / 4)),
    "LambdaLR": (lambda o: L.LambdaLR(o, lambda t: 1 / (t + 1)), lambda lr, t: lr / (t + 1)),
}


def _optimizer() -> optim.Optimizer:
    a, b = nn.Linear(2, 2), nn.Linear(2, 1)
    return optim.SGD([{"params": a.parameters()}, {"params": b.parameters(), "lr": 0.5}],
                     lr=0.1, momentum=0.9)


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_rates_follow_the_formula_in_every_group(name):
    make, formula = FORMULAS[name]
    opt = _optimizer()
    scheduler = make(opt)
    for t in range(12):
        rates = [group["lr"] for group in opt.param_groups]
        assert rates == pytest.approx([formula(0.1, t), formula(0.5, t)], rel=1e-12), t
        assert scheduler.get_last_lr() == rates
        opt.step()
        scheduler.step()
    assert [group["initial_lr"] for group in opt.param_groups] == [0.1, 0.5]


@pytest.mark.parametrize("name", sorted(FORMULAS))
@given(stop=st.integers(0, 10))
def test_a_resumed_schedule_continues_exactly(name, stop):
    """Save the optimizer and the scheduler after ``stop`` epochs, load both into new ones
    (last_epoch given, as PyTorch wants), and the rates go on as if never interrupted."""
    make, _ = FORMULAS[name]
    opt = _optimizer()
    scheduler = make(opt)
    for _ in range(stop):
        scheduler.step()
    saved_opt, saved = opt.state_dict(), scheduler.state_dict()
    expected = []
    for _ in range(5):
        scheduler.step()
        expected.append(scheduler.get_last_lr())
    opt2 = _optimizer()
    opt2.load_state_dict(saved_opt)
    resumed = make(opt2)
    resumed.load_state_dict(saved)
    assert [group["lr"] for group in opt2.param_groups] == saved["_last_lr"]
    got = []
    for _ in range(5):
        resumed.step()
        got.append(resumed.get_last_lr())
    assert got == expected


def test_it_changes_the_optimizer_step():
    """The rate set is the one the next optimizer step uses."""
    p = minigen.tensor([1.0], requires_grad=True)
    opt = optim.SGD([p], lr=1.0)
    scheduler = L.StepLR(opt, step_size=1, gamma=0.5)
    for expected in (0.0, -0.5):  # steps of 1 then 0.5 along -grad
        p.grad = minigen.tensor([1.0])
        opt.step()
        scheduler.step()
        assert p.item() == pytest.approx(expected)


def test_bad_arguments_are_named():
    opt = _optimizer()
    with pytest.raises(TypeError, match="schedules a minigen optimizer"):
        L.StepLR(object(), 2)
    with pytest.raises(ValueError, match="step_size must be a positive int"):
        L.StepLR(opt, 0)
    with pytest.raises(ValueError, match="T_max must be a positive int"):
        L.CosineAnnealingLR(opt, T_max=2.5)
    with pytest.raises(ValueError, match="one per parameter group"):
        L.LambdaLR(opt, [lambda t: 1.0])
    with pytest.raises(ValueError, match="start_factor"):
        L.LinearLR(opt, start_factor=0.0)
    with pytest.raises(KeyError, match="initial_lr"):
        L.StepLR(_optimizer(), 2, last_epoch=3)
    assert repr(L.StepLR(opt, 2)).startswith("StepLR(")
