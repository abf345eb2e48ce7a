"""``szsl train``: train on trainval with given hyperparameters, evaluate on the test split."""

from __future__ import annotations

import argparse
import json
import sys

from szsl.atomic import check_output_path, write_json
from szsl.budget import budget_config
from szsl.commands._common import add_dataset_args, add_quiet_arg
from szsl.commands.tune import add_budget_args
from szsl.config import PARAMS, TrainConfig
from szsl.errors import SZSLError
from szsl.final_model import CALIBRATIONS, DEFAULT_CALIBRATE, final_members
from szsl.methods import method_names
from szsl.params import add_options

# Said when szsl train ran the untuned reference setting (docs/robustness.md: it matches the tuned default on the real
# digits, but on a CUB twin, 50 unseen classes, it scores H 26 against the tuned default's 47).
UNTUNED_NOTE = (
    "note: this is the untuned reference setting (q 0.5, tau 0.2); with many unseen classes the tuned setting can be far "
    "better (CUB twin: H 26 untuned, 47 tuned): szsl tune, then szsl train --from-tune"
)


def add_config_args(parser: argparse.ArgumentParser) -> None:
    """One option per TrainConfig hyperparameter (type, choices, default, help from its declaration, ``config.PARAMS``);
    --method takes any name of the szsl.methods registry (ablations and baselines included)."""
    method = {
        "choices": method_names(),  # read when the parser is built
        "help": f"one of {', '.join(method_names())} (default szsl; the registry szsl.methods, docs/compare.md)",
    }
    add_options(parser, PARAMS, method=method)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    from szsl.methods import get_method

    values = {p.name: getattr(args, p.name) for p in PARAMS if p.name != "method"}
    return get_method(getattr(args, "method", "szsl")).config(values)  # the method's fixed values win


def add_parser(sub) -> None:
    parser = sub.add_parser("train", help="train on trainval, evaluate U, S, H, T1 on the test split")
    add_dataset_args(parser)
    add_config_args(parser)
    parser.add_argument("--eszsl-gamma", type=float, default=None, help="eszsl: regulariser of the feature side (> 0; default 1)")
    parser.add_argument("--eszsl-lambda", type=float, default=None, help="eszsl: regulariser of the attribute side (> 0; default 1)")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a hyperparameter of a non-network method (VALUE read as JSON, else text); repeatable; it beats the method's "
        "published per-dataset value (e.g. cn's seen_scale 1.0 on CUB)",
    )
    parser.add_argument(
        "--from-tune", metavar="BEST_JSON",
        help="train the final model of szsl reproduce from a tuning result (szsl tune's output): the ensemble of its best trials "
        "(--ensemble, --ensemble-margin), each member calibrated by its fold-chosen gamma (--calibrate); the other "
        "hyperparameter options are ignored, --seed is the members' seed",
    )
    parser.add_argument("--ensemble", type=int, default=None, metavar="K", help="with --from-tune: at most K trials (default 3)")
    parser.add_argument(
        "--ensemble-margin", type=float, default=None, metavar="H", help="with --from-tune: within H points of the best (default 3)"
    )
    parser.add_argument(
        "--calibrate", choices=CALIBRATIONS, default=None,
        help=f"with --from-tune: none, seen or full, as in szsl reproduce (default {DEFAULT_CALIBRATE})",
    )
    add_budget_args(parser)
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    parser.add_argument("--save", metavar="MODEL", help="write the fitted model here")
    parser.add_argument("--json", metavar="OUT", help="write the metrics and settings as JSON here")
    add_quiet_arg(parser)
    parser.set_defaults(func=run)


def method_params(args: argparse.Namespace) -> dict:
    """The hyperparameters a user set for a non-network method (--eszsl-*, --param NAME=VALUE), nothing else:
    ``Method.params(values, dataset=...)`` puts them over the method's defaults and its published per-dataset values."""
    values = {"gamma": args.eszsl_gamma, "lambda": args.eszsl_lambda} if args.method == "eszsl" else {}
    values = {k: v for k, v in values.items() if v is not None}
    for item in args.param:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise SZSLError(f"--param {item!r}: expected NAME=VALUE")
        try:
            values[name.strip()] = json.loads(text)
        except json.JSONDecodeError:
            values[name.strip()] = text
    return values


