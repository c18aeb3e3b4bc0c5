"""minigen.optim: SGD, Adam and AdamW against their update rules written out in NumPy,
state_dict round trips that continue bit for bit, and the errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigen
from minigen import nn, optim

STEPS = 5


def _grads(rng: np.random.Generator, shapes, steps: int) -> list[list[np.ndarray]]:
    """A fixed sequence of gradients (float32), one list per step."""
    return [[rng.standard_normal(s).astype(np.float32) for s in shapes] for _ in range(steps)]


def _run(opt_factory, init: list[np.ndarray], grads, device: str = "cpu"):
    """Apply ``grads`` step by step with a minigen optimizer; return the final values."""
    params = [nn.Parameter(minigen.tensor(v.copy(), device=device)) for v in init]
    opt = opt_factory(params)
    for step in grads:
        for p, g in zip(params, step):
            p.grad = minigen.tensor(g, device=device)
        opt.step()
    return [p.detach().numpy() for p in params], params, opt


def sgd_reference(init, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0,
                  nesterov=False):
    """PyTorch's SGD, written out."""
    params = [v.copy() for v in init]
    bufs = [None] * len(params)
    for step in grads:
        for i, g in enumerate(step):
            g = g + weight_decay * params[i] if weight_decay else g
            if momentum:
                if bufs[i] is None:
                    bufs[i] = g.copy()
                else:
                    bufs[i] = momentum * bufs[i] + (1 - dampening) * g
                g = g + momentum * bufs[i] if nesterov else bufs[i]
            params[i] = params[i] - lr * g
    return params


def adam_reference(init, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                   decoupled=False, amsgrad=False):
    """PyTorch's Adam / AdamW algorithm (bias-corrected moments), written out; with
    ``amsgrad`` the update divides by the largest second moment so far."""
    b1, b2 = betas
    params = [v.copy() for v in init]
    m = [np.zeros_like(v) for v in init]
    v = [np.zeros_like(x) for x in init]
    v_max = [np.zeros_like(x) for x in init]
    for t, step in enumerate(grads, start=1):
        for i, g in enumerate(step):
            if weight_decay and decoupled:
                params[i] = params[i] * (1 - lr * weight_decay)
            elif weight_decay:
                g = g + weight_decay * params[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            v_max[i] = np.maximum(v_max[i], v[i])
            m_hat = m[i] / (1 - b1**t)
            v_hat = (v_max[i] if amsgrad else v[i]) / (1 - b2**t)
            params[i] = params[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return params


SHAPES = [(3, 4), (4,), ()]


@pytest.fixture
def problem():
    rng = np.random.default_rng(3)
    init = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    return init, _grads(rng, SHAPES, STEPS)


@pytest.mark.parametrize("kwargs", [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.1, momentum=0.9, nesterov=True),
    dict(lr=0.1, momentum=0.5, weight_decay=0.01, nesterov=True),
    dict(lr=0.1, weight_decay=0.1),
])
def test_sgd_matches_hand_written_rule(problem, kwargs) -> None:
    init, grads = problem
    got, params, _ = _run(lambda ps: optim.SGD(ps, **kwargs), init, grads)
    want = sgd_reference(init, grads, **kwargs)
    for g, w in zip(got, want):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cls, kwargs, decoupled", [
    (optim.Adam, dict(lr=0.01), False),
    (optim.Adam, dict(lr=0.01, betas=(0.5, 0.999)), False),
    (optim.Adam, dict(lr=0.01, weight_decay=0.1, eps=1e-6), False),
    (optim.AdamW, dict(lr=0.01), True),  # its default weight_decay is 0.01
    (optim.AdamW, dict(lr=0.01, weight_decay=0.3, betas=(0.8, 0.99)), True),
    (optim.Adam, dict(lr=0.01, amsgrad=True), False),
    (optim.Adam, dict(lr=0.01, weight_decay=0.1, betas=(0.5, 0.9), amsgrad=True), False),
    (optim.AdamW, dict(lr=0.01, amsgrad=True), True),
])
def test_adam_matches_hand_written_rule(problem, cls, kwargs, decoupled) -> None:
    init, grads = problem
    got, _, opt = _run(lambda ps: cls(ps, **kwargs), init, grads)
    ref_kwargs = dict(kwargs)
    ref_kwargs.setdefault("weight_decay", opt.param_groups[0]["weight_decay"])
    want = adam_reference(init, grads, decoupled=decoupled, **ref_kwargs)
    for g, w in zip(got, want):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    assert opt.state[id(opt.param_groups[0]["params"][0])]["step"] == STEPS


