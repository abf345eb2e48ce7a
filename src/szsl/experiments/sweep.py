"""One-parameter sweeps (q, tau) around a configuration, each ONE population on the final split.

A sweep shows test-split behaviour for a figure: it is evaluation, not selection, and nothing
it computes is ever used to choose parameters.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from szsl.config import TrainConfig
from szsl.data.benchmark import Benchmark
from szsl.errors import SZSLError
from szsl.evaluation import summarize

SWEEP_PARAMS = ("q", "tau")
DEFAULT_VALUES = {
    "q": tuple(round(x, 2) for x in np.linspace(0.0, 1.0, 11)),
    "tau": (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0),
}
SOURCE = "test split, not used for selection"


def run_sweep(
    benchmark: Benchmark,
    base: TrainConfig,
    param: str,
    values: Sequence[float] | None = None,
    *,
    seeds: Sequence[int] = (0,),
    device: str = "auto",
    progress: bool = False,
) -> dict[str, Any]:
    """U, S, H (mean/std over ``seeds``) of ``base`` with ``param`` set to each value.

    All values x seeds train as one population on trainval and are scored on the test split.
    """
    from szsl.evaluation import evaluate  # "szsl" fixes no TrainConfig value: it trains any config as given
    from szsl.protocol import final_split, split_data

    if param not in SWEEP_PARAMS:
        raise SZSLError(f"sweep parameter {param!r}: expected one of {', '.join(SWEEP_PARAMS)}")
    values = [float(v) for v in (DEFAULT_VALUES[param] if values is None else values)]
    if not values:
        raise SZSLError("sweep: no values")
    seeds = [int(s) for s in seeds]
    configs = [base.replace(**{param: v, "seed": s}) for v in values for s in seeds]  # validates every value
    data = split_data(benchmark, final_split(benchmark))
    results = evaluate("szsl", data, configs, device=device, with_t1=False, progress=progress)
    points = []
    for i, v in enumerate(values):
        rs = results[i * len(seeds) : (i + 1) * len(seeds)]
        ok = [r.metrics for r in rs if not r.diverged]
        mean, std = summarize(ok, ("U", "S", "H")) if ok else ({k: float("nan") for k in "USH"}, {k: 0.0 for k in "USH"})
        points.append({param: v, **mean, **{f"{k}_std": std[k] for k in "USH"}, "n_seeds": len(ok)})
    best = max(points, key=lambda p: -1.0 if np.isnan(p["H"]) else p["H"])
    return {
        "dataset": benchmark.name,
        "param": param,
        "base": base.to_dict(),
        "seeds": seeds,
        "points": points,
        "argmax_H": best[param],
        "source": SOURCE,
    }


def load_params(path: str | None) -> TrainConfig:
    """The base parameters of a sweep: a 'szsl tune' output (its best_config) or a JSON object of TrainConfig fields."""
    if path is None:
        return TrainConfig()
    try:
        content = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SZSLError(f"--params {path}: cannot read ({exc.strerror or exc})") from None
    except json.JSONDecodeError as exc:
        raise SZSLError(f"--params {path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if isinstance(content, dict) and isinstance(content.get("best_config"), dict):
        content = content["best_config"]
    if not isinstance(content, dict):
        raise SZSLError(f"--params {path}: expected a JSON object")
    return TrainConfig.from_dict(content)


def write_csv(result: dict[str, Any], path: str | Path) -> None:
    """The points of ``run_sweep``'s result as CSV (atomic): param, U, S, H, their std, n_seeds."""
    from szsl.atomic import atomic_open

    keys = (result["param"], "U", "S", "H", "U_std", "S_std", "H_std", "n_seeds")
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(",".join(keys) + "\n")
        for p in result["points"]:
            fh.write(",".join(str(round(p[k], 4)) if isinstance(p[k], float) else str(p[k]) for k in keys) + "\n")
