"""minigen.nn: parameter discovery, state dicts, modes, moves, repr, init and layer shapes."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigen
from minigen import nn
from minigen.errors import DTypeError, ShapeError


class Net(nn.Module):
    """Parameters in every kind of place: attributes, lists, dicts, nested Sequentials."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.main = nn.Sequential(nn.Linear(3, 3), nn.ReLU(),
                                  nn.Sequential(nn.Linear(3, 2), nn.Tanh()))
        self.blocks = [nn.Linear(2, 2), [nn.Linear(2, 2, bias=False)]]
        self.heads = {"mu": nn.Linear(2, 1), "logvar": nn.Linear(2, 1)}
        self.scale = nn.Parameter(minigen.ones(1))
        self.bn = nn.BatchNorm1d(3)
        self.not_a_parameter = minigen.ones(5)  # a plain tensor is neither param nor buffer
        self.name = "net"

    def forward(self, x):
        h = self.bn(self.fc1(x))
        h = self.main(h)
        for block in (self.blocks[0], self.blocks[1][0]):
            h = block(h)
        return self.heads["mu"](h) * self.scale, self.heads["logvar"](h)


EXPECTED_NAMES = [
    "fc1.weight", "fc1.bias", "main.0.weight", "main.0.bias", "main.2.0.weight",
    "main.2.0.bias", "blocks.0.weight", "blocks.0.bias", "blocks.1.0.weight",
    "heads.mu.weight", "heads.mu.bias", "heads.logvar.weight", "heads.logvar.bias", "scale",
    "bn.weight", "bn.bias",
]


def test_named_parameters_in_nested_containers() -> None:
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert sorted(names) == sorted(EXPECTED_NAMES)
    assert names.index("fc1.weight") < names.index("main.0.weight")  # attribute order
    params = net.parameters()
    assert len(params) == len(EXPECTED_NAMES)
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in params)
    assert len({id(p) for p in params}) == len(params)


def test_every_parameter_gets_a_gradient() -> None:
    net = Net()
    mu, logvar = net(minigen.randn(5, 4))
    (mu.sum() + logvar.sum()).backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and p.grad.shape == p.shape, name
        assert type(p.grad) is minigen.Tensor  # gradients are plain tensors


def test_ops_on_parameters_give_plain_tensors() -> None:
    p = nn.Parameter(minigen.ones(2, 2))
    assert type(p * 2) is minigen.Tensor and type(p.T) is minigen.Tensor
    assert "Parameter containing" in repr(p)


def test_shared_parameter_counted_once() -> None:
    shared = nn.Linear(3, 3)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(model.parameters()) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_children_and_modules() -> None:
    net = Net()
    child_names = [n for n, _ in net.named_children()]
    assert child_names == ["fc1", "main", "blocks.0", "blocks.1.0", "heads.mu", "heads.logvar",
                           "bn"]
    assert len(list(net.modules())) == 1 + 7 + 5  # net, its children, the 5 inside main


def test_cycle_is_visited_once() -> None:
    a = nn.Sequential(nn.Linear(2, 2))
    a.parent = a  # a back-reference must not loop forever
    assert len(list(a.modules())) == 2


def test_buffers_in_state_dict_not_in_parameters() -> None:
    net = Net()
    buffer_names = {n for n, _ in net.named_buffers()}
    assert buffer_names == {"bn.running_mean", "bn.running_var", "bn.num_batches_tracked"}
    param_ids = {id(p) for p in net.parameters()}
    assert not any(id(b) in param_ids for b in net.buffers())
    sd = net.state_dict()
    assert set(sd) == set(EXPECTED_NAMES) | buffer_names
    assert "not_a_parameter" not in sd
    # PyTorch's order: each module's parameters, then its buffers
    keys = list(sd)
    assert keys.index("bn.bias") + 1 == keys.index("bn.running_mean")


def test_state_dict_round_trip_copies() -> None:
    a, b = Net(), Net()
    b.load_state_dict(a.state_dict())
    for (name, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items()):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy(), err_msg=name)
    b.fc1.weight.data[0, 0] = 123.0  # a copy, not shared memory
    assert a.fc1.weight.data[0, 0] != 123.0


