"""Final evaluation: retrain on all of trainval with the chosen parameters, several seeds as
ONE population, and report mean and std of U, S, H, T1 on the test split."""

from __future__ import annotations

from typing import Any, Sequence

from szsl.config import TrainConfig
from szsl.data.benchmark import Benchmark
from szsl.errors import SZSLError
from szsl.evaluation import summarize

DEFAULT_SEEDS = (0, 1, 2, 3, 4)
METRICS = ("U", "S", "H", "T1")


def final_evaluation(
    benchmark: Benchmark,
    config: TrainConfig,
    *,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    device: str = "auto",
    progress: bool = False,
) -> dict[str, Any]:
    """Train ``config`` with each seed on trainval (one population), score on the test split.

    Returns {"config", "seeds": [{"seed", "U", "S", "H", "T1"}...], "mean", "std", "diverged"}.
    This is evaluation, never selection: nothing here feeds back into a choice of parameters.
    """
    from szsl.evaluation import evaluate  # "szsl" fixes no TrainConfig value: it trains any config as given
    from szsl.protocol import final_split, split_data

    seeds = [int(s) for s in seeds]
    if not seeds:
        raise SZSLError("final evaluation needs at least one seed")
    data = split_data(benchmark, final_split(benchmark))
    results = evaluate("szsl", data, [config.replace(seed=s) for s in seeds], device=device, with_t1=True, progress=progress)
    rows = [{"seed": s, **{k: float(r.metrics[k]) for k in METRICS}} for s, r in zip(seeds, results) if not r.diverged]
    diverged = [{"seed": s, "message": r.message} for s, r in zip(seeds, results) if r.diverged]
    if not rows:
        raise SZSLError(f"{benchmark.name}: every seed of the final evaluation diverged ({diverged[0]['message']})")
    mean, std = summarize(rows, METRICS)
    return {"config": config.replace(seed=seeds[0]).to_dict(), "seeds": rows, "mean": mean, "std": std, "diverged": diverged}
