"""What ``szsl compare`` writes: the results of every method on one dataset as tables (markdown, CSV, the paper's
Table 2 layout), JSON and the seen-unseen curves figure, each written atomically."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from szsl.atomic import write_json, write_text
from szsl.evaluation import summarize
from szsl.experiments import table2

METRICS = ("U", "S", "H", "T1", "AUSUC", "U_cs", "S_cs", "H_cs")


@dataclass
class Selection:
    method: str
    params: dict[str, Any]  # the values of the selected setting (szsl.params.Setting) of the method
    cv_h: float  # mean validation H of the selected params (uncalibrated)
    gamma: float  # calibrated-stacking gamma chosen on the validation folds
    cv_h_cs: float  # mean validation H with that gamma
    n_trials: int
    seconds: float


@dataclass
class MethodResult:
    selection: Selection
    per_seed: list[dict[str, float]]
    seconds_per_model: float
    curve: Any = None  # SeenUnseenCurve of the first seed on the test split
    deterministic: bool = False

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.selection.method}
        mean, std = summarize(self.per_seed, METRICS)
        for k in METRICS:
            out[k], out[k + "_std"] = mean[k], std[k]
        out.update(
            gamma=self.selection.gamma, cv_H=self.selection.cv_h, cv_H_cs=self.selection.cv_h_cs,
            seconds_per_model=self.seconds_per_model, tune_seconds=self.selection.seconds, seeds=len(self.per_seed),
        )
        return out


def _n_seeds(settings: Mapping[str, Any]) -> int:
    seeds = settings["seeds"]
    return seeds if isinstance(seeds, int) else len(seeds)  # an int: a count, as settings written before seeds were a list


@dataclass
class CompareResult:
    dataset: str
    settings: dict[str, Any]
    results: list[MethodResult] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        return [r.summary() for r in self.results]

    def table2_rows(self) -> list[dict[str, Any]]:
        """The paper's Table 2 layout (``szsl.experiments.table2``): published rows next to these results."""
        summaries = [{**r.summary(), "epochs": r.selection.params.get("epochs")} for r in self.results]
        return table2.table2_rows(self.dataset, summaries)

    def table2_markdown(self) -> str:
        return table2.table2_markdown(self.dataset, self.table2_rows(), {**self.settings, "seeds": _n_seeds(self.settings)})

    def table2_csv(self) -> str:
        return table2.table2_csv(self.table2_rows())

    def markdown(self) -> str:
        s = self.settings
        spread = _n_seeds(s) > 1  # one seed has no spread: its numbers are printed alone, not "± 0.0"
        lines = [
            f"Dataset **{self.dataset}**; {table2.plural(s['trials'], 'random-search trial')}{table2.timeout_text(s.get('timeout'))} "
            "per method on the validation folds "
            f"(mean H), {table2.plural(_n_seeds(s), 'seed')} on the test split{' (mean ± std)' if spread else ''}; "
            f"epochs {s['epochs'] or 'searched/default'}, hidden "
            f"{s['hidden'] or 'searched'}{table2.params_text(s.get('params'))}; device {s['device']}.",
            "U, S, H, T1 in %; AUSUC in [0, 1]; CS = calibrated stacking with the gamma chosen on the validation folds.",
            "",
            "| method | U | S | H | T1 | AUSUC | U (CS) | S (CS) | H (CS) | gamma | s / model | tune s |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r, res in zip(self.rows(), self.results):
            pm = lambda k, d=1: f"{r[k]:.{d}f} ± {r[k + '_std']:.{d}f}" if spread else f"{r[k]:.{d}f}"  # noqa: E731
            name = r["method"] + (" (deterministic)" if res.deterministic else "")
            lines.append(
                f"| {name} | {pm('U')} | {pm('S')} | {pm('H')} | {pm('T1')} | {pm('AUSUC', 3)} | {pm('U_cs')} | {pm('S_cs')} | "
                f"{pm('H_cs')} "
                f"| {r['gamma']:.3g} | {r['seconds_per_model']:.2f} | {r['tune_seconds']:.0f} |"
            )
        return "\n".join(lines) + "\n"

    def csv(self) -> str:
        rows = self.rows()
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["method"], lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
        return buf.getvalue()

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "settings": self.settings,
            "summary": self.rows(),
            "table2": self.table2_rows(),
            "methods": [
                {
                    "method": r.selection.method,
                    "selected_params": r.selection.params,
                    "cv_H": r.selection.cv_h,
                    "gamma": r.selection.gamma,
                    "cv_H_cs": r.selection.cv_h_cs,
                    "per_seed": r.per_seed,
                    "curve_seed0": r.curve.to_dict() if r.curve is not None else None,
                }
                for r in self.results
            ],
        }

    def write(self, out: str | Path) -> dict[str, Path]:
        from szsl.curves import plot_curves

        out = Path(out)
        paths = {k: out / f"compare.{k}" for k in ("md", "csv", "json", "png")}
        paths.update(table2_md=out / "compare_table2.md", table2_csv=out / "compare_table2.csv")
        write_text(paths["md"], f"# szsl compare: {self.dataset}\n\n" + self.markdown())
        write_text(paths["csv"], self.csv())
        write_text(paths["table2_md"], f"# szsl compare: {self.dataset}, Table 2 layout\n\n" + self.table2_markdown())
        write_text(paths["table2_csv"], self.table2_csv())
        write_json(paths["json"], _finite(self.to_dict()))
        plot_curves(
            {r.selection.method: r.curve for r in self.results},
            paths["png"],
            title=f"{self.dataset}: seen-unseen curves (test split, seed {self.settings['seed']})",
            chosen={r.selection.method: r.selection.gamma for r in self.results},
        )
        return paths


def _finite(obj):
    """JSON has no NaN/inf: write them as null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj
