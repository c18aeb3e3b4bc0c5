"""AveragedModel (minigen.optim.swa_utils): the EMA and the running mean (SWA) of a model's
weights against the recurrences written out in NumPy, buffers averaged or copied, the first
update a copy, state_dict round trips, and the refusals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen
from minigen import nn
from minigen.optim.swa_utils import (
    AveragedModel,
    get_ema_avg_fn,
    get_ema_multi_avg_fn,
    get_swa_avg_fn,
)


def _net() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))


def _snapshots(model: nn.Module, steps: int, rng: np.random.Generator) -> list[dict]:
    """Give the model ``steps`` random weight sets (and BatchNorm statistics from a forward),
    yielding each after it is set."""
    for _ in range(steps):
        with minigen.no_grad():
            for p in model.parameters():
                p.copy_(minigen.tensor(rng.standard_normal(p.shape).astype(np.float32)))
        model(minigen.tensor(rng.standard_normal((5, 3)).astype(np.float32)))
        yield {k: v.detach().numpy().astype(np.float64) for k, v in model.state_dict().items()}


@pytest.mark.parametrize("kind", ["ema multi", "ema", "swa"])
@given(decay=st.floats(0.0, 1.0), steps=st.integers(1, 6), use_buffers=st.booleans(),
       seed=st.integers(0, 2**16))
def test_averages_follow_their_recurrence(kind, decay, steps, use_buffers, seed):
    model = _net()
    fn = {"ema multi": {"multi_avg_fn": get_ema_multi_avg_fn(decay)},
          "ema": {"avg_fn": get_ema_avg_fn(decay)}, "swa": {}}[kind]
    averaged = AveragedModel(model, use_buffers=use_buffers, **fn)
    expected: dict = {}
    for n, snap in enumerate(_snapshots(model, steps, np.random.default_rng(seed))):
        averaged.update_parameters(model)
        for key, value in snap.items():
            averaged_too = use_buffers or key.endswith(("weight", "bias"))
            if n == 0 or not averaged_too or key.endswith("num_batches_tracked"):
                expected[key] = value  # copied: the first time, buffers unless averaged, counts
            elif kind == "swa":
                expected[key] = expected[key] + (value - expected[key]) / (n + 1)
            else:
                expected[key] = decay * expected[key] + (1 - decay) * value
    got = averaged.state_dict()
    assert int(got["n_averaged"].item()) == steps
    for key, value in expected.items():
        np.testing.assert_allclose(got["module." + key].numpy(), value, rtol=1e-5, atol=1e-6,
                                   err_msg=key)


def test_it_is_a_module_that_runs_and_saves():
    model = _net().eval()
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    assert ema.module is not model  # a deep copy: training the model leaves it alone
    x = minigen.randn(2, 3)
    ema.update_parameters(model)
    np.testing.assert_allclose(ema(x).detach().numpy(), model(x).detach().numpy(), rtol=1e-6)
    again = AveragedModel(_net(), multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    again.load_state_dict(ema.state_dict())
    assert int(again.n_averaged.item()) == 1
    for (k, a), b in zip(ema.state_dict().items(), again.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    assert all(p.grad is None for p in ema.parameters())  # updates build no graph


def test_refusals():
    model = _net()
    with pytest.raises(ValueError, match="not both"):
        AveragedModel(model, avg_fn=get_swa_avg_fn(), multi_avg_fn=get_ema_multi_avg_fn())
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        get_ema_multi_avg_fn(1.5)
    with pytest.raises(TypeError, match="averages a Module"):
        AveragedModel(lambda x: x)
    with pytest.raises(minigen.ShapeError, match="was made from"):
        AveragedModel(model).update_parameters(nn.Linear(3, 4))
