"""Multi-fidelity search for network methods: successive halving over the validation folds.

"halving" (the default) scores every trial of a batch on the folds at epochs ``prune_rungs`` (Optuna
intermediate values) and stops a trial there unless its mean H is in the top 1 / PRUNE_REDUCTION of every
trial of the study scored at that epoch; "none" trains every trial to its full budget. Trials lost with a
killed worker take no part in the rankings (``study_storage.is_lost``), so a resumed study prunes as the
uninterrupted one.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from szsl.objective import DEFAULT_OBJECTIVE, fold_value
from szsl.study_storage import is_lost

if TYPE_CHECKING:
    from szsl.search_space import SearchSpace

PRUNERS = ("halving", "none")
DEFAULT_PRUNE = "halving"
PRUNE_MIN_EPOCHS = 5
PRUNE_REDUCTION = 2
PRUNE_SCALE_EPOCHS = 20

def prunable(space: SearchSpace) -> bool:
    from szsl.methods import get_method

    return get_method(space.method).multi_fidelity


def prune_rungs(epochs: int, prune: str) -> list[int]:
    """The epochs at which a trial of ``epochs`` epochs is scored and may be stopped."""
    if prune == "none":
        return []
    # A longer budget (budget.scaled_epochs on a small data set) starts later, so the first rung is still
    # about a quarter of the run: 5 up to 39 epochs, 25 at 100.
    rungs, r = [], PRUNE_MIN_EPOCHS * max(1, epochs // PRUNE_SCALE_EPOCHS)
    while r < epochs:
        rungs.append(r)
        r *= PRUNE_REDUCTION
    return rungs


def halving(study, batch, epoch: int, running: list[int], per_fold, objective: str = DEFAULT_OBJECTIVE) -> list[int]:
    """Successive halving at one rung: report each running trial's validation objective (``objective.fold_value``)
    at ``epoch``; stop those below the top 1 / PRUNE_REDUCTION of every trial of the study (this batch included)
    scored at ``epoch``."""
    values = {}
    for i in running:
        values[i] = fold_value([runs[i] for runs in per_fold], objective)
        if math.isfinite(values[i]):
            batch[i][0].report(values[i], epoch)
    mine = {trial.number for trial, _ in batch}
    others = [  # a trial lost with a killed worker is not counted: its re-run (this batch, or an earlier one) is
        t.intermediate_values[epoch]
        for t in study.get_trials(deepcopy=False)
        if t.number not in mine and epoch in t.intermediate_values and not is_lost(t)
    ]
    competing = sorted([v for v in values.values() if math.isfinite(v)] + [float(v) for v in others], reverse=True)
    if not competing:
        return list(running)
    threshold = competing[max(1, math.ceil(len(competing) / PRUNE_REDUCTION)) - 1]
    return [i for i in running if not (values[i] >= threshold)]
