"""``minigen.optim.lr_scheduler``: PyTorch's import path for the code in
:mod:`minigen.extras.lr_scheduler` (``from minigen.optim.lr_scheduler import ...`` works
as in torch)."""

from minigen.extras.lr_scheduler import *  # noqa: F403
from minigen.extras.lr_scheduler import __all__  # noqa: F401
