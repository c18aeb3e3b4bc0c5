"""Errors that teach: each names the problem (the shapes, dtypes, devices, files, names) and,
where there is one, the fix. Every assertion is on the message, not only on the type.

Covered: shape mismatches in every op and layer (with the layer's expected layout), dtype and
device mixing, integer and boolean tensors where gradients are asked, backward on a non-scalar,
a second backward through a freed graph, optimizers given no parameters or one twice,
load_state_dict from another architecture, data files missing, truncated or not IDX, unknown
devices (and "cuda" without CuPy or without a GPU), and detect_anomaly (as a context manager
and as a flag) naming the op, its input shapes and the user's line that created it.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minigen
import minigen.functional as F
from minigen import backend, nn, ops, optim
from minigen.data import MNIST, read_idx, write_idx
from minigen.errors import (
    AnomalyError,
    DataError,
    DeviceError,
    DTypeError,
    GraphError,
    ShapeError,
)


def message(fn: Any, error: type[BaseException]) -> str:
    with pytest.raises(error) as info:
        fn()
    return str(info.value)


def contains(text: str, *parts: str) -> None:
    for part in parts:
        assert part in text, f"{part!r} not in the message:\n{text}"


x43, x53 = minigen.randn(4, 3), minigen.randn(5, 3)
img = minigen.randn(2, 1, 28, 28)

# --------------------------------------------------------------------------- shapes, per op


OP_SHAPE_ERRORS = {  # name: (call, error, what the message must show)
    "add": (lambda: x43 + x53, ShapeError, ["(4, 3)", "(5, 3)", "broadcast"]),
    "sub": (lambda: ops.sub(x43, x53), ShapeError, ["(4, 3)", "(5, 3)"]),
    "mul": (lambda: ops.mul(x43, minigen.randn(4)), ShapeError, ["(4, 3)", "(4,)"]),
    "div": (lambda: ops.div(x43, x53), ShapeError, ["(4, 3)", "(5, 3)"]),
    "pow": (lambda: ops.pow(x43, x53), ShapeError, ["(4, 3)", "(5, 3)"]),
    "maximum": (lambda: ops.maximum(x43, x53), ShapeError, ["(4, 3)", "(5, 3)"]),
    "minimum": (lambda: ops.minimum(x43, x53), ShapeError, ["(4, 3)", "(5, 3)"]),
    "where": (lambda: ops.where(x53 > 0, x43, 0.0), ShapeError, ["(5, 3)", "(4, 3)"]),
    "matmul": (lambda: x43 @ x53, ShapeError, ["(4, 3)", "(5, 3)", "3 != 5"]),
    "matmul batch": (lambda: minigen.randn(2, 4, 3) @ minigen.randn(3, 3, 2), ShapeError,
                     ["(2, 4, 3)", "(3, 3, 2)", "batch"]),
    "linear": (lambda: ops.linear(x43, minigen.randn(2, 5)), ShapeError,
               ["(4, 3)", "(2, 5)", "(..., 5)"]),
    "linear bias": (lambda: ops.linear(x43, minigen.randn(2, 3), minigen.randn(3)),
                    ShapeError, ["(3,)", "(2,)"]),
    "sum": (lambda: x43.sum(dim=2), ShapeError, ["dim 2", "2 dimension"]),
    "mean": (lambda: x43.mean(dim=-3), ShapeError, ["dim -3", "2 dimension"]),
    "max": (lambda: minigen.zeros(0, 3).max(), ShapeError, ["(0, 3)", "no elements"]),
    "min": (lambda: x43.min(dim=(0, 0)), ShapeError, ["twice"]),
    "var": (lambda: x43.var(dim="rows"), ShapeError, ["dim", "'rows'", "int"]),
    "logsumexp": (lambda: x43.logsumexp(dim=5), ShapeError, ["dim 5"]),
    "softmax": (lambda: F.softmax(x43, dim=2), ShapeError, ["dim 2"]),
    "log_softmax": (lambda: F.log_softmax(x43, dim=None), ShapeError, ["dim", "None"]),
    "reshape": (lambda: x43.reshape(5, -1), ShapeError, ["(4, 3)", "12 elements", "(5, -1)"]),
    "permute": (lambda: x43.permute(0, 2), ShapeError, ["(0, 2)", "(4, 3)"]),
    "transpose": (lambda: x43.transpose(0, 2), ShapeError, ["dim 2"]),
    "unsqueeze": (lambda: x43.unsqueeze(4), ShapeError, ["dim 4"]),
    "squeeze": (lambda: x43.squeeze(3), ShapeError, ["dim 3"]),
    "expand": (lambda: x43.expand(4, 5), ShapeError, ["(4, 3)", "(4, 5)"]),
    "flatten": (lambda: img.flatten(3, 1), ShapeError, ["start_dim 3", "end_dim 1"]),
    "getitem": (lambda: x43[4], IndexError, ["index 4", "size 4", "(4, 3)"]),
    "getitem many": (lambda: x43[0, 0, 0], IndexError, ["too many", "(4, 3)"]),
    "getitem array": (lambda: x43[[0, 7]], IndexError, ["out of range", "size 4"]),
    "cat": (lambda: ops.cat([x43, minigen.randn(4, 2)], dim=0), ShapeError,
            ["(4, 3)", "(4, 2)"]),
    "stack": (lambda: ops.stack([x43, x53]), ShapeError, ["(4, 3)", "(5, 3)"]),
    "pad": (lambda: ops.pad(x43, (1, -1)), ShapeError, ["non-negative", "(1, -1)"]),
    "mse_loss": (lambda: F.mse_loss(x43, x53), ShapeError, ["(4, 3)", "(5, 3)"]),
    "binary_cross_entropy": (lambda: F.binary_cross_entropy(x43.sigmoid(), x53), ShapeError,
                             ["(4, 3)", "(5, 3)"]),
    "binary_cross_entropy_with_logits": (
        lambda: F.binary_cross_entropy_with_logits(x43, minigen.zeros(4, 2)), ShapeError,
        ["(4, 3)", "(4, 2)"]),
    "conv2d": (lambda: F.conv2d(img, minigen.randn(8, 3, 4, 4)), ShapeError,
               ["(N, 3, H, W)", "(2, 1, 28, 28)", "3 input channels"]),
    "conv2d kernel": (lambda: F.conv2d(minigen.randn(1, 1, 2, 2), minigen.randn(1, 1, 3, 3)),
                      ShapeError, ["spans 3 pixels", "only 2"]),
    "conv_transpose2d": (lambda: F.conv_transpose2d(img, minigen.randn(8, 3, 4, 4)),
                         ShapeError, ["(N, 8, H, W)", "(2, 1, 28, 28)"]),
    "conv_transpose2d output_padding": (
        lambda: F.conv_transpose2d(img, minigen.randn(1, 3, 4, 4), stride=2, output_padding=2),
        ShapeError, ["output_padding (2, 2)", "stride (2, 2)"]),
    "batch_norm": (lambda: F.batch_norm(x43, minigen.zeros(4), minigen.ones(3)), ShapeError,
                   ["running_mean", "(4,)", "(3,)"]),
    "batch_norm one value": (
        lambda: F.batch_norm(minigen.randn(1, 3), None, None, training=True), ShapeError,
        ["more than 1 value per channel", "(1, 3)"]),
    "dropout": (lambda: F.dropout(x43, p=1.5), ValueError, ["[0, 1]", "1.5"]),
}


@pytest.mark.parametrize("name", sorted(OP_SHAPE_ERRORS))
def test_every_op_names_the_shapes(name: str) -> None:
    fn, error, parts = OP_SHAPE_ERRORS[name]
    contains(message(fn, error), *parts)


LAYER_ERRORS = {  # layer, input shape, the expected layout and the hint in the message
    "Linear": (lambda: nn.Linear(5, 2), (4, 3), ["(..., 5)", "(4, 3)", "features"]),
    "Linear on images": (lambda: nn.Linear(784, 10), (2, 1, 28, 28),
                         ["(..., 784)", "(2, 1, 28, 28)", "flatten"]),
    "Conv2d on flat rows": (lambda: nn.Conv2d(1, 8, 3), (2, 784),
                            ["(N, 1, H, W)", "(2, 784)", "reshape(-1, 1, 28, 28)"]),
    "Conv2d without batch": (lambda: nn.Conv2d(1, 8, 3), (1, 28, 28),
                             ["(N, 1, H, W)", "unsqueeze(0)"]),
    "Conv2d channels": (lambda: nn.Conv2d(3, 8, 3), (2, 1, 28, 28), ["(N, 3, H, W)"]),
    "ConvTranspose2d": (lambda: nn.ConvTranspose2d(16, 8, 4), (2, 8, 7, 7),
                        ["(N, 16, H, W)", "(2, 8, 7, 7)"]),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(5), (4, 3), ["(N, 5)", "(4, 3)"]),
    "BatchNorm2d on features": (lambda: nn.BatchNorm2d(5), (4, 5),
                                ["(N, 5, H, W)", "BatchNorm1d"]),
    "BatchNorm1d batch of one": (lambda: nn.BatchNorm1d(3), (1, 3),
                                 ["(1, 3)", "batch of one", ".eval()"]),
    "Unflatten": (lambda: nn.Unflatten(1, (1, 28, 28)), (4, 3), ["784", "(4, 3)"]),
    "Flatten": (lambda: nn.Flatten(2), (4, 3), ["start_dim=2", "(4, 3)"]),
}


@pytest.mark.parametrize("name", sorted(LAYER_ERRORS))
def test_every_layer_names_the_expected_layout(name: str) -> None:
    make, shape, parts = LAYER_ERRORS[name]
    contains(message(lambda: make()(minigen.randn(*shape)), ShapeError), *parts)


@pytest.mark.parametrize("make, parts", [
    (lambda: nn.Linear(0, 3), ["Linear", "in_features", "positive", "0"]),
    (lambda: nn.Conv2d(1, -8, 3), ["Conv2d", "out_channels", "-8"]),
    (lambda: nn.BatchNorm1d(2.5), ["num_features", "2.5"]),
    (lambda: nn.Dropout(1.5), ["[0, 1]", "1.5"]),
    (lambda: nn.Conv2d(1, 8, 3, stride=0), ["stride", ">= 1"]),
])
def test_layer_constructors_name_the_bad_argument(make: Any, parts: list[str]) -> None:
    contains(message(make, ValueError), *parts)


# --------------------------------------------------------------------------- dtypes, devices


def test_mixing_float32_and_float64_names_both_and_the_cast() -> None:
    text = message(lambda: x43 + x43.double(), DTypeError)
    contains(text, "float32", "float64", "never casts silently", ".to(")


def test_mixing_float_and_integer_tensors_names_the_cast() -> None:
    text = message(lambda: x43 * minigen.tensor([1, 2, 3]), DTypeError)
    contains(text, "float32", "int64", ".to(minigen.float32)")
    contains(message(lambda: minigen.arange(3) * 0.5, DTypeError), "int64", "float64",
             ".float()")
    contains(message(lambda: minigen.arange(3) / minigen.arange(1, 4), DTypeError),
             "div", ".float()")
    contains(message(lambda: minigen.exp(minigen.arange(3)), DTypeError), "exp", "floating",
             "int64", ".float()")


def test_boolean_tensors_in_arithmetic() -> None:
    mask = x43 > 0
    contains(message(lambda: x43 * mask, DTypeError), "bool", ".float()")
    contains(message(lambda: -mask, DTypeError), "neg", "bool")


def test_a_float64_numpy_array_is_not_cast_silently() -> None:
    """The fix is said for the array (which has no .to()), and the side it is on."""
    contains(message(lambda: x43 + np.ones((4, 3)), DTypeError), "right operand",
             "numpy.ndarray of float64", "float32 tensor",
             "minigen.tensor(x, dtype=minigen.float32, device='cpu')")
    on_strict = minigen.ones(4, 3, device="strict")
    contains(message(lambda: np.ones((4, 3), np.float32) + on_strict, DeviceError),
             "numpy.ndarray on cpu", "tensor on strict", "device='strict")
    contains(message(lambda: np.ones((2, 4)) @ x43, DTypeError), "left operand",
             "numpy.ndarray of float64", "minigen.tensor(x, dtype=minigen.float32")


@pytest.mark.parametrize("data, error, parts", [
    ([[1.0, 2.0], [3.0]], ShapeError, ["ragged", "data[0] has shape (2,)",
                                       "data[1] has shape (1,)", "same length"]),
    ([1.0, [2.0]], ShapeError, ["ragged", "data[0] has shape ()", "data[1] has shape (1,)"]),
    ("abc", DTypeError, ["takes a real number, nested lists of them or an array", "got a str"]),
    ({"a": 1}, DTypeError, ["got a dict"]),
    ([[1, 2], [3, "x"]], DTypeError, ["data[1][1] is a str 'x'"]),
    ([None], DTypeError, ["data[0] is a NoneType"]),
])
@pytest.mark.parametrize("on", ["cpu", "strict"])
def test_tensor_from_data_it_cannot_hold(on: str, data: Any, error: type,
                                         parts: list[str]) -> None:
    """NumPy's "inhomogeneous shape" and array_api_compat's "'str' object has no attribute
    'device'" leaked before; now the element at fault is named."""
    contains(message(lambda: minigen.tensor(data, device=on), error), *parts)


