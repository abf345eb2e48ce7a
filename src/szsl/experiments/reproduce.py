"""``reproduce``: for each dataset, tune on the validation folds, evaluate the best parameters
on the test split over 5 seeds, sweep q and tau for the figures, and write the table.

Stages per dataset, each cached as ``<out>/<DS>/<stage>.json`` (written atomically, with the
inputs it was computed from; a stage is skipped when its file is present, complete and made from
the same inputs): ``tune`` (the Optuna study itself lives in ``<out>/szsl-tune.db`` and resumes
trial by trial), ``final``, ``sweep_q``, ``sweep_tau``. Only ``tune`` selects anything; the other
stages read the test split and never feed back into selection.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from szsl.atomic import atomic_open, write_json, write_text
from szsl.data import XLSA17_DATASETS
from szsl.errors import SZSLError
from szsl.experiments.final import DEFAULT_SEEDS, METRICS
from szsl.experiments.paper import PAPER_NOTE, PAPER_SZSL, display_name
from szsl.experiments.sweep import DEFAULT_VALUES, SOURCE

STAGES = ("tune", "final", "sweep_q", "sweep_tau")
REPRODUCE_TRIALS = 30
REPRODUCE_EPOCHS = 20


@dataclass
class ReproduceOptions:
    trials: int = REPRODUCE_TRIALS
    epochs: int | None = REPRODUCE_EPOCHS
    space: str | None = None  # a JSON space file
    search_mass: bool = False
    sampler: str = "tpe"
    batch: int = 8
    seed: int = 0
    storage: str | None = None
    timeout: float | None = None
    device: str = "auto"
    seeds: Sequence[int] = DEFAULT_SEEDS
    sweep_seeds: Sequence[int] = (0,)
    q_values: Sequence[float] = DEFAULT_VALUES["q"]
    tau_values: Sequence[float] = DEFAULT_VALUES["tau"]
    sweeps: bool = True
    progress: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def find_datasets(root: str | None, requested: Sequence[str] | None) -> list[str]:
    """The datasets to run: ``digits`` without a root; else those of ``requested`` (default all
    five) that exist under ``root``. An explicitly requested dataset that is missing is an error."""
    if root is None:
        wanted = [d for d in (requested or ["digits"])]
        bad = [d for d in wanted if d.lower() != "digits"]
        if bad:
            raise SZSLError(f"--datasets {' '.join(bad)} needs --root (the folder holding {bad[0].upper()}/att_splits.mat); without --root only 'digits' runs")
        return ["digits"]
    base = Path(root)
    if not base.is_dir():
        raise SZSLError(f"--root {root}: not a folder")
    names = []
    for d in requested or XLSA17_DATASETS:
        if d.lower() == "digits":
            names.append("digits")
            continue
        if d.upper() not in XLSA17_DATASETS:
            raise SZSLError(f"--datasets {d}: expected some of {', '.join(XLSA17_DATASETS)} or digits")
        present = (base / d.upper() / "att_splits.mat").is_file()
        if present:
            names.append(d.upper())
        elif requested:
            raise SZSLError(f"--root {root}: no {d.upper()}/att_splits.mat (requested with --datasets)")
    if not names:
        raise SZSLError(f"--root {root}: none of {', '.join(XLSA17_DATASETS)} found (expected <root>/<DS>/att_splits.mat and res101.mat)")
    return list(dict.fromkeys(names))


def _load_stage(path: Path, key: dict[str, Any]) -> dict[str, Any] | None:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(content, dict) or not content.get("complete") or content.get("key") != json.loads(json.dumps(key)):
        return None
    return content["result"]


def _save_stage(path: Path, key: dict[str, Any], result: dict[str, Any]) -> None:
    write_json(path, {"complete": True, "key": key, "result": result})


def reproduce(root: str | None, datasets: Sequence[str] | None, out: str | Path = "results", options: ReproduceOptions | None = None) -> dict[str, Any]:
    """Run every stage for every dataset (skipping finished ones) and write the results files."""
    from tqdm.auto import tqdm

    from szsl.lock import folder_lock
    from szsl.tune import load_space, sqlite_url

    opts = options or ReproduceOptions()
    out = Path(out)
    names = find_datasets(root, datasets)
    space = load_space(opts.space, epochs=opts.epochs, search_mass=opts.search_mass)
    storage = opts.storage or sqlite_url(out / "szsl-tune.db")
    with folder_lock(out):  # one reproduce per output folder: a second one is refused, not interleaved
        started = time.monotonic()
        per_dataset: dict[str, dict[str, Any]] = {}
        stages = [s for s in STAGES if opts.sweeps or not s.startswith("sweep")]
        bar = tqdm(total=len(names) * len(stages), desc="reproduce", unit="stage", disable=not opts.progress)
        try:
            for name in names:
                per_dataset[name] = _run_dataset(root, name, out, space, storage, opts, bar)
        finally:
            bar.close()
        return _write_results(out, names, per_dataset, opts, time.monotonic() - started)


def _run_dataset(root, name: str, out: Path, space, storage: str, opts: ReproduceOptions, bar) -> dict[str, Any]:
    from szsl.config import TrainConfig
    from szsl.data import load_benchmark
    from szsl.experiments.figures import soft_label_panel_data
    from szsl.experiments.final import final_evaluation
    from szsl.experiments.sweep import run_sweep
    from szsl.tune import default_study_name, redact, tune

    folder = out / name
    cache: dict[str, Any] = {}
    benchmark = None

    def bench():
        nonlocal benchmark
        if benchmark is None:
            benchmark = load_benchmark(name, root)
        return benchmark

    def stage(label: str, key: dict[str, Any], compute) -> dict[str, Any]:
        path = folder / f"{label}.json"
        result = _load_stage(path, key)
        if result is None:
            bar.set_postfix_str(f"{display_name(name)}: {label}")
            result = compute()
            _save_stage(path, key, result)
        bar.update(1)
        return result

    study = default_study_name(bench(), space, opts.seed, opts.sampler)
    tune_key = {"study": study, "storage": redact(storage), "trials": opts.trials}

    def do_tune():
        r = tune(
            bench(), n_trials=opts.trials, storage=storage, study_name=study, space=space, sampler=opts.sampler,
            seed=opts.seed, batch=opts.batch, timeout=opts.timeout, device=opts.device, progress=opts.progress,
        )
        if r.n_complete < opts.trials:
            # A timeout stopped the search early: report it, but do not cache it as finished.
            raise _Incomplete(r)
        return r.to_dict()

    try:
        cache["tune"] = stage("tune", tune_key, do_tune)
    except _Incomplete as inc:
        cache["tune"] = inc.result.to_dict()
        cache["tune"]["incomplete"] = True
        bar.update(1)
    best = TrainConfig.from_dict(cache["tune"]["best_config"])
    seeds = [int(s) for s in opts.seeds]
    cache["final"] = stage("final", {"config": best.to_dict(), "seeds": seeds}, lambda: final_evaluation(bench(), best, seeds=seeds, device=opts.device, progress=False))
    if opts.sweeps:
        sweep_seeds = [int(s) for s in opts.sweep_seeds]
        for param, values in (("q", opts.q_values), ("tau", opts.tau_values)):
            values = [float(v) for v in values]
            key = {"base": best.to_dict(), "values": values, "seeds": sweep_seeds}

            def compute(param=param, values=values):
                result = run_sweep(bench(), best, param, values, seeds=sweep_seeds, device=opts.device)
                if param == "tau":
                    result["soft_labels"] = soft_label_panel_data(bench())
                return result

            cache[f"sweep_{param}"] = stage(f"sweep_{param}", key, compute)
    return cache


class _Incomplete(Exception):
    def __init__(self, result):
        super().__init__("tuning stopped before the requested trials")
        self.result = result


# ----------------------------------------------------------------------------- outputs


def _pct(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1f}"


def _pm(mean: float, std: float) -> str:
    return f"{mean:.1f} ± {std:.1f}"


def results_table(names: Sequence[str], per_dataset: dict[str, dict[str, Any]], n_seeds: int) -> str:
    """Markdown table in the layout of the paper's Table 2: rows = methods, per dataset U, S, H."""
    header = ["Method"] + [f"{display_name(n)} {m}" for n in names for m in ("U", "S", "H")]
    paper = ["SZSL (paper, Table 2)"]
    ours = [f"SZSL (ours, mean ± std, {n_seeds} seeds)"]
    for n in names:
        ref = PAPER_SZSL.get(n, {})
        paper += [_pct(ref.get("U")), _pct(ref.get("S")), _pct(ref.get("H"))]
        final = per_dataset[n]["final"]
        ours += [_pm(final["mean"][m], final["std"][m]) for m in ("U", "S", "H")]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in (paper, ours)]
    return "\n".join(lines)


