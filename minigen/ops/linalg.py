"""Matrix products: matmul (batched, broadcasting the batch dimensions) and the fused linear
layer ``x @ W.T + b``. These are where a training step spends most of its time (BLAS GEMMs)."""

from __future__ import annotations

import math
from typing import Any

from minigen import backend
from minigen.autograd import Context, Function
from minigen.backend import Array
from minigen.errors import ShapeError
from minigen.ops._common import broadcast_shapes, check_numeric, check_tensor, ensure_tensor
from minigen.tensor import Tensor


class MatMul(Function):
    @staticmethod
    def forward(ctx: Context, a: Array, b: Array) -> Array:
        ctx.save_for_backward(a, b)
        return backend.namespace(a).matmul(a, b)

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Any, Any]:
        a, b = ctx.saved_arrays
        xp = backend.namespace(a)
        # Treat vectors as matrices: a (n,) is (1, n) on the left, b (n,) is (n, 1) on the right.
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        batch = broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
        g = xp.reshape(grad_out, batch + (a2.shape[-2], b2.shape[-1]))
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:  # dL/dA = dL/dC B^T
            grad_a = xp.matmul(g, xp.matrix_transpose(b2))
            grad_a = _back_to_vector(grad_a, a, -2)
        if ctx.needs_input_grad[1]:  # dL/dB = A^T dL/dC
            grad_b = xp.matmul(xp.matrix_transpose(a2), g)
            grad_b = _back_to_vector(grad_b, b, -1)
        return grad_a, grad_b


def _back_to_vector(grad: Array, original: Array, axis: int) -> Array:
    """For a 1-D operand: sum any batch dimensions away and drop the axis we added."""
    if original.ndim != 1:
        return grad
    xp = backend.namespace(grad)
    if grad.ndim > 2:
        grad = xp.sum(grad, axis=tuple(range(grad.ndim - 2)))
    return xp.reshape(grad, original.shape)


class Linear(Function):
    """``x @ weight.T + bias`` for ``x`` of shape (..., in), ``weight`` (out, in)."""

    @staticmethod
    def forward(ctx: Context, x: Array, weight: Array, bias: Array | None) -> Array:
        xp = backend.namespace(x)
        ctx.save_for_backward(x, weight)
        out = xp.matmul(x, xp.matrix_transpose(weight))
        if bias is not None:
            out += bias  # in place: the GEMM's result is ours
        return out

    @staticmethod
    def backward(ctx: Context, grad_out: Array) -> tuple[Any, Any, Any]:
        x, weight = ctx.saved_arrays
        xp = backend.namespace(x)
        rows = math.prod(grad_out.shape[:-1])  # not -1: it cannot be inferred if a size is 0
        g2 = xp.reshape(grad_out, (rows, grad_out.shape[-1]))  # (batch, out)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            if x.ndim == 2 and backend.batch_last(x):  # (a conv layer's flattened output)
                # the same product, transposed: (W^T g^T)^T comes out in x's own layout
                grad_x = xp.matrix_transpose(xp.matmul(xp.matrix_transpose(weight),
                                                       xp.matrix_transpose(grad_out)))
            else:
                grad_x = xp.matmul(grad_out, weight)  # (..., out) @ (out, in)
        if ctx.needs_input_grad[1]:
            grad_w = xp.matmul(xp.matrix_transpose(g2), xp.reshape(x, (rows, x.shape[-1])))
        if len(ctx.needs_input_grad) > 2 and ctx.needs_input_grad[2]:
            grad_b = xp.sum(g2, axis=0)
        return grad_x, grad_w, grad_b


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy's rules: 1-D operands are vectors, leading dimensions are
    batch dimensions and broadcast."""
    a, b = ensure_tensor(a, b)
    check_numeric(a, "matmul")
    check_numeric(b, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ShapeError("matmul needs tensors of at least one dimension; use * for scalars")
    k_a = a.shape[-1]
    k_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if k_a != k_b:
        raise ShapeError(f"matmul: shapes {a.shape} and {b.shape} do not fit "
                         f"({k_a} != {k_b} in the inner dimension)")
    broadcast_shapes(a.shape[:-2], b.shape[:-2], op=f"matmul of {a.shape} and {b.shape}: "
                     "the batch dimensions")
    return MatMul.apply(a, b)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x @ weight.T + bias``: x (..., in_features), weight (out_features, in_features),
    bias (out_features,). One GEMM forward, two backward."""
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
