"""``szsl reproduce``: tune, evaluate over 5 seeds, sweep q and tau, write the paper's table and figures."""

from __future__ import annotations

import argparse
import time

from szsl.commands._common import add_anchor_arg, add_outside_paths_arg, add_quiet_arg
from szsl.commands.tune import add_search_args, nonneg_int
from szsl.final_model import CALIBRATIONS, DEFAULT_CALIBRATE, DEFAULT_ENSEMBLE, ENSEMBLE_MARGIN


def add_parser(sub) -> None:
    from szsl.experiments.reproduce import REPRODUCE_EPOCHS, REPRODUCE_TRIALS

    parser = sub.add_parser("reproduce", help="reproduce the paper's Table 2 and Figures 2-3 (digits demo without --root)")
    parser.add_argument(
        "--root", default=None, help="folder holding <DS>/res101.mat and <DS>/att_splits.mat; without it: the embedded digits benchmark"
    )
    parser.add_argument(
        "--datasets", nargs="+", metavar="DS", default=None, help="AWA1 AWA2 CUB SUN APY (default: every one found under --root)"
    )
    parser.add_argument(
        "--out", default="results", help="output folder (default results/): results.md/.json/.csv, figures, the study DB, stage caches"
    )
    add_outside_paths_arg(parser)
    add_search_args(parser, trials_default=REPRODUCE_TRIALS)
    parser.set_defaults(epochs=REPRODUCE_EPOCHS)
    parser.add_argument(
        "--seeds", type=nonneg_int, nargs="+", default=[0, 1, 2, 3, 4], help="seeds of the final evaluation (default 0 1 2 3 4)"
    )
    parser.add_argument(
        "--ensemble", type=int, default=DEFAULT_ENSEMBLE, metavar="K",
        help="the final model averages the class probabilities of the best K trials at most, those within --ensemble-margin of the "
        f"best validation H (default {DEFAULT_ENSEMBLE}; 1: the best trial alone; with --calibrate none, the paper's single model)",
    )
    parser.add_argument(
        "--ensemble-margin", type=float, default=ENSEMBLE_MARGIN, metavar="H",
        help=f"points of mean validation H below the best a member may be (default {ENSEMBLE_MARGIN:g})",
    )
    parser.add_argument(
        "--calibrate", choices=CALIBRATIONS, default=DEFAULT_CALIBRATE,
        help="each member's seen-class scores shifted by the calibrated-stacking gamma chosen on its trial's validation folds before "
        f"the average: seen = only lowered, where the folds show a seen bias (default {DEFAULT_CALIBRATE}); full = as chosen; "
        "none = plain; the plain model is reported too",
    )
    add_anchor_arg(parser, "auto")
    parser.add_argument("--no-sweeps", action="store_true", help="skip the q and tau sweeps (and Figures 2-3)")
    parser.add_argument(
        "--no-duet", action="store_true",
        help="do not report duet (szsl's final model blended with CN, weight chosen on the same folds; about 1.5x the time) beside it",
    )
    add_quiet_arg(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from szsl.commands._common import check_output_path
    from szsl.experiments.reproduce import ReproduceOptions, reproduce
    from szsl.final_model import chosen_members

    check_output_path(args.out, "--out", folder=True)

    opts = ReproduceOptions(
        trials=args.trials, epochs=args.epochs, min_steps=args.min_steps, epoch_steps=args.epoch_steps, space=args.space,
        search_mass=args.search_mass,
        sampler=args.sampler,
        batch=args.batch, seed=args.seed, storage=args.storage, timeout=args.timeout, device=args.device, fold_classes=args.fold_classes,
        prune=args.prune, objective=args.objective, ensemble=args.ensemble, ensemble_margin=args.ensemble_margin, calibrate=args.calibrate,
        seeds=args.seeds, anchor=args.anchor, sweeps=not args.no_sweeps, duet=not args.no_duet, progress=not args.quiet,
    )
    start = time.monotonic()
    result = reproduce(args.root, args.datasets, args.out, opts)
    print()
    print(result["table_markdown"])
    print()
    print(result["paper_note"])
    for name, d in result["datasets"].items():
        t = d["tune"]
        trials = f"{t['n_complete']} complete and {t.get('n_pruned', 0)} pruned trials"
        final = d["final"]
        ranked = " (calibrated)" if args.objective == "calibrated" else ""
        line = f"{name}: best validation H{ranked} {t['best_value']:.1f} after {trials}; test T1 {final['mean']['T1']:.1f}"
        members = final.get("ensemble") or []
        if len(members) > 1:
            alone = final["single"]
            alone_h = f"{alone['mean']['H']:.1f} ± {alone['std']['H']:.1f}"
            k = len(chosen_members(final))
            anchor = " and the untuned anchor" + (f" (weight {final['weights'][-1]:.2g})" if final.get("weights") else "")
            what = f"{k} trial{'s' if k > 1 else ''}" + (anchor if final.get("anchored") else "")
            line += f"; the final model averages {what} (the best trial alone: H {alone_h})"
        if final.get("plain"):
            plain = f"{final['plain']['mean']['H']:.1f} ± {final['plain']['std']['H']:.1f}"
            line += f"; members calibrated (--calibrate {args.calibrate}; without: H {plain})"
        print(line)
        for w in t.get("warnings") or []:
            print(f"warning: {name}: selection may not be trusted: {w}")
    print(
        f"wrote {args.out}/results.md, results.json, results.csv"
        + (", " + ", ".join(result["figures"]) if result["figures"] else "")
        + f"  ({time.monotonic() - start:.0f} s)"
    )
    return 0
