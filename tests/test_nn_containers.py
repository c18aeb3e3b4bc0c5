"""ModuleDict, ParameterList and ParameterDict: their members are found by parameters(),
state_dict(), load_state_dict(), to() and repr, named by key or position, as PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest

import minigen
from minigen import nn


class Conditional(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleDict({"real": nn.Linear(2, 1), "fake": nn.Linear(2, 1)})
        self.scales = nn.ParameterList([nn.Parameter(minigen.ones(2)), minigen.zeros(3)])
        self.extra = nn.ParameterDict({"shift": minigen.zeros(2, 2)})

    def forward(self, x, which):
        return self.heads[which](x * self.scales[0] + self.extra["shift"][0])


def test_members_are_registered():
    model = Conditional()
    names = [n for n, _ in model.named_parameters()]
    assert names == ["heads.real.weight", "heads.real.bias", "heads.fake.weight",
                     "heads.fake.bias", "scales.0", "scales.1", "extra.shift"]
    assert list(model.state_dict()) == names
    assert isinstance(model.scales[1], nn.Parameter) and model.scales[1].requires_grad
    model(minigen.ones(3, 2), "fake").sum().backward()
    assert model.heads["fake"].weight.grad is not None and model.heads["real"].weight.grad is None
    assert model.scales[0].grad.shape == (2,)
    twin = Conditional()
    twin.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(twin.heads["real"].weight.detach().numpy(),
                                  model.heads["real"].weight.detach().numpy())
    model.to(minigen.float64)
    assert {p.dtype for p in model.parameters()} == {minigen.float64}


def test_dict_and_list_behaviour():
    d = nn.ModuleDict()
    d["a"] = nn.ReLU()
    d.update([("b", nn.Tanh())])
    assert list(d) == ["a", "b"] and len(d) == 2 and "a" in d and list(d.keys()) == ["a", "b"]
    assert isinstance(d.pop("a"), nn.ReLU) and list(d.values())[0].__class__ is nn.Tanh
    p = nn.ParameterList()
    p.append(minigen.zeros(2)).extend([minigen.ones(1)])
    assert len(p) == 2 and len(p[1:]) == 1 and len(list(p)) == 2
    p[0] = minigen.ones(4)
    assert isinstance(p[0], nn.Parameter) and p.parameters()[0].shape == (4,)
    q = nn.ParameterDict({"w": minigen.ones(2)})
    q["v"] = minigen.zeros(1)
    assert list(q.items())[1][0] == "v" and q.get("x") is None and len(q) == 2
    del q["w"]
    assert list(q) == ["v"]


def test_reprs():
    model = Conditional()
    assert repr(model.heads) == ("ModuleDict(\n  (real): Linear(in_features=2, out_features=1, "
                                 "bias=True)\n  (fake): Linear(in_features=2, out_features=1, "
                                 "bias=True)\n)")
    assert repr(model.scales) == ("ParameterList(\n"
                                  "    (0): Parameter containing: [minigen.float32 of size 2]\n"
                                  "    (1): Parameter containing: [minigen.float32 of size 3]\n)")
    assert repr(model.extra) == ("ParameterDict(  (shift): Parameter containing: "
                                 "[minigen.float32 of size 2x2])")  # one: PyTorch's one line
    assert repr(nn.ModuleDict()) == "ModuleDict()" and repr(nn.ParameterList()) == \
        "ParameterList()"
    assert "(scales): ParameterList(" in repr(model)


@pytest.mark.parametrize("call, error, match", [
    (lambda: nn.ModuleDict({"a": 3}), TypeError, "int is not a Module"),
    (lambda: nn.ModuleDict({1: nn.ReLU()}), TypeError, "string"),
    (lambda: nn.ModuleDict({"a.b": nn.ReLU()}), KeyError, "'.'"),
    (lambda: nn.ParameterDict({"a.b": minigen.ones(1)}), KeyError, "'.'"),
])
def test_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
