"""Do the validation folds know which setting transfers? (issue "Defaults that hold on any data", round 8)

For each data set of a robustness tier, the study's validation objective (calibrated fold H, the number trials are
ranked by; ``objective.fold_value``) of two settings that no study chose: the fixed setting and the untuned one
(``szsl train`` with no hyperparameters), each over model seeds 0 and 1. Beside it, their test H from the
robustness cells (``benchmarks/robustness.py run --protocols fixed untuned``). Where the folds prefer the setting
the test prefers, selection on the folds can help; where the two preferences are unrelated, any choice made on the
folds is chance there, and the default must rest on what holds across data sets instead.

THIS SCRIPT READS TEST NUMBERS (the robustness cells): it studies the protocol, it is not a tuner. The fold values
themselves use trainval only. Each data set's fold values are written atomically to ``<out>/folds/<name>.json``
and skipped on a rerun (``folds-pairs/`` for ``--folds pairs``).

    python benchmarks/fold_signal.py --tier holdout --data /tmp/robust --out benchmarks/results/robustness
    python benchmarks/fold_signal.py --tier holdout --data /tmp/robust --out benchmarks/results/robustness --folds pairs
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from robustness import TIERS, materialise, untuned_params  # noqa: E402
from robustness import UNTUNED as SETTINGS  # noqa: E402
from szsl.atomic import write_json  # noqa: E402

SEEDS = (0, 1)


FOLDS = ("classes", "pairs")


def pair_splits(bench, seed: int = 0) -> list:
    """One validation split per pair of seen classes (the pair without training images; the fold model knows the seen
    classes; the other classes' trainval images split as ``validation_splits`` splits them). Trainval only."""
    from szsl.protocol import Split, split_seen_images

    seen = np.sort(np.asarray(bench.seen, dtype=np.int64))
    trainval = np.asarray(bench.trainval, dtype=np.int64)
    labels = np.asarray(bench.labels)[trainval]
    splits = []
    for k, pair in enumerate(itertools.combinations(seen.tolist(), 2)):
        unseen = np.asarray(pair, dtype=np.int64)
        pseudo_seen = np.setdiff1d(seen, unseen)
        train, held = split_seen_images(trainval, labels, pseudo_seen, np.random.default_rng([seed, 100 + k]))
        splits.append(Split(f"pair{k}", seen, np.searchsorted(seen, pseudo_seen), np.searchsorted(seen, unseen), train, held,
                            np.sort(trainval[np.isin(labels, unseen)])))
    return splits


def fold_values(name: str, data: Path, folds: str = "classes") -> dict[str, float]:
    """The calibrated fold H of the fixed and the untuned setting on data set ``name`` (mean over SEEDS), on the data
    set's class folds or on every pair of seen classes (``folds``)."""
    from szsl.data import load_benchmark
    from szsl.evaluation import evaluate
    from szsl.objective import fold_value
    from szsl.protocol import DEFAULT_FOLD_CLASSES, split_data, validation_splits

    root, dataset = materialise(name, data)
    bench = load_benchmark(dataset, root)
    splits = validation_splits(bench, fold_classes=DEFAULT_FOLD_CLASSES) if folds == "classes" else pair_splits(bench)
    datas = [split_data(bench, s) for s in splits]
    out = {}
    for setting in SETTINGS:
        values = []
        for seed in SEEDS:
            runs = []
            for split, d in zip(splits, datas):  # the untuned setting as szsl train applies it to this fold's training images
                runs += evaluate("szsl", d, [untuned_params(setting, int(split.train.size), seed)], with_t1=False, keep_curves=True)
            values.append(fold_value(runs))
        out[setting] = float(np.mean(values))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tier", choices=list(TIERS), default="quick")
    ap.add_argument("--families", nargs="+")
    ap.add_argument("--only", nargs="+", help="only these data sets")
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True, help="the robustness results folder (its fixed/ and untuned/ cells)")
    ap.add_argument("--folds", choices=FOLDS, default="classes", help="the data set's class folds, or every pair of seen classes")
    args = ap.parse_args(argv)
    out = Path(args.out)
    rows = []
    for fam in args.families or list(TIERS[args.tier]):
        for name in TIERS[args.tier][fam]:
            if args.only and name not in args.only:
                continue
            path = out / ("folds" if args.folds == "classes" else f"folds-{args.folds}") / f"{name}.json"
            if not path.is_file():
                write_json(path, {"dataset": name, "family": fam, "seeds": list(SEEDS), "folds": args.folds,
                                  **fold_values(name, Path(args.data), args.folds)})
            fold = json.loads(path.read_text())
            cells = [out / s / f"{name}.json" for s in SETTINGS]
            if not all(c.is_file() for c in cells):
                print(f"{name}: no test cells of {' / '.join(SETTINGS)} (run benchmarks/robustness.py first)", flush=True)
                continue
            test = [float(np.mean(json.loads(c.read_text())["H"])) for c in cells]
            rows.append((fold[SETTINGS[1]] - fold[SETTINGS[0]], test[1] - test[0]))
            print(f"{name:<24} folds {fold['fixed']:5.1f} / {fold['untuned']:5.1f}   test {test[0]:5.1f} / {test[1]:5.1f}"
                  f"   (fixed / untuned)", flush=True)
    if len(rows) > 2:
        d = np.asarray(rows)
        agree = int(np.sum(np.sign(d[:, 0]) == np.sign(d[:, 1])))
        print(f"{len(rows)} data sets: the folds prefer the untuned setting on {int(np.sum(d[:, 0] > 0))}, the test on "
              f"{int(np.sum(d[:, 1] > 0))}; the two agree on {agree}; correlation of the two differences "
              f"{np.corrcoef(d.T)[0, 1]:+.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
