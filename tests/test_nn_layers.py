"""minigen.nn layers: forward shapes on every device, the errors a student sees, BatchNorm's
train/eval behaviour and running statistics, Dropout, and loss modules."""

from __future__ import annotations

import numpy as np
import pytest

import minigen
import minigen.functional as F
from minigen import nn
from minigen.errors import ShapeError


@pytest.mark.parametrize("make, in_shape, out_shape", [
    (lambda d: nn.Linear(784, 512, device=d), (8, 784), (8, 512)),
    (lambda d: nn.Linear(6, 3, bias=False, device=d), (2, 5, 6), (2, 5, 3)),
    (lambda d: nn.Conv2d(1, 8, 4, stride=2, padding=1, device=d), (2, 1, 28, 28),
     (2, 8, 14, 14)),
    (lambda d: nn.Conv2d(3, 4, (3, 5), padding=(1, 2), dilation=1, device=d), (2, 3, 9, 9),
     (2, 4, 9, 9)),
    (lambda d: nn.Conv2d(2, 3, 3, dilation=2, bias=False, device=d), (1, 2, 9, 9),
     (1, 3, 5, 5)),
    (lambda d: nn.ConvTranspose2d(8, 1, 4, stride=2, padding=1, device=d), (2, 8, 14, 14),
     (2, 1, 28, 28)),
    (lambda d: nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1, device=d),
     (1, 4, 7, 7), (1, 2, 14, 14)),
    (lambda d: nn.BatchNorm1d(5, device=d), (4, 5), (4, 5)),
    (lambda d: nn.BatchNorm1d(5, device=d), (4, 5, 3), (4, 5, 3)),
    (lambda d: nn.BatchNorm2d(3, device=d), (4, 3, 5, 5), (4, 3, 5, 5)),
    (lambda d: nn.Dropout(0.3), (4, 7), (4, 7)),
    (lambda d: nn.Flatten(), (4, 1, 28, 28), (4, 784)),
    (lambda d: nn.Unflatten(1, (1, 28, 28)), (4, 784), (4, 1, 28, 28)),
    (lambda d: nn.ReLU(), (3, 4), (3, 4)),
    (lambda d: nn.LeakyReLU(0.2), (3, 4), (3, 4)),
    (lambda d: nn.Sigmoid(), (3, 4), (3, 4)),
    (lambda d: nn.Tanh(), (3, 4), (3, 4)),
    (lambda d: nn.Identity(), (3, 4), (3, 4)),
    (lambda d: nn.LogSigmoid(), (3, 4), (3, 4)),
    (lambda d: nn.Softmax(dim=1), (3, 4), (3, 4)),
    (lambda d: nn.LogSoftmax(dim=-1), (3, 4), (3, 4)),
    (lambda d: nn.MaxPool2d(2), (2, 3, 8, 8), (2, 3, 4, 4)),
    (lambda d: nn.AvgPool2d(3, stride=1, padding=1), (2, 3, 8, 8), (2, 3, 8, 8)),
    (lambda d: nn.GELU(), (3, 4), (3, 4)),
    (lambda d: nn.GELU("tanh"), (3, 4), (3, 4)),
    (lambda d: nn.ELU(0.5), (3, 4), (3, 4)),
    (lambda d: nn.SiLU(), (3, 4), (3, 4)),
    (lambda d: nn.LayerNorm(4, device=d), (2, 3, 4), (2, 3, 4)),
    (lambda d: nn.LayerNorm((3, 4), bias=False, device=d), (2, 3, 4), (2, 3, 4)),
])
def test_forward_shapes(device: str, make, in_shape, out_shape) -> None:
    layer = make(device)
    x = minigen.randn(*in_shape, device=device)
    y = layer(x)
    assert y.shape == out_shape and y.device.type == device and y.dtype == minigen.float32
    if layer.parameters():
        y.sum().backward()
        for name, p in layer.named_parameters():
            assert p.grad is not None and p.grad.shape == p.shape, name


