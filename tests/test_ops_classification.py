"""Property tests of the classification losses (``nll_loss``, ``cross_entropy``) and
``one_hot``, against NumPy references written from PyTorch's documented formulas: every
reduction, class weights, ignored labels, label smoothing, class-probability targets, extra
dims after the class dim (N, C, d...) and the unbatched (C,) form."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigen
import minigen.functional as F
from minigen import nn
from minigen.errors import DTypeError, ShapeError
from minigen.testing import strategies as mst
from tests.opcheck import check_op, host, linear_gradient

COVERED_OPS = {"NLLLoss"}
COVERED_FUNCTIONS = {"nll_loss", "cross_entropy", "one_hot"}
IGNORE = 1  # the ignored label in the draws that ignore one: a real class, as users do
OUTPUT_OPS = {"NLLLoss", "Add", "Neg", "Div", "Mul", "Mean", "Sum"}  # where a loss can end


def _log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _log_softmax_terms(h, loss_of_logp, v):
    """Cross-entropy's gradient reaches the logits through log_softmax's backward,
    G - softmax sum G (G the loss's gradient in the log-probabilities, linear in them): what it
    subtracts (tests.opcheck.check_float32) is |G| + softmax sum |G|."""
    g = np.abs(linear_gradient(loss_of_logp, h.shape, v))
    return np.exp(_log_softmax(h)) * np.sum(g, axis=1, keepdims=True) + g


def _reference(logp: np.ndarray, target: np.ndarray, weight, ignore: int, reduction: str,
               smoothing: float = 0.0) -> np.ndarray:
    """PyTorch's NLL with label smoothing, position by position (a loop: a reference)."""
    classes = logp.shape[1]
    w = np.ones(classes) if weight is None else weight
    moved = np.moveaxis(logp, 1, -1).reshape(-1, classes)  # one row per position
    losses, weights = [], []
    for row, label in zip(moved, target.reshape(-1)):
        if label == ignore:
            losses.append(0.0)
            weights.append(0.0)
            continue
        nll = -w[label] * row[label]
        smooth = -(w * row).sum() / classes
        losses.append((1 - smoothing) * nll + smoothing * smooth)
        weights.append(w[label])
    losses = np.array(losses).reshape(target.shape)
    if reduction == "none":
        return losses
    return losses.sum() if reduction == "sum" else losses.sum() / sum(weights)


@st.composite
def classification_cases(draw, device):
    """Logits (N, C, d...), labels (N, d...), maybe weights and an ignored label (never all
    of them: a mean over nothing is refused, tested below)."""
    extra = draw(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), label="extra dims")
    n, classes = draw(st.integers(1, 3), label="N"), draw(st.integers(2, 4), label="C")
    x = draw(mst.tensors((n, classes) + extra, device=device), label="logits")
    labels = draw(hnp.arrays(np.int64, (n,) + extra, elements=st.integers(0, classes - 1)),
                  label="labels")
    ignore = IGNORE if draw(st.booleans(), label="ignore a label") else -100
    if (labels == ignore).all():
        labels.flat[0] = 0
    weight = None
    if draw(st.booleans(), label="class weights"):
        weight = draw(hnp.arrays(np.float64, classes, elements=st.floats(0.1, 2.0)),
                      label="weight")
    reduction = draw(st.sampled_from(["mean", "sum", "none"]), label="reduction")
    return x, labels, ignore, weight, reduction


def _on(array, device):
    return None if array is None else minigen.tensor(array, device=device)


@given(data=st.data())
def test_nll_loss(device, data):
    x, labels, ignore, weight, reduction = data.draw(classification_cases(device))
    y, w = _on(labels, device), _on(weight, device)

    def fn(t, w):
        return F.nll_loss(t, y, w, ignore_index=ignore, reduction=reduction)

    check_op(fn, [x, w], lambda h, w: _reference(h, labels, w, ignore, reduction), "NLLLoss")


@given(data=st.data())
def test_cross_entropy(device, data):
    x, labels, ignore, weight, reduction = data.draw(classification_cases(device))
    smoothing = data.draw(st.sampled_from([0.0, 0.1, 0.5]), label="label_smoothing")
    y, w = _on(labels, device), _on(weight, device)

    def fn(t, w):
        return F.cross_entropy(t, y, w, ignore, reduction, label_smoothing=smoothing)

    op = fn(x, w).grad_fn
    assert op in OUTPUT_OPS
    def terms(h, w, v):
        return [_log_softmax_terms(
            h, lambda lp: _reference(lp, labels, w, ignore, reduction, smoothing), v), None]

    check_op(fn, [x, w], lambda h, w: _reference(_log_softmax(h), labels, w, ignore,
                                                 reduction, smoothing), op, grad_terms=terms)


