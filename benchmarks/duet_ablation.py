"""Which ingredient of duet does the work? Each one on and off, on data sets of the robustness suite.

THIS SCRIPT READS THE TEST SPLIT: it studies a model (which parts to keep), it selects nothing that ships.
Per data set: the default ``szsl reproduce`` study (no sweeps), then from the same trainings

* the parts on the study's validation folds (``duet.fold_scores``: the best member and cn, the fold seeds of duet
  and, for ``1 fold seed``, the first alone), and with the members' soft labels off (q = 0, every other value
  of theirs kept) for ``hard labels``;
* on the test split per model seed: the final members (and, for ``hard labels``, the same members with q = 0)
  and cn trained on trainval;

and scores the variants (test H, mean over the model seeds):

    duet            weight in {0.5, 1} and shift chosen on the folds (the shipped rule)
    szsl alone      weight 1 (cn off): szsl reproduce's final model
    cn alone        weight 0 (szsl off), shift chosen on the folds
    0.5 always      the blend in equal parts whatever the folds say, shift chosen on the folds
    no shift        weight chosen on the folds, shift 0
    fine grid       weight chosen among 0, 0.25, ..., 1 (the rejected rule)
    1 fold seed     weight and shift chosen on folds trained with one seed
    hard labels     duet with the members' soft labels off (q = 0)

    python benchmarks/duet_ablation.py --data /tmp/robust --names digits twin-APY-1 --out benchmarks/results/duet_ablation
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from robustness import materialise  # noqa: E402
from szsl.atomic import write_json  # noqa: E402

VARIANTS = ("duet", "szsl alone", "cn alone", "0.5 always", "no shift", "fine grid", "1 fold seed", "hard labels")
FINE = (0.0, 0.25, 0.5, 0.75, 1.0)


def study(name: str, data: Path, work: Path, seeds) -> dict:
    from szsl.data import load_benchmark
    from szsl.evaluation import evaluate, evaluate_ensembles
    from szsl.experiments.final import study_folds
    from szsl.experiments.reproduce import ReproduceOptions, reproduce
    from szsl.final_model import final_members
    from szsl.methods import duet
    from szsl.metrics import gzsl_metrics
    from szsl.protocol import final_split, split_data

    root, dataset = materialise(name, data)
    shutil.rmtree(work, ignore_errors=True)
    reproduce(root, [dataset], work, ReproduceOptions(sweeps=False, progress=False, seeds=[0], duet=False))
    tuned = json.loads(next(work.glob("*/tune.json")).read_text())
    fm = final_members(tuned.get("result", tuned))
    members, gammas = fm.members, fm.gammas or [0.0] * len(fm.members)
    hard = [m.replace(q=0.0) for m in members]
    bench = load_benchmark(dataset, root)
    cn_values = duet.cn_setting(None, bench.name)
    splits = study_folds(bench, 0, "ratio")
    folds = duet.fold_scores(splits, members, gammas, cn_values, seeds=duet.fold_seeds(0), device="cpu")
    folds_hard = duet.fold_scores(splits, hard, gammas, cn_values, seeds=duet.fold_seeds(0), device="cpu")
    one_seed = folds[: len(splits)]
    choice = {
        "duet": duet.choose_blend(folds),
        "szsl alone": (1.0, 0.0, {}),
        "cn alone": duet.choose_blend(folds, [0.0]),
        "0.5 always": duet.choose_blend(folds, [0.5]),
        "no shift": (duet.choose_blend(folds)[0], 0.0, {}),
        "fine grid": duet.choose_blend(folds, FINE),
        "1 fold seed": duet.choose_blend(one_seed),
        "hard labels": duet.choose_blend(folds_hard),
    }
    data_final = split_data(bench, final_split(bench))
    seen, unseen = np.asarray(data_final.seen), np.asarray(data_final.unseen)
    H = {v: [] for v in VARIANTS}
    for seed in seeds:
        parts = {}
        for label, ms in (("soft", members), ("hard", hard)):
            (run,) = evaluate_ensembles("szsl", data_final, [[m.replace(seed=seed) for m in ms]], with_t1=False, keep_models=True)
            parts[label] = duet.szsl_part([r.model for r in run.members], gammas, seen)
        (cn_run,) = evaluate("cn", data_final, [dict(cn_values, seed=seed)], with_t1=False, keep_scores=True)
        X = np.concatenate([data_final.X_eval_seen, data_final.X_eval_unseen])
        y = np.concatenate([data_final.y_eval_seen, data_final.y_eval_unseen])
        a = {k: p(X) for k, p in parts.items()}
        b = cn_run.scores
        for v in VARIANTS:
            w, g, _ = choice[v]
            scores = duet.blend(a["hard" if v == "hard labels" else "soft"], b, w, g, seen)
            H[v].append(gzsl_metrics(y, scores.argmax(1), seen, unseen)["H"])
    shutil.rmtree(work, ignore_errors=True)
    return {"dataset": name, "seeds": list(seeds), "H": H,
            "choice": {v: {"weight": c[0], "gamma": c[1], "fold_H": {str(k): h for k, h in c[2].items()}} for v, c in choice.items()}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--names", nargs="+", required=True)
    ap.add_argument("--out", default="benchmarks/results/duet_ablation")
    ap.add_argument("--work", default="/tmp/duet_ablation")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--report", action="store_true", help="print the table of the cells in --out and stop")
    args = ap.parse_args(argv)
    out = Path(args.out)
    if not args.report:
        for name in args.names:
            path = out / f"{name}.json"
            if path.is_file():
                continue
            cell = study(name, Path(args.data), Path(args.work) / name, args.seeds)
            write_json(path, cell)
            print(name, " ".join(f"{v}: {np.mean(h):.1f}" for v, h in cell["H"].items()), flush=True)
    cells = [json.loads((out / f"{n}.json").read_text()) for n in args.names if (out / f"{n}.json").is_file()]
    print("| data set | " + " | ".join(VARIANTS) + " |")
    print("|---|" + "---:|" * len(VARIANTS))
    for c in cells:
        print(f"| {c['dataset']} | " + " | ".join(f"{np.mean(c['H'][v]):.1f}" for v in VARIANTS) + " |")
    if cells:
        print("| **mean** | " + " | ".join(f"**{np.mean([np.mean(c['H'][v]) for c in cells]):.1f}**" for v in VARIANTS) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
