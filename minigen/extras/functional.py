"""The extras of ``minigen.functional`` (``F.gelu``, ``F.cross_entropy``, ``F.pad`` with its
modes...): see :mod:`minigen.extras`."""

from minigen.extras.activations import log_sigmoid, softplus
from minigen.extras.classification import cross_entropy, nll_loss, one_hot
from minigen.extras.embedding import embedding
from minigen.extras.layer_norm import layer_norm
from minigen.extras.padding import pad
from minigen.extras.pooling import avg_pool2d, max_pool2d
from minigen.extras.probability_losses import binary_cross_entropy
from minigen.extras.regression_losses import l1_loss, smooth_l1_loss
from minigen.extras.resample import adaptive_avg_pool2d, interpolate
from minigen.extras.similarity import cosine_similarity, kl_div, normalize
from minigen.extras.smooth_activations import elu, gelu, silu

logsigmoid = log_sigmoid  # PyTorch's spelling (torch.nn.functional.logsigmoid)

__all__ = [
    "log_sigmoid", "logsigmoid", "softplus", "binary_cross_entropy",
    "cross_entropy", "nll_loss", "one_hot", "embedding", "layer_norm", "pad", "avg_pool2d",
    "max_pool2d", "l1_loss", "smooth_l1_loss", "adaptive_avg_pool2d", "interpolate",
    "cosine_similarity", "kl_div", "normalize", "elu", "gelu", "silu",
]
