"""default_collate and default_convert: PyTorch's rules for making samples one batch, checked
case by case against the outputs PyTorch's own functions give (written out here, so that the
tests run without torch), and against torch itself when it is installed."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import minigen
from minigen.data import default_collate, default_convert
from minigen.errors import ShapeError

Point = collections.namedtuple("Point", ["x", "y"])


def _described(batch):
    """A batch as plain Python: Tensors as ('T', dtype name, shape, values), containers kept."""
    if isinstance(batch, minigen.Tensor):
        return ("T", batch.dtype.name, batch.shape, batch.tolist())
    if isinstance(batch, dict):
        return {k: _described(v) for k, v in batch.items()}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return (type(batch).__name__, *(_described(v) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(_described(v) for v in batch)
    return batch


CASES = [  # (samples, what PyTorch 2.13's default_collate gives, described)
    ([minigen.tensor([1.0, 2.0]), minigen.tensor([3.0, 4.0])],
     ("T", "float32", (2, 2), [[1.0, 2.0], [3.0, 4.0]])),
    ([np.array([1, 2], np.uint8), np.array([3, 4], np.uint8)],
     ("T", "uint8", (2, 2), [[1, 2], [3, 4]])),
    ([np.array(1.5), np.array(2.0)], ("T", "float64", (2,), [1.5, 2.0])),
    ([np.float32(1.5), np.float32(2.0)], ("T", "float32", (2,), [1.5, 2.0])),
    ([np.uint8(3), np.uint8(4)], ("T", "uint8", (2,), [3, 4])),
    ([np.bool_(True), np.bool_(False)], ("T", "bool", (2,), [True, False])),
    ([1.5, 2.0], ("T", "float64", (2,), [1.5, 2.0])),  # Python floats: float64
    ([1, 2], ("T", "int64", (2,), [1, 2])),
    ([1, 2.5], ("T", "float32", (2,), [1.0, 2.5])),  # the first sample decides: tensor([1, 2.5])
    ([True, False], ("T", "bool", (2,), [True, False])),
    (["a", "b"], ["a", "b"]),
    ([b"a", b"b"], [b"a", b"b"]),
    ([(1, "a"), (2, "b")], [("T", "int64", (2,), [1, 2]), ("a", "b")]),
    ([[1, 2], [3, 4]], [("T", "int64", (2,), [1, 3]), ("T", "int64", (2,), [2, 4])]),
    ([{"x": 1, "y": [1.0, 2.0]}, {"x": 2, "y": [3.0, 4.0]}],
     {"x": ("T", "int64", (2,), [1, 2]),
      "y": [("T", "float64", (2,), [1.0, 3.0]), ("T", "float64", (2,), [2.0, 4.0])]}),
    ([Point(1, 2.0), Point(3, 4.0)],
     ("Point", ("T", "int64", (2,), [1, 3]), ("T", "float64", (2,), [2.0, 4.0]))),
    ([range(2), range(2)], [("T", "int64", (2,), [0, 0]), ("T", "int64", (2,), [1, 1])]),
]


@pytest.mark.parametrize("samples, expected", CASES)
def test_default_collate_follows_pytorchs_rules(samples, expected):
    assert _described(default_collate(samples)) == expected


def test_the_refusals_are_pytorchs():
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors.*NoneType"):
        default_collate([None, None])
    with pytest.raises(TypeError, match="<U1"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(ShapeError, match=r"equal size.*\[1, 2\]"):
        default_collate([[1], [1, 2]])
    with pytest.raises(ShapeError, match=r"one shape.*\(2,\), \(3,\)"):
        default_collate([minigen.zeros(2), minigen.zeros(3)])


def test_stacked_samples_that_need_a_gradient_keep_the_graph():
    a = minigen.tensor([1.0, 2.0], requires_grad=True)
    (default_collate([a, a * 2]).sum() * 3).backward()
    assert a.grad.tolist() == [9.0, 9.0]


def test_a_dict_subclass_keeps_its_type():
    batch = default_collate([collections.OrderedDict(a=1), collections.OrderedDict(a=2)])
    assert type(batch) is collections.OrderedDict and batch["a"].tolist() == [1, 2]


def test_default_convert_makes_numpy_tensors_and_leaves_the_rest():
    out = default_convert({"image": np.zeros((2, 2), np.float32), "label": 3, "name": "x",
                           "pair": (np.int64(1), 2.5), "text": np.array(["a"])})
    assert _described(out) == {"image": ("T", "float32", (2, 2), [[0.0, 0.0], [0.0, 0.0]]),
                               "label": 3, "name": "x",
                               "pair": [("T", "int64", (), 1), 2.5],
                               "text": out["text"]}
    assert isinstance(out["text"], np.ndarray)


@pytest.mark.parametrize("samples, expected", CASES)
def test_the_same_as_torch(samples, expected):
    """The table above is what torch's default_collate gives (when torch is installed)."""
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    def as_torch(x):
        return torch.tensor(x.tolist()) if isinstance(x, minigen.Tensor) else x

    theirs = torch_collate([as_torch(s) for s in samples])

    def described(batch):
        if isinstance(batch, torch.Tensor):
            return ("T", str(batch.dtype).removeprefix("torch."), tuple(batch.shape),
                    batch.tolist())
        if isinstance(batch, dict):
            return {k: described(v) for k, v in batch.items()}
        if isinstance(batch, tuple) and hasattr(batch, "_fields"):
            return (type(batch).__name__, *(described(v) for v in batch))
        if isinstance(batch, (list, tuple)):
            return type(batch)(described(v) for v in batch)
        return batch

    assert described(theirs) == expected
