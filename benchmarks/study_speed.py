"""How long does the default study take, with and without the multi-fidelity pruner, and does speed cost accuracy?

On one dataset of a twin root (``../shared/twins/twin.py``), in ONE run, one after another:
  1. one training of the fixed reference setting (hidden 1500, 20 epochs) on trainval: the unit of cost;
  2. the default study of ``szsl reproduce`` (20 TPE trials, 20 epochs, the default folds) with
     ``--prune none`` and with ``--prune halving``, each then evaluated like ``reproduce`` does
     (the final model - the ensemble of the best <= 3 trials, each calibrated by its fold gamma,
     ``final_model.final_members`` - retrained with 5 seeds on trainval, scored on test).
Reports wall time in seconds and in units of (1), trials pruned, the chosen trial and its test H.

THIS SCRIPT READS THE TEST SPLIT (step 2's final evaluation, as ``szsl reproduce`` does after
tuning); the studies themselves never do.

    python benchmarks/study_speed.py --root /tmp/twins/s1 --dataset CUB --out benchmarks/results/study_speed_CUB_s1.json
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import machine  # noqa: E402
from szsl.atomic import write_json  # noqa: E402
from szsl.config import TrainConfig  # noqa: E402
from szsl.data import load_benchmark  # noqa: E402
from szsl.evaluation import evaluate  # noqa: E402
from szsl.experiments.final import final_evaluation  # noqa: E402
from szsl.experiments.reproduce import REPRODUCE_EPOCHS, REPRODUCE_TRIALS  # noqa: E402
from szsl.final_model import final_members  # noqa: E402
from szsl.protocol import final_split, split_data  # noqa: E402
from szsl.search_space import load_space  # noqa: E402
from szsl.study_storage import sqlite_url  # noqa: E402
from szsl.tune import tune  # noqa: E402

FIXED = dict(q=0.5, tau=0.2, alpha=1.0, hidden=1500, activation="relu", batch_size=256, lr=1e-3, epochs=20, seed=0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", required=True)
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--prune", nargs="+", default=["none", "halving"])
    ap.add_argument("--trials", type=int, default=REPRODUCE_TRIALS)
    ap.add_argument("--out", required=True, help="JSON file of the results")
    args = ap.parse_args(argv)

    bench = load_benchmark(args.dataset, args.root)
    result = {"machine": machine(), "dataset": args.dataset, "root": args.root, "trials": args.trials, "runs": {}}
    t = time.perf_counter()
    data = split_data(bench, final_split(bench))
    (fixed,) = evaluate("szsl", data, [TrainConfig(**FIXED)], seed=0)
    result["fixed_seconds"] = unit = time.perf_counter() - t
    result["fixed_test"] = fixed.metrics
    print(f"{args.dataset}: one fixed training {unit:.1f} s, test H {fixed.metrics['H']:.1f}", flush=True)
    space = load_space(None, epochs=REPRODUCE_EPOCHS)
    for prune in args.prune:
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            r = tune(bench, n_trials=args.trials, storage=sqlite_url(Path(tmp) / "s.db"), space=space, prune=prune, progress=False)
            tune_s = time.perf_counter() - t
            # reproduce's default final model: the best <= 3 trials, each calibrated by its fold gamma (final_model)
            members, gammas, _ = final_members(r)
            final = final_evaluation(bench, TrainConfig.from_dict(dict(r.best_config)), ensemble=members, gammas=gammas,
                                     calibrate=gammas is not None)
            total = time.perf_counter() - t
        row = {
            "tune_seconds": tune_s,
            "total_seconds": total,
            "in_fixed_trainings": total / unit,
            "n_complete": r.n_complete,
            "n_pruned": r.n_pruned,
            "best_trial": r.best_trial,
            "best_value": r.best_value,
            "best_params": r.best_params,
            "test_mean": final["mean"],
            "test_std": final["std"],
            "ensemble_size": len(members),
            "single_test_mean": final["single"]["mean"],
        }
        result["runs"][prune] = row
        print(
            f"  prune={prune}: {total:.0f} s = {total / unit:.1f} fixed trainings (tune {tune_s:.0f} s), {r.n_pruned} pruned, best trial "
            f"#{r.best_trial} (cv H {r.best_value:.1f}) -> test H {final['mean']['H']:.1f} +- {final['std']['H']:.1f}",
            flush=True,
        )
        write_json(args.out, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
