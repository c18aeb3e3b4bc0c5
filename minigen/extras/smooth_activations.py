"""GELU, ELU and SiLU: the smooth activations of transformers and newer convolutional nets,
each a primitive with a closed-form derivative (as in :mod:`minigen.ops.activations`)."""

from __future__ import annotations

import math

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.extras._common import check_floating
from minigen.extras._erf import normal_cdf, normal_pdf
from minigen.extras.activations import _sigmoid
from minigen.tensor import Tensor

APPROXIMATIONS = ("none", "tanh")
_BETA = math.sqrt(2.0 / math.pi)  # the tanh form's constants, PyTorch's
_KAPPA = 0.044715


class GELU(Function):
    """x Phi(x), Phi the standard normal CDF (``approximate="none"``, from
    :mod:`minigen.extras._erf`), or 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    (``"tanh"``). The forward keeps Phi(x) (or the tanh) for the backward: erf costs a few
    dozen array passes, a saved array none."""

    @staticmethod
    def forward(ctx: Context, x: Array, approximate: str) -> Array:
        ctx.approximate = approximate
        if approximate == "tanh":
            inner = backend.namespace(x).tanh((x + x * x * x * _KAPPA) * _BETA)
            ctx.save_for_backward(x, inner)
            return x * 0.5 * (1.0 + inner)
        cdf = normal_cdf(x)
        ctx.save_for_backward(x, cdf)
        return x * cdf

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Array, None]:
        x, saved = ctx.saved_arrays
        if ctx.approximate == "tanh":  # d/dx: 0.5 (1 + t) + 0.5 x (1 - t^2) beta (1 + 3 k x^2)
            inner_grad = (1.0 - saved * saved) * ((1.0 + x * x * (3.0 * _KAPPA)) * _BETA)
            return grad_out * (0.5 * (1.0 + saved) + x * 0.5 * inner_grad), None
        return grad_out * (saved + x * normal_pdf(x)), None  # d/dx x Phi(x) = Phi + x phi


class ELU(Function):
    """x for x > 0, alpha (e^x - 1) otherwise, computed as max(x, 0) + alpha expm1(min(x, 0))
    (no ``where``, no overflow for large x)."""

    @staticmethod
    def forward(ctx: Context, x: Array, alpha: float) -> Array:
        xp = backend.namespace(x)
        ctx.save_for_backward(x)
        ctx.alpha = alpha
        return xp.maximum(x, 0.0) + xp.expm1(xp.minimum(x, 0.0)) * alpha

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Array, None]:
        (x,) = ctx.saved_arrays
        xp, alpha = backend.namespace(x), ctx.alpha
        # 1 for x > 0, alpha e^x for x <= 0 (alpha at x = 0, as PyTorch):
        # alpha e^min(x, 0) + [x > 0] (1 - alpha)
        positive = xp.astype(x > 0, x.dtype)
        return grad_out * (xp.exp(xp.minimum(x, 0.0)) * alpha + positive * (1.0 - alpha)), None


class SiLU(Function):
    """x sigmoid(x) (also called swish), with the stable sigmoid."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        s = _sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> Array:
        x, s = ctx.saved_arrays
        return grad_out * (s * (1.0 + x * (1.0 - s)))  # s + x s (1 - s)


# ------------------------------------------------------------------------- functions


def _number(value: object, name: str, op: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be a number, got {value!r}")
    return float(value)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """The Gaussian error linear unit: ``x * Phi(x)``, Phi the standard normal CDF
    ``(1 + erf(x / sqrt(2))) / 2``; with ``approximate="tanh"``,
    ``0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))``. As PyTorch's."""
    check_floating(input, "gelu")
    if approximate not in APPROXIMATIONS:
        raise ValueError(f"gelu: approximate must be one of {APPROXIMATIONS}, got "
                         f"{approximate!r}")
    return GELU.apply(input, approximate)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """``x`` for x > 0, ``alpha * (exp(x) - 1)`` otherwise. ``inplace`` is accepted for
    PyTorch code and computes out of place, as ``nn.ReLU(inplace=True)`` does here."""
    check_floating(input, "elu")
    return ELU.apply(input, _number(alpha, "alpha", "elu"))


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """``x * sigmoid(x)`` (swish), stable for any x. ``inplace``: as elu's."""
    check_floating(input, "silu")
    return SiLU.apply(input)