def _write_results(out: Path, names: Sequence[str], per_dataset: dict[str, dict[str, Any]], opts: ReproduceOptions, seconds: float) -> dict[str, Any]:
    from szsl.experiments.figures import figure2, figure3

    n_seeds = len(list(opts.seeds))
    table = results_table(names, per_dataset, n_seeds)
    figures = []
    if opts.sweeps:
        figures.append(figure2([per_dataset[n]["sweep_q"] for n in names], out / "figure2_q.png").name)
        for n in names:
            sweep = per_dataset[n]["sweep_tau"]
            figures.append(figure3(sweep["soft_labels"], sweep, n, out / f"figure3_tau_{n}.png").name)

    md = [
        "# SZSL reproduction",
        "",
        "Generalized zero-shot learning, per-class mean top-1 accuracy in percent: U (unseen test classes),",
        "S (seen test classes), H (their harmonic mean), all predicted among all classes.",
        "",
        table,
        "",
        f"- {PAPER_NOTE}",
        f"- Ours: hyperparameters chosen by mean H over the validation class folds ({opts.trials} Optuna trials, "
        f"test split never read), then retrained on all trainval images with {n_seeds} seeds and scored on the test split.",
    ]
    incomplete = [n for n in names if per_dataset[n]["tune"].get("incomplete")]
    if incomplete:
        md.append(f"- Tuning stopped early (timeout) for: {', '.join(display_name(n) for n in incomplete)}; re-run to finish.")
    md += ["", "## Details", "", "| Dataset | best validation H | trials | T1 (ZSL, unseen only) |", "|---|---:|---:|---:|"]
    for n in names:
        t, f = per_dataset[n]["tune"], per_dataset[n]["final"]
        md.append(f"| {display_name(n)} | {t['best_value']:.1f} | {t['n_complete']} | {_pm(f['mean']['T1'], f['std']['T1'])} |")
    md += ["", "Best parameters:", ""]
    for n in names:
        params = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in per_dataset[n]["tune"]["best_config"].items() if k not in ("seed",))
        md.append(f"- {display_name(n)}: {params}")
    if figures:
        md += ["", f"Figures ({SOURCE}):", ""] + [f"- [{f}]({f})" for f in figures]
    md.append("")
    write_text(out / "results.md", "\n".join(md))

    payload = {
        "datasets": {n: per_dataset[n] for n in names},
        "paper": {n: PAPER_SZSL.get(n) for n in names},
        "paper_note": PAPER_NOTE,
        "table_markdown": table,
        "figures": figures,
        "options": {"trials": opts.trials, "epochs": opts.epochs, "seeds": list(opts.seeds), "sampler": opts.sampler, "seed": opts.seed, "search_mass": opts.search_mass},
        "seconds": round(seconds, 1),
    }
    write_json(out / "results.json", payload)

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["method", "dataset"] + list(METRICS) + [f"{m}_std" for m in METRICS] + ["n_seeds"])
    for n in names:
        ref = PAPER_SZSL.get(n)
        if ref:
            writer.writerow(["SZSL (paper)", n] + [("" if ref.get(m) is None else ref[m]) for m in ("U", "S", "H")] + ["", "", "", "", "", ""])
        f = per_dataset[n]["final"]
        writer.writerow(["SZSL (ours)", n] + [round(f["mean"][m], 2) for m in METRICS] + [round(f["std"][m], 2) for m in METRICS] + [len(f["seeds"])])
    with atomic_open(out / "results.csv", "w", encoding="utf-8", newline="") as fh:
        fh.write(buf.getvalue())
    return payload
