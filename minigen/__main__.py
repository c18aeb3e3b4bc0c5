"""The command line: ``python -m minigen`` (or ``minigen``).

    python -m minigen train vae --epochs 30 --out runs/vae
    python -m minigen train dcgan --device cuda
    python -m minigen train gan --resume            # continue runs/gan/checkpoint.npz
    python -m minigen train gan --overwrite         # start runs/gan over
    python -m minigen report --out report           # all three models, figures, report.md
    python -m minigen report --out /tmp/r --quick   # a smoke run of under a minute
    python -m minigen evaluate runs/gan             # score a run's checkpoints
    python -m minigen exercises start ws            # practise: a workspace of exercises
    python -m minigen exercises check 2 --workspace ws
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from minigen.argtypes import (
    dropout,
    ema_decay,
    label,
    natural_int,
    positive_float,
    positive_int,
)
from minigen.errors import MinigenError
from minigen.train import TrainingInterrupted


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m minigen", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--seed", type=natural_int, default=0,
                       help="seeds everything (default 0)")
        p.add_argument("--device", default="cpu", help="cpu (default), cuda, cuda:1")
        p.add_argument("--data", default=None, metavar="DIR",
                       help="a folder with the data set's IDX files, or 'sample' for the "
                            "bundled MNIST sample (default: the usual places; for MNIST, "
                            "full MNIST if found, else the sample)")
        p.add_argument("--quick", action="store_true",
                       help="a smoke run: a slice of the data, 2 epochs")
        p.add_argument("--no-progress", action="store_true", help="no progress bars")

    train = commands.add_parser("train", help="train one model of the report")
    train.add_argument("model", choices=["gan", "dcgan", "vae"])
    train.add_argument("--dataset", default="mnist", choices=["mnist", "fashion-mnist"],
                       help="the digits (default) or Fashion-MNIST (found where Debian's "
                            "dataset-fashion-mnist puts it, or give --data DIR)")
    train.add_argument("--epochs", type=positive_int,
                       help="default: 100 gan, 20 dcgan, 30 vae")
    train.add_argument("--batch-size", type=positive_int, help="default: 64 GANs, 128 vae")
    train.add_argument("--lr", type=positive_float, help="Adam's step: 2e-4 GANs, 1e-3 vae")
    train.add_argument("--out", help="the run folder (default runs/MODEL)")
    start = train.add_mutually_exclusive_group()
    start.add_argument("--resume", nargs="?", const="auto", metavar="CHECKPOINT",
                       help="continue from a checkpoint (default: the run folder's)")
    start.add_argument("--overwrite", action="store_true",
                       help="start over in a run folder that holds a run (its checkpoint and "
                            "per-epoch samples are deleted first)")
    train.add_argument("--latent-dim", type=positive_int, help="size of z: 100 GANs, 2 vae")
    train.add_argument("--posterior", choices=["diagonal", "full"], default="diagonal",
                       help="vae: the report's diagonal or full-covariance posterior")
    train.add_argument("--k", type=positive_int, default=1,
                       help="GAN: D steps per G step (default 1)")
    train.add_argument("--saturating", action="store_true",
                       help="GAN: the minimax generator loss log(1 - D(G(z)))")
    train.add_argument("--real-label", type=label,
                       help="GAN: target for real images: 1 gan, 0.9 dcgan (one-sided label "
                            "smoothing)")
    train.add_argument("--d-dropout", type=dropout,
                       help="GAN: dropout in D (default 0.3 gan, 0 dcgan)")
    train.add_argument("--ema", type=ema_decay, metavar="DECAY",
                       help="GAN: also keep an exponential moving average of G's weights "
                            "(e.g. 0.999), sample and score it")
    train.add_argument("--d-batch-norm", action=argparse.BooleanOptionalAction,
                       help="dcgan: BatchNorm in D (default on; with --real-label 1 it "
                            "overpowers G on the small sample)")
    common(train)

    commands.add_parser("evaluate", add_help=False,
                        help="score a run's checkpoints: Fréchet classifier distance, classifier "
                             "score, class histogram, VAE likelihood bounds (evaluate -h)")
    commands.add_parser("exercises", add_help=False,
                        help="practise: write the core's marked bodies in a workspace and check "
                             "them with its property tests (exercises -h)")
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


def _not_a_folder(out: Path) -> Path | None:
    """The file in ``out``'s path (``out`` itself or a parent) that stops it being a folder."""
    return next((p for p in (out, *out.parents) if p.exists() and not p.is_dir()), None)


