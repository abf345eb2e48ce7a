"""Does the soft label help? SZSL (q > 0) against the same model with q = 0, on synthetic
xlsa17 features at real scale (AwA2: 37,322 x 2048 on the real attributes, labels and splits).

Both settings and all seeds train as ONE population, evaluated on the test split with the
paper's metrics. Prints a table and writes it (JSON) next to docs/benchmarks.md's numbers.

    python benchmarks/soft_vs_hard.py                    # AwA2, 3 seeds
    python benchmarks/soft_vs_hard.py --dataset CUB --epochs 30 --hidden 1500
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from szsl.config import TrainConfig
from szsl.data.synth import synthesize_xlsa17
from szsl.data.xlsa17 import load_xlsa17
from szsl.evaluation import evaluate
from szsl.protocol import final_split, split_data

SHARED = Path(os.environ.get("SZSL_SHARED_XLSA17", Path(__file__).resolve().parents[2] / "shared" / "xlsa17"))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="AWA2")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--hidden", type=int, default=512)
    p.add_argument("--q", type=float, default=0.3)
    p.add_argument("--tau", type=float, default=0.2)
    p.add_argument("--alpha", type=float, default=1.0)
    p.add_argument("--out", default=None, help="write the results as JSON here")
    args = p.parse_args()
    if not (SHARED / args.dataset / "att_splits.mat").is_file():
        print(f"real xlsa17 metadata not found under {SHARED}; set SZSL_SHARED_XLSA17", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        synthesize_xlsa17(SHARED, args.dataset, tmp, seed=0)
        bench = load_xlsa17(tmp, args.dataset, cache_dir=Path(tmp) / "cache")
        data = split_data(bench, final_split(bench))
        base = TrainConfig(hidden=args.hidden, epochs=args.epochs, tau=args.tau, alpha=args.alpha)
        settings = {"hard (q = 0)": 0.0, f"SZSL (q = {args.q:g}, tau = {args.tau:g}, alpha = {args.alpha:g})": args.q}
        configs = [base.replace(q=q, seed=s) for q in settings.values() for s in range(args.seeds)]
        start = time.perf_counter()
        results = evaluate("szsl", data, configs, device="auto", progress=True)
        seconds = time.perf_counter() - start
    print(f"{args.dataset} synthetic features ({bench.n_images} x {bench.feature_dim}), hidden {args.hidden}, {args.epochs} epochs, "
          f"{args.seeds} seeds, test split, {seconds:.0f} s for all {len(configs)} members as one population")
    print(f"{'setting':45s} {'U':>12s} {'S':>12s} {'H':>12s}  H per seed")
    table = {}
    for i, name in enumerate(settings):
        runs = results[i * args.seeds : (i + 1) * args.seeds]
        if any(r.diverged for r in runs):
            print(f"{name}: diverged: {runs[0].message}")
            return 1
        row = {k: [r.metrics[k] for r in runs] for k in ("U", "S", "H", "T1")}
        table[name] = row

        def fmt(v):
            return f"{statistics.mean(v):5.1f} ± {statistics.pstdev(v):4.1f}"

        print(f"{name:45s} {fmt(row['U']):>12s} {fmt(row['S']):>12s} {fmt(row['H']):>12s}  " + " ".join(f"{h:.1f}" for h in row["H"]))
    if args.out:
        from szsl.atomic import write_json

        write_json(args.out, {"dataset": args.dataset, "synthetic": True, "args": vars(args), "seconds": seconds, "results": table})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
