"""minigen.save / minigen.load: round trips, resuming bit for bit, and every way a file can be
wrong (missing, not ours, truncated, flipped bytes, pickled objects, another architecture,
a crash during save)."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigen
from minigen import nn, optim
from minigen.errors import CheckpointError, ShapeError


def make_model() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))


def test_model_state_dict_round_trip(tmp_path: Path) -> None:
    model = make_model()
    path = tmp_path / "model.npz"
    minigen.save(model.state_dict(), path)
    loaded = minigen.load(path)
    assert list(loaded) == list(model.state_dict())
    for name, value in model.state_dict().items():
        assert isinstance(loaded[name], minigen.Tensor) and loaded[name].device.type == "cpu"
        assert loaded[name].dtype == value.dtype
        np.testing.assert_array_equal(loaded[name].numpy(), value.numpy())
    fresh = make_model()
    fresh.load_state_dict(loaded)
    x = minigen.randn(3, 4)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())


def test_nested_values_keep_their_types(tmp_path: Path) -> None:
    obj = {
        "epoch": 3, "lr": 2e-4, "name": "dcgan", "done": False, "nothing": None,
        "history": {"d_loss": [0.69, 0.5], "g_loss": [0.7, float("inf")]},
        "betas": (0.5, 0.999), "state": {0: {"step": 2}, "0": "string key"},
        "array": np.arange(6, dtype=np.int64).reshape(2, 3), "scalar": np.float32(1.5),
        "rng": minigen.backend.default_generator("cpu").get_state(),
        "file": minigen.ones(2), "a/b": minigen.zeros(1), "a": {"b": minigen.ones(1)},
        "double": minigen.tensor([1.0, 2.0], dtype=minigen.float64),
    }
    path = tmp_path / "everything.ckpt"  # any name: no ".npz" is appended
    minigen.save(obj, path)
    assert os.listdir(tmp_path) == ["everything.ckpt"]
    back = minigen.load(path)
    assert back["epoch"] == 3 and back["lr"] == 2e-4 and back["name"] == "dcgan"
    assert back["done"] is False and back["nothing"] is None
    assert back["history"] == {"d_loss": [0.69, 0.5], "g_loss": [0.7, float("inf")]}
    assert back["betas"] == (0.5, 0.999) and isinstance(back["betas"], tuple)
    assert back["state"] == {0: {"step": 2}, "0": "string key"}
    assert back["array"].dtype == np.int64 and back["array"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert isinstance(back["scalar"], np.float32) and back["scalar"] == 1.5
    assert back["rng"] == obj["rng"]
    assert back["file"].tolist() == [1.0, 1.0]
    assert back["a/b"].tolist() == [0.0] and back["a"]["b"].tolist() == [1.0]
    assert back["double"].dtype == minigen.float64


def test_load_onto_a_device(tmp_path: Path) -> None:
    model = make_model().to("strict")
    minigen.save(model.state_dict(), tmp_path / "m.npz")
    on_cpu = minigen.load(tmp_path / "m.npz")
    assert all(t.device.type == "cpu" for t in on_cpu.values())
    on_strict = minigen.load(tmp_path / "m.npz", map_location="strict")
    assert all(t.device.type == "strict" for t in on_strict.values())
    make_model().to("strict").load_state_dict(on_cpu)  # load_state_dict moves too


def _train(model, opt, steps: int, history: list[float]) -> None:
    """Training with noise from the seeded generator (like a GAN's), so the RNG state
    matters as much as the weights."""
    for _ in range(steps):
        x = minigen.randn(16, 4)
        opt.zero_grad()
        loss = ((model(x) - x.sum(dim=1, keepdim=True)) ** 2).mean()
        loss.backward()
        opt.step()
        history.append(loss.item())


@pytest.mark.parametrize("make_opt", [
    lambda ps: optim.Adam(ps, lr=1e-2, betas=(0.5, 0.999)),
    lambda ps: optim.SGD(ps, lr=1e-2, momentum=0.9, nesterov=True),
])
def test_checkpoint_resume_is_bit_for_bit(tmp_path: Path, make_opt) -> None:
    minigen.manual_seed(5)
    model = make_model()
    opt = make_opt(model.parameters())
    history: list[float] = []
    _train(model, opt, 3, history)
    gen = minigen.backend.default_generator("cpu")
    minigen.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                  "rng": gen.get_state(), "history": history}, tmp_path / "ckpt.npz")
    _train(model, opt, 4, history)  # the uninterrupted run

    minigen.manual_seed(123)  # a new process: different seed, fresh model and optimizer
    resumed = make_model()
    resumed_opt = make_opt(resumed.parameters())
    ckpt = minigen.load(tmp_path / "ckpt.npz")
    resumed.load_state_dict(ckpt["model"])
    resumed_opt.load_state_dict(ckpt["optimizer"])
    gen.set_state(ckpt["rng"])
    resumed_history = ckpt["history"]
    _train(resumed, resumed_opt, 4, resumed_history)
    assert resumed_history == history
    for a, b in zip(model.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_other_architecture_names_the_keys(tmp_path: Path) -> None:
    minigen.save(nn.Sequential(nn.Linear(4, 6), nn.Linear(6, 1)).state_dict(),
                 tmp_path / "other.npz")
    with pytest.raises(ShapeError) as info:
        make_model().load_state_dict(minigen.load(tmp_path / "other.npz"))
    message = str(info.value)
    assert "1.weight" in message and "2.weight" in message and "0.weight" in message


# ----------------------------------------------------------------------------- bad files


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist") as info:
        minigen.load(tmp_path / "nope.npz")
    assert "nope.npz" in str(info.value)
    with pytest.raises(CheckpointError, match="folder"):
        minigen.load(tmp_path)


@pytest.mark.parametrize("content, problem", [
    (b"", "empty"),
    (b"hello, this is not a checkpoint", "not a zip"),
    (b"\x93NUMPY\x01\x00", "not a zip"),
])
def test_not_a_zip(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=problem) as info:
        minigen.load(path)
    assert str(path) in str(info.value)


def test_npz_that_is_not_ours(tmp_path: Path) -> None:
    path = tmp_path / "plain.npz"
    np.savez(path, weight=np.ones(3))
    with pytest.raises(CheckpointError, match="without the '__minigen__' entry"):
        minigen.load(path)
    np.savez(path, __minigen__=np.asarray(json.dumps({"format": "other", "version": 1})))
    with pytest.raises(CheckpointError, match="format marker 'other'"):
        minigen.load(path)
    np.savez(path, __minigen__=np.asarray(json.dumps(
        {"format": "minigen-checkpoint", "version": 99, "tree": None})))
    with pytest.raises(CheckpointError, match="newer"):
        minigen.load(path)


def _good_file(tmp_path: Path) -> tuple[Path, bytes]:
    path = tmp_path / "good.npz"
    minigen.save({"model": make_model().state_dict(), "epoch": 1}, path)
    return path, path.read_bytes()


def test_truncated_file(tmp_path: Path) -> None:
    path, data = _good_file(tmp_path)
    for size in (10, len(data) // 3, len(data) // 2, len(data) - 30, len(data) - 1):
        path.write_bytes(data[:size])
        with pytest.raises(CheckpointError, match="damaged or truncated") as info:
            minigen.load(path)
        assert str(path) in str(info.value)


def test_flipped_byte_in_array_data_is_caught(tmp_path: Path) -> None:
    path, data = _good_file(tmp_path)
    weight = minigen.load(path)["model"]["0.weight"].numpy()
    assert weight.tobytes() in data  # stored raw (np.savez does not compress)
    at = data.index(weight.tobytes()) + 17
    path.write_bytes(data[:at] + bytes([data[at] ^ 0x40]) + data[at + 1:])
    with pytest.raises(CheckpointError, match="CRC"):
        minigen.load(path)


@settings(max_examples=40)
@given(st.data())
def test_any_flipped_byte_is_caught_or_harmless(tmp_path_factory, data) -> None:
    """A flipped byte anywhere: either a CheckpointError, or (in zip fields nothing reads) a
    load that gives exactly what was saved. Never wrong values, never another exception."""
    tmp_path = tmp_path_factory.mktemp("flip")
    path, raw = _good_file(tmp_path)
    expected = minigen.load(path)
    at = data.draw(st.integers(0, len(raw) - 1))
    bit = data.draw(st.integers(0, 7))
    path.write_bytes(raw[:at] + bytes([raw[at] ^ (1 << bit)]) + raw[at + 1:])
    try:
        got = minigen.load(path)
    except CheckpointError:
        return
    assert got["epoch"] == expected["epoch"]
    for name, value in expected["model"].items():
        np.testing.assert_array_equal(got["model"][name].numpy(), value.numpy())


class Exploit:
    ran: list[str] = []

    def __reduce__(self):
        return (Exploit.ran.append, ("code ran",))


def test_pickled_object_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "crafted.npz"
    meta = {"format": "minigen-checkpoint", "version": 1,
            "tree": {"t": "dict", "items": [["x", {"t": "array", "entry": "x"}]]}}
    payload = np.empty(1, dtype=object)
    payload[0] = Exploit()
    np.savez(path, __minigen__=np.asarray(json.dumps(meta)), x=payload)  # pickles it
    with pytest.raises(CheckpointError, match="pickled") as info:
        minigen.load(path)
    assert "'x'" in str(info.value) and str(path) in str(info.value)
    assert Exploit.ran == []
    # a metadata entry that is itself a pickled object is refused the same way
    np.savez(path, __minigen__=np.asarray([Exploit()], dtype=object))
    with pytest.raises(CheckpointError, match="pickled"):
        minigen.load(path)
    assert Exploit.ran == []


def test_entry_missing_from_archive(tmp_path: Path) -> None:
    path = tmp_path / "m.npz"
    meta = {"format": "minigen-checkpoint", "version": 1,
            "tree": {"t": "tensor", "entry": "../../etc/passwd"}}
    np.savez(path, __minigen__=np.asarray(json.dumps(meta)))
    with pytest.raises(CheckpointError, match="missing"):
        minigen.load(path)


def test_save_refuses_what_it_cannot_store(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="cannot store a set"):
        minigen.save({"a": {1, 2}}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="Python objects"):
        minigen.save({"a": np.array([object()])}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="keys"):
        minigen.save({(1, 2): 3}, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


def test_crash_during_save_keeps_the_previous_file(tmp_path: Path, monkeypatch) -> None:
    path, before = _good_file(tmp_path)
    real_savez = np.savez

    def crashing_savez(file, *args, **kwargs):
        file.write(b"PK\x03\x04 half a checkpoint")  # some bytes reach the temp file...
        raise KeyboardInterrupt  # ...then the user presses Ctrl-C

    monkeypatch.setattr(np, "savez", crashing_savez)
    with pytest.raises(KeyboardInterrupt):
        minigen.save({"model": make_model().state_dict(), "epoch": 2}, path)
    monkeypatch.setattr(np, "savez", real_savez)
    assert os.listdir(tmp_path) == ["good.npz"]  # no temp file left behind
    assert path.read_bytes() == before
    assert minigen.load(path)["epoch"] == 1


def test_saved_file_is_a_plain_npz(tmp_path: Path) -> None:
    """Any NumPy can read the arrays, without pickle."""
    path, _ = _good_file(tmp_path)
    assert zipfile.is_zipfile(path)
    with np.load(path, allow_pickle=False) as npz:
        assert "model/0.weight" in npz.files and npz["model/0.weight"].shape == (8, 4)
        assert json.loads(str(npz["__minigen__"]))["format"] == "minigen-checkpoint"


def test_save_removes_temp_files_left_by_a_killed_save(tmp_path) -> None:
    """A save killed by SIGKILL leaves its temp file; the next save to that path removes it."""
    path = tmp_path / "checkpoint.npz"
    leftover = tmp_path / ".checkpoint.npz.abc123.tmp"
    leftover.write_bytes(b"half a zip")
    other = tmp_path / ".other.npz.abc123.tmp"  # another file's temp: not ours to remove
    other.write_bytes(b"x")
    minigen.save({"epoch": 1}, path)
    assert not leftover.exists() and other.exists()
    assert minigen.load(path)["epoch"] == 1


def test_saved_files_get_the_usual_permissions(tmp_path) -> None:
    """The temp file is private while written; the saved file gets 0666 minus the umask."""
    mask = os.umask(0o022)
    try:
        minigen.save({"epoch": 1}, tmp_path / "c.npz")
    finally:
        os.umask(mask)
    assert (tmp_path / "c.npz").stat().st_mode & 0o777 == 0o644
