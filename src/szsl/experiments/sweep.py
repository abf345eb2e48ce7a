"""One-parameter sweeps (q, tau) around a configuration, each ONE population on the final split.

A sweep shows test-split behaviour for a figure: it is evaluation, not selection, and nothing
it computes is ever used to choose parameters.
"""

from __future__ import annotations

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
    return {"dataset": benchmark.name, "param": param, "base": base.to_dict(), "seeds": seeds, "points": points, "argmax_H": best[param], "source": SOURCE}