def test_mixing_devices_names_both_and_the_move() -> None:
    other = minigen.randn(4, 3, device="strict")
    text = message(lambda: x43 + other, DeviceError)
    contains(text, "two devices", "cpu", "strict", ".to(")
    contains(message(lambda: ops.where(other > 0, x43, 0.0), DeviceError), "condition",
             "strict", "cpu")


# --------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("make", [
    lambda: minigen.tensor([1, 2], requires_grad=True),
    lambda: minigen.arange(3).requires_grad_(),
    lambda: (x43 > 0).requires_grad_(),
    lambda: nn.Parameter(minigen.tensor([1, 2])),
    lambda: minigen.ones(2, dtype="int64", requires_grad=True),
])
def test_integer_and_bool_tensors_cannot_require_grad(make: Any) -> None:
    contains(message(make, DTypeError), "only floating tensors can require grad", ".float()")


def test_gradients_stop_at_integer_results() -> None:
    x = minigen.randn(3, requires_grad=True)
    assert not x.long().requires_grad and not (x > 0).requires_grad
    contains(message(lambda: x.long().sum().backward(), GraphError), "int64", "no gradient")
    contains(message(lambda: (x.detach() * 2).sum().backward(), GraphError),
             "does not require grad", "no_grad")


def test_backward_on_a_non_scalar_says_to_reduce() -> None:
    y = minigen.randn(2, 3, requires_grad=True) * 2
    contains(message(y.backward, GraphError), "(2, 3)", ".sum()", "gradient=")
    contains(message(lambda: y.backward(minigen.ones(3)), ShapeError), "(3,)", "(2, 3)")


def test_second_backward_through_a_freed_graph_says_retain_graph() -> None:
    a = minigen.randn(3, requires_grad=True)
    loss = (a.exp() * a).sum()
    loss.backward()
    contains(message(loss.backward, GraphError), "second time", "retain_graph=True")
    b = minigen.randn(3, requires_grad=True)
    kept = (b.exp() * b).sum()
    kept.backward(retain_graph=True)
    kept.backward()  # the fix works: gradients add up
    b_np = b.detach().numpy()
    np.testing.assert_allclose(b.grad.numpy(), 2 * (np.exp(b_np) * (1 + b_np)),
                               rtol=1e-6)


def test_higher_order_gradients_are_a_stated_non_goal() -> None:
    loss = (minigen.randn(3, requires_grad=True) ** 2).sum()
    contains(message(lambda: loss.backward(create_graph=True), GraphError), "higher-order")


# --------------------------------------------------------------------------- optimizers


def test_optimizer_without_parameters() -> None:
    contains(message(lambda: optim.Adam([]), ValueError), "Adam", "empty parameter list",
             "model.parameters()")
    contains(message(lambda: optim.SGD(nn.Sequential(nn.ReLU()).parameters(), lr=0.1),
                     ValueError), "SGD", "empty")
    contains(message(lambda: optim.SGD(minigen.randn(3, requires_grad=True), lr=0.1),
                     TypeError), "single tensor", "list")


