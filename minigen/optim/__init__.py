"""``minigen.optim``: optimizers (SGD, Adam, AdamW; :mod:`.optimizer`; RMSprop, Adagrad,
Adadelta; :mod:`.more`), learning-rate schedules (:mod:`.lr_scheduler`) and averaged weights
(:mod:`.swa_utils`: an EMA of a generator), with PyTorch's names and arguments.

>>> model = minigen.nn.Linear(3, 1)
>>> opt = minigen.optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
>>> loss = model(minigen.randn(8, 3)).pow(2).mean()
>>> opt.zero_grad(); loss.backward(); opt.step()
"""

from minigen.optim import lr_scheduler, swa_utils
from minigen.optim.more import Adadelta, Adagrad, RMSprop
from minigen.optim.optimizer import SGD, Adam, AdamW, Optimizer

__all__ = ["SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler",
           "swa_utils"]
