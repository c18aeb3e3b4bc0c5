"""The extras of ``minigen.optim`` (``RMSprop``, ``Adagrad``, ``Adadelta``, ``optim.lr_scheduler``,
``optim.swa_utils``): see :mod:`minigen.extras`."""

from minigen.extras import lr_scheduler, swa_utils
from minigen.extras.optimizers import Adadelta, Adagrad, AdamW, RMSprop

__all__ = ["Adadelta", "Adagrad", "AdamW", "RMSprop", "lr_scheduler", "swa_utils"]