def test_load_state_dict_keeps_module_dtype_and_accepts_arrays() -> None:
    model = nn.Linear(3, 2)
    sd = {"weight": np.ones((2, 3), dtype=np.float64), "bias": np.zeros(2)}
    model.load_state_dict(sd)
    assert model.weight.dtype == minigen.float32
    np.testing.assert_array_equal(model.weight.detach().numpy(), np.ones((2, 3)))


def test_load_state_dict_names_every_problem() -> None:
    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    other = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 2))
    with pytest.raises(ShapeError) as info:
        model.load_state_dict(other.state_dict())
    message = str(info.value)
    for key in ("1.weight", "1.bias", "2.weight", "2.bias"):  # missing and unexpected
        assert key in message
    assert "0.weight: saved (5, 4), model (3, 4)" in message
    assert "another architecture" in message


def test_load_state_dict_not_strict() -> None:
    model = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    sd = {"0.weight": minigen.zeros(3, 4), "extra": minigen.zeros(1)}
    result = model.load_state_dict(sd, strict=False)
    assert result["unexpected_keys"] == ["extra"] and "1.weight" in result["missing_keys"]
    assert float(model[0].weight.abs().sum()) == 0.0
    with pytest.raises(ShapeError, match="0.weight"):  # shapes are checked even then
        model.load_state_dict({"0.weight": minigen.zeros(4, 4)}, strict=False)


def test_train_eval_propagates() -> None:
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.main.train()
    assert net.main[2][1].training and not net.bn.training


def test_to_dtype_in_place_keeps_parameter_objects() -> None:
    net = Net()
    before = [id(p) for p in net.parameters()]
    net.to(minigen.float64)
    assert [id(p) for p in net.parameters()] == before
    assert all(p.dtype == minigen.float64 for p in net.parameters())
    assert net.bn.running_mean.dtype == minigen.float64
    assert net.bn.num_batches_tracked.dtype == minigen.int64  # integer buffers stay
    net.to("float32")
    assert net.fc1.weight.dtype == minigen.float32
    with pytest.raises(DTypeError):
        net.to(minigen.int32)


def test_to_device_moves_parameters_buffers_and_grads() -> None:
    net = Net()
    net(minigen.randn(5, 4))[0].sum().backward()
    net.to("strict")
    for t in net.parameters() + net.buffers():
        assert t.device.type == "strict"
    assert net.fc1.weight.grad.device.type == "strict"
    out, _ = net(minigen.randn(5, 4, device="strict"))
    assert out.shape == (5, 1) and out.device.type == "strict"


def test_zero_grad() -> None:
    model = nn.Linear(3, 2)
    model(minigen.randn(4, 3)).sum().backward()
    grad = model.weight.grad
    model.zero_grad(set_to_none=False)
    assert float(model.weight.grad.abs().sum()) == 0.0
    assert float(grad.abs().sum()) > 0  # the old gradient array was not zeroed in place
    model.zero_grad()
    assert model.weight.grad is None and model.bias.grad is None


def test_repr_tree() -> None:
    model = nn.Sequential(nn.Linear(784, 512), nn.LeakyReLU(0.2),
                          nn.Sequential(nn.Linear(512, 1), nn.Sigmoid()))
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=784, out_features=512, bias=True)\n"
        "  (1): LeakyReLU(negative_slope=0.2)\n"
        "  (2): Sequential(\n"
        "    (0): Linear(in_features=512, out_features=1, bias=True)\n"
        "    (1): Sigmoid()\n"
        "  )\n"
        ")"
    )
    assert "(fc1): Linear(in_features=4, out_features=3, bias=True)" in repr(Net())


def test_sequential_indexing() -> None:
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    seq = nn.Sequential(*layers)
    assert len(seq) == 3 and seq[0] is layers[0] and list(seq) == layers
    assert isinstance(seq[1:], nn.Sequential) and len(seq[1:]) == 2
    with pytest.raises(TypeError, match="argument 1"):
        nn.Sequential(nn.ReLU(), "relu")


def test_module_list() -> None:
    blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    blocks.append(nn.Linear(2, 1))
    assert len(blocks) == 4
    assert [n for n, _ in blocks.named_parameters()][-2:] == ["3.weight", "3.bias"]
    assert repr(blocks).startswith("ModuleList(\n  (0): Linear(")


def test_requires_grad_freezes() -> None:
    model = nn.Linear(2, 2).requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())


# ----------------------------------------------------------------------------- init