def test_dcgan_stack_on_device(device: str) -> None:
    discriminator = nn.Sequential(
        nn.Conv2d(1, 8, 4, 2, 1), nn.LeakyReLU(0.2),
        nn.Conv2d(8, 16, 4, 2, 1), nn.BatchNorm2d(16), nn.LeakyReLU(0.2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 1),
    ).to(device)
    generator = nn.Sequential(
        nn.Linear(10, 16 * 7 * 7), nn.Unflatten(1, (16, 7, 7)), nn.BatchNorm2d(16), nn.ReLU(),
        nn.ConvTranspose2d(16, 8, 4, 2, 1), nn.BatchNorm2d(8), nn.ReLU(),
        nn.ConvTranspose2d(8, 1, 4, 2, 1), nn.Tanh(),
    ).to(device)
    fake = generator(minigen.randn(4, 10, device=device))
    assert fake.shape == (4, 1, 28, 28)
    logits = discriminator(fake)
    F.binary_cross_entropy_with_logits(logits, minigen.ones(4, 1, device=device)).backward()
    for name, p in list(generator.named_parameters()) + list(discriminator.named_parameters()):
        assert p.grad is not None and p.grad.device.type == device, name


def test_linear_matches_numpy() -> None:
    layer = nn.Linear(5, 3)
    x = minigen.randn(4, 5)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    np.testing.assert_allclose(layer(x).detach().numpy(), x.numpy() @ w.T + b, rtol=1e-6)


def test_conv_layers_call_their_ops_with_their_weights() -> None:
    conv = nn.Conv2d(2, 3, 3, stride=2, padding=1)
    x = minigen.randn(2, 2, 8, 8)
    np.testing.assert_array_equal(
        conv(x).detach().numpy(),
        F.conv2d(x, conv.weight, conv.bias, 2, 1).detach().numpy())
    convt = nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1)
    y = minigen.randn(2, 3, 4, 4)
    assert convt.weight.shape == (3, 2, 4, 4)  # (in, out, kH, kW), as PyTorch
    np.testing.assert_array_equal(
        convt(y).detach().numpy(),
        F.conv_transpose2d(y, convt.weight, convt.bias, 2, 1).detach().numpy())


# ----------------------------------------------------------------------------- errors


def test_shape_errors_students_understand() -> None:
    with pytest.raises(ShapeError, match=r"Conv2d expected input of shape \(N, 1, H, W\), "
                                         r"got \(128, 784\)"):
        nn.Conv2d(1, 64, 4, 2, 1)(minigen.randn(128, 784))
    with pytest.raises(ShapeError, match=r"Linear\(in_features=784\) expected input "
                                         r"\(\.\.\., 784\), got \(128, 1, 28, 28\): flatten"):
        nn.Linear(784, 512)(minigen.randn(128, 1, 28, 28))
    with pytest.raises(ShapeError, match="last dimension"):
        nn.Linear(784, 512)(minigen.randn(128, 100))
    with pytest.raises(ShapeError, match=r"\(N, 3, H, W\), got \(2, 1, 8, 8\)"):
        nn.Conv2d(3, 4, 3)(minigen.randn(2, 1, 8, 8))
    with pytest.raises(ShapeError, match="unsqueeze"):
        nn.Conv2d(1, 4, 3)(minigen.randn(1, 8, 8))
    with pytest.raises(ShapeError, match="smaller than the kernel"):
        nn.Conv2d(1, 4, 5)(minigen.randn(1, 1, 3, 3))
    with pytest.raises(ShapeError, match=r"ConvTranspose2d expected input of shape \(N, 8"):
        nn.ConvTranspose2d(8, 1, 4, 2, 1)(minigen.randn(2, 4, 7, 7))
    with pytest.raises(ShapeError, match=r"BatchNorm1d\(5\) expected input of shape \(N, 5\) "
                                         r"or \(N, 5, L\), got \(4, 5, 2, 2\)"):
        nn.BatchNorm1d(5)(minigen.randn(4, 5, 2, 2))
    with pytest.raises(ShapeError, match="BatchNorm1d"):
        nn.BatchNorm2d(5)(minigen.randn(4, 5))
    with pytest.raises(ShapeError, match="more than 1 value per channel"):
        nn.BatchNorm1d(5)(minigen.randn(1, 5))
    with pytest.raises(ShapeError, match="needs size 784"):
        nn.Unflatten(1, (1, 28, 28))(minigen.randn(2, 780))


def test_constructor_errors() -> None:
    with pytest.raises(NotImplementedError, match="groups"):
        nn.Conv2d(4, 4, 3, groups=2)
    with pytest.raises(ValueError, match="output_padding"):
        nn.ConvTranspose2d(4, 4, 3, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="kernel_size"):
        nn.Conv2d(1, 1, (3, 3, 3))
    with pytest.raises(ValueError, match="probability"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="average")


def test_conv_transpose_output_size() -> None:
    layer = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    x = minigen.randn(1, 4, 7, 7)
    assert layer(x).shape == (1, 2, 13, 13)
    assert layer(x, output_size=(14, 14)).shape == (1, 2, 14, 14)
    assert layer(x, output_size=(1, 2, 13, 14)).shape == (1, 2, 13, 14)
    assert layer.output_padding_for((7, 7), (14, 13)) == (1, 0)
    with pytest.raises(ShapeError, match="13..14 with output_padding 0..1"):
        layer(x, output_size=(28, 28))
    dcgan = nn.ConvTranspose2d(64, 1, 4, 2, 1)
    assert dcgan.output_shape(7, 7) == (14, 14) and dcgan.output_shape(14, 14) == (28, 28)
    # PyTorch's output_size reaches output_padding 0..stride-1, even where the dilation
    # would allow more (output_padding itself may be below max(stride, dilation))
    dilated = nn.ConvTranspose2d(1, 1, 3, stride=1, dilation=3)
    assert dilated(minigen.zeros(1, 1, 3, 3), output_size=(9, 9)).shape == (1, 1, 9, 9)
    with pytest.raises(ShapeError, match="9..9 with output_padding 0..0"):
        dilated(minigen.zeros(1, 1, 3, 3), output_size=(10, 10))
    assert nn.Conv2d(1, 64, 4, 2, 1).output_shape(28, 28) == (14, 14)
    # output_size decides the size: with output_padding 0 this layer would make an empty
    # output (H: (2 - 1) * 4 - 2 * 3 + 1 = -1), with (3, 1) it makes (2, 4), as in PyTorch
    # (found by benchmarks/against_torch.py: a layer check refused it)
    wide = nn.ConvTranspose2d(4, 3, (1, 3), stride=(4, 2), padding=3)
    assert wide(minigen.randn(2, 4, 2, 4), output_size=(2, 4)).shape == (2, 3, 2, 4)


# ----------------------------------------------------------------------------- batch norm


def test_batchnorm_train_uses_batch_statistics_and_updates_buffers() -> None:
    bn = nn.BatchNorm2d(3, momentum=0.2)
    mean_buffer = bn.running_mean
    x = minigen.randn(8, 3, 4, 4) * 3.0 + 2.0
    y = bn(x).detach().numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1.0, rtol=1e-3)
    xs = x.numpy()
    assert bn.running_mean is mean_buffer  # the buffer object stays; its data is updated
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.2 * xs.mean(axis=(0, 2, 3)),
                               rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(),
                               0.8 + 0.2 * xs.var(axis=(0, 2, 3), ddof=1), rtol=1e-5)
    assert bn.num_batches_tracked.item() == 1


def test_batchnorm_eval_uses_running_statistics() -> None:
    bn = nn.BatchNorm1d(4)
    for _ in range(3):
        bn(minigen.randn(16, 4) + 1.0)
    bn.eval()
    before = bn.running_mean.numpy().copy()
    x = minigen.randn(2, 4)
    expected = (x.numpy() - before) / np.sqrt(bn.running_var.numpy() + bn.eps)
    np.testing.assert_allclose(bn(x).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(bn.running_mean.numpy(), before)  # eval changes nothing
    assert bn.num_batches_tracked.item() == 3


def test_batchnorm_cumulative_average_and_no_tracking() -> None:
    bn = nn.BatchNorm1d(2, momentum=None)
    batches = [minigen.randn(10, 2) + i for i in range(3)]
    for b in batches:
        bn(b)
    means = np.mean([b.numpy().mean(axis=0) for b in batches], axis=0)
    np.testing.assert_allclose(bn.running_mean.numpy(), means, rtol=1e-5)
    free = nn.BatchNorm1d(2, track_running_stats=False, affine=False)
    assert free.parameters() == [] and free.buffers() == []
    assert "running_mean" not in free.state_dict()
    free.eval()  # no running statistics: batch statistics even in eval mode
    y = free(minigen.randn(10, 2) * 5.0).detach().numpy()
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-5)


