"""Inside a training step every array stays float32 and on the model's device (issue 20.3).

tests/test_float32.py looks at what a step leaves behind (saved arrays, gradients, optimizer
state); this test looks at every array made on the way: each op's output (``Function.apply``
passes it through ``backend.as_array``) and each gradient an op's backward returns (so does
``backward``). A float64 temporary would double that op's memory and time; an array on the host
would be a copy to and from the device per op. On the "strict" device (array-api-strict, which
refuses silent NumPy conversion as CuPy does) the step also fails outright at such a copy.
"""

from __future__ import annotations

import pytest

import minigen
from minigen import backend, optim
from minigen.models import dcgan, discriminator_loss, gan, generator_loss, vae_loss
from minigen.models.vae import VAE


@pytest.fixture
def arrays_made(monkeypatch: pytest.MonkeyPatch) -> list:
    """The list of every array that passes ``backend.as_array`` while the test runs."""
    made, as_array = [], backend.as_array

    def recording(x):
        x = as_array(x)
        made.append(x)
        return x

    monkeypatch.setattr(backend, "as_array", recording)
    return made


def steps(model: str, device: str) -> None:
    """Two full training steps of ``model`` (the second with the optimizer's state made)."""
    if model == "vae":
        net = VAE(latent_dim=2).to(device)
        opt = optim.Adam(net.parameters(), lr=1e-3)
        x = minigen.rand(8, 1, 28, 28, device=device)
        for _ in range(2):
            opt.zero_grad()
            vae_loss(net(x), x)[0].backward()
            opt.step()
        return
    module = gan if model == "gan" else dcgan
    g, d = module.Generator().to(device), module.Discriminator().to(device)
    opt_g = optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = minigen.rand(8, 1, 28, 28, device=device) * 2 - 1
    for _ in range(2):
        fake = g(minigen.randn(8, 100, device=device))
        opt_d.zero_grad()
        discriminator_loss(d(real), d(fake.detach())).backward()
        opt_d.step()
        opt_g.zero_grad()
        generator_loss(d(fake)).backward()
        opt_g.step()


@pytest.mark.parametrize("model", ["vae", "gan", "dcgan"])
def test_a_training_step_makes_only_float32_arrays_on_its_device(model, device, arrays_made):
    steps(model, device)
    assert len(arrays_made) > 50, "the recording saw too few arrays: the hook is not called"
    expected = minigen.device(device)
    floating = [a for a in arrays_made if backend.dtype_of(a).is_floating_point]
    wrong_dtype = sorted({str(a.dtype) for a in floating if backend.dtype_of(a) != "float32"})
    assert not wrong_dtype, f"a {model} step made arrays of dtype {wrong_dtype}"
    elsewhere = {str(backend.device_of(a)) for a in arrays_made} - {str(expected)}
    assert not elsewhere, f"a {model} step on {expected} made arrays on {elsewhere}"


def test_the_recording_sees_a_float64_array(arrays_made):
    """The check above can fail: a float64 op output is recorded."""
    (minigen.randn(3, dtype=minigen.float64) * 2).sum()
    assert any(str(a.dtype) == "float64" for a in arrays_made)


def test_the_strict_device_refuses_a_silent_host_copy():
    """The strict device still refuses what CuPy refuses: mixing in a host (NumPy) array."""
    import numpy as np

    x = minigen.randn(3, device="strict")
    with pytest.raises((TypeError, ValueError, minigen.DeviceError)):
        x.data + np.ones(3, dtype=np.float32)
