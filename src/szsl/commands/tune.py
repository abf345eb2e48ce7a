"""``szsl tune``: hyperparameter search by the paper's protocol (validation folds only)."""

from __future__ import annotations

import argparse

from szsl.commands._common import add_dataset_args, add_quiet_arg, check_output_path
from szsl.methods import method_names


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


def add_budget_args(parser: argparse.ArgumentParser) -> None:
    """The small-data budget rules (szsl.budget), shared by ``train``, ``tune`` and ``reproduce``."""
    from szsl.budget import EPOCH_STEPS, MIN_BATCH, MIN_STEPS

    parser.add_argument(
        "--epoch-steps", type=nonneg_int, default=EPOCH_STEPS, metavar="N",
        help=f"network methods: a small data set's fixed batch size halves (down to {MIN_BATCH}) until an epoch has N optimizer steps "
        f"(default {EPOCH_STEPS}; every xlsa17 benchmark has more at batch 256; 0: the batch size as given)",
    )
    parser.add_argument(
        "--min-steps", type=nonneg_int, default=0, metavar="N",
        help="network methods: more epochs than --epochs until a run has N optimizer steps on the trainval images (default 0: off; "
        f"{MIN_STEPS} helps low-dimensional features such as the digits, docs/robustness.md)",
    )


def add_search_args(parser: argparse.ArgumentParser, *, trials_default: int) -> None:
    """Options shared by ``tune`` and ``reproduce``."""
    from szsl.objective import DEFAULT_OBJECTIVE, OBJECTIVES
    from szsl.protocol import DEFAULT_FOLD_CLASSES, FOLD_CLASSES
    from szsl.pruning import DEFAULT_PRUNE, PRUNE_MIN_EPOCHS, PRUNE_REDUCTION, PRUNERS
    from szsl.study_spec import DEFAULT_BATCH
    from szsl.trial_batch import SAMPLERS

    parser.add_argument(
        "--trials",
        type=positive_int,
        default=trials_default,
        help=f"finished (complete or pruned) trials the study should hold (default {trials_default}); re-running continues",
    )
    parser.add_argument(
        "--prune", choices=PRUNERS, default=DEFAULT_PRUNE,
        help=f"multi-fidelity search of network methods: 'halving' (default) scores each trial on the folds at epochs {PRUNE_MIN_EPOCHS}, "
        f"{PRUNE_MIN_EPOCHS * PRUNE_REDUCTION}, ... and stops it there unless it is in the top 1/{PRUNE_REDUCTION} of the study's trials "
        "at that epoch; 'none' trains every trial to its full budget",
    )
    parser.add_argument("--epochs", type=positive_int, default=None, help="fixed epoch budget of every trial (default: the space's, 30)")
    add_budget_args(parser)
    parser.add_argument(
        "--space", metavar="JSON", default=None,
        help="'default', 'paper' (the paper's full space) or a search-space file: per parameter {low, high, log} / {choices} "
        "/ a fixed value",
    )
    parser.add_argument(
        "--fold-classes", choices=FOLD_CLASSES, default=DEFAULT_FOLD_CLASSES,
        help="which classes a validation-fold model knows: 'ratio' (default: as many classes without images as give the final "
        "problem's unseen:seen class ratio; too few pseudo-unseen classes and test-unseen ones join by their attributes only, never "
        "an image; too many and some leave the fold), 'matched' (as many as the final problem's unseen count), 'all' (every "
        "test-unseen class) or 'trainval' (the paper's folds). '--space paper --fold-classes trainval' is the paper's protocol",
    )
    parser.add_argument(
        "--objective", choices=OBJECTIVES, default=DEFAULT_OBJECTIVE,
        help="what ranks the trials: 'calibrated' (default: mean fold H after calibrated stacking with the gamma >= 0 chosen on "
        "the folds, as the final model is calibrated) or 'plain' (mean fold H as predicted; szsl 0.3 and earlier, and "
        "szsl 0.1's protocol)",
    )
    parser.add_argument(
        "--search-mass",
        action="store_true",
        help="search m = alpha*q directly (alpha fixed to 1); the loss depends on alpha, q only through m",
    )
    parser.add_argument("--sampler", choices=SAMPLERS, default="tpe", help="Optuna sampler (default tpe, seeded)")
    parser.add_argument(
        "--trial-batch", "--batch",
        dest="batch",
        type=positive_int,
        default=DEFAULT_BATCH,
        metavar="B",
        help=f"number of TRIALS trained together as one population per fold (default {DEFAULT_BATCH}; more: faster, more memory); "
        "not the training mini-batch (that is --batch-size, searched in the space); --batch is the old name",
    )
    parser.add_argument("--seed", type=nonneg_int, default=0, help="seed of the 80/20 fold split, the initial weights and the sampler")
    parser.add_argument(
        "--storage", default=None, help="SQLAlchemy URL of the study database (default: a SQLite file in the output folder)"
    )
    parser.add_argument(
        "--timeout", type=positive_float, default=None,
        help="stop asking for new trials after this many seconds (once one trial has completed)",
    )
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")