def test_optimizer_given_a_parameter_twice() -> None:
    layer = nn.Linear(3, 2)
    text = message(lambda: optim.Adam([layer.weight, layer.bias, layer.weight]), ValueError)
    contains(text, "parameter 2", "(2, 3)", "twice", "group 0 at position 0", "once")
    text = message(lambda: optim.Adam([{"params": [layer.weight]},
                                       {"params": [layer.bias, layer.weight]}]), ValueError)
    contains(text, "twice", "group 0")


def test_optimizer_given_a_non_leaf() -> None:
    w = minigen.randn(3, requires_grad=True)
    contains(message(lambda: optim.SGD([w * 2], lr=0.1), ValueError), "not a leaf")


# --------------------------------------------------------------------------- state dicts


def test_load_state_dict_from_another_architecture_names_the_keys() -> None:
    saved = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).state_dict()
    text = message(lambda: nn.Linear(3, 2).load_state_dict(saved), ShapeError)
    contains(text, "another architecture", "missing keys", "weight", "unexpected keys",
             "0.weight", "2.bias")


def test_load_state_dict_with_other_sizes_names_the_shapes() -> None:
    text = message(lambda: nn.Linear(3, 2).load_state_dict(nn.Linear(3, 4).state_dict()),
                   ShapeError)
    contains(text, "weight", "saved (4, 3)", "model (2, 3)")


