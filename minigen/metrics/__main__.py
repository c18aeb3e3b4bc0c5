"""``python -m minigen.metrics``: train the scores' classifier, or score a training run.

    python -m minigen.metrics train-classifier                     # MNIST (full, else sample)
    python -m minigen.metrics train-classifier --dataset fashion-mnist
    python -m minigen.metrics evaluate runs/gan                    # scores.md, .json, .png
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minigen.metrics", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train-classifier", help="train the digit classifier")
    train.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"])
    train.add_argument("--data", default=None, metavar="DIR",
                       help="a folder with the IDX files, or 'sample' (default: the search "
                            "order of minigen.data, ending with the bundled MNIST sample)")
    train.add_argument("--epochs", type=int, default=20)
    train.add_argument("--batch-size", type=int, default=64)
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--device", default="cpu")
    train.add_argument("--out", default=None,
                       help="weights file (default: the user cache, where load_classifier "
                            "looks first)")
    evaluate = commands.add_parser("evaluate", help="score a training run's checkpoints")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--out", default=None, help="default RUN_DIR/evaluation")
    evaluate.add_argument("--samples", type=int, default=1000, help="images per checkpoint")
    evaluate.add_argument("--k", type=int, default=1000, help="VAE: importance samples")
    evaluate.add_argument("--classifier", default=None, help="a classifier weights file")
    evaluate.add_argument("--device", default="cpu")
    evaluate.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

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
    clf = classifier.load_classifier(path=args.classifier, device=args.device)
    result = evaluate_run(args.run_dir, args.out, n_samples=args.samples, k=args.k,
                          classifier=clf, device=args.device, seed=args.seed)
    print(format_table(result["checkpoints"], clf.meta.get("test_accuracy")))
    print("written: " + ", ".join(result["files"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
