"""``szsl tune``: hyperparameter search by the paper's protocol (validation folds only)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from szsl.commands._common import add_dataset_args
from szsl.errors import SZSLError


def int_at_least(minimum: int):
    """An argparse type: an integer >= minimum, with a one-line message otherwise."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value

    return parse


positive_int = int_at_least(1)
nonneg_int = int_at_least(0)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def add_search_args(parser: argparse.ArgumentParser, *, trials_default: int) -> None:
    """Options shared by ``tune`` and ``reproduce``."""
    from szsl.protocol import DEFAULT_FOLD_CLASSES, FOLD_CLASSES
    from szsl.tune import DEFAULT_BATCH, SAMPLERS

    parser.add_argument("--trials", type=positive_int, default=trials_default, help=f"COMPLETE trials the study should hold (default {trials_default}); re-running continues")
    parser.add_argument("--epochs", type=positive_int, default=None, help="fixed epoch budget of every trial (default: the space's, 30)")
    parser.add_argument("--space", metavar="JSON", default=None, help="'default', 'paper' (the paper's full space) or a search-space file: per parameter {low, high, log} / {choices} / a fixed value")
    parser.add_argument(
        "--fold-classes", choices=FOLD_CLASSES, default=DEFAULT_FOLD_CLASSES,
        help="classes a validation-fold model knows: 'all' (default; the test-unseen classes too, by their attributes only, never an image) "
        "or 'trainval' (the paper's folds). '--space paper --fold-classes trainval' is the protocol of szsl 0.1",
    )
    parser.add_argument("--search-mass", action="store_true", help="search m = alpha*q directly (alpha fixed to 1); the loss depends on alpha, q only through m")
    parser.add_argument("--sampler", choices=SAMPLERS, default="tpe", help="Optuna sampler (default tpe, seeded)")
    parser.add_argument("--batch", type=positive_int, default=DEFAULT_BATCH, help=f"trials trained together as one population per fold (default {DEFAULT_BATCH})")
    parser.add_argument("--seed", type=nonneg_int, default=0, help="seed of the 80/20 fold split, the initial weights and the sampler")
    parser.add_argument("--storage", default=None, help="SQLAlchemy URL of the study database (default: a SQLite file in the output folder)")
    parser.add_argument("--timeout", type=positive_float, default=None, help="stop asking for new trials after this many seconds")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")


def add_parser(sub) -> None:
    parser = sub.add_parser("tune", help="search hyperparameters on the validation folds (Optuna; resumable, multi-worker)")
    add_dataset_args(parser)
    add_search_args(parser, trials_default=30)
    parser.add_argument("--study", default=None, help="study name (default: derived from dataset, sampler, seed and space, so re-runs continue it)")
    parser.add_argument("--workers", type=positive_int, default=1, help="local worker processes sharing the study (default 1)")
    parser.add_argument("--out", default=None, help="where to write the best parameters as JSON (default results/<dataset>-best.json)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--worker-index", type=nonneg_int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--no-output", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from szsl.atomic import write_json
    from szsl.data import load_benchmark
    from szsl.tune import default_study_name, load_space, redact, sqlite_url, tune

    space = load_space(args.space, epochs=args.epochs, search_mass=args.search_mass)
    benchmark = load_benchmark(args.dataset, args.root)
    out = Path(args.out) if args.out else Path("results") / f"{benchmark.name}-best.json"
    storage = args.storage or sqlite_url(out.parent / "szsl-tune.db")
    study = args.study or default_study_name(benchmark, space, args.seed, args.sampler, args.fold_classes)

    children = []
    if args.workers > 1:
        # K-1 more worker processes on the same storage and study; this process is worker 0.
        base = [
            "tune", "--dataset", args.dataset, "--trials", str(args.trials), "--sampler", args.sampler, "--batch", str(args.batch),
            "--seed", str(args.seed), "--device", args.device, "--fold-classes", args.fold_classes,
        ]
        for opt, value in (("--root", args.root), ("--epochs", args.epochs), ("--space", args.space), ("--timeout", args.timeout)):
            if value is not None:
                base += [opt, str(value)]
        if args.search_mass:
            base.append("--search-mass")
        for i in range(1, args.workers):
            cmd = [sys.executable, "-m", "szsl", *base, "--workers", "1", "--storage", storage, "--study", study, "--worker-index", str(i), "--no-output", "--quiet"]
            children.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL))
    try:
        result = tune(
            benchmark,
            n_trials=args.trials,
            storage=storage,
            study_name=study,
            space=space,
            sampler=args.sampler,
            seed=args.seed,
            batch=args.batch,
            timeout=args.timeout,
            device=args.device,
            progress=not args.quiet,
            worker=args.worker_index,
            fold_classes=args.fold_classes,
        )
    finally:
        codes = [c.wait() for c in children]
    if any(codes):
        raise SZSLError(f"{sum(1 for c in codes if c)} of {len(children)} extra worker(s) failed (exit codes {codes})")
    if args.no_output:
        return 0
    # Re-read: the other workers may have finished trials after ours.
    if children:
        from szsl.tune import best_result, load_or_create_study, open_storage

        st = load_or_create_study(
            open_storage(storage), study, space=space, seed=args.seed, sampler=args.sampler, benchmark=benchmark, fold_classes=args.fold_classes
        )
        result = best_result(st, space, args.seed)
    payload = {"dataset": benchmark.name, "storage": redact(storage), **result.to_dict()}
    write_json(out, payload)
    print(f"{benchmark.name}: best mean validation H = {result.best_value:.1f} (trial {result.best_trial}, {result.n_complete} complete trials, study {result.study_name})")
    for key, value in result.best_params.items():
        print(f"  {key:<11} {value:.4g}" if isinstance(value, float) else f"  {key:<11} {value}")
    print(f"wrote {out}")
    return 0

