"""Does honest selection transfer? A study of the tuning protocol itself.

For each dataset of a twin root (``../shared/twins/twin.py``), draw N configurations from a
search space (Optuna's random sampler, seeded) plus the fixed reference setting, then record for
every configuration:
  - its per-fold validation U/S/H under each fold protocol (``--fold-classes``), and
  - its test U/S/H/T1 after training on all of trainval (seed 0).
The report gives, per dataset and protocol: the Spearman correlation of mean validation H with
test H, the test H of the validation-best configuration, of the fixed setting, the median, and of
the test-best (an oracle, for reference only), and a scatter plot of validation H against test H.

THIS SCRIPT READS THE TEST SPLIT: it evaluates the protocol, it is not a tuner. The tuner
(``szsl.tune``) never reads test data (tests/test_tune.py checks that).

    python benchmarks/selection.py run --root /tmp/twins/s1 --tag s1 --datasets APY CUB --configs 40
    python benchmarks/selection.py run --root /tmp/twins/s1 --tag s1-constant --datasets APY --set lr_schedule=constant
    python benchmarks/selection.py report --out benchmarks/results/selection

Every stage (one protocol's folds, the test split) is saved atomically as soon as it is done, so
an interrupted run continues where it stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import parse_assignments  # noqa: E402
from szsl.atomic import write_json  # noqa: E402
from szsl.config import TrainConfig
from szsl.data import load_benchmark
from szsl.evaluation import evaluate
from szsl.protocol import FOLD_CLASSES, final_split, split_data, validation_splits
from szsl.search_space import make_space

# The fixed reference setting of the issue "Honest tuning that transfers".
FIXED = dict(q=0.5, tau=0.2, alpha=1.0, hidden=1500, activation="relu", batch_size=256, lr=1e-3, l2=0.0, l1=0.0)
SPACES = ("paper", "default")
SHOWN = ("q", "tau", "alpha", "hidden", "activation", "batch_size", "lr", "l2", "l1")
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "selection"


def space_for(name: str, epochs: int, fixed: dict | None = None):
    return make_space({"epochs": epochs, **(fixed or {})}, base=name)


def draw_configs(space_name: str, n: int, seed: int, epochs: int, fixed: dict | None = None) -> list[TrainConfig]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = space_for(space_name, epochs, fixed)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=seed))
    configs = [TrainConfig(**FIXED, epochs=epochs, seed=0)]
    for _ in range(n):
        configs.append(space.config(space.suggest(study.ask()), seed=0))
    return configs


def _metrics(results, keys=("U", "S", "H")) -> list[dict | None]:
    return [None if r.diverged else {k: round(float(r.metrics[k]), 3) for k in keys} for r in results]


def run(args) -> None:
    out = Path(args.out)
    for name in args.datasets:
        path = out / f"{name}_{args.tag}_{args.space}.json"
        state = json.loads(path.read_text()) if path.exists() else {}
        configs = draw_configs(args.space, args.configs, args.draw_seed, args.epochs, parse_assignments(args.set))
        cfg_dicts = [c.to_dict() for c in configs]
        if state.get("configs") != cfg_dicts:
            state = {"dataset": name, "tag": args.tag, "space": args.space, "epochs": args.epochs, "configs": cfg_dicts}
            state.update(folds={}, seconds={})
        bench = load_benchmark(name, args.root)
        for variant in args.fold_classes:
            if variant in state["folds"]:
                continue
            t0 = time.perf_counter()
            per_fold = []
            for k, split in enumerate(validation_splits(bench, 0, fold_classes=variant), start=1):
                per_fold.append(_metrics(evaluate("szsl", split_data(bench, split), configs, with_t1=False)))
                print(f"{name} {args.tag} {args.space} {variant} fold {k}: {time.perf_counter() - t0:.0f} s", flush=True)
            state["folds"][variant] = [list(row) for row in zip(*per_fold)]  # per config: per fold
            state["seconds"][variant] = round(time.perf_counter() - t0, 1)
            write_json(path, state)
        if "test" not in state:
            t0 = time.perf_counter()
            state["test"] = _metrics(evaluate("szsl", split_data(bench, final_split(bench)), configs), ("U", "S", "H", "T1"))
            state["seconds"]["test"] = round(time.perf_counter() - t0, 1)
            write_json(path, state)
            print(f"{name} {args.tag} {args.space} test: {state['seconds']['test']:.0f} s", flush=True)



# ----------------------------------------------------------------------------- report


def _mean_h(folds) -> float:
    return float("nan") if any(f is None for f in folds) else float(np.mean([f["H"] for f in folds]))


def summarize(state: dict, variant: str) -> dict:
    from scipy.stats import spearmanr

    val = np.array([_mean_h(f) for f in state["folds"][variant]])
    test = np.array([np.nan if t is None else t["H"] for t in state["test"]])
    ok = np.isfinite(val) & np.isfinite(test)
    drawn = ok.copy()
    drawn[0] = False  # index 0 is the fixed setting, not a draw of the space
    best = int(np.nanargmax(np.where(drawn, val, -np.inf)))
    # Alternative rule, offline on the same trainings: a lower confidence bound over the folds.
    n_folds = len(state["folds"][variant][0])
    fold_h = np.array([[np.nan] * n_folds if any(f is None for f in fs) else [f["H"] for f in fs] for fs in state["folds"][variant]])
    lcb = np.nanmean(fold_h, 1) - np.nanstd(fold_h, 1, ddof=1) / np.sqrt(fold_h.shape[1])
    best_lcb = int(np.nanargmax(np.where(drawn & np.isfinite(lcb), lcb, -np.inf)))
    return {
        "lcb_best_test": float(test[best_lcb]),
        "n": int(drawn.sum()),
        "spearman": float(spearmanr(val[drawn], test[drawn]).statistic),
        "val_best_val": float(val[best]),
        "val_best_test": float(test[best]),
        "fixed_val": float(val[0]),
        "fixed_test": float(test[0]),
        "median_test": float(np.median(test[drawn])),
        "oracle_test": float(np.max(test[drawn])),
        "best_config": {k: v for k, v in state["configs"][best].items() if k in SHOWN},
        "val": val.tolist(),
        "test": test.tolist(),
    }


def report(args) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(args.out)
    rows, panels = [], {}
    for path in sorted(out.glob("*.json")):
        state = json.loads(path.read_text())
        if "test" not in state:
            continue
        for variant in FOLD_CLASSES:
            if variant not in state["folds"]:
                continue
            s = summarize(state, variant)
            rows.append((state["dataset"], state["tag"], state["space"], variant, s))
            panels.setdefault(state["dataset"], []).append((f"{state['tag']} {state['space']}/{variant}", s))
    lines = [
        "| dataset | twin | space | fold classes | N | Spearman | val-best: val H -> test H | LCB-best: test H | fixed: test H "
        "| median test H | oracle test H |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for ds, tag, space, variant, s in rows:
        lines.append(
            f"| {ds} | {tag} | {space} | {variant} | {s['n']} | {s['spearman']:.2f} "
            f"| {s['val_best_val']:.1f} -> **{s['val_best_test']:.1f}** "
            f"| {s['lcb_best_test']:.1f} | {s['fixed_test']:.1f} | {s['median_test']:.1f} | {s['oracle_test']:.1f} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.figure and panels:
        fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4), squeeze=False)
        for ax, (ds, entries) in zip(axes[0], sorted(panels.items())):
            for label, s in entries:
                val, test = np.array(s["val"]), np.array(s["test"])
                pts = ax.scatter(val[1:], test[1:], s=12, alpha=0.7, label=f"{label} (rho {s['spearman']:.2f})")
                ax.scatter(val[:1], test[:1], marker="*", s=90, color=pts.get_facecolor()[0], edgecolor="k")
            ax.set_title(f"{ds} (star: fixed setting)")
            ax.set_xlabel("mean validation H (%)")
            ax.set_ylabel("test H (%)")
            ax.legend(fontsize=6)
        fig.tight_layout()
        Path(args.figure).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.figure, dpi=110)
        print(f"figure: {args.figure}")
    if args.json:
        rows_out = [{"dataset": d, "tag": t, "space": sp, "fold_classes": v, **s} for d, t, sp, v, s in rows]
        write_json(Path(args.json), [{k: x for k, x in r.items() if k not in ("val", "test")} for r in rows_out])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--root", required=True, help="twin root holding <DS>/res101.mat")
    r.add_argument("--tag", required=True, help="name of the twin (e.g. its generator seed: s1)")
    r.add_argument("--datasets", nargs="+", default=["APY", "CUB", "AWA2", "SUN", "AWA1"])
    r.add_argument("--configs", type=int, default=40, help="configurations drawn from the space (plus the fixed setting)")
    r.add_argument("--space", choices=SPACES, default="paper")
    r.add_argument("--fold-classes", nargs="+", choices=FOLD_CLASSES, default=list(FOLD_CLASSES))
    r.add_argument("--epochs", type=int, default=20)
    r.add_argument("--draw-seed", type=int, default=0)
    r.add_argument(
        "--set", action="append", metavar="NAME=VALUE", help="fix one value of the space (e.g. lr_schedule=constant); give --tag a new name"
    )
    r.add_argument("--out", default=str(DEFAULT_OUT))
    p = sub.add_parser("report")
    p.add_argument("--out", default=str(DEFAULT_OUT))
    p.add_argument("--figure", default=None, help="PNG: validation H against test H, one panel per dataset")
    p.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    (run if args.command == "run" else report)(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
