"""Exercise 9: Adam's step (minigen/optim/adam.py): the moments, and the step with their bias
corrected, against Adam written out in NumPy, over several steps."""

import numpy as np
from exercise_grading import GradeError, Skip, arrays, check_close, floats, graded, shapes
from hypothesis import given
from hypothesis import strategies as st

import minigen
from minigen import backend, nn, optim


def adam_in_numpy(p, grads, lr, betas, eps, weight_decay, amsgrad):
    """The parameter after each step (Kingma & Ba, with PyTorch's L2 weight decay and
    amsgrad)."""
    m, v, v_max, out = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p), []
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - betas[0] ** t)
        v_hat = (v_max if amsgrad else v) / (1 - betas[1] ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(p)
    return out


@st.composite
def settings_(draw):
    return {"lr": draw(floats(1e-4, 0.5)),
            "betas": (draw(floats(0.0, 0.95)), draw(floats(0.5, 0.9999))),
            "eps": draw(st.sampled_from([1e-8, 1e-3, 0.1])),
            "weight_decay": draw(st.sampled_from([0.0, 0.0, 0.01, 0.5])),
            "amsgrad": draw(st.booleans())}


@graded(40)
@given(shape=shapes(max_dims=2), steps=st.integers(1, 5), hyper=settings_(), data=st.data())
def test_steps(shape, steps, hyper, data):
    """Two parameters, several steps with random gradients: each parameter after each step as
    Adam in NumPy has it (moments kept between steps, bias corrected by 1 - beta^t)."""
    start = [data.draw(arrays(shape)), data.draw(arrays((2,)))]
    grads = [[data.draw(arrays(p.shape)) for _ in range(steps)] for p in start]
    params = [nn.Parameter(minigen.tensor(p, dtype=minigen.float64)) for p in start]
    opt = optim.Adam(params, **hyper)
    want = [adam_in_numpy(p, g, **hyper) for p, g in zip(start, grads)]
    for t in range(steps):
        for p, g in zip(params, grads):
            p.grad = minigen.tensor(g[t], dtype=minigen.float64)
        opt.step()
        for i, p in enumerate(params):
            check_close(f"parameter {i} after step {t + 1} (lr {hyper['lr']:.3g}, betas "
                        f"{tuple(round(b, 4) for b in hyper['betas'])}, eps {hyper['eps']}, "
                        f"weight_decay {hyper['weight_decay']}, amsgrad {hyper['amsgrad']})",
                        p.data, want[i][t], rtol=1e-10, atol=1e-12)


def test_moments_live_in_the_state():
    """The moments are the optimizer's state: updated in place, so that the next step (and
    state_dict()) sees them."""
    p = nn.Parameter(minigen.tensor([1.0, -2.0], dtype=minigen.float64))
    opt = optim.Adam([p], lr=0.1, betas=(0.5, 0.9))
    for g in ([1.0, 2.0], [3.0, -1.0]):
        p.grad = minigen.tensor(g, dtype=minigen.float64)
        opt.step()
    state = opt.state[id(p)]
    check_close("state['exp_avg'] (m) after two steps", state["exp_avg"], np.array(
        [0.5 * 0.5 * 1.0 + 0.5 * 3.0, 0.5 * 0.5 * 2.0 + 0.5 * -1.0]))
    check_close("state['exp_avg_sq'] (v) after two steps", state["exp_avg_sq"], np.array(
        [0.9 * 0.1 * 1.0 + 0.1 * 9.0, 0.9 * 0.1 * 4.0 + 0.1 * 1.0]))


def test_float32_and_strict():
    """A float32 parameter stays float32; the step runs on array-api-strict too."""
    p = nn.Parameter(minigen.tensor([1.0, -2.0, 3.0]))
    opt = optim.Adam([p], lr=0.1)
    p.grad = minigen.tensor([0.5, 0.5, -1.0])
    opt.step()
    if p.dtype != minigen.float32:
        raise GradeError(f"Adam's step made a float32 parameter {p.dtype}")
    try:
        dev = backend.device("strict")
    except Exception as error:
        raise Skip(f"needs array-api-strict ({error})") from None
    q = nn.Parameter(minigen.tensor([1.0, -2.0, 3.0], dtype=minigen.float64, device=dev))
    opt = optim.Adam([q], lr=0.1)
    q.grad = minigen.tensor([0.5, 0.5, -1.0], dtype=minigen.float64, device=dev)
    try:
        opt.step()
    except Exception as error:
        raise GradeError(f"Adam's step fails on array-api-strict (the tests' stand-in for a "
                         f"GPU): {type(error).__name__}: {error}. Use xp = "
                         "backend.namespace(p.data) and its functions, not numpy's") from None
    check_close("Adam's step on the strict device", q.data, adam_in_numpy(
        np.array([1.0, -2.0, 3.0]), [np.array([0.5, 0.5, -1.0])], 0.1, (0.9, 0.999), 1e-8,
        0.0, False)[0])