def add_parser(sub) -> None:
    parser = sub.add_parser("tune", help="search hyperparameters on the validation folds (Optuna; resumable, multi-worker)")
    add_dataset_args(parser)
    add_search_args(parser, trials_default=30)
    parser.add_argument(
        "--method", default="szsl", choices=method_names(), help="the method whose space is searched (default szsl; see szsl.methods)"
    )
    parser.add_argument(
        "--study", default=None, help="study name (default: derived from dataset, sampler, seed and space, so re-runs continue it)"
    )
    parser.add_argument("--workers", type=positive_int, default=1, help="local worker processes sharing the study (default 1)")
    parser.add_argument("--out", default=None, help="where to write the best parameters as JSON (default results/<dataset>-best.json)")
    add_quiet_arg(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from szsl.atomic import write_json
    from szsl.data import load_benchmark
    from szsl.search_space import load_space
    from szsl.study_spec import StudySpec
    from szsl.study_storage import redact
    from szsl.tune import default_paths, tune

    space = load_space(args.space, epochs=args.epochs, search_mass=args.search_mass, method=args.method)  # checked before the data load
    benchmark = load_benchmark(args.dataset, args.root)
    # again with the method's published values for this dataset (PER_DATASET) as fixed values of what it does not search
    space = load_space(args.space, epochs=args.epochs, search_mass=args.search_mass, method=args.method, dataset=benchmark.name)
    space = space.with_budget(len(benchmark.trainval), args.epoch_steps, args.min_steps)
    out, storage = default_paths(benchmark, args.out, args.storage)
    check_output_path(out, "--out")
    spec = StudySpec.build(
        benchmark, n_trials=args.trials, storage=storage, study_name=args.study, space=space, sampler=args.sampler, seed=args.seed,
        batch=args.batch, timeout=args.timeout, fold_classes=args.fold_classes, prune=args.prune, objective=args.objective,
    )
    result = tune(benchmark, spec, device=args.device, progress=not args.quiet, workers=args.workers)
    write_json(out, {"dataset": benchmark.name, "storage": redact(storage), **result.to_dict()})
    ranked = " (calibrated)" if args.objective == "calibrated" else ""
    print(
        f"{benchmark.name}: best mean validation H{ranked} = {result.best_value:.1f} (trial {result.best_trial}, "
        f"{result.n_complete} complete and {result.n_pruned} pruned trials, study {result.study_name})"
    )
    for key, value in result.best_params.items():
        print(f"  {key:<11} {value:.4g}" if isinstance(value, float) else f"  {key:<11} {value}")
    for w in result.warnings:
        print(f"warning: selection may not be trusted: {w}")
    print(f"wrote {out}")
    return 0
