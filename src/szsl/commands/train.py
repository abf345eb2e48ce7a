"""``szsl train``: train on trainval with given hyperparameters, evaluate on the test split."""

from __future__ import annotations

import argparse
from dataclasses import fields

from szsl.atomic import write_json
from szsl.commands._common import add_dataset_args
from szsl.errors import SZSLError
from szsl.config import ACTIVATIONS, OPTIMIZERS, SOFT_LABEL_VARIANTS, TrainConfig

_TYPES = {"hidden": int, "batch_size": int, "epochs": int, "seed": int}
# --method takes any name of the szsl.methods registry (ablations and baselines included).
_METHOD_NAMES = ("szsl", "hard", "uniform", "nearest", "soft-only", "dcn", "eszsl")
_CHOICES = {"activation": ACTIVATIONS, "optimizer": OPTIMIZERS, "soft_label": SOFT_LABEL_VARIANTS, "method": _METHOD_NAMES}
_HELP = {
    "q": "soft-label mass moved to the unseen classes, in [0, 1]",
    "tau": "similarity temperature (> 0); small = nearest unseen class, large = uniform",
    "alpha": "weight of the soft-label loss, in [0, 1]",
    "l2": "lambda: coefficient of ||W||_F^2 (weights only)",
    "l1": "gamma: coefficient of ||W||_1 (weights only)",
    "method": "szsl (default); ablations hard, uniform, nearest, soft-only (they fix q / alpha / soft_label); baselines dcn, eszsl (see docs/compare.md)",
    "dcn_temperature": "dcn: softmax temperature over the seen classes (> 0)",
    "dcn_entropy": "dcn: weight of the entropy over the unseen classes (>= 0)",
}


def add_config_args(parser: argparse.ArgumentParser) -> None:
    """One option per TrainConfig field, defaulting to TrainConfig's defaults."""
    for f in fields(TrainConfig):
        parser.add_argument(
            "--" + f.name.replace("_", "-"),
            dest=f.name,
            type=_TYPES.get(f.name, str if f.name in _CHOICES else float),
            choices=_CHOICES.get(f.name),
            default=f.default,
            help=_HELP.get(f.name, f"default {f.default}"),
        )


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    from szsl.methods import get_method

    values = {f.name: getattr(args, f.name) for f in fields(TrainConfig) if f.name != "method"}
    return get_method(getattr(args, "method", "szsl")).config(values)  # the method's fixed values win


def add_parser(sub) -> None:
    parser = sub.add_parser("train", help="train on trainval, evaluate U, S, H, T1 on the test split")
    add_dataset_args(parser)
    add_config_args(parser)
    parser.add_argument("--eszsl-gamma", type=float, default=1.0, help="eszsl: regulariser of the feature side (> 0)")
    parser.add_argument("--eszsl-lambda", type=float, default=1.0, help="eszsl: regulariser of the attribute side (> 0)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    parser.add_argument("--save", metavar="MODEL", help="write the fitted model here")
    parser.add_argument("--json", metavar="OUT", help="write the metrics and settings as JSON here")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from szsl.data import load_benchmark
    from szsl.estimator import SZSLClassifier
    from szsl.evaluation import evaluate_configs
    from szsl.protocol import final_split, split_data

    if args.method == "eszsl":
        return _run_eszsl(args)
    config = config_from_args(args)
    benchmark = load_benchmark(args.dataset, args.root)
    data = split_data(benchmark, final_split(benchmark))
    (result,) = evaluate_configs(data, [config], device=args.device, progress=True, keep_members=args.save is not None)
    if result.diverged:
        raise SZSLError(result.message)
    m = result.metrics
    print(f"{benchmark.name}: U={m['U']:.1f} S={m['S']:.1f} H={m['H']:.1f} T1={m['T1']:.1f}  (train {result.train_seconds:.1f} s)")
    if args.json:
        write_json(args.json, {"dataset": benchmark.name, **result.to_dict()})
    if args.save:
        clf = SZSLClassifier.from_member(result.member, data.attributes, data.seen, data.class_names, device=args.device)
        clf.save(args.save)
    return 0


def _run_eszsl(args: argparse.Namespace) -> int:
    from szsl.data import load_benchmark
    from szsl.methods import fit_predict
    from szsl.protocol import final_split, split_data

    if args.save:
        raise SZSLError("--save: not supported for --method eszsl (a closed form; only network methods are saved)")
    params = {"gamma": args.eszsl_gamma, "lambda": args.eszsl_lambda}
    benchmark = load_benchmark(args.dataset, args.root)
    data = split_data(benchmark, final_split(benchmark))
    (run,) = fit_predict("eszsl", data, [params], device=args.device)
    m = run.metrics()
    print(f"{benchmark.name}: U={m['U']:.1f} S={m['S']:.1f} H={m['H']:.1f} T1={m['T1']:.1f}  (eszsl, solve {run.train_seconds:.1f} s)")
    if args.json:
        write_json(args.json, {"dataset": benchmark.name, "method": "eszsl", "params": params, **m, "train_seconds": run.train_seconds})
    return 0
