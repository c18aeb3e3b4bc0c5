"""The layers beyond the report's models, with PyTorch's names: ``ModuleDict``,
``ParameterList``, ``ParameterDict``; the activations ``Softplus``, ``LogSigmoid``, ``Softmax``,
``LogSoftmax``, ``GELU``, ``ELU``, ``SiLU``; the losses ``BCELoss``, ``KLDivLoss``, ``NLLLoss``,
``CrossEntropyLoss``, ``L1Loss``, ``SmoothL1Loss``; ``LayerNorm`` and ``CosineSimilarity``.
Found as ``minigen.nn.X`` (see :mod:`minigen.extras`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from minigen import backend, ops
from minigen.creation import ones, zeros
from minigen.extras.layer_norm import normalized_shape_tuple
from minigen.extras.similarity import KL_REDUCTIONS
from minigen.nn import init
from minigen.nn.loss import _Loss
from minigen.nn.module import Module, Parameter
from minigen.tensor import Tensor


def _check_key(key: Any, what: str) -> str:
    """A name for a member: a string without '.' (the separator of state_dict keys)."""
    if not isinstance(key, str):
        raise TypeError(f"{what} name should be a string, got {type(key).__name__} {key!r}")
    if "." in key or not key:
        raise KeyError(f"{what} name can't be empty or contain '.', got {key!r}")
    return key


def _as_parameter(value: Any) -> Any:
    """A tensor becomes a Parameter (sharing its data), as PyTorch's containers do; anything
    else is kept as it is (and is no parameter)."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _describe(value: Any) -> str:
    """PyTorch's line for a member of ParameterList / ParameterDict."""
    if not isinstance(value, Tensor):
        return f"Object of type: {type(value).__name__}"
    size = "x".join(str(n) for n in value.shape)
    where = "" if value.device == backend.device("cpu") else f" ({value.device})"
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    return f"{kind} containing: [{value.dtype} of size {size}{where}]"


def _listing(name: str, items: Iterator[tuple[Any, Any]]) -> str:
    """PyTorch's layout: one member on the same line, several on lines of their own."""
    lines = [f"({key}): {_describe(value)}" for key, value in items]
    if len(lines) < 2:
        return f"{name}(" + "".join(f"  {line}" for line in lines) + ")"
    return f"{name}(\n" + "\n".join(f"    {line}" for line in lines) + "\n)"


class _Entries:
    """The dict protocol over ``self.entries`` (name -> member), shared by ModuleDict and
    ParameterDict; each says how a member goes in (``__setitem__``) and is listed."""

    entries: dict[str, Any]

    def __getitem__(self, key: str) -> Any:
        return self.entries[key]

    def __delitem__(self, key: str) -> None:
        del self.entries[key]

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __contains__(self, key: object) -> bool:
        return key in self.entries

    def keys(self) -> Any:
        return self.entries.keys()

    def values(self) -> Any:
        return self.entries.values()

    def items(self) -> Any:
        return self.entries.items()

    def get(self, key: str, default: Any = None) -> Any:
        return self.entries.get(key, default)

    def pop(self, key: str) -> Any:
        return self.entries.pop(key)

    def clear(self) -> None:
        self.entries.clear()