def _run_state(checkpoint: Path) -> tuple[int, str]:
    """(epochs done, in words) of a training checkpoint; -1 and why if it cannot be read."""
    import minigen

    try:
        ckpt = minigen.load(checkpoint)
        epoch, batch = int(ckpt["epoch"]), int(ckpt.get("batch", 0))
    except (MinigenError, KeyError, TypeError) as e:
        return -1, f"unreadable ({e})"
    more = f" and {batch} batches of epoch {epoch + 1}" if batch else ""
    return epoch, f"after epoch {epoch}{more}"


def _clear_run(out: Path) -> None:
    """Delete what minigen.train writes into a run folder (the checkpoint, every epoch's
    ``samples/epoch_NNN.png``, ``samples.gif``, ``losses.png``), so that a run started over
    is not mixed with the old one's later epochs; nothing else in the folder is touched."""
    old = [out / name for name in ("checkpoint.npz", "samples.gif", "losses.png")]
    old += [p for p in (out / "samples").glob("epoch_*.png")
            if re.fullmatch(r"epoch_\d+\.png", p.name)]
    for path in old:
        path.unlink(missing_ok=True)


def _train(args: argparse.Namespace, argv: list[str]) -> int:
    from minigen import report  # after parsing, so that --help is instant

    out = Path(args.out)
    checkpoint = out / "checkpoint.npz"
    epochs, _, _ = report.settings(args.model, args.epochs, quick=args.quick)
    if args.resume:
        resume = checkpoint if args.resume == "auto" else Path(args.resume)
        done, _ = _run_state(resume) if resume.is_file() else (-1, "")
        if done >= epochs:  # (a missing or bad checkpoint: train_model says why)
            where = resume.parent if resume.name == "checkpoint.npz" else resume
            of = f"of {epochs}" if done == epochs else f"(past the {epochs} asked for)"
            print(f"{where} is already at epoch {done} {of}: nothing to train; pass a larger "
                  f"--epochs to go on")
            return 0
    elif checkpoint.is_file() and not args.overwrite:
        # a second run into the same folder would overwrite the first one's checkpoint and
        # leave its later samples/epoch_NNN.png beside the new run's
        _, state = _run_state(checkpoint)
        print(f"error: {out} already holds a run (checkpoint.npz {state}). Continue it with "
              f"--resume {checkpoint} (and a larger --epochs), or start over with --overwrite "
              f"(deletes its checkpoint and per-epoch samples)", file=sys.stderr)
        return 2
    elif args.overwrite:
        _clear_run(out)
    summary = report.train_model(
        args.model, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        seed=args.seed, device=args.device, data=args.data, out=out,
        resume=args.resume, quick=args.quick, progress=not args.no_progress,
        resume_command=_resume_command(args, argv), latent_dim=args.latent_dim,
        posterior=args.posterior, k=args.k, saturating=args.saturating,
        real_label=args.real_label, d_dropout=args.d_dropout, d_batch_norm=args.d_batch_norm,
        ema=args.ema, dataset=args.dataset)
    numbers = ", ".join(f"{k} {v:.4g}" for k, v in summary.items()
                        if isinstance(v, float) and k not in ("lr", "time", "cpu_seconds"))
    print(f"{args.model}: {summary['epochs']} epochs on {summary['dataset']} "
          f"({summary['train_images']} images, from {summary['data']}): "
          f"{numbers}. Figures and checkpoint in {summary['out']}/")
    return 0


def _exercises(argv: list[str]) -> int:
    import importlib.util

    if importlib.util.find_spec("minigen.exercises") is None:  # a workspace's copy
        import minigen

        print(f"error: this minigen ({Path(minigen.__file__).parent}) is a student workspace's "
              "copy, which holds no exercises: run the command without the workspace on "
              "PYTHONPATH, e.g. env -u PYTHONPATH python -m minigen exercises ...",
              file=sys.stderr)
        return 2
    from minigen.exercises.cli import main as exercises_main

    return exercises_main(argv)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["evaluate"]:  # scoring lives in minigen.metrics, with its own options
        from minigen.metrics.__main__ import main as metrics_main

        return metrics_main(argv)
    if argv[:1] == ["exercises"]:  # the exercises have their own command line
        return _exercises(argv[1:])
    args = _parser().parse_args(argv)
    if args.command == "train":
        args.out = args.out or f"runs/{args.model}"
    blocked = _not_a_folder(Path(args.out))
    if blocked is not None:
        print(f"error: --out {args.out}: {blocked} is a file, not a folder; pass a folder "
              f"(it is created if need be)", file=sys.stderr)
        return 2
    try:
        if args.command == "train":
            return _train(args, argv)
        from minigen import report

        page = report.make_report(args.out, quick=args.quick, device=args.device,
                                  data=args.data, seed=args.seed, progress=not args.no_progress)
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