def trained_adam(model: nn.Module, n_in: int) -> optim.Adam:
    opt = optim.Adam(model.parameters())
    model(minigen.randn(2, n_in)).sum().backward()
    opt.step()
    return opt


def test_optimizer_state_from_another_model() -> None:
    deeper = trained_adam(nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)), 3).state_dict()
    text = message(lambda: optim.Adam(nn.Linear(3, 2).parameters()).load_state_dict(deeper),
                   ValueError)
    contains(text, "group 0", "4 parameters", "2 here", "another model")
    wider = trained_adam(nn.Linear(4, 2), 4).state_dict()
    text = message(lambda: optim.Adam(nn.Linear(3, 2).parameters()).load_state_dict(wider),
                   ShapeError)
    contains(text, "exp_avg", "(2, 4)", "(2, 3)")


# --------------------------------------------------------------------------- data files


@pytest.fixture
def idx_files(tmp_path: Path) -> Path:
    write_idx(tmp_path / "good", np.zeros((3, 28, 28), np.uint8))
    good = (tmp_path / "good").read_bytes()
    (tmp_path / "truncated").write_bytes(good[:100])
    (tmp_path / "text").write_bytes(b"<html>404 Not Found</html>")
    (tmp_path / "empty").write_bytes(b"")
    write_idx(tmp_path / "labels", np.zeros(3, np.uint8))
    return tmp_path


@pytest.mark.parametrize("name, parts", [
    ("missing", ["missing", "not found"]),
    ("truncated", ["truncated", "(3, 28, 28)", "2352 bytes", "84 bytes"]),
    ("text", ["magic number", "not an IDX file", "2051"]),
    ("empty", ["0 bytes", "not even a header"]),
])
def test_bad_idx_files_are_named(idx_files: Path, name: str, parts: list[str]) -> None:
    text = message(lambda: read_idx(idx_files / name), DataError)
    contains(text, str(idx_files / name), *parts)


def test_labels_where_images_are_expected(idx_files: Path) -> None:
    contains(message(lambda: read_idx(idx_files / "labels", magic=2051), DataError),
             "labels", "2049", "2051")


def test_a_damaged_dataset_folder_names_the_file(tmp_path: Path) -> None:
    write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((4, 28, 28), np.uint8))
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4, np.uint8))
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-10])
    text = message(lambda: MNIST(root=tmp_path, source="full"), DataError)
    contains(text, "train-images-idx3-ubyte", "truncated")


