"""``szsl train``: train on trainval with given hyperparameters, evaluate on the test split."""

from __future__ import annotations

import argparse
import json
import sys

from szsl.atomic import check_output_path, write_json
from szsl.commands._common import add_anchor_arg, add_dataset_args, add_quiet_arg
from szsl.commands.tune import add_budget_args
from szsl.config import PARAMS, TrainConfig
from szsl.errors import SZSLError
from szsl.final_model import CALIBRATIONS, DEFAULT_ANCHOR, DEFAULT_CALIBRATE, anchor_for, anchor_weight_for, final_members
from szsl.methods import method_names
from szsl.methods.dcn import PARAMS as DCN_PARAMS
from szsl.params import add_options

# Said when szsl train ran the untuned reference setting (docs/robustness.md: it matches the tuned default on the real
# digits, but on a CUB twin, 50 unseen classes, it scores H 26 against the tuned default's 47).
UNTUNED_NOTE = (
    "note: this is the untuned reference setting (q 0.5, tau 0.2); with many unseen classes the tuned setting can be far "
    "better (CUB twin: H 26 untuned, 47 tuned): szsl tune, then szsl train --from-tune"
)


# The hyperparameters of the network methods, each an option: TrainConfig's (``config.PARAMS``) and DCN's own.
NETWORK_PARAMS = PARAMS + DCN_PARAMS


def add_config_args(parser: argparse.ArgumentParser) -> None:
    """One option per network hyperparameter (type, choices, default, help from its declaration, ``NETWORK_PARAMS``);
    --method takes any name of the szsl.methods registry (ablations and baselines included)."""
    method = {
        "choices": method_names(),  # read when the parser is built
        "help": f"one of {', '.join(method_names())} (default szsl; the registry szsl.methods, docs/compare.md)",
    }
    add_options(parser, NETWORK_PARAMS, method=method)


def _option_values(args: argparse.Namespace, m) -> dict:
    """The values of the options of ``add_config_args`` that are hyperparameters of network method ``m`` (--method
    aside); {} for a method that does not have TrainConfig's (the options' defaults are not its own)."""
    if m.hyperparameters[: len(PARAMS)] != PARAMS:
        return {}
    return {p.name: getattr(args, p.name) for p in m.hyperparameters if p.name != "method"}


def add_parser(sub) -> None:
    parser = sub.add_parser("train", help="train on trainval, evaluate U, S, H, T1 on the test split")
    add_dataset_args(parser)
    add_config_args(parser)
    parser.add_argument(
        "--eszsl-gamma", type=float, default=None,
        help="eszsl: regulariser of the feature side, the ESZSL paper's gamma (> 0; default 1; not the calibration shift)",
    )
    parser.add_argument("--eszsl-lambda", type=float, default=None, help="eszsl: regulariser of the attribute side (> 0; default 1)")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a hyperparameter of the method (VALUE read as JSON, else text); repeatable; it beats its own option (--q ...) and "
        "the method's published per-dataset value (e.g. cn's seen_scale 1.0 on CUB)",
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
    add_anchor_arg(parser, None)
    add_budget_args(parser)
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    parser.add_argument("--save", metavar="MODEL", help="write the fitted model here")
    parser.add_argument("--json", metavar="OUT", help="write the metrics and settings as JSON here")
    add_quiet_arg(parser)
    parser.set_defaults(func=run)


