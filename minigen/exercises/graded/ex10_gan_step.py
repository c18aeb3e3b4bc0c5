"""Exercise 10: one GAN training step, the body of train_gan's loop (minigen/train/gan.py).

train_gan trains two tiny networks on a few batches; the step is written out again here, in
the order of the report's algorithm, and both must end at the same weights and record the
same numbers. Hooks on the weights count where gradients go. The networks use Linear (5),
Tanh and Sigmoid (4), the BCE with logits (8), Adam (9) and the engine (1).
"""

import contextlib
import tempfile

import numpy as np
from exercise_grading import GradeError, check_close, graded
from hypothesis import given
from hypothesis import strategies as st

import minigen
import minigen.functional as F
from minigen import optim
from minigen.data import DataLoader
from minigen.models import gan
from minigen.train import train_gan
from minigen.train.run import NonFiniteLossError


@contextlib.contextmanager
def float64():
    minigen.set_default_dtype(minigen.float64)
    try:
        yield
    finally:
        minigen.set_default_dtype(minigen.float32)


def networks(seed):
    minigen.manual_seed(seed)
    return gan.Generator(latent_dim=3, hidden=(5,)), gan.Discriminator(hidden=(6,), dropout=0.0)


def images(seed, n=8):
    x = np.random.default_rng(seed).uniform(-1.0, 1.0, (n, 1, 28, 28))
    return minigen.tensor(x, dtype=minigen.float64)


def train(seed, k=1, saturating=False, real_label=1.0, **options):
    """train_gan for one epoch of two batches of 4; (G, D, history)."""
    G, D = networks(seed)
    loader = DataLoader(images(seed), batch_size=4, shuffle=False)
    with tempfile.TemporaryDirectory() as out:
        history = train_gan(G, D, loader, epochs=1, k=k, saturating=saturating,
                            real_label=real_label, out=out, seed=seed, progress=False,
                            n_samples=2, **options)
    return G, D, history


def by_hand(seed, k=1, saturating=False, real_label=1.0):
    """The report's algorithm, written out: (G, D, the numbers of each batch)."""
    G, D = networks(seed)
    opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    minigen.manual_seed(seed)
    history, d_steps = {}, 0
    for real in DataLoader(images(seed), batch_size=4, shuffle=False):
        z = minigen.randn(4, 3)
        real_logits, fake_logits = D(real), D(G(z).detach())
        d_loss = (F.binary_cross_entropy_with_logits(real_logits, real_label)
                  + F.binary_cross_entropy_with_logits(fake_logits, 0.0))
        numbers = {"d_loss": d_loss.item(), "d_x": F.sigmoid(real_logits).mean().item(),
                   "d_g_z": F.sigmoid(fake_logits).mean().item()}
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        d_steps += 1
        if d_steps % k == 0:
            z = minigen.randn(4, 3)  # fresh noise
            fake_logits = D(G(z))
            g_loss = (-F.binary_cross_entropy_with_logits(fake_logits, 0.0) if saturating
                      else F.binary_cross_entropy_with_logits(fake_logits, 1.0))
            numbers["g_loss"] = g_loss.item()
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
        for name, value in numbers.items():
            history.setdefault(name, []).append(value)
    return G, D, history


@graded(6)
@given(seed=st.integers(0, 1000), k=st.sampled_from([1, 2]), saturating=st.booleans(),
       real_label=st.sampled_from([1.0, 0.9]))
