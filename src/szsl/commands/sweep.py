"""``szsl sweep q|tau``: one figure's data (JSON, CSV) and plot, on the test split (never selection)."""

from __future__ import annotations

import argparse
from pathlib import Path

from szsl.commands._common import add_dataset_args, add_quiet_arg
from szsl.commands.tune import nonneg_int, positive_int


def add_parser(sub) -> None:
    parser = sub.add_parser("sweep", help="U, S, H vs q or tau around given parameters (Figure 2 / Figure 3)")
    parser.add_argument("param", choices=["q", "tau"], help="the parameter to sweep")
    add_dataset_args(parser)
    parser.add_argument("--values", type=float, nargs="+", default=None, help="values to try (default q: 0, 0.1, ..., 1; tau: 0.01 .. 10)")
    parser.add_argument(
        "--params",
        metavar="JSON",
        default=None,
        help="base parameters: a 'szsl tune' output (best_config) or a JSON object of TrainConfig fields (default: TrainConfig defaults)",
    )
    parser.add_argument("--epochs", type=positive_int, default=None, help="override the base parameters' epochs")
    parser.add_argument("--seeds", type=nonneg_int, nargs="+", default=[0], help="seeds per value (mean ± std plotted; default 0)")
    parser.add_argument("--out", default="results", help="output folder (default results/)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda, cuda:N")
    add_quiet_arg(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from szsl.atomic import write_json
    from szsl.data import load_benchmark
    from szsl.experiments.figures import figure2, figure3, soft_label_panel_data
    from szsl.experiments.sweep import load_params, run_sweep, write_csv

    base = load_params(args.params)
    origin = "default" if args.params is None else ("tuned" if _is_tune_output(args.params) else "given")
    if args.epochs is not None:
        base = base.replace(epochs=args.epochs)
    benchmark = load_benchmark(args.dataset, args.root)
    result = run_sweep(benchmark, base, args.param, args.values, seeds=args.seeds, device=args.device, progress=not args.quiet)
    out = Path(args.out)
    stem = f"sweep_{args.param}_{benchmark.name}"
    if args.param == "tau":
        result["soft_labels"] = soft_label_panel_data(benchmark)
        figure = figure3(result["soft_labels"], result, benchmark.name, out / f"{stem}.png", origin=origin)
    else:
        figure = figure2([result], out / f"{stem}.png", origin=origin)
    write_json(out / f"{stem}.json", result)
    write_csv(result, out / f"{stem}.csv")
    print(
        f"{benchmark.name}: H is highest ({max(p['H'] for p in result['points']):.1f}) at {args.param}={result['argmax_H']:g}  "
        f"({result['source']})"
    )
    print(f"wrote {out / (stem + '.json')}, {stem}.csv, {figure.name}")
    return 0


def _is_tune_output(path: str) -> bool:
    """Whether --params is a 'szsl tune' output (its best_config chosen on the validation folds); load_params read it already."""
    import json

    content = json.loads(Path(path).read_text(encoding="utf-8"))
    return isinstance(content, dict) and isinstance(content.get("best_config"), dict)
