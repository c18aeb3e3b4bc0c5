"""Run a PyTorch program on minigen by changing only its imports, as a student does by hand.

    python benchmarks/coursework/on_minigen.py benchmarks/coursework/vae.py [its arguments]

The whole change is one rule, applied to import statements only (the rest of the program is
left as it is): the module ``torch`` becomes ``minigen``, bound to the same name.

===========================================  ===============================================
PyTorch                                       minigen
===========================================  ===============================================
``import torch``                              ``import minigen as torch``
``import torch.nn as nn``                     ``import minigen.nn as nn``
``import torch.nn.functional as F``           ``import minigen.nn.functional as F``
``from torch import nn, optim``               ``from minigen import nn, optim``
``from torch.nn import functional as F``      ``from minigen.nn import functional as F``
``from torch.utils.data import DataLoader``   ``from minigen.utils.data import DataLoader``
``import torch.utils.data``                   ``import minigen.utils.data``
===========================================  ===============================================

(``minigen.utils.data`` is ``minigen.data``, and ``minigen.nn.functional`` is
``minigen.functional``, under PyTorch's paths.) A line such as ``import torch.utils.data``
binds no new name, so the program's ``torch`` must come from an ``import torch`` line, as it
must in PyTorch too.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_RULES = [
    (re.compile(r"^(\s*)import torch\s*$", re.M), r"\1import minigen as torch"),
    (re.compile(r"^(\s*)import torch\.([\w.]+)", re.M), r"\1import minigen.\2"),
    (re.compile(r"^(\s*)from torch(\.[\w.]+)? import ", re.M), r"\1from minigen\2 import "),
]


def to_minigen(source: str) -> str:
    """``source`` with every ``torch`` import made a ``minigen`` one (see the module's table).

    >>> print(to_minigen("import torch\\nimport torch.nn.functional as F\\nx = torch.ones(2)"))
    import minigen as torch
    import minigen.nn.functional as F
    x = torch.ones(2)
    """
    for pattern, replacement in _RULES:
        source = pattern.sub(replacement, source)
    left = [line.strip() for line in source.splitlines()
            if re.match(r"\s*(import|from)\s+torch", line)]
    if left:  # torch imports of another form, or torchvision and the like
        raise ValueError(f"to_minigen: import lines left unchanged: {left}. minigen has no "
                         "torchvision: write the dataset and its transform out, as the "
                         "programs in benchmarks/coursework do")
    return source


def load(path: str | Path, name: str = "__main__") -> dict:
    """Run the program at ``path`` on minigen, as a module named ``name``; its globals.

    With the default name its ``if __name__ == "__main__":`` block runs (reading
    ``sys.argv``); with another the program is only imported, and its ``main(argv)`` can be
    called. The source is compiled under the original file's name and keeps its line numbers,
    so tracebacks point into the original, and ``__file__`` is the original's, so the program
    finds its data where it would on PyTorch.
    """
    path = Path(path).resolve()
    code = compile(to_minigen(path.read_text()), str(path), "exec")
    namespace = {"__name__": name, "__file__": str(path), "__builtins__": __builtins__}
    exec(code, namespace)
    return namespace


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.argv = sys.argv[1:]  # the program's own command line
    load(sys.argv[0])
