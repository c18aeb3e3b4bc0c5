"""``minigen.optim.swa_utils``: PyTorch's import path for the code in
:mod:`minigen.extras.swa_utils` (``from minigen.optim.swa_utils import ...`` works as in torch)."""

from minigen.extras.swa_utils import *  # noqa: F403
from minigen.extras.swa_utils import __all__  # noqa: F401