def run(args: argparse.Namespace) -> int:
    from szsl.data import load_benchmark
    from szsl.estimator import SZSLClassifier
    from szsl.evaluation import evaluate
    from szsl.methods import get_method
    from szsl.protocol import final_split, split_data

    check_output_path(args.json, "--json")
    check_output_path(args.save, "--save")
    if args.from_tune:
        return _run_from_tune(args)
    for flag, value in (("--ensemble", args.ensemble), ("--ensemble-margin", args.ensemble_margin), ("--calibrate", args.calibrate)):
        if value is not None:
            raise SZSLError(f"{flag}: only with --from-tune (a tuning result to take the ensemble's members from)")
    m = get_method(args.method)
    if m.is_network:
        if args.param:
            raise SZSLError(f"--param: {m.name} is a network method: set its hyperparameters with their own options (--q, --lr, ...)")
        params = config_from_args(args)
        untuned = m.name == "szsl" and params.replace(seed=0) == TrainConfig()
    else:
        if args.save:
            raise SZSLError(f"--save: not supported for --method {m.name} (a closed form; only network methods are saved)")
        values = method_params(args)
        params = m.params(values)  # checked before the data are loaded
    benchmark = load_benchmark(args.dataset, args.root)
    if not m.is_network:
        params = m.params(values, dataset=benchmark.name)  # the method's published values on this dataset, then the user's
    if m.is_network:
        params = budget_config(params, len(benchmark.trainval), args.epoch_steps, args.min_steps)
    data = split_data(benchmark, final_split(benchmark))
    (result,) = evaluate(m, data, [params], seed=args.seed, device=args.device, progress=not args.quiet, keep_models=args.save is not None)
    if result.diverged:
        raise SZSLError(result.message)
    r = result.metrics
    how = f"train {result.train_seconds:.1f} s" if m.is_network else f"{m.name}, solve {result.train_seconds:.1f} s"
    published = {} if m.is_network else {k: v for k, v in m.published(benchmark.name).items() if k not in values}
    if published:  # say which of the authors' per-dataset values the run used
        how += f"; {benchmark.name}: " + ", ".join(f"{k}={v}" for k, v in published.items())
    print(f"{benchmark.name}: U={r['U']:.1f} S={r['S']:.1f} H={r['H']:.1f} T1={r['T1']:.1f}  ({how})")
    if m.is_network and untuned and not args.quiet:
        print(UNTUNED_NOTE, file=sys.stderr)
    if args.json:
        write_json(args.json, {"dataset": benchmark.name, **result.to_dict()})
    if args.save:
        clf = SZSLClassifier.from_member(result.member, data.attributes, data.seen, data.class_names, device=args.device)
        clf.save(args.save)
    return 0


def _run_from_tune(args: argparse.Namespace) -> int:
    """``szsl train --from-tune``: the final model of ``szsl reproduce`` from a tuning result, one seed."""
    from pathlib import Path

    from szsl.data import load_benchmark
    from szsl.ensemble import SZSLEnsemble
    from szsl.evaluation import evaluate_ensembles
    from szsl.protocol import final_split, split_data

    path = Path(args.from_tune)
    try:
        tuned = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SZSLError(f"--from-tune {path}: file not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SZSLError(f"--from-tune {path}: not a JSON tuning result ({type(exc).__name__}: {exc})") from None
    if not isinstance(tuned, dict) or not isinstance(tuned.get("top"), list) or not tuned["top"]:
        raise SZSLError(f"--from-tune {path}: field 'top' missing or empty: expected the JSON written by szsl tune")
    calibrate = DEFAULT_CALIBRATE if args.calibrate is None else args.calibrate
    try:
        configs, gammas, _ = final_members(tuned, args.ensemble, args.ensemble_margin, calibrate, seed=args.seed)
    except (KeyError, TypeError) as exc:
        raise SZSLError(f"--from-tune {path}: field 'top': malformed trial ({exc})") from None
    except SZSLError as exc:
        raise SZSLError(f"--from-tune {path}: {exc}") from None
    benchmark = load_benchmark(args.dataset, args.root)
    if tuned.get("dataset") not in (None, benchmark.name):
        raise SZSLError(f"--from-tune {path}: a tuning result of {tuned['dataset']}, not of {benchmark.name}")
    data = split_data(benchmark, final_split(benchmark))
    per_ensemble = None if gammas is None else [gammas]
    (run,) = evaluate_ensembles("szsl", data, [configs], device=args.device, gammas=per_ensemble, keep_models=args.save is not None)
    if run.diverged or run.message:
        raise SZSLError(run.message)
    r = run.metrics
    how = f"{len(configs)} member(s), calibrate {calibrate}, train {run.train_seconds:.1f} s"
    print(f"{benchmark.name}: U={r['U']:.1f} S={r['S']:.1f} H={r['H']:.1f} T1={r['T1']:.1f}  ({how})")
    if args.json:
        write_json(args.json, {"dataset": benchmark.name, "ensemble": [c.to_dict() for c in configs], "gammas": gammas, **r})
    if args.save:
        ens = SZSLEnsemble.from_members(
            [m.member for m in run.members], data.attributes, data.seen, data.class_names, gammas=gammas, device=args.device
        )
        ens.save(args.save)
    return 0
