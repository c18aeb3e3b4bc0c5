"""``minigen.nn.utils``: PyTorch's import path for :mod:`minigen.extras.nn_utils`, which holds
the code (``from minigen.nn.utils import clip_grad_norm_`` works as with ``torch.nn.utils``)."""

from minigen.extras.nn_utils import *  # noqa: F403
from minigen.extras.nn_utils import __all__  # noqa: F401
