"""Embedding: a lookup table of trainable vectors, one per index (PyTorch's ``nn.Embedding``).

A conditional GAN embeds its class label this way: ``Embedding(10, 50)(labels)`` is (N, 50),
concatenated to the noise (G) or to the image features (D).
"""

from __future__ import annotations

from typing import Any

from minigen import backend
from minigen.autograd import no_grad
from minigen.creation import zeros
from minigen.extras.embedding import check_padding_idx, embedding
from minigen.nn import init
from minigen.nn.module import Module, Parameter
from minigen.tensor import Tensor


class Embedding(Module):
    """Row ``i`` of ``weight`` (num_embeddings, embedding_dim) for each index ``i``.

    Shapes: input integer indices of any shape, output ``input.shape + (embedding_dim,)``.
    The weight starts from N(0, 1), as PyTorch's; the ``padding_idx`` row (negative counts
    from the end) starts at zero and gets no gradient, so it stays there.

    >>> Embedding(10, 3)(minigen.tensor([1, 7])).shape
    (2, 3)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int,
                 padding_idx: int | None = None, device: Any = None, dtype: Any = None):
        super().__init__()
        for name, n in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if not isinstance(n, int) or isinstance(n, bool) or n < 0:
                raise ValueError(f"Embedding: {name} must be an int >= 0, got {n!r}")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = check_padding_idx(padding_idx, num_embeddings, "Embedding")
        self.weight = Parameter(zeros(num_embeddings, embedding_dim, dtype=dtype,
                                      device=device))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                xp = backend.namespace(self.weight.data)
                data = xp.asarray(self.weight.data, copy=True)
                data[self.padding_idx, ...] = 0.0
                self.weight.data = data

    def forward(self, input: Tensor) -> Tensor:
        return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        extra = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{extra}"
