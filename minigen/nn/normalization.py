"""BatchNorm1d and BatchNorm2d: normalise each channel by its batch statistics in training,
by the running averages in eval mode, then scale and shift (``weight``, ``bias``); and Dropout,
the other layer that acts differently in training and in eval.

The running averages are buffers: saved in ``state_dict`` and moved by ``to()``, but not
parameters (the optimizer never touches them); the op updates them in place in training:
``running = (1 - momentum) * running + momentum * batch_statistic`` (the variance unbiased).
"""

from __future__ import annotations

from typing import Any

from minigen import ops
from minigen.backend import int64
from minigen.creation import ones, tensor, zeros
from minigen.errors import ShapeError
from minigen.nn.module import Module, Parameter
from minigen.tensor import Tensor


class _BatchNorm(Module):
    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: Any = None,
                 dtype: Any = None):
        super().__init__()
        if not isinstance(num_features, int) or isinstance(num_features, bool) or \
                num_features < 1:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive int, "
                             f"got {num_features!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = self.bias = None
        if affine:  # gamma = 1, beta = 0: the identity until trained
            self.weight = Parameter(ones(num_features, dtype=dtype, device=device))
            self.bias = Parameter(zeros(num_features, dtype=dtype, device=device))
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=int64, device=device))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def _check_input(self, input: Tensor) -> None:
        raise NotImplementedError

    def forward(self, input: Tensor) -> Tensor:
        self._check_input(input)
        if self.training:
            values = input.numel() // input.shape[1]
            if values < 2:
                raise ShapeError(f"{type(self).__name__}: training needs more than 1 value per "
                                 f"channel to compute a variance, got input {input.shape} (a "
                                 "batch of one?): use a larger batch or call .eval()")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data = self.num_batches_tracked.data + 1
            if self.momentum is None:  # a cumulative moving average: 1/1, 1/2, 1/3...
                factor = 1.0 / int(self.num_batches_tracked.item())
        # Batch statistics in training, or when no running statistics are kept.
        use_batch = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return ops.batch_norm(input, self.running_mean if track else None,
                              self.running_var if track else None, self.weight, self.bias,
                              use_batch, factor, self.eps)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.data = ones(self.num_features, dtype=self.running_var.dtype,
                                         device=self.running_var.device).data
            self.num_batches_tracked.zero_()

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, per channel C = ``num_features``."""

    def _check_input(self, input: Tensor) -> None:
        if input.ndim not in (2, 3) or input.shape[1] != self.num_features:
            raise ShapeError(f"BatchNorm1d({self.num_features}) expected input of shape "
                             f"(N, {self.num_features}) or (N, {self.num_features}, L), "
                             f"got {input.shape}")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) images, per channel C = ``num_features``."""

    def _check_input(self, input: Tensor) -> None:
        if input.ndim != 4 or input.shape[1] != self.num_features:
            hint = ": for (N, C) features use BatchNorm1d" if input.ndim == 2 else ""
            raise ShapeError(f"BatchNorm2d({self.num_features}) expected input of shape "
                             f"(N, {self.num_features}, H, W), got {input.shape}{hint}")


class Dropout(Module):
    """In training, zero each element with probability ``p`` and scale the rest by
    1 / (1 - p) (so the expected value is unchanged); in eval mode, the identity. The mask
    comes from the device's seeded generator. ``inplace`` is accepted for PyTorch code and
    changes nothing (minigen never overwrites an input; the result is the same)."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability must be in [0, 1], got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input: Tensor) -> Tensor:
        return ops.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
