"""Activation layers: thin modules around the activation ops, for use in ``Sequential``."""

from __future__ import annotations

from minigen import ops
from minigen.nn.module import Module
from minigen.tensor import Tensor


class ReLU(Module):
    """max(x, 0). ``inplace`` is accepted for PyTorch code (``nn.ReLU(True)``) and changes
    nothing: minigen never overwrites an input, and the result is the same."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return ops.relu(input)


class LeakyReLU(Module):
    """x for x > 0, ``negative_slope * x`` otherwise (the DCGAN discriminator uses 0.2).
    ``inplace``: as ReLU's, accepted and without effect."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return ops.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Sigmoid(Module):
    """1 / (1 + exp(-x)), stable for any x."""

    def forward(self, input: Tensor) -> Tensor:
        return ops.sigmoid(input)


class Tanh(Module):
    """tanh(x), in (-1, 1): the DCGAN generator's output for images scaled to [-1, 1]."""

    def forward(self, input: Tensor) -> Tensor:
        return ops.tanh(input)


class Softplus(Module):
    """log(1 + exp(beta * x)) / beta, stable for any x; x itself where beta * x > threshold
    (PyTorch's defaults: beta 1, threshold 20)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return ops.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class LogSigmoid(Module):
    """log(sigmoid(x)) = -softplus(-x), stable for any x."""

    def forward(self, input: Tensor) -> Tensor:
        return ops.log_sigmoid(input)


class Softmax(Module):
    """exp(x) / sum(exp(x)) along ``dim`` (give it: PyTorch's implicit choice is deprecated).
    A classifier's loss wants the logits instead (``CrossEntropyLoss``)."""

    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return ops.softmax(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """x - logsumexp(x) along ``dim``: log-probabilities, for ``NLLLoss``."""

    def forward(self, input: Tensor) -> Tensor:
        return ops.log_softmax(input, self.dim)


class GELU(Module):
    """x * Phi(x), Phi the standard normal CDF; ``approximate="tanh"`` for
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). The transformer's activation."""

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return ops.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class ELU(Module):
    """x for x > 0, ``alpha * (exp(x) - 1)`` otherwise. ``inplace``: as ReLU's, accepted and
    without effect."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        return ops.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class SiLU(Module):
    """x * sigmoid(x) (swish). ``inplace``: as ReLU's, accepted and without effect."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return ops.silu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""
