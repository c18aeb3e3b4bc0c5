"""Matrix products: matmul (batched, broadcasting the batch dimensions) and the fused linear
layer ``x @ W^T + b``. A training step spends most of its time here, in BLAS's GEMMs."""

from __future__ import annotations

import math
from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.errors import ShapeError
from minigen.ops._common import broadcast_shapes, check_tensor, operands
from minigen.tensor import Tensor


class MatMul(Function):
    @staticmethod
    def forward(ctx: Context, a: Any, b: Any) -> Any:
        ctx.save_for_backward(a, b)
        return backend.namespace(a).matmul(a, b)

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> tuple[Any, Any]:
        # exercise 5: MatMul.backward, batched and with vectors
        a, b = ctx.saved_arrays
        xp = backend.namespace(a)
        # A vector is a matrix here: a (n,) on the left is (1, n), b (n,) on the right (n, 1).
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        batch = broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g = xp.reshape(grad_out, batch + (a2.shape[-2], b2.shape[-1]))
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:  # C = A B: dL/dA = dL/dC B^T
            grad_a = _as_operand(xp.matmul(g, xp.matrix_transpose(b2)), a)
        if ctx.needs_input_grad[1]:  # dL/dB = A^T dL/dC
            grad_b = _as_operand(xp.matmul(xp.matrix_transpose(a2), g), b)
        return grad_a, grad_b
        # end exercise 5


def _as_operand(grad: Any, operand: Any) -> Any:
    """A vector operand's gradient: its batch dimensions summed away, its added axis gone."""
    if operand.ndim != 1:
        return grad
    xp = backend.namespace(grad)
    return xp.reshape(xp.sum(grad, axis=tuple(range(grad.ndim - 2))), operand.shape)


class Linear(Function):
    """``y = x W^T + b`` for x (..., in), W (out, in), b (out,): one GEMM forward, two back."""

    @staticmethod
    def forward(ctx: Context, x: Any, weight: Any, bias: Any) -> Any:
        xp = backend.namespace(x)
        ctx.save_for_backward(x, weight)
        out = xp.matmul(x, xp.matrix_transpose(weight))
        if bias is not None:
            out += bias  # in place: the GEMM's result is ours
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Any) -> tuple[Any, Any, Any]:
        # exercise 5: Linear.backward, three gradients
        x, weight = ctx.saved_arrays
        xp = backend.namespace(x)
        rows = math.prod(grad_out.shape[:-1])  # the batch, all leading dimensions in one
        g = xp.reshape(grad_out, (rows, grad_out.shape[-1]))
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:  # dL/dx = dL/dy W
            grad_x = xp.matmul(grad_out, weight)
        if ctx.needs_input_grad[1]:  # dL/dW = dL/dy^T x, summed over the batch by the GEMM
            grad_w = xp.matmul(xp.matrix_transpose(g), xp.reshape(x, (rows, x.shape[-1])))
        if ctx.needs_input_grad[2]:  # the bias is added to every row: dL/db = sum of dL/dy
            grad_b = xp.sum(g, axis=0)
        return grad_x, grad_w, grad_b
        # end exercise 5


def matmul(a: Any, b: Any) -> Tensor:
    """The matrix product with NumPy's rules: 1-D operands are vectors, and the leading
    dimensions are batch dimensions that broadcast."""
    a, b = operands(a, b, "matmul", broadcast=False)
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise ShapeError("matmul needs tensors of at least one dimension; use * for scalars")
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError("matmul needs tensors of at least one dimension; use * for scalars")
    inner = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if a.shape[-1] != inner:
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} do not fit "
                         f"({a.shape[-1]} != {inner} in the inner dimension)")
    broadcast_shapes(a.shape[:-2], b.shape[:-2], op=f"matmul of {a.shape} and {b.shape}: the "
                     "batch dimensions")
    return MatMul.apply(a, b)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias``: x (..., in_features), weight (out_features, in_features),
    bias (out_features,)."""
    for t in (x, weight) if bias is None else (x, weight, bias):
        check_tensor(t, "linear")
    if weight.ndim != 2:
        raise ShapeError(f"linear: weight of shape {weight.shape}, expected (out_features, "
                         "in_features)")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ShapeError(f"linear: input of shape {x.shape} does not fit a weight of shape "
                         f"{weight.shape} (expected input (..., {weight.shape[1]}))")
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ShapeError(f"linear: bias of shape {bias.shape}, expected ({weight.shape[0]},)")
    return Linear.apply(x, weight, bias)