class ModuleDict(_Entries, Module):
    """Modules by name, in insertion order (``d["generator"]``); their parameters are named
    ``"generator.weight"``... It has no ``forward``: pick the module you need."""

    def __init__(self, modules: Any = None):
        super().__init__()
        self.entries: dict[str, Module] = {}
        if modules is not None:
            self.update(modules)

    def _members(self) -> Iterator[tuple[str, Any]]:
        yield from self.entries.items()

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleDict: {type(module).__name__} is not a Module subclass "
                            f"(key {key!r})")
        self.entries[_check_key(key, "module")] = module

    def update(self, modules: Any) -> None:
        """Add (name, module) pairs from a dict, a ModuleDict or an iterable of pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module


class ParameterList(Module):
    """A list of parameters, named ``"0"``, ``"1"``...: a tensor put in becomes a Parameter.
    Index it or loop over it in your own ``forward``."""

    def __init__(self, values: Any = None):
        super().__init__()
        self.entries: list[Any] = []
        if values is not None:
            self.extend(values)

    def _members(self) -> Iterator[tuple[str, Any]]:
        for i, value in enumerate(self.entries):
            if isinstance(value, (Parameter, Module)):
                yield str(i), value

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ParameterList(self.entries[index])
        return self.entries[index]

    def __setitem__(self, index: int, value: Any) -> None:
        self.entries[index] = _as_parameter(value)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.entries)

    def append(self, value: Any) -> ParameterList:
        self.entries.append(_as_parameter(value))
        return self

    def extend(self, values: Any) -> ParameterList:
        for value in values:
            self.append(value)
        return self

    def __repr__(self) -> str:
        return _listing("ParameterList", enumerate(self.entries))


class ParameterDict(_Entries, Module):
    """Parameters by name, in insertion order (``d["scale"]``): a tensor put in becomes a
    Parameter."""

    def __init__(self, parameters: Any = None):
        super().__init__()
        self.entries: dict[str, Any] = {}
        if parameters is not None:
            self.update(parameters)

    def _members(self) -> Iterator[tuple[str, Any]]:
        for key, value in self.entries.items():
            if isinstance(value, (Parameter, Module)):
                yield key, value

    def __setitem__(self, key: str, value: Any) -> None:
        self.entries[_check_key(key, "parameter")] = _as_parameter(value)

    def update(self, parameters: Any) -> None:
        """Add (name, tensor) pairs from a dict (in sorted order, as PyTorch), an OrderedDict
        or ParameterDict (in their order) or an iterable of pairs."""
        pairs = parameters.items() if hasattr(parameters, "items") else parameters
        if type(parameters) is dict:
            pairs = sorted(pairs)
        for key, value in pairs:
            self[key] = value

    def __repr__(self) -> str:
        return _listing("ParameterDict", iter(self.entries.items()))


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


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities ``input`` in [0, 1] against ``target``;
    ``weight`` (a buffer, as in PyTorch) rescales each element's loss."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return ops.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)



class KLDivLoss(_Loss):
    """The KL divergence of ``target`` from log-probabilities ``input`` (see
    :func:`minigen.functional.kl_div`); ``reduction='batchmean'`` is the true KL per sample."""

    def __init__(self, reduction: str = "mean", log_target: bool = False):
        Module.__init__(self)
        if reduction not in KL_REDUCTIONS:
            raise ValueError(f"{reduction} is not a valid value for reduction")
        self.reduction = reduction
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return ops.kl_div(input, target, self.reduction, self.log_target)


class NLLLoss(_Loss):
    """Negative log-likelihood of integer labels, from log-probabilities (classes on dim 1);
    ``weight`` (C,), a buffer, rescales each class; labels equal to ``ignore_index`` count
    for nothing. After ``log_softmax``: together, :class:`CrossEntropyLoss`."""

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return ops.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class CrossEntropyLoss(NLLLoss):
    """Cross-entropy of logits (classes on dim 1) against integer labels or class
    probabilities: ``log_softmax`` and NLL in one. ``label_smoothing`` mixes the target with
    the uniform distribution over the classes.

    >>> loss_fn = nn.CrossEntropyLoss()
    >>> round(loss_fn(minigen.tensor([[2.0, 0.0]]), minigen.tensor([0])).item(), 4)
    0.1269
    """

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100,
                 reduction: str = "mean", label_smoothing: float = 0.0):
        super().__init__(weight, ignore_index, reduction)
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return ops.cross_entropy(input, target, self.weight, self.ignore_index,
                                 self.reduction, self.label_smoothing)


class L1Loss(_Loss):
    """Mean (or summed, or elementwise) absolute error ``|input - target|``."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return ops.l1_loss(input, target, self.reduction)


class SmoothL1Loss(_Loss):
    """``0.5 * d**2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 * beta``, d = input -
    target: quadratic near 0, linear past ``beta`` (PyTorch's default 1.0)."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return ops.smooth_l1_loss(input, target, self.reduction, self.beta)


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` (an int for the last
    dimension alone): ``(x - mean) / sqrt(var + eps) * weight + bias``, with the biased
    variance, as PyTorch's.

    ``elementwise_affine=False`` gives no parameters; ``bias=False`` a weight only. The
    weight starts at ones and the bias at zeros (the identity after normalising).

    >>> LayerNorm(8)(minigen.randn(2, 5, 8)).shape
    (2, 5, 8)
    """

    def __init__(self, normalized_shape: Any, eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None):
        super().__init__()
        if isinstance(normalized_shape, int) and not isinstance(normalized_shape, bool):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = normalized_shape_tuple(normalized_shape, "LayerNorm")
        self.eps, self.elementwise_affine = eps, elementwise_affine
        self.weight = self.bias = None
        if elementwise_affine:
            self.weight = Parameter(ones(*self.normalized_shape, dtype=dtype, device=device))
            if bias:
                self.bias = Parameter(zeros(*self.normalized_shape, dtype=dtype,
                                            device=device))

    def reset_parameters(self) -> None:
        """Weight to ones, bias to zeros."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        return ops.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class CosineSimilarity(Module):
    """The cosine similarity of two inputs along ``dim`` (see
    :func:`minigen.functional.cosine_similarity`); no parameters."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim = dim
        self.eps = eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return ops.cosine_similarity(x1, x2, self.dim, self.eps)
