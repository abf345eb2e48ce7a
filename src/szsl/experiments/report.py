"""The files ``reproduce`` writes: results.md (the paper's Table 2 layout), results.json, results.csv, figures."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Sequence

from szsl.atomic import atomic_open, write_json, write_text
from szsl.experiments.final import METRICS
from szsl.experiments.paper import PAPER_NOTE, PAPER_SZSL, display_name
from szsl.experiments.sweep import SOURCE
from szsl.final_model import chosen_members


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
    rows = [paper, ours]
    if any(per_dataset[n].get("duet") for n in names):  # szsl.methods.duet on the same final model, when reported
        duet = [f"duet: SZSL + CN blended (ours, {n_seeds} seeds)"]
        for n in names:
            d = per_dataset[n].get("duet")
            duet += [_pm(d["mean"][m], d["std"][m]) if d else "-" for m in ("U", "S", "H")]
        rows.append(duet)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def write_results(out: Path, names: Sequence[str], per_dataset: dict[str, dict[str, Any]], opts, seconds: float) -> dict[str, Any]:
    from szsl.experiments.figures import figure2, figure3

    n_seeds = len(list(opts.seeds))
    table = results_table(names, per_dataset, n_seeds)
    figures = []
    if opts.sweeps:
        figures.append(
            figure2([per_dataset[n]["sweep_q"] for n in names], out / "figure2_q.png", [per_dataset[n].get("final") for n in names]).name
        )
        for n in names:
            sweep = per_dataset[n]["sweep_tau"]
            path = out / f"figure3_tau_{Path(n).stem}.png"
            figures.append(figure3(sweep["soft_labels"], sweep, n, path, per_dataset[n].get("final")).name)

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
    if any(per_dataset[n].get("duet") for n in names):
        md.append(
            "- duet (`szsl.methods.duet`, not the paper's method): the same final model's log-probabilities blended with "
            "CN's (Skorokhodov & Elhoseiny 2021), the weight w of SZSL's and a seen-class shift chosen on the same "
            "validation folds: " + "; ".join(
                f"{display_name(n)} w={per_dataset[n]['duet']['weight']:g}, shift {per_dataset[n]['duet']['gamma']:.2g}"
                for n in names if per_dataset[n].get("duet")
            ) + " (w=1: SZSL alone, w=0: CN alone)."
        )
    incomplete = [n for n in names if per_dataset[n]["tune"].get("incomplete")]
    if incomplete:
        md.append(f"- Tuning stopped early (timeout) for: {', '.join(display_name(n) for n in incomplete)}; re-run to finish.")
    for n in names:
        for w in per_dataset[n]["tune"].get("warnings") or []:
            md.append(f"- **{display_name(n)}: selection may not be trusted**: {w}")
    md += [
        "",
        "## Details",
        "",
        "| Dataset | best validation H | trials | T1 (ZSL, unseen only) | final model | H, best trial alone | H, members not calibrated |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for n in names:
        t, f = per_dataset[n]["tune"], per_dataset[n]["final"]
        k = len(chosen_members(f)) or 1  # a single model's stage lists no "ensemble"
        cal = f.get("calibrated")
        anchor = " + the untuned setting" + (f" (weight {f['weights'][-1]:.2g})" if f.get("weights") else "")
        model = f"{k} trial{'s' if k > 1 else ''}" + (anchor if f.get("anchored") else "") + (
            f", calibrated ({opts.calibrate}; gammas {', '.join(f'{g:.2g}' for g in cal['gammas'])})" if cal else ", not calibrated"
        )
        alone = _pm(f["single"]["mean"]["H"], f["single"]["std"]["H"]) if f.get("single") else "-"
        plain = _pm(f["plain"]["mean"]["H"], f["plain"]["std"]["H"]) if f.get("plain") else _pm(f["mean"]["H"], f["std"]["H"])
        md.append(
            f"| {display_name(n)} | {t['best_value']:.1f} | {t['n_complete']} | {_pm(f['mean']['T1'], f['std']['T1'])} | {model} "
            f"| {alone} | {plain} |"
        )
    md += ["", "Best parameters:", ""]
    for n in names:
        params = ", ".join(
            f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}"
            for k, v in per_dataset[n]["tune"]["best_config"].items()
            if k not in ("seed",)
        )
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
        "options": {
            "trials": opts.trials,
            "epochs": opts.epochs,
            "seeds": list(opts.seeds),
            "sampler": opts.sampler,
            "seed": opts.seed,
            "search_mass": opts.search_mass,
            "fold_classes": opts.fold_classes,
            "space": opts.space or "default",
            "ensemble": opts.ensemble,
            "ensemble_margin": opts.ensemble_margin,
            "calibrate": opts.calibrate,
            "anchor": opts.anchor,
        },
        "seconds": round(seconds, 1),
    }
    write_json(out / "results.json", payload)

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["method", "dataset"] + list(METRICS) + [f"{m}_std" for m in METRICS] + ["n_seeds"])
    for n in names:
        ref = PAPER_SZSL.get(n)
        if ref:
            writer.writerow(
                ["SZSL (paper)", n] + [("" if ref.get(m) is None else ref[m]) for m in ("U", "S", "H")] + ["", "", "", "", "", ""]
            )
        f = per_dataset[n]["final"]
        writer.writerow(
            ["SZSL (ours)", n] + [round(f["mean"][m], 2) for m in METRICS] + [round(f["std"][m], 2) for m in METRICS] + [len(f["seeds"])]
        )
        d = per_dataset[n].get("duet")
        if d:
            means, stds = [round(d["mean"][m], 2) for m in METRICS], [round(d["std"][m], 2) for m in METRICS]
            writer.writerow(["duet (ours)", n] + means + stds + [len(d["seeds"])])
    with atomic_open(out / "results.csv", "w", encoding="utf-8", newline="") as fh:
        fh.write(buf.getvalue())
    return payload
