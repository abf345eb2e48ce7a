"""The number a trial of a study is ranked by: its validation objective over the class folds.

* ``"calibrated"`` (the default): the mean fold H after calibrated stacking with the one gamma >= 0 that maximises
  it (``methods.calibration.choose_gamma``; validation scores only). The final model is calibrated the same way
  (``final_model``, ``calibrate="seen"``: seen-class scores lowered, never raised), so a trial is ranked by the
  number its final model delivers, not by how well its soft-label mass happens to balance seen against unseen
  predictions before calibration. On the real digits that balance swings the plain H from 0 to 45 across q
  while the calibrated H tracks the test H better (docs/robustness.md, round 3).
* ``"plain"``: the mean fold H as predicted (szsl 0.3 and earlier; szsl 0.1's protocol).

Pruning (``pruning.halving``) ranks the trials at its rungs by the same objective.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

OBJECTIVES = ("calibrated", "plain")
DEFAULT_OBJECTIVE = "calibrated"


def needs_curves(objective: str) -> bool:
    """Whether ``fold_value`` needs each run's seen-unseen curve (``Run.curve()``: runs made with keep_curves)."""
    return objective != "plain"


def fold_value(runs: Sequence, objective: str = DEFAULT_OBJECTIVE) -> float:
    """A trial's validation objective in % from its runs on the folds (one Run each); NaN when one diverged."""
    if any(r.diverged or not r.metrics for r in runs):
        return float("nan")
    if objective == "plain":
        return float(np.mean([r.metrics["H"] for r in runs]))
    from szsl.methods.calibration import choose_gamma

    _, h = choose_gamma([r.curve() for r in runs], nonnegative=True)
    return h if math.isfinite(h) else float("nan")
