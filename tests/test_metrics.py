"""minigen.metrics: the Fréchet distance, the classifier score, the class histogram, the
shipped classifier, the VAE's likelihood bounds and the scoring of a training run.

The distance's maths is checked on features drawn from known Gaussians (not the classifier);
its behaviour on images (noise, blur, missing classes) on the real digits of the bundled
sample, through the shipped classifier: cheap and deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigen
import minigen.functional as F
from minigen import backend
from minigen.data import MNIST, DataLoader, FashionMNIST, datasets, write_idx
from minigen.errors import CheckpointError, DataError
from minigen.metrics import (
    SHIPPED_WEIGHTS,
    DigitClassifier,
    class_histogram,
    classifier_score,
    discriminator_summary,
    elbo,
    evaluate_run,
    frechet_distance,
    frechet_distance_from_statistics,
    frechet_floor,
    iwae_bound,
    load_classifier,
    log_weights,
    predict,
    save_classifier,
    train_classifier,
)
from minigen.metrics.classifier import default_weights, random_shift
from minigen.models import VAE, gan, vae_loss
from minigen.train import train_gan, train_vae

# ----------------------------------------------------------------------------- the distance


def random_spd(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_distance_of_a_set_to_itself_is_zero() -> None:
    x = np.random.default_rng(0).normal(size=(300, 20)) * 3 + 1
    assert frechet_distance(x, x) == pytest.approx(0.0, abs=1e-8)


@given(st.integers(0, 10_000), st.integers(1, 12))
def test_distance_is_symmetric_and_nonnegative(seed: int, d: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(40, d)) @ rng.normal(size=(d, d))
    b = rng.normal(size=(60, d)) * rng.uniform(0.1, 3, size=d) + rng.normal(size=d)
    ab, ba = frechet_distance(a, b), frechet_distance(b, a)
    assert ab >= 0
    assert ab == pytest.approx(ba, rel=1e-7, abs=1e-9)


@given(st.integers(0, 10_000), st.integers(1, 8))
def test_closed_form_agrees_with_an_independent_formula(seed: int, d: int) -> None:
    # tr((S1 S2)^1/2) is the sum of the square roots of the (real, >= 0) eigenvalues of S1 S2:
    # computed here with a general eigen-solver, not the symmetric route the library takes.
    rng = np.random.default_rng(seed)
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = random_spd(rng, d), random_spd(rng, d)
    eig = np.linalg.eigvals(s1 @ s2).real
    expected = (mu1 - mu2) @ (mu1 - mu2) + np.trace(s1 + s2) - 2 * np.sqrt(eig).sum()
    assert frechet_distance_from_statistics(mu1, s1, mu2, s2) == pytest.approx(expected,
                                                                               rel=1e-8,
                                                                               abs=1e-9)


def test_diagonal_and_one_dimensional_gaussians() -> None:
    # commuting covariances: the distance is |mu1 - mu2|^2 + sum (sigma1 - sigma2)^2
    var1, var2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expected = 1 + 4 + (1 - 2) ** 2 + (2 - 1) ** 2 + (3 - 0.5) ** 2
    assert frechet_distance_from_statistics(mu1, np.diag(var1), mu2,
                                            np.diag(var2)) == pytest.approx(expected)


def test_sampled_features_of_known_gaussians_approach_the_closed_form() -> None:
    rng = np.random.default_rng(1)
    d, n = 4, 40_000
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    s1, s2 = random_spd(rng, d), random_spd(rng, d)
    a = rng.multivariate_normal(mu1, s1, size=n)
    b = rng.multivariate_normal(mu2, s2, size=n)
    exact = frechet_distance_from_statistics(mu1, s1, mu2, s2)
    assert frechet_distance(a, b) == pytest.approx(exact, abs=0.02 + 0.02 * exact)


def test_floor_shrinks_with_the_sample_size() -> None:
    # Two samples of ONE distribution: the estimate's bias falls roughly as 1/n.
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(4000, 10)), rng.normal(size=(4000, 10))
    small, large = frechet_floor(x, y, 100), frechet_floor(x, y, 4000)
    assert small > 4 * large > 0
    with pytest.raises(ValueError, match="needs 5000"):
        frechet_floor(x, y, 5000)


def test_distance_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="widths"):
        frechet_distance(np.zeros((5, 3)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="N >= 2"):
        frechet_distance(np.zeros((1, 3)), np.zeros((5, 3)))


# ----------------------------------------------------------------------------- class scores


def one_hot(labels: np.ndarray, c: int = 10) -> np.ndarray:
    return np.eye(c)[labels]


def test_classifier_score_extremes() -> None:
    even = one_hot(np.tile(np.arange(10), 100))  # every split: each class 10 times, certain
    mean, std = classifier_score(even, splits=10)
    assert mean == pytest.approx(10.0) and std == pytest.approx(0.0, abs=1e-12)
    assert classifier_score(one_hot(np.full(1000, 3)))[0] == pytest.approx(1.0)
    assert classifier_score(np.full((1000, 10), 0.1))[0] == pytest.approx(1.0)  # unsure
    half = one_hot(np.tile(np.arange(5), 200))  # five classes only
    assert classifier_score(half)[0] == pytest.approx(5.0)


@given(st.integers(0, 10_000))
def test_classifier_score_lies_between_one_and_the_class_count(seed: int) -> None:
    logits = np.random.default_rng(seed).normal(size=(200, 10)) * 4
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    mean, std = classifier_score(p, splits=10)
    assert 1.0 <= mean <= 10.0 and std >= 0


def test_class_histogram_and_entropy() -> None:
    even = class_histogram(np.tile(np.arange(10), 30))
    assert even["counts"] == [30] * 10 and even["entropy"] == pytest.approx(math.log(10))
    assert even["normalized_entropy"] == pytest.approx(1.0) and even["missing"] == []
    collapsed = class_histogram(one_hot(np.array([1, 1, 1, 7])))
    assert collapsed["counts"][1] == 3 and collapsed["missing"] == [0, 2, 3, 4, 5, 6, 8, 9]
    assert collapsed["entropy"] == pytest.approx(-(0.75 * math.log(0.75)
                                                   + 0.25 * math.log(0.25)))
    assert class_histogram(np.zeros(5, dtype=np.int64))["entropy"] == 0.0


def test_discriminator_summary_verdicts() -> None:
    assert discriminator_summary([0.5] * 6, [0.48] * 6)["verdict"] == "balanced"
    winning = discriminator_summary([0.6, 0.9, 0.98], [0.4, 0.1, 0.02], last=2)
    assert winning["gap"] == pytest.approx(0.94 - 0.06) and winning["verdict"].startswith("D wins")
    with pytest.raises(ValueError):
        discriminator_summary([0.5, 0.5], [0.5])


# ----------------------------------------------------------------------------- the classifier


def test_cross_entropy_and_shapes(device: str) -> None:
    dev = minigen.device(device)
    logits = minigen.tensor([[2.0, 0.0, -1.0], [0.0, 0.0, 0.0]], device=dev)
    labels = minigen.tensor([0, 2], dtype=minigen.int64, device=dev)
    expected = -(math.log(math.exp(2) / (math.exp(2) + 1 + math.exp(-1))) + math.log(1 / 3)) / 2
    assert F.cross_entropy(logits, labels).item() == pytest.approx(expected, rel=1e-6)
    model = DigitClassifier().to(dev)
    x = minigen.rand(3, 1, 28, 28, device=dev)
    assert model(x).shape == (3, 10) and model.features(x).shape == (3, 128)


def test_random_shift_moves_each_image_by_its_own_offset(device: str) -> None:
    dev = minigen.device(device)
    images = MNIST(source="sample", split="test").images[:40]
    x = minigen.Tensor._make(backend.to_device(images, dev))
    shifted = backend.to_numpy(random_shift(x, 2, backend.Generator(dev, 0)).data)
    padded = np.pad(images, ((0, 0), (0, 0), (2, 2), (2, 2)))
    offsets = set()
    for i in range(len(images)):  # each output is one of the 25 crops of its padded input
        hits = [(dy, dx) for dy in range(5) for dx in range(5)
                if np.array_equal(shifted[i], padded[i, :, dy:dy + 28, dx:dx + 28])]
        assert hits, f"image {i} is not a shift of its input"
        offsets.add(hits[0])
    assert len(offsets) > 5  # not one shift for the whole batch


def test_train_save_load_round_trip(tmp_path, capsys) -> None:
    model = train_classifier(epochs=1, limit=256, source="sample")
    err = capsys.readouterr().err  # a bar within the epoch: a full-size epoch takes minutes
    assert "classifier epoch 1/1" in err and "train_loss=" in err
    assert model.meta["train_size"] == 256 and 0.0 <= model.meta["test_accuracy"] <= 1.0
    save_classifier(model, tmp_path / "c.npz")
    loaded = load_classifier(path=tmp_path / "c.npz")
    x = MNIST(source="sample", split="test").images[:20]
    np.testing.assert_array_equal(predict(model, x)[1], predict(loaded, x)[1])
    assert loaded.meta["test_accuracy"] == model.meta["test_accuracy"]
    with pytest.raises(CheckpointError, match="train them"):
        load_classifier(path=tmp_path / "missing.npz")


# ----------------------------------------------------------------------------- on real digits


@pytest.fixture(scope="module")
def real() -> dict:
    """The shipped classifier's view of the sample: test images, and 1,000 training images
    as a second real set for floors."""
    clf = load_classifier(path=SHIPPED_WEIGHTS)
    test, train = (MNIST(source="sample", split=s) for s in ("test", "train"))
    other = train.images[np.random.default_rng(0).permutation(len(train))[:1000]]
    feats, probs = predict(clf, test.images)
    return {"clf": clf, "images": test.images, "labels": test.labels, "features": feats,
            "probs": probs, "other": predict(clf, other)[0]}


def test_shipped_classifier_accuracy_and_real_score(real: dict) -> None:
    accuracy = float((real["probs"].argmax(1) == real["labels"]).mean())
    assert accuracy >= 0.97
    assert real["clf"].meta["test_accuracy"] == pytest.approx(accuracy)
    mean, _ = classifier_score(real["probs"], splits=10)  # 10 splits of 100
    assert mean >= 9.0


def fd_of(real: dict, images: np.ndarray) -> float:
    return frechet_distance(predict(real["clf"], images)[0], real["other"])


def test_noise_raises_the_distance_in_order(real: dict) -> None:
    rng = np.random.default_rng(0)
    noise = rng.normal(size=real["images"].shape).astype(np.float32)
    clean = frechet_distance(real["features"], real["other"])
    noisy = [fd_of(real, np.clip(real["images"] + s * noise, 0, 1)) for s in (0.1, 0.25, 0.5)]
    assert clean < noisy[0] < noisy[1] < noisy[2]


def test_blur_raises_the_distance(real: dict) -> None:
    x = real["images"]
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    blurred = sum(padded[:, :, dy:dy + 28, dx:dx + 28] for dy in range(3) for dx in range(3)) / 9
    assert fd_of(real, blurred) > 1.5 * frechet_distance(real["features"], real["other"])


def test_half_the_classes_is_far_from_the_data(real: dict) -> None:
    low = real["labels"] < 5
    n = int(low.sum())
    distance = frechet_distance(real["features"][low], real["other"][:n])
    floor = frechet_floor(real["features"], real["other"], n)
    assert distance > 10 * floor
    assert classifier_score(real["probs"][low], splits=5)[0] == pytest.approx(5.0, abs=0.6)
    assert sum(class_histogram(real["probs"][low])["fractions"][5:]) < 0.05  # mistakes only


# ----------------------------------------------------------------------------- likelihood


@pytest.fixture(scope="module")
def small_vae() -> tuple[VAE, np.ndarray]:
    """The report's VAE after one quick epoch on 1,000 digits, and 100 test digits."""
    minigen.manual_seed(0)
    model = VAE(latent_dim=2)
    train = MNIST(source="sample").images[:1000]
    opt = minigen.optim.Adam(model.parameters(), lr=1e-3)
    for (x,) in DataLoader((train,), batch_size=100, shuffle=True, seed=0):
        loss = vae_loss(model(x), x)[0]
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval(), MNIST(source="sample", split="test").images[:100]