def test_amsgrad_divides_by_the_largest_second_moment() -> None:
    """Gradients 1 then 0 (beta2 = 0.5): v falls from 0.5 to 0.25, but AMSGrad keeps 0.5, so
    its second step is smaller than plain Adam's, by sqrt(2) before eps."""
    moves = {}
    for amsgrad in (False, True):
        p = nn.Parameter(minigen.tensor([0.0], dtype="float64"))
        opt = optim.Adam([p], lr=1.0, betas=(0.5, 0.5), eps=0.0, amsgrad=amsgrad)
        for g in (1.0, 0.0):
            before = p.item()
            p.grad = minigen.tensor([g], dtype="float64")
            opt.step()
        moves[amsgrad] = before - p.item()
    # step 2: m = 0.25, so m_hat = 0.25 / 0.75; v_hat = 0.25 / 0.75 (Adam), 0.5 / 0.75 (AMSGrad)
    assert moves[False] == pytest.approx((0.25 / 0.75) / (0.25 / 0.75) ** 0.5)
    assert moves[True] == pytest.approx((0.25 / 0.75) / (0.5 / 0.75) ** 0.5)
    assert "max_exp_avg_sq" in opt.state_dict()["state"][0]


def test_first_adam_step_moves_by_lr() -> None:
    """With bias correction, the first step is lr * g / (|g| + eps): about lr per element."""
    p = nn.Parameter(minigen.tensor([1.0, -2.0, 3.0]))
    p.grad = minigen.tensor([0.5, -10.0, 1e-3])
    optim.Adam([p], lr=0.1).step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9, -1.9, 2.9], rtol=1e-5)


def test_adam_with_lr_zero_moves_its_moments_not_its_weights() -> None:
    p = nn.Parameter(minigen.tensor([1.0, -2.0]))
    p.grad = minigen.tensor([0.5, -1.0])
    opt = optim.Adam([p], lr=0.0)
    opt.step()
    np.testing.assert_array_equal(p.detach().numpy(), [1.0, -2.0])
    np.testing.assert_allclose(opt.state[id(p)]["exp_avg"], [0.05, -0.1], rtol=1e-6)


def test_optimizers_run_on_device(device: str, problem) -> None:
    init, grads = problem
    for factory in (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
                    lambda ps: optim.Adam(ps, lr=0.01, weight_decay=0.1)):
        on_cpu, _, _ = _run(factory, init, grads)
        got, params, _ = _run(factory, init, grads, device=device)
        assert all(p.device.type == device and p.dtype == minigen.float32 for p in params)
        for g, w in zip(got, on_cpu):
            np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)


def test_grad_is_not_modified_and_none_is_skipped() -> None:
    a, b = nn.Parameter(minigen.ones(3)), nn.Parameter(minigen.ones(2))
    grad = minigen.tensor([1.0, 2.0, 3.0])
    a.grad = grad
    before = grad.numpy().copy()
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9, weight_decay=0.5)
    opt.step()
    opt.step()
    np.testing.assert_array_equal(grad.numpy(), before)
    np.testing.assert_array_equal(b.detach().numpy(), np.ones(2))
    assert id(b) not in opt.state and "momentum_buffer" in opt.state[id(a)]


