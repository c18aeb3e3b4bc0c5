"""``minigen.optim``: the Optimizer base class, SGD and Adam, with PyTorch's names and
arguments. (AdamW, RMSprop, Adagrad, Adadelta, ``lr_scheduler`` and ``swa_utils`` are found
here too, in minigen.extras.)

>>> model = minigen.nn.Linear(3, 1)
>>> opt = minigen.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
>>> loss = model(minigen.randn(8, 3)).pow(2).mean()
>>> opt.zero_grad(); loss.backward(); opt.step()
"""

from typing import Any

from minigen import lazy
from minigen.optim.adam import Adam
from minigen.optim.optimizer import Optimizer
from minigen.optim.sgd import SGD

__all__ = ["SGD", "Adam", "Optimizer"]


def __getattr__(name: str) -> Any:
    return lazy.find(__name__, name)  # a submodule, or an extra: see minigen/lazy.py
