"""No float64 anywhere in a training step: every saved array, gradient and optimizer buffer of
one step of each model stays float32 (issue 7: float64 would double memory and time)."""

from __future__ import annotations

import numpy as np
import pytest

import minigen
from minigen import backend, optim
from minigen.autograd import Context
from minigen.models import dcgan, discriminator_loss, gan, generator_loss, vae_loss
from minigen.models.vae import VAE


def graph_arrays(root: minigen.Tensor) -> list[tuple[str, object]]:
    """(op name, array) for every array saved by every op in the graph behind ``root``."""
    found, stack, seen = [], [root._ctx], set()
    while stack:
        ctx = stack.pop()
        if not isinstance(ctx, Context) or id(ctx) in seen:
            continue
        seen.add(id(ctx))
        found += [(ctx.name, a) for a in ctx.saved or () if hasattr(a, "dtype")]
        stack += [p for p in ctx.parents if p is not None]
    return found


def assert_float32(named_arrays: list[tuple[str, object]]) -> None:
    wrong = [(name, str(a.dtype)) for name, a in named_arrays
             if backend.dtype_of(a).is_floating_point and backend.dtype_of(a) != "float32"]
    assert not wrong, f"float64 (or other) arrays in a training step: {wrong[:5]}"


def one_step(loss: minigen.Tensor, params: list, opt: optim.Optimizer) -> None:
    saved = graph_arrays(loss)
    assert saved, "the graph saved nothing: the walk above is broken"
    assert_float32(saved + [("loss", loss.data)])
    opt.zero_grad()
    loss.backward()
    opt.step()
    assert_float32([("grad", p.grad.data) for p in params if p.grad is not None])
    assert_float32([("param", p.data) for p in params])
    state = opt.state_dict()["state"]
    assert_float32([(f"state {k}", v) for s in state.values() for k, v in s.items()
                    if hasattr(v, "dtype")])


@pytest.mark.parametrize("module", [gan, dcgan], ids=["gan", "dcgan"])
def test_gan_step_is_float32(module) -> None:
    g, d = module.Generator(), module.Discriminator()
    real = minigen.rand(8, 1, 28, 28) * 2 - 1
    fake = g(minigen.randn(8, 100))
    opt_d = optim.Adam(d.parameters(), lr=2e-4)
    one_step(discriminator_loss(d(real), d(fake.detach())), list(d.parameters()), opt_d)
    opt_g = optim.Adam(g.parameters(), lr=2e-4)
    one_step(generator_loss(d(fake)), list(g.parameters()), opt_g)


@pytest.mark.parametrize("posterior", ["diagonal", "full"])
def test_vae_step_is_float32(posterior: str) -> None:
    model = VAE(latent_dim=2, posterior=posterior)
    x = minigen.rand(8, 1, 28, 28)
    loss, _, _ = vae_loss(model(x), x)
    one_step(loss, list(model.parameters()), optim.Adam(model.parameters()))


def test_numpy_numbers_are_numbers():
    """np.sqrt(3), np.float64(0.5): numbers, as in PyTorch, so a float32 tensor stays float32
    (NumPy 2 alone would promote to float64), and so do the gradients."""
    x = minigen.randn(4, 3)
    w = minigen.randn(3, requires_grad=True)
    for out in (x / np.sqrt(3), np.float64(2) * x, x + np.int64(1), x - np.float32(1)):
        assert out.dtype == minigen.float32
    (w * np.float64(0.5)).sum().backward()
    assert w.grad.dtype == minigen.float32
    assert (minigen.arange(3) * np.int64(2)).dtype == minigen.int64
    x[0, 0] = np.float64(2.0)
    assert x.dtype == minigen.float32 and x[0, 0].item() == 2.0