@given(data=st.data())
def test_cross_entropy_with_class_probabilities(device, data):
    """A target of class probabilities: -sum_c w_c t_c log p_c per position; the mean is
    over positions, not weights (PyTorch's rule)."""
    x, _, _, weight, reduction = data.draw(classification_cases(device))
    target = data.draw(mst.tensors(x.shape, device=device, requires_grad=False,
                                   elements=mst.interval(0.0, 1.0, "p")), label="target")
    smoothing = data.draw(st.sampled_from([0.0, 0.2]), label="label_smoothing")
    w = _on(weight, device)

    def of_logp(logp, t, weight):
        t = t * (1 - smoothing) + smoothing / logp.shape[1]
        wc = np.ones(logp.shape[1]) if weight is None else weight
        wc = wc.reshape((1, -1) + (1,) * (logp.ndim - 2))
        loss = -(logp * t * wc).sum(axis=1)
        return {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]

    def reference(h, t, weight):
        return of_logp(_log_softmax(h), t, weight)

    def terms(h, t, weight, v):
        return [_log_softmax_terms(h, lambda lp: of_logp(lp, t, weight), v), None, None]

    def fn(t, target, w):
        return F.cross_entropy(t, target, w, reduction=reduction, label_smoothing=smoothing)

    op = fn(x, target, w).grad_fn
    assert op in OUTPUT_OPS
    check_op(fn, [x, target, w], reference, op,  # (all float32 in the float32 pass)
             grad_terms=terms)


def test_unbatched_and_module_forms(device):
    logits = minigen.tensor([2.0, 0.0, -1.0], dtype="float64", device=device)
    label = minigen.tensor(0, device=device)
    expected = -_log_softmax(host(logits)[None])[0, 0]
    assert F.cross_entropy(logits, label).item() == pytest.approx(expected, rel=1e-12)
    assert F.cross_entropy(logits, label, reduction="none").shape == ()
    batch = logits.reshape(1, 3)
    labels = minigen.tensor([0], device=device)
    assert nn.CrossEntropyLoss()(batch, labels).item() == pytest.approx(expected, rel=1e-12)
    assert nn.NLLLoss()(F.log_softmax(batch, 1), labels).item() == pytest.approx(expected,
                                                                                  rel=1e-12)


@given(labels=hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=3),
                         elements=st.integers(0, 4)),
       extra=st.integers(0, 2))
def test_one_hot(labels, extra):
    classes = int(labels.max(initial=0)) + 1 + extra
    got = F.one_hot(minigen.tensor(labels), classes)
    assert got.dtype == minigen.int64
    np.testing.assert_array_equal(host(got), np.eye(classes, dtype=np.int64)[labels])
    if labels.size:
        assert F.one_hot(minigen.tensor(labels)).shape == labels.shape + (labels.max() + 1,)


def test_one_hot_on_the_device(device):
    got = F.one_hot(minigen.tensor([2, 0], device=device), 3)
    assert got.device == minigen.device(device)
    assert host(got).tolist() == [[0, 0, 1], [1, 0, 0]]


def test_bad_input_is_named():
    x, y = minigen.zeros(2, 3), minigen.tensor([0, 2])
    with pytest.raises(IndexError, match="label 3 is out of range for 3 classes"):
        F.cross_entropy(x, minigen.tensor([0, 3]))
    with pytest.raises(IndexError, match="label -1"):
        F.nll_loss(x, minigen.tensor([-1, 0]))
    with pytest.raises(ShapeError, match=r"labels of shape \(2,\)"):
        F.cross_entropy(x, minigen.tensor([[0, 1]]))
    with pytest.raises(DTypeError, match="integer class labels"):
        F.nll_loss(x, minigen.tensor([0.0, 1.0]))
    with pytest.raises(ShapeError, match="class probabilities must have the input's shape"):
        F.cross_entropy(x, minigen.zeros(2, 4))
    with pytest.raises(DTypeError, match=r"must be integers, got minigen.float32: convert it "
                                         r"with \.long\(\)"):
        F.cross_entropy(x, minigen.tensor([0.0, 2.0]))
    with pytest.raises(DTypeError, match="are the arguments swapped"):
        F.cross_entropy(y, x)
    with pytest.raises(ValueError, match="ignore_index applies to integer labels"):
        F.cross_entropy(x, minigen.zeros(2, 3), ignore_index=0)
    with pytest.raises(ShapeError, match=r"one number per class, shape \(3,\)"):
        F.cross_entropy(x, y, weight=minigen.ones(2))
    with pytest.raises(DTypeError, match="never casts silently"):
        F.cross_entropy(x, y, weight=minigen.ones(3, dtype="float64"))
    with pytest.raises(ValueError, match="no label counts towards the mean"):
        F.cross_entropy(x, minigen.tensor([1, 1]), ignore_index=1)  # PyTorch: NaN
    assert F.cross_entropy(x, minigen.tensor([1, 1]), ignore_index=1, reduction="sum").item() == 0
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(x, y, label_smoothing=1.5)
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, y, reduction="avg")
    with pytest.raises(ShapeError, match="unbatched"):
        F.cross_entropy(minigen.zeros(3), y)
    with pytest.raises(IndexError, match="label 3 is out of range for 3 classes"):
        F.one_hot(minigen.tensor([0, 3]), 3)
    with pytest.raises(DTypeError, match="integer labels"):
        F.one_hot(minigen.tensor([0.0]))
