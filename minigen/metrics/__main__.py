"""``python -m minigen.metrics``: train the scores' classifier, or score a training run.

    python -m minigen.metrics train-classifier                     # MNIST (full, else sample)
    python -m minigen.metrics train-classifier --dataset fashion-mnist
    python -m minigen.metrics evaluate runs/gan                    # scores.md, .json, .png
    python -m minigen.metrics evaluate runs/gan/checkpoint.npz     # that checkpoint alone
"""

from __future__ import annotations

import argparse
import sys
import warnings
from typing import Any

from minigen.argtypes import natural_int, positive_float, positive_int
from minigen.errors import MinigenError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m minigen.metrics", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train-classifier", help="train the digit classifier")
    train.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"],
                       help="the digits (default) or Fashion-MNIST")
    train.add_argument("--data", default=None, metavar="DIR",
                       help="a folder with the IDX files, or 'sample' (default: the search "
                            "order of minigen.data, ending with the bundled MNIST sample)")
    train.add_argument("--epochs", type=positive_int, default=20, help="default 20")
    train.add_argument("--batch-size", type=positive_int, default=64, help="default 64")
    train.add_argument("--lr", type=positive_float, default=1e-3,
                       help="Adam's step (default 1e-3)")
    train.add_argument("--seed", type=natural_int, default=0, help="default 0")
    train.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:1")
    train.add_argument("--out", default=None,
                       help="weights file (default: the user cache, where load_classifier "
                            "looks first)")
    evaluate = commands.add_parser(
        "evaluate", help="score a training run's checkpoints",
        description="Score a training run's checkpoints (each one's generated images through "
                    "the digit classifier) and write scores.md, scores.json and "
                    "scores_per_epoch.png.")
    evaluate.add_argument("run_dir", metavar="RUN",
                          help="a run folder written by `python -m minigen train` (every "
                               "checkpoint in it is scored), or one checkpoint file")
    evaluate.add_argument("--out", default=None, metavar="DIR",
                          help="where to write the scores (default RUN/evaluation)")
    evaluate.add_argument("--samples", type=positive_int, default=1000,
                          help="images generated per checkpoint (default 1000)")
    evaluate.add_argument("--k", type=natural_int, default=1000,
                          help="VAE: importance samples of the IWAE bound (default 1000; "
                               "0 skips it)")
    evaluate.add_argument("--classifier", default=None, metavar="FILE",
                          help="a classifier weights file, trained on the run's data set "
                               "(default: the one trained for it with train-classifier, else "
                               "for MNIST the shipped one)")
    evaluate.add_argument("--device", default="cpu",
                          help="where to generate and classify: cpu (default), cuda, cuda:1")
    evaluate.add_argument("--seed", type=natural_int, default=0,
                          help="seeds the latent codes and the real images compared (default 0)")
    return parser


def _show_warning(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
                  line: Any = None) -> None:
    print(f"warning: {message}", file=sys.stderr)  # one line, not the source location


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return _run(args)
    except MinigenError as e:  # a bad folder or checkpoint, missing data: the message says why
        print(f"error: {e}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from minigen.metrics import classifier, evaluate_run, format_table

    if args.command == "train-classifier":
        source = "sample" if args.data == "sample" else "auto"
        root = None if args.data in (None, "sample") else args.data
        out = args.out or classifier.default_weights(args.dataset)
        if args.out is None and out == classifier.SHIPPED_WEIGHTS:
            out = classifier.cache_dir("classifiers") / f"classifier_{args.dataset}.npz"
        model = classifier.train_classifier(
            args.dataset, source=source, root=root, epochs=args.epochs,
            batch_size=args.batch_size, lr=args.lr, seed=args.seed, device=args.device,
            out=out)
        print(f"saved {out} (test accuracy {model.meta['test_accuracy']:.2%})")
        return 0
    clf = (None if args.classifier is None  # None: the one of the run's data set
           else classifier.load_classifier(path=args.classifier, device=args.device))
    result = evaluate_run(args.run_dir, args.out, n_samples=args.samples, k=args.k,
                          classifier=clf, device=args.device, seed=args.seed)
    meta = result["classifier"]
    if result["averaged_generator"]:
        print("The generator scored is the run's average of G's weights (train --ema).")
    print(format_table(result["checkpoints"], meta.get("test_accuracy"),
                       meta.get("dataset", "mnist")))
    print(f"classifier: {meta.get('weights')}")
    print("written: " + ", ".join(result["files"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
