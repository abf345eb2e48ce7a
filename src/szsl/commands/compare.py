"""``szsl compare``: every method tuned, calibrated and evaluated with the same protocol and budget."""

from __future__ import annotations

import argparse

from szsl.commands._common import add_dataset_args, add_quiet_arg, check_output_path
from szsl.commands.tune import nonneg_int, positive_float
from szsl.methods import ABLATIONS, method_names

DEFAULT_SEEDS = (0, 1, 2, 3, 4)  # szsl.experiments.compare.DEFAULT_SEEDS (not imported: --help stays free of numpy)


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "compare",
        help="baselines and ablations: tune each on the validation folds, 5 seeds on test, tables (incl. the paper's Table 2 layout) "
        "+ seen-unseen curves",
    )
    add_dataset_args(parser)
    parser.add_argument(
        "--methods",
        nargs="+",
        default=None,
        metavar="METHOD",
        help="any of " + ", ".join(method_names()) + ", or 'all' (every method but the ablations " + ", ".join(ABLATIONS)
        + ": the Table 2 set); default: every method, the ablations included",
    )
    parser.add_argument("--trials", type=int, default=10, help="random-search trials per method on the validation folds (default 10)")
    parser.add_argument(
        "--seeds", type=nonneg_int, nargs="+", default=list(DEFAULT_SEEDS), metavar="SEED",
        help="seeds of the final evaluation, one model each (default 0 1 2 3 4; '--seeds 7' is the one seed 7)",
    )
    parser.add_argument(
        "--timeout", type=positive_float, default=None, metavar="S",
        help="per method: stop asking for new trials after S seconds of its tuning (trials already started finish; at least "
        "one completes). Bounds every method's search, whatever its epochs; how many trials fit depends on the machine",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the fold split, the search and the calibration (default 0)")
    parser.add_argument("--epochs", type=int, default=None, help="fix the epochs of the network methods (default: the tuning space's 30)")
    parser.add_argument("--hidden", type=int, default=None, help="fix the hidden size of the network methods (default: searched)")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="METHOD.NAME=VALUE",
        help="fix one hyperparameter of one method (VALUE read as JSON, else text; a JSON range/choices re-ranges it), "
        "e.g. tf-vaegan.epochs=20; repeatable; wins over --epochs/--hidden",
    )
    parser.add_argument(
        "--out",
        default=None,
        help="folder for compare.md/.csv/.json/.png, compare_table2.md/.csv and the studies (default compare-<dataset>)",
    )
    parser.add_argument(
        "--protocol", choices=("default", "paper"), default="default",
        help="selection protocol of every method: 'default' (szsl tune's: ratio folds, szsl's default space, pruning) or 'paper' "
        "(trainval-class folds, szsl's paper space, no pruning: the paper's selection)",
    )
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    add_quiet_arg(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from szsl.data import load_benchmark
    from szsl.experiments.compare import compare, parse_method_params
    from szsl.model import resolve_device

    resolve_device(args.device)
    params = parse_method_params(args.param)
    benchmark = load_benchmark(args.dataset, args.root)
    out = args.out or f"compare-{benchmark.name}"
    check_output_path(out, "--out", folder=True)
    result = compare(
        benchmark,
        args.methods,
        trials=args.trials,
        timeout=args.timeout,
        seeds=args.seeds,
        seed=args.seed,
        epochs=args.epochs,
        hidden=args.hidden,
        params=params,
        out=out,
        device=args.device,
        progress=not args.quiet,
        log=print,
        protocol=args.protocol,
    )
    print(result.markdown(), end="")
    print()
    print(result.table2_markdown(), end="")
    print(f"wrote {out}/compare.md, compare.csv, compare.json, compare.png, compare_table2.md, compare_table2.csv")
    return 0