@pytest.mark.parametrize("layer, fan_in", [
    (lambda: nn.Linear(784, 512), 784),
    (lambda: nn.Conv2d(3, 16, 4), 3 * 16),
    (lambda: nn.ConvTranspose2d(16, 8, 4), 8 * 16),  # fan_in from weight.shape[1] = out
])
def test_default_init_is_pytorch_uniform(layer, fan_in) -> None:
    module = layer()
    bound = 1.0 / math.sqrt(fan_in)
    for p in (module.weight, module.bias):
        values = p.numpy() if not p.requires_grad else p.detach().numpy()
        assert values.dtype == np.float32
        assert np.all(np.abs(values) <= bound)
    w = module.weight.detach().numpy().ravel()
    # U(-b, b) has standard deviation b / sqrt(3), and fills its range
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert w.max() > 0.9 * bound and w.min() < -0.9 * bound


def test_init_repeats_with_manual_seed() -> None:
    minigen.manual_seed(7)
    a = nn.Linear(5, 5).weight.detach().numpy()
    minigen.manual_seed(7)
    b = nn.Linear(5, 5).weight.detach().numpy()
    c = nn.Linear(5, 5).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(b, c)


def test_init_functions_distributions() -> None:
    w = nn.Parameter(minigen.zeros(400, 300))
    fan_in, fan_out = 300, 400
    checks = [
        (lambda: nn.init.uniform_(w, -2.0, 3.0), 0.5, 5 / math.sqrt(12)),
        (lambda: nn.init.normal_(w, 1.0, 0.02), 1.0, 0.02),
        (lambda: nn.init.xavier_uniform_(w, gain=2.0), 0.0, 2 * math.sqrt(2 / 700)),
        (lambda: nn.init.xavier_normal_(w), 0.0, math.sqrt(2 / 700)),
        (lambda: nn.init.kaiming_uniform_(w, nonlinearity="relu"), 0.0, math.sqrt(2 / fan_in)),
        (lambda: nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"), 0.0,
         math.sqrt(2 / fan_out)),
        (lambda: nn.init.kaiming_normal_(w, a=0.2), 0.0, math.sqrt(2 / 1.04 / fan_in)),
    ]
    for fill, mean, std in checks:
        ident = id(w)
        fill()
        values = w.detach().numpy()
        assert id(w) == ident and values.dtype == np.float32 and w.requires_grad
        assert abs(values.mean() - mean) < 0.02 * max(std, 1e-3) * 10
        assert abs(values.std() - std) < 0.02 * std
    nn.init.constant_(w, 0.5)
    assert np.all(w.detach().numpy() == 0.5)
    nn.init.zeros_(w)
    assert not np.any(w.detach().numpy())
    nn.init.ones_(w)
    assert np.all(w.detach().numpy() == 1)


def test_calculate_gain() -> None:
    assert nn.init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert nn.init.calculate_gain("conv2d") == 1.0
    with pytest.raises(ValueError):
        nn.init.calculate_gain("swish")


def test_init_on_device(device: str) -> None:
    layer = nn.Linear(6, 4, device=device)
    assert layer.weight.device.type == device
    assert float(layer.weight.abs().max()) <= 1 / math.sqrt(6)
    nn.init.normal_(layer.weight, 0.0, 0.02)
    assert layer.weight.device.type == device and layer.weight.dtype == minigen.float32


def test_apply_visits_children_first_and_returns_the_module() -> None:
    """PyTorch's order (what ``model.apply(weights_init)`` relies on): every sub-module,
    depth first, before the module itself."""
    model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)))
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "ReLU", "Linear", "Sequential", "Sequential"]


def test_inplace_is_accepted_and_changes_nothing() -> None:
    """PyTorch code writes nn.ReLU(True), nn.LeakyReLU(0.2, inplace=True),
    nn.Dropout(p, inplace=True): the same results, and the input is left as it was."""
    x = minigen.tensor([-1.0, 2.0])
    assert nn.ReLU(True)(x).tolist() == [0.0, 2.0]
    assert nn.LeakyReLU(0.5, inplace=True)(x).tolist() == [-0.5, 2.0]
    assert nn.Dropout(0.5, inplace=True).eval()(x).tolist() == [-1.0, 2.0]
    assert x.tolist() == [-1.0, 2.0]