def _train(model, opt, steps: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(steps):
        x = minigen.tensor(rng.standard_normal((8, 4)).astype(np.float32))
        opt.zero_grad()
        loss = ((model(x) - 1.0) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("make_opt", [
    lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    lambda ps: optim.Adam(ps, lr=0.01, betas=(0.5, 0.999)),
    lambda ps: optim.AdamW(ps, lr=0.01),
])
def test_state_dict_round_trip_continues_bit_for_bit(make_opt) -> None:
    def make_model():
        minigen.manual_seed(1)
        return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 1))

    model = make_model()
    opt = make_opt(model.parameters())
    _train(model, opt, 3, seed=10)
    model_sd, opt_sd = model.state_dict(), opt.state_dict()
    resumed = make_model()
    resumed.load_state_dict(model_sd)
    resumed_opt = make_opt(resumed.parameters())
    resumed_opt.load_state_dict(opt_sd)
    straight = _train(model, opt, 4, seed=20)
    again = _train(resumed, resumed_opt, 4, seed=20)
    assert straight == again
    for a, b in zip(model.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_load_state_dict_copies_and_restores_hyperparameters() -> None:
    p = nn.Parameter(minigen.ones(3))
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = minigen.ones(3)
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"] == [dict(lr=0.1, momentum=0.9, dampening=0.0, weight_decay=0.0,
                                       nesterov=False, params=[0])]
    q = nn.Parameter(minigen.ones(3))
    other = optim.SGD([q], lr=0.5, momentum=0.9)
    other.load_state_dict(sd)
    assert other.param_groups[0]["lr"] == 0.1
    assert other.state[id(q)]["momentum_buffer"] is not opt.state[id(p)]["momentum_buffer"]


def test_load_state_dict_errors() -> None:
    big = nn.Linear(4, 3)
    opt = optim.Adam(big.parameters())
    big(minigen.randn(2, 4)).sum().backward()
    opt.step()
    small = nn.Linear(4, 3, bias=False)
    with pytest.raises(ValueError, match="group 0 has 2 parameters in the saved state, 1 here"):
        optim.Adam(small.parameters()).load_state_dict(opt.state_dict())
    swapped = [nn.Parameter(minigen.zeros(3)), nn.Parameter(minigen.zeros(3, 4))]
    with pytest.raises(minigen.ShapeError, match="exp_avg"):
        optim.Adam(swapped).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="param_groups"):
        optim.Adam(big.parameters()).load_state_dict({"state": {}})


def test_constructor_errors() -> None:
    p = nn.Parameter(minigen.ones(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam(nn.ReLU().parameters())
    with pytest.raises(ValueError, match="appears twice"):
        optim.SGD([p, nn.Parameter(minigen.ones(2)), p], lr=0.1)
    with pytest.raises(ValueError, match="appears twice"):
        optim.Adam([{"params": [p]}, {"params": [p], "lr": 0.1}])
    with pytest.raises(TypeError, match="single tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="parameter 0 is a float"):
        optim.SGD([1.0], lr=0.1)
    with pytest.raises(ValueError, match="not a leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="lr"):
        optim.Adam([p], lr=-1.0)


def test_param_groups_and_zero_grad() -> None:
    a, b = nn.Parameter(minigen.ones(2)), nn.Parameter(minigen.ones(2))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad, b.grad = minigen.ones(2), minigen.ones(2)
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), [0.9, 0.9])
    np.testing.assert_allclose(b.detach().numpy(), [0.0, 0.0])
    grad = a.grad
    opt.zero_grad(set_to_none=False)
    assert float(a.grad.abs().sum()) == 0.0 and float(grad.sum()) == 2.0
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    assert "Parameter Group 1" in repr(opt) and "lr: 1.0" in repr(opt)
    assert opt.state_dict()["param_groups"][1]["params"] == [1]
