"""``minigen.utils``: PyTorch's ``torch.utils`` paths, so that a PyTorch program runs with only
its imports changed. ``minigen.utils.data`` is :mod:`minigen.data` itself (the same module
object), so ``import minigen.utils.data``, ``from minigen.utils.data import DataLoader`` and
``minigen.utils.data.DataLoader`` all work as their ``torch.utils.data`` spellings do.

>>> import minigen.utils.data
>>> minigen.utils.data.DataLoader is minigen.data.DataLoader
True
"""

import sys

from minigen import data

sys.modules[__name__ + ".data"] = data  # `import minigen.utils.data` finds it here

__all__ = ["data"]
