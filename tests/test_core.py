"""The tiny core: ``import minigen`` loads no extra, the report's three models train with
``minigen.extras`` blocked from importing, every extra is still found where PyTorch has it,
and the core stays within its size (``benchmarks/core_size.py``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import minigen

ROOT = Path(__file__).resolve().parent.parent

# Run first in the child: any import of minigen.extras (or a module of it) raises ImportError.
BLOCK_EXTRAS = """
import importlib.abc, sys
class _NoExtras(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "minigen.extras" or name.startswith("minigen.extras."):
            raise ImportError(f"{name} is blocked by the test")
        return None
sys.meta_path.insert(0, _NoExtras())
"""

STEPS = """
import minigen
from minigen import optim
from minigen.models import VAE, dcgan, gan, discriminator_loss, generator_loss, vae_loss
minigen.manual_seed(0)
x = minigen.rand(8, 1, 28, 28) * 2 - 1
for G, D in ((gan.Generator(), gan.Discriminator()), (dcgan.Generator(), dcgan.Discriminator())):
    opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    before = [p.data.copy() for p in G.parameters() + D.parameters()]
    z = minigen.randn(8, G.latent_dim)
    d_loss = discriminator_loss(D(x), D(G(z).detach()), real_label=0.9)
    opt_d.zero_grad(); d_loss.backward(); opt_d.step()
    g_loss = generator_loss(D(G(minigen.randn(8, G.latent_dim))))
    opt_g.zero_grad(); g_loss.backward(); opt_g.step()
    after = [p.data for p in G.parameters() + D.parameters()]
    assert all((a != b).any() for a, b in zip(after, before)), "every weight moved"
for posterior in ("diagonal", "full"):
    vae = VAE(posterior=posterior)
    opt = optim.Adam(vae.parameters(), lr=1e-3)
    before = [p.data.copy() for p in vae.parameters()]
    loss, bce, kl = vae_loss(vae((x + 1) / 2), (x + 1) / 2)
    opt.zero_grad(); loss.backward(); opt.step()
    assert all((p.data != b).any() for p, b in zip(vae.parameters(), before)), posterior
"""

TRAIN = """
import sys
from minigen.data import DataLoader, MNIST, Subset
from minigen.models import VAE, gan
from minigen.train import train_gan, train_vae
out = sys.argv[1]
train = Subset(MNIST(split="train", pixel_range=(-1, 1), progress=False), range(32))
history = train_gan(gan.Generator(), gan.Discriminator(), DataLoader(train, 16, shuffle=True,
                    seed=0), epochs=1, out=out + "/gan", seed=0, progress=False, n_samples=4)
assert len(history["batch"]["d_loss"]) == 2
train = Subset(MNIST(split="train", progress=False), range(32))
history = train_vae(VAE(), DataLoader(train, 16, seed=0), epochs=1, out=out + "/vae", seed=0,
                    progress=False, n_samples=4)
assert len(history["batch"]["loss"]) == 2
"""


def _run(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_import_minigen_loads_no_extra():
    out = _run("import sys, minigen; print(sorted(m for m in sys.modules if 'extras' in m))")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_one_training_step_of_each_model_runs_with_the_extras_blocked():
    out = _run(BLOCK_EXTRAS + STEPS)
    assert out.returncode == 0, out.stderr[-3000:]


def test_the_blocker_really_blocks():
    """The test above can fail: an extra used in the step is refused with an ImportError."""
    out = _run(BLOCK_EXTRAS + "import minigen\nminigen.flip(minigen.ones(2), 0)")
    assert out.returncode != 0 and "minigen.extras is blocked by the test" in out.stderr


@pytest.mark.slow
def test_the_library_training_loops_run_with_the_extras_blocked(tmp_path):
    out = _run(BLOCK_EXTRAS + TRAIN, str(tmp_path))
    assert out.returncode == 0, out.stderr[-3000:]
    assert (tmp_path / "gan" / "checkpoint.npz").exists()
    assert (tmp_path / "vae" / "samples" / "epoch_001.png").exists()


def test_the_extras_are_found_where_pytorch_has_them():
    x = minigen.tensor([[3.0, 1.0, 2.0]])
    assert minigen.flip(x, 1).tolist() == [[2.0, 1.0, 3.0]]
    assert x.topk(2).values.tolist() == [[3.0, 2.0]]
    assert minigen.functional.gelu(x).shape == (1, 3)
    assert isinstance(minigen.nn.LayerNorm(3), minigen.nn.Module)
    assert minigen.optim.lr_scheduler.StepLR.__name__ == "StepLR"
    from minigen.nn import LayerNorm  # noqa: F401  (from-imports too)
    from minigen.optim.lr_scheduler import StepLR  # noqa: F401
    with pytest.raises(AttributeError, match="has no attribute 'no_such_thing'"):
        minigen.no_such_thing  # noqa: B018
    with pytest.raises(AttributeError, match="'Tensor' object has no attribute 'no_such'"):
        x.no_such  # noqa: B018


def test_the_core_stays_within_its_size(tmp_path):
    """benchmarks/core_size.py: the lines of code the three models' training step loads, and
    the reading path of lessons/00_read_the_engine.py (with prose), within their budgets."""
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "core_size.py"), "--json",
                          str(tmp_path / "size.json")], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    size = json.loads((tmp_path / "size.json").read_text())
    assert size["extras_loaded"] == []
    assert 0 < size["core_code_lines"] <= size["budget"]
    assert None not in size["reading_path"].values()
    assert 0 < size["reading_path_lines"] <= size["reading_budget"]
