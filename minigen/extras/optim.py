"""The extras of ``minigen.optim`` (``RMSprop``, ``Adagrad``, ``optim.lr_scheduler``,
``optim.swa_utils``): see :mod:`minigen.extras`."""

from minigen.extras import lr_scheduler, swa_utils
from minigen.extras.optimizers import Adagrad, RMSprop

__all__ = ["Adagrad", "RMSprop", "lr_scheduler", "swa_utils"]