def test_same_as_the_algorithm(seed, k, saturating, real_label):
    """Two batches through train_gan and through the algorithm written out: the same numbers
    (d_loss, d_x, d_g_z, g_loss) and the same weights after them."""
    options = f"(k={k}, saturating={saturating}, real_label={real_label})"
    with float64():
        G, D, history = train(seed, k, saturating, real_label)
        G2, D2, want = by_hand(seed, k, saturating, real_label)
    for name in ("d_loss", "d_x", "d_g_z", "g_loss"):
        got = history["batch"].get(name, [])
        if len(got) != len(want[name]):
            raise GradeError(f"{options}: {len(got)} values of {name} in the history for "
                             f"{len(want[name])} expected (one per batch; g_loss one per G "
                             "step, after every k D steps)")
        check_close(f"{options}: {name}, batch by batch", np.array(got), np.array(want[name]),
                    rtol=1e-7, atol=1e-10)
    for who, (net, ref) in {"D": (D, D2), "G": (G, G2)}.items():
        for (name, p), q in zip(net.named_parameters(), ref.parameters()):
            check_close(f"{options}: {who}'s {name} after two batches", p.data, q.data,
                        rtol=1e-7, atol=1e-10)


def test_where_the_gradients_go():
    """D's step sends no gradient into G (G(z) detached), and G's step none into D's weights
    (D frozen while G's graph is built)."""
    with float64():
        G, D = networks(3)
        counts = {"G": 0, "D": 0}
        for who, net in (("G", G), ("D", D)):
            for p in net.parameters():
                p.register_hook(lambda g, who=who: counts.__setitem__(who, counts[who] + 1))
        loader = DataLoader(images(3), batch_size=4, shuffle=False)
        with tempfile.TemporaryDirectory() as out:
            train_gan(G, D, loader, epochs=1, out=out, seed=3, progress=False, n_samples=2)
    per_step = {"G": len(G.parameters()), "D": len(D.parameters())}
    if counts["G"] > 2 * per_step["G"]:
        raise GradeError("D's loss sent gradients into G's weights: in D's step, detach G(z) "
                         "(D(G(z).detach())), so that D's step moves D only")
    if counts["D"] > 2 * per_step["D"]:
        raise GradeError("G's loss sent gradients into D's weights: freeze D while G's graph is "
                         "built (D.requires_grad_(False), and True again right after)")
    if counts["G"] < 2 * per_step["G"] or counts["D"] < 2 * per_step["D"]:
        raise GradeError("over two batches, each weight of D and of G should get one gradient "
                         f"per batch; G's got {counts['G']} for {2 * per_step['G']}, D's "
                         f"{counts['D']} for {2 * per_step['D']}")


def test_a_nan_stops_before_the_update():
    """A NaN loss stops training before any optimizer step (run.check_finite(numbers))."""
    with float64():
        G, D = networks(4)
        D.net[-1].bias.data[...] = float("nan")
        before = [p.data.copy() for p in G.parameters() + D.parameters()[:-1]]
        loader = DataLoader(images(4), batch_size=4, shuffle=False)
        with tempfile.TemporaryDirectory() as out:
            try:
                train_gan(G, D, loader, epochs=1, out=out, seed=4, progress=False, n_samples=2)
            except NonFiniteLossError:
                pass
            else:
                raise GradeError("a NaN D loss did not stop training: call "
                                 "run.check_finite(numbers) before each optimizer step")
    after = [p.data for p in G.parameters() + D.parameters()[:-1]]
    if not all(np.array_equal(a, b) for a, b in zip(before, after)):
        raise GradeError("weights moved before the NaN stopped training: call "
                         "run.check_finite(numbers) BEFORE each optimizer step")


def test_the_average_of_g_follows():
    """With generator_ema, it is updated after every G step."""
    from minigen.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    with float64():
        G, D = networks(5)
        ema = AveragedModel(G, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
        loader = DataLoader(images(5), batch_size=4, shuffle=False)
        with tempfile.TemporaryDirectory() as out:
            train_gan(G, D, loader, epochs=1, out=out, seed=5, progress=False, n_samples=2,
                      generator_ema=ema)
    if int(ema.n_averaged.item()) != 2:
        raise GradeError(f"generator_ema was updated {int(ema.n_averaged.item())} times in two "
                         "G steps: call generator_ema.update_parameters(G) after each G step "
                         "(when generator_ema is not None)")