@pytest.mark.parametrize("posterior", ["diagonal", "full"])
def test_iwae_with_one_sample_is_the_elbo_with_the_same_noise(posterior: str) -> None:
    model = VAE(latent_dim=3, posterior=posterior)
    x = MNIST(source="sample", split="test").images[:30]
    one = iwae_bound(model.encode, model.decode, x, k=1, seed=5)
    np.testing.assert_array_equal(one, elbo(model.encode, model.decode, x, analytic_kl=False,
                                            seed=5))
    other_noise = iwae_bound(model.encode, model.decode, x, k=1, seed=6)
    assert not np.array_equal(one, other_noise)


def test_log_weights_by_hand() -> None:
    model = VAE(latent_dim=2)
    x = minigen.tensor(MNIST(source="sample", split="test").images[:3])
    eps = minigen.randn(4, 3, 2)
    got = log_weights(model.encode, model.decode, x, eps).numpy()
    with minigen.no_grad():
        mu, logvar, _ = model.encode(x)
    mu, sigma = mu.numpy().astype(np.float64), np.exp(0.5 * logvar.numpy().astype(np.float64))
    e = eps.numpy().astype(np.float64)
    z = mu + sigma * e
    with minigen.no_grad():
        logits = model.decode(minigen.tensor(z.reshape(12, 2).astype(np.float32))).numpy()
    logits = logits.astype(np.float64).reshape(4, 3, 784)
    target = x.numpy().reshape(3, 784)
    log_px = (target * logits - np.logaddexp(0, logits)).sum(-1)
    log_pz = (-0.5 * z**2 - 0.5 * math.log(2 * math.pi)).sum(-1)
    log_qz = (-0.5 * e**2 - 0.5 * math.log(2 * math.pi) - np.log(sigma)).sum(-1)
    np.testing.assert_allclose(got, log_px + log_pz - log_qz, rtol=1e-4, atol=1e-3)


