"""``minigen.metrics``: numbers for generative models of digits.

The report judged its samples by eye. These scores look at them through a small digit
classifier trained with minigen (:mod:`~minigen.metrics.classifier`, weights shipped for the
bundled MNIST sample):

* the Fréchet distance of its 128 features, always next to its real-vs-real floor;
* the classifier score (the Inception Score's analogue), 10 at best;
* the histogram of predicted classes and its entropy (mode collapse);
* D(x) and D(G(z)) over a GAN's training;
* for a VAE, the test ELBO and the importance-weighted bound of log p(x).

>>> from minigen.metrics import load_classifier, score_images
>>> from minigen.models import gan
>>> G, z = gan.Generator(), minigen.randn(100, 100)
>>> clf = load_classifier()                       # the shipped sample classifier
>>> s = score_images(G(z), clf, value_range=(-1, 1))
>>> s["fd"], s["fd_floor"], s["classifier_score"], clf.meta["test_accuracy"]  # doctest: +SKIP
(1305.2, 21.3, 1.02, 0.978)

Command line: ``python -m minigen.metrics train-classifier --dataset fashion-mnist`` and
``python -m minigen.metrics evaluate RUN_DIR``.
"""

from minigen.metrics.classifier import (
    SHIPPED_WEIGHTS,
    DigitClassifier,
    accuracy,
    load_classifier,
    predict,
    save_classifier,
    train_classifier,
)
from minigen.metrics.evaluate import evaluate_run, format_table, real_reference, score_images
from minigen.metrics.likelihood import elbo, iwae_bound, log_weights
from minigen.metrics.scores import (
    class_histogram,
    classifier_score,
    discriminator_summary,
    feature_statistics,
    frechet_distance,
    frechet_distance_from_statistics,
    frechet_floor,
)

__all__ = [
    "SHIPPED_WEIGHTS", "DigitClassifier", "accuracy", "class_histogram", "classifier_score",
    "discriminator_summary", "elbo", "evaluate_run", "feature_statistics", "format_table",
    "frechet_distance", "frechet_distance_from_statistics", "frechet_floor", "iwae_bound",
    "load_classifier", "log_weights", "predict", "real_reference", "save_classifier",
    "score_images", "train_classifier",
]