def method_params(args: argparse.Namespace, m) -> dict:
    """The hyperparameters a user set for method ``m``: the options of its hyperparameters where it has them (a network
    method: --q, --lr, ..., every TrainConfig hyperparameter; eszsl: --eszsl-*), then --param NAME=VALUE.
    ``Method.params(values, dataset=...)`` puts them over the method's defaults and its published per-dataset values."""
    values = _option_values(args, m)
    eszsl = {"gamma": args.eszsl_gamma, "lambda": args.eszsl_lambda} if m.name == "eszsl" else {}
    values.update({k: v for k, v in eszsl.items() if v is not None})
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
    for flag, value in (("--ensemble", args.ensemble), ("--ensemble-margin", args.ensemble_margin), ("--calibrate", args.calibrate),
                        ("--anchor", args.anchor)):
        if value is not None:
            raise SZSLError(f"{flag}: only with --from-tune (a tuning result to take the ensemble's members from)")
    m = get_method(args.method)
    if args.save and not m.saveable:
        raise SZSLError(f"--save: not supported for --method {m.name} (only the network methods' models are saved)")
    values = method_params(args, m)
    params = m.params(values)  # checked before the data are loaded
    untuned = m.name == "szsl" and params.replace(seed=0) == TrainConfig()  # szsl's setting is a TrainConfig
    benchmark = load_benchmark(args.dataset, args.root)
    params = m.params(values, dataset=benchmark.name)  # the method's published values on this dataset, then the user's
    params = m.small_data(params, len(benchmark.trainval), args.epoch_steps, args.min_steps)
    data = split_data(benchmark, final_split(benchmark))
    (result,) = evaluate(m, data, [params], seed=args.seed, device=args.device, progress=not args.quiet, keep_models=args.save is not None)
    if result.diverged:
        raise SZSLError(result.message)
    r = result.metrics
    how = f"{m.name}, train {result.train_seconds:.1f} s"
    published = {k: v for k, v in m.published(benchmark.name).items() if k not in values}
    if published:  # say which of the authors' per-dataset values the run used
        how += f"; {benchmark.name}: " + ", ".join(f"{k}={v}" for k, v in published.items())
    print(f"{benchmark.name}: U={r['U']:.1f} S={r['S']:.1f} H={r['H']:.1f} T1={r['T1']:.1f}  ({how})")
    if untuned and not args.quiet:
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
    from szsl.protocol import final_split, fold_unseen_classes, split_data

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
    anchor_mode = DEFAULT_ANCHOR if args.anchor is None else args.anchor

    def members(anchor: bool, weight: float | None = None):
        try:
            return final_members(tuned, args.ensemble, args.ensemble_margin, calibrate, seed=args.seed, anchor=anchor,
                                 anchor_weight=weight)
        except (KeyError, TypeError) as exc:
            raise SZSLError(f"--from-tune {path}: field 'top': malformed trial ({exc})") from None
        except SZSLError as exc:
            raise SZSLError(f"--from-tune {path}: {exc}") from None

    configs, gammas, _, weights = members(False)  # the record checked before the data is read
    benchmark = load_benchmark(args.dataset, args.root)
    if tuned.get("dataset") not in (None, benchmark.name):
        raise SZSLError(f"--from-tune {path}: a tuning result of {tuned['dataset']}, not of {benchmark.name}")
    if anchor_for(anchor_mode, int(benchmark.trainval.size)):  # as szsl reproduce decides it, on the training set's size
        # and its weight on the study's folds (szsl tune's default class folds)
        configs, gammas, _, weights = members(True, anchor_weight_for(fold_unseen_classes(benchmark)))
    data = split_data(benchmark, final_split(benchmark))
    per_ensemble = None if gammas is None else [gammas]
    (run,) = evaluate_ensembles("szsl", data, [configs], device=args.device, gammas=per_ensemble, keep_models=args.save is not None,
                                weights=[weights])
    if run.diverged or run.message:
        raise SZSLError(run.message)
    r = run.metrics
    how = f"{len(configs)} member(s), calibrate {calibrate}, train {run.train_seconds:.1f} s"
    print(f"{benchmark.name}: U={r['U']:.1f} S={r['S']:.1f} H={r['H']:.1f} T1={r['T1']:.1f}  ({how})")
    if args.json:
        write_json(args.json, {"dataset": benchmark.name, "ensemble": [c.to_dict() for c in configs], "gammas": gammas,
                               "weights": weights, **r})
    if args.save:
        ens = SZSLEnsemble.from_members(
            [m.member for m in run.members], data.attributes, data.seen, data.class_names, gammas=gammas, device=args.device,
            weights=weights,
        )
        ens.save(args.save)
    return 0