def test_batchnorm_state_round_trip() -> None:
    bn = nn.BatchNorm2d(3)
    bn(minigen.randn(4, 3, 2, 2))
    other = nn.BatchNorm2d(3)
    other.load_state_dict(bn.state_dict())
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        np.testing.assert_array_equal(getattr(other, name).numpy(), getattr(bn, name).numpy())
    assert other.num_batches_tracked.dtype == minigen.int64
    bn.reset_running_stats()
    assert bn.num_batches_tracked.item() == 0 and float(bn.running_var.sum()) == 3.0


# ----------------------------------------------------------------------------- dropout, losses


def test_dropout_train_and_eval() -> None:
    drop = nn.Dropout(0.25)
    y = drop(minigen.ones(10000)).numpy()
    assert set(np.unique(y)) == {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.02
    drop.eval()
    x = minigen.randn(5)
    assert drop(x) is x or np.array_equal(drop(x).numpy(), x.numpy())
    minigen.manual_seed(3)
    a = nn.Dropout()(minigen.ones(50)).numpy()
    minigen.manual_seed(3)
    np.testing.assert_array_equal(nn.Dropout()(minigen.ones(50)).numpy(), a)


@pytest.mark.parametrize("module, function", [
    (nn.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits),
    (nn.MSELoss, F.mse_loss),
    (nn.L1Loss, F.l1_loss),
    (nn.SmoothL1Loss, F.smooth_l1_loss),
])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_modules_match_functions(module, function, reduction) -> None:
    x, y = minigen.randn(4, 3), minigen.rand(4, 3)
    np.testing.assert_array_equal(module(reduction=reduction)(x, y).numpy(),
                                  function(x, y, reduction=reduction).numpy())


def test_bce_loss_on_probabilities() -> None:
    p, y = minigen.rand(6) * 0.98 + 0.01, minigen.rand(6)
    expected = -(y.numpy() * np.log(p.numpy()) + (1 - y.numpy()) * np.log(1 - p.numpy()))
    np.testing.assert_allclose(nn.BCELoss()(p, y).item(), expected.mean(), rtol=1e-5)
    assert repr(nn.BCELoss(reduction="sum")) == "BCELoss(reduction='sum')"


def test_bce_loss_modules_keep_weight_and_pos_weight_as_buffers() -> None:
    """As PyTorch's: BCELoss(weight), BCEWithLogitsLoss(weight, pos_weight=...), the tensors
    saved in state_dict under those names, the loss the function's."""
    w, pw = minigen.tensor([1.0, 2.0, 0.5]), minigen.tensor([3.0, 1.0, 2.0])
    x, y = minigen.randn(4, 3), minigen.rand(4, 3)
    loss = nn.BCEWithLogitsLoss(w, pos_weight=pw)
    assert list(loss.state_dict()) == ["weight", "pos_weight"]
    np.testing.assert_array_equal(
        loss(x, y).numpy(), F.binary_cross_entropy_with_logits(x, y, w, pos_weight=pw).numpy())
    assert list(nn.BCELoss(w).state_dict()) == ["weight"] and not nn.BCELoss().state_dict()
    p = minigen.rand(4, 3) * 0.9 + 0.05
    np.testing.assert_array_equal(nn.BCELoss(w, reduction="sum")(p, y).numpy(),
                                  F.binary_cross_entropy(p, y, w, reduction="sum").numpy())


def test_softplus_module_takes_beta_and_threshold() -> None:
    layer = nn.Softplus(beta=2.0, threshold=5.0)
    assert repr(layer) == "Softplus(beta=2.0, threshold=5.0)"
    x = minigen.tensor([1.0, 10.0], dtype="float64")
    np.testing.assert_allclose(layer(x).numpy(), [np.log1p(np.exp(2.0)) / 2, 10.0])
    assert F.logsigmoid is F.log_sigmoid  # PyTorch's spelling too
