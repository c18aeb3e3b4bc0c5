"""The command line: ``python -m minigen`` (or ``minigen``).

    python -m minigen train vae --epochs 30 --out runs/vae
    python -m minigen train dcgan --device cuda
    python -m minigen train gan --resume            # continue runs/gan/checkpoint.npz
    python -m minigen report --out report           # all three models, figures, report.md
    python -m minigen report --out /tmp/r --quick   # a smoke run of under a minute
    python -m minigen evaluate runs/gan             # score a run's checkpoints
"""

from __future__ import annotations

import argparse
import sys

from minigen.errors import MinigenError
from minigen.train import TrainingInterrupted


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m minigen", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--seed", type=int, default=0, help="seeds everything (default 0)")
        p.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:1")
        p.add_argument("--data", default=None, metavar="DIR",
                       help="a folder with the MNIST files, or 'sample' for the bundled "
                            "sample (default: full MNIST if found, else the sample)")
        p.add_argument("--quick", action="store_true",
                       help="a smoke run: a slice of the data, 2 epochs")
        p.add_argument("--no-progress", action="store_true", help="no progress bars")

    train = commands.add_parser("train", help="train one model of the report")
    train.add_argument("model", choices=["gan", "dcgan", "vae"])
    train.add_argument("--epochs", type=int, help="default: 100 gan, 20 dcgan, 30 vae")
    train.add_argument("--batch-size", type=int, help="default: 64 GANs, 128 vae")
    train.add_argument("--lr", type=float, help="Adam's step: 2e-4 GANs, 1e-3 vae")
    train.add_argument("--out", help="the run folder (default runs/MODEL)")
    train.add_argument("--resume", nargs="?", const="auto", metavar="CHECKPOINT",
                       help="continue from a checkpoint (default: the run folder's)")
    train.add_argument("--latent-dim", type=int, help="size of z: 100 GANs, 2 vae")
    train.add_argument("--posterior", choices=["diagonal", "full"], default="diagonal",
                       help="vae: the report's diagonal or full-covariance posterior")
    train.add_argument("--k", type=int, default=1, help="GAN: D steps per G step")
    train.add_argument("--saturating", action="store_true",
                       help="GAN: the minimax generator loss log(1 - D(G(z)))")
    train.add_argument("--real-label", type=float,
                       help="GAN: target for real images: 1 gan, 0.9 dcgan (one-sided label "
                            "smoothing)")
    train.add_argument("--d-dropout", type=float,
                       help="GAN: dropout in D (default 0.3 gan, 0 dcgan)")
    train.add_argument("--d-batch-norm", action=argparse.BooleanOptionalAction,
                       help="dcgan: BatchNorm in D (default on; with --real-label 1 it "
                            "overpowers G on the small sample)")
    common(train)

    commands.add_parser("evaluate", add_help=False,
                        help="score a run's checkpoints: Fréchet classifier distance, classifier "
                             "score, class histogram, VAE likelihood bounds (evaluate -h)")
    report = commands.add_parser("report", help="train all three models, write every figure "
                                                "and report.md")
    report.add_argument("--out", default="report", help="folder for the page and figures")
    common(report)
    return parser


def _resume_command(args: argparse.Namespace, argv: list[str]) -> str:
    kept, skip = [], False
    for a in argv:  # the same command, with --resume pointing at the run folder
        if skip:
            skip = False
            if not a.startswith("-"):
                continue
        if a == "--resume":
            skip = True
            continue
        if a.startswith("--resume="):
            continue
        kept.append(a)
    out = ["--out", args.out] if args.out and "--out" not in kept else []
    return " ".join(["python -m minigen", *kept, *out, "--resume"])


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["evaluate"]:  # scoring lives in minigen.metrics, with its own options
        from minigen.metrics.__main__ import main as metrics_main

        return metrics_main(argv)
    args = _parser().parse_args(argv)
    from minigen import report  # after parsing, so that --help is instant

    try:
        if args.command == "train":
            args.out = args.out or f"runs/{args.model}"
            summary = report.train_model(
                args.model, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                seed=args.seed, device=args.device, data=args.data, out=args.out,
                resume=args.resume, quick=args.quick, progress=not args.no_progress,
                resume_command=_resume_command(args, argv), latent_dim=args.latent_dim,
                posterior=args.posterior, k=args.k, saturating=args.saturating,
                real_label=args.real_label, d_dropout=args.d_dropout,
                d_batch_norm=args.d_batch_norm)
            numbers = ", ".join(f"{k} {v:.4g}" for k, v in summary.items()
                                if isinstance(v, float) and k not in ("lr", "time", "cpu_seconds"))
            print(f"{args.model}: {summary['epochs']} epochs on {summary['data']} data: "
                  f"{numbers}. Figures and checkpoint in {summary['out']}/")
        else:
            page = report.make_report(args.out, quick=args.quick, device=args.device,
                                      data=args.data, seed=args.seed,
                                      progress=not args.no_progress)
            print(f"report written: {page}")
    except TrainingInterrupted as e:
        print(f"\n{e}", file=sys.stderr)
        return 130
    except MinigenError as e:  # a NaN loss, a bad checkpoint, missing data: the message says why
        print(f"\nerror: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