class ConstantDecoder:
    """p(x|z) ignores z, so log p(x) = log p(x|z) is known exactly."""

    def __init__(self, mu: float, log_sigma: float, logits: minigen.Tensor):
        self.mu, self.log_sigma, self.logits = mu, log_sigma, logits

    def encode(self, x):
        n = x.shape[0]
        return (minigen.full((n, 2), self.mu), minigen.full((n, 2), 2 * self.log_sigma))

    def decode(self, z):
        return self.logits.expand(z.shape[0], 784)


def test_bounds_against_an_exact_likelihood() -> None:
    x = MNIST(source="sample", split="test").images[:10]
    logits = minigen.randn(1, 784)
    exact = ConstantDecoder(0.0, 0.0, logits)
    host = logits.numpy().astype(np.float64)
    log_px = (x.reshape(10, 784) * host - np.logaddexp(0, host)).sum(-1)
    # q = prior: every weight is p(x), every bound is exact
    np.testing.assert_allclose(iwae_bound(exact.encode, exact.decode, x, k=7), log_px,
                               rtol=1e-5)
    # q != prior: ELBO = log p(x) - KL(q || p), and IWAE_k climbs towards log p(x)
    off = ConstantDecoder(1.0, math.log(0.5), logits)
    kl = 2 * 0.5 * (1.0 + 0.25 - math.log(0.25) - 1)
    np.testing.assert_allclose(elbo(off.encode, off.decode, x), log_px - kl, rtol=1e-5)
    gaps = [float((log_px - iwae_bound(off.encode, off.decode, x, k=k, seed=1)).mean())
            for k in (1, 10, 1000)]
    assert gaps[0] > gaps[1] > gaps[2] > -0.05 and gaps[2] < 0.2 * kl