def test_a_missing_dataset_lists_the_places_and_the_fixes(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    text = message(lambda: MNIST(root=tmp_path / "empty", source="full"), DataError)
    contains(text, "not found", str(tmp_path / "empty"), "download=True", "source='auto'")
    text = message(lambda: MNIST(root=tmp_path / "typo"), DataError)
    contains(text, str(tmp_path / "typo"), "does not exist", "download=True")


# --------------------------------------------------------------------------- devices


@pytest.fixture
def fresh_devices() -> Any:
    """Device lookups are cached: start and end each test with an empty cache."""
    backend.devices._make_device.cache_clear()
    yield
    backend.devices._make_device.cache_clear()


def test_cuda_without_cupy_says_how_to_install(monkeypatch: Any, fresh_devices: Any) -> None:
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` fails as if not installed
    for make in (lambda: minigen.device("cuda"), lambda: minigen.randn(2, device="cuda"),
                 lambda: x43.to("cuda")):
        contains(message(make, DeviceError), "CuPy", "not installed", "pip install")
    assert not minigen.cuda_is_available()


def test_cuda_without_a_gpu_says_so(monkeypatch: Any, fresh_devices: Any) -> None:
    def no_driver() -> int:
        raise RuntimeError("cudaErrorNoDevice: no CUDA-capable device is detected")

    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=no_driver))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    contains(message(lambda: minigen.device("cuda"), DeviceError), "CuPy is installed",
             "no CUDA GPU", "no CUDA-capable device")
    fake.cuda.runtime.getDeviceCount = lambda: 1
    contains(message(lambda: minigen.device("cuda:3"), DeviceError), "cuda:3", "1 GPU")


@pytest.mark.parametrize("spec, parts", [
    ("tpu", ["unknown device type 'tpu'", "'cpu'", "'cuda'"]),
    ("cuda:x", ["bad device index", "'cuda:x'"]),
    (3, ["a device is a string", "3"]),
])
def test_unknown_devices(spec: Any, parts: list[str]) -> None:
    contains(message(lambda: minigen.randn(2, device=spec), DeviceError), *parts)


# --------------------------------------------------------------------------- detect_anomaly


def test_detect_anomaly_names_the_op_the_shapes_and_the_users_line() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    x = minigen.tensor([[1.0, 2.0, 3.0], [float("nan"), 0.0, 0.0]])
    with minigen.detect_anomaly():
        with pytest.raises(AnomalyError) as info:
            model(x)  # the user's line, three modules above the op
    text = str(info.value)
    contains(text, "NaN", "output of Linear", "(2, 3)", "(4, 3)", "(4,)",
             "model(x)  # the user's line", Path(__file__).name)


def test_detect_anomaly_finds_the_first_bad_gradient() -> None:
    a = minigen.zeros(3, requires_grad=True)
    with minigen.detect_anomaly():
        loss = minigen.sqrt(a).sum()  # sqrt'(0) = inf
        text = message(loss.backward, AnomalyError)
    contains(text, "Inf", "gradient of Sqrt", "(3,)", "loss = minigen.sqrt(a).sum()")


def test_detect_anomaly_as_a_flag_and_its_scope() -> None:
    x = minigen.tensor([-1.0, 4.0], requires_grad=True)
    x.log()  # NaN, but nobody asked to look: no error
    minigen.set_detect_anomaly(True)
    try:
        contains(message(lambda: x.log(), AnomalyError), "NaN", "Log", "(2,)")
        with minigen.no_grad():  # a NaN made without a graph is found too
            contains(message(lambda: x.log(), AnomalyError), "Log", "x.log()")
        with minigen.detect_anomaly(False):  # switched off for a block
            x.log()
    finally:
        minigen.set_detect_anomaly(False)
    x.log()
    with minigen.detect_anomaly():
        contains(message(lambda: F.gaussian_kl(x, minigen.tensor([1e3, 0.0])), AnomalyError),
                 "Inf", "GaussianKL", "gaussian_kl")  # exp(1000) overflows


def test_detect_anomaly_on_a_graph_recorded_without_it() -> None:
    a = minigen.zeros(3, requires_grad=True)
    loss = minigen.sqrt(a).sum()
    with minigen.detect_anomaly():
        contains(message(loss.backward, AnomalyError), "gradient of Sqrt",
                 "under detect_anomaly() too")


def test_the_submodules_are_attributes_of_the_package() -> None:
    """``import minigen`` then ``minigen.functional.mse_loss``, as ``torch.nn.functional``."""
    import subprocess

    code = ("import minigen; print(all(hasattr(minigen, m) "
            "for m in ('functional', 'nn', 'optim', 'data')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "True", out.stderr