def test_iwae_tightens_with_k_and_beats_the_elbo(small_vae) -> None:
    model, x = small_vae
    elbo_mean = elbo(model.encode, model.decode, x, samples=10, seed=0).mean()
    bounds = [iwae_bound(model.encode, model.decode, x, k=k, seed=0, max_rows=3000).mean()
              for k in (1, 10, 100)]
    assert bounds[0] < bounds[1] < bounds[2]
    assert bounds[1] > elbo_mean and bounds[2] > elbo_mean
    # IWAE_1 = mean log w is an unbiased estimate of the ELBO, noisier than the closed-form KL
    sampled = elbo(model.encode, model.decode, x, samples=50, analytic_kl=False, seed=1).mean()
    assert sampled == pytest.approx(elbo_mean, abs=1.5)


def test_analytic_elbo_is_minus_the_training_loss(small_vae) -> None:
    model, x = small_vae
    minigen.manual_seed(3)
    with minigen.no_grad():
        loss = np.mean([vae_loss(model(minigen.tensor(x)), minigen.tensor(x))[0].item()
                        for _ in range(20)])
    assert elbo(model.encode, model.decode, x, samples=20).mean() == pytest.approx(-loss,
                                                                                  abs=1.0)


# ----------------------------------------------------------------------------- runs


@pytest.mark.slow
def test_evaluate_a_gan_run_and_a_vae_run(tmp_path) -> None:
    clf = load_classifier(path=SHIPPED_WEIGHTS)
    data = MNIST(source="sample", pixel_range=(-1, 1)).images[:128]
    G, D = gan.Generator(16, hidden=(32,)), gan.Discriminator(hidden=(32,))
    train_gan(G, D, DataLoader((data,), 64, shuffle=True, seed=0), epochs=2,
              out=tmp_path / "gan", seed=0, progress=False)
    result = evaluate_run(tmp_path / "gan", n_samples=100, classifier=clf, progress=False)
    (row,) = result["checkpoints"]
    assert row["epoch"] == 2 and row["n"] == 100 and row["fd"] > row["fd_floor"] > 0
    assert len(result["per_epoch"]["fd"]) == 2 and "verdict" in result["discriminator"]
    for name in ("scores.md", "scores.json", "scores_per_epoch.png"):
        assert (tmp_path / "gan" / "evaluation" / name).is_file()
    assert "classifier score" in (tmp_path / "gan" / "evaluation" / "scores.md").read_text()

    vae = VAE(latent_dim=2, posterior="full")
    images = MNIST(source="sample").images[:128]
    train_vae(vae, DataLoader((images,), 64, seed=0), epochs=1, out=tmp_path / "vae", seed=0,
              progress=False)
    result = evaluate_run(tmp_path / "vae", tmp_path / "scores", n_samples=100, k=5,
                          classifier=clf, progress=False)
    (row,) = result["checkpoints"]
    assert row["iwae"] > row["test_elbo"] - 5 and row["iwae_k"] == 5
    assert (tmp_path / "scores" / "scores_per_epoch.png").is_file()
    with pytest.raises(CheckpointError, match="no training checkpoint"):
        evaluate_run(tmp_path / "scores", classifier=clf)


@pytest.mark.slow
def test_a_run_is_scored_by_the_classifier_of_its_own_data_set(tmp_path, monkeypatch) -> None:
    """A Fashion-MNIST run gets the Fashion-MNIST classifier (found by the data set its
    checkpoint names; real images read from the folder that classifier was trained on, here
    a folder no search would find), and the digit classifier is refused."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MINIGEN_DATA", raising=False)
    monkeypatch.setattr(datasets, "SYSTEM_FOLDERS", {})
    folder = tmp_path / "fashion"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for split, n in (("train", 128), ("test", 64)):
        images, labels = datasets.SPLITS[split]
        write_idx(folder / images, rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / labels, rng.integers(0, 10, n, dtype=np.uint8))
    x = FashionMNIST(folder).images[:64]
    train_vae(VAE(2), DataLoader((x,), 64), epochs=1, out=tmp_path / "run", progress=False,
              dataset="fashion-mnist")
    with pytest.raises(CheckpointError, match="train-classifier --dataset fashion-mnist"):
        evaluate_run(tmp_path / "run", progress=False)
    with pytest.raises(DataError, match="trained on fashion-mnist, but the classifier"):
        evaluate_run(tmp_path / "run", classifier=load_classifier(path=SHIPPED_WEIGHTS),
                     progress=False)
    train_classifier("fashion-mnist", root=folder, epochs=1, progress=False,
                     out=default_weights("fashion-mnist"))
    result = evaluate_run(tmp_path / "run", n_samples=20, k=2, progress=False)
    assert result["classifier"]["dataset"] == result["dataset"] == "fashion-mnist"
    assert result["checkpoints"][0]["fd_floor"] > 0
    table = (tmp_path / "run" / "evaluation" / "scores.md").read_text()
    assert "(vae, fashion-mnist)" in table and "test accuracy on fashion-mnist" in table

