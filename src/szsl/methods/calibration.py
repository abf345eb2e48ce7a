"""Calibrated stacking (Chao et al., ECCV 2016): a post-hoc correction for any method's scores.

Predict ``argmax_c (score_c - gamma * [c is seen])``. gamma is chosen on the VALIDATION folds
(``protocol.validation_splits``: pseudo-seen held-out images and pseudo-unseen classes) to
maximise the mean H over the folds, exactly (every breakpoint of every fold's seen-unseen
curve is a candidate; see ``szsl.curves``), and then applied unchanged to the test split.
Nothing here reads test data: ``choose_gamma`` sees only the curves it is given.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from szsl.curves import SeenUnseenCurve, mean_h, representative_gammas
from szsl.errors import SZSLError


def calibrate(scores, seen, gamma: float) -> np.ndarray:
    """scores (n, C) with gamma subtracted from the seen-class columns, float64."""
    out = np.asarray(scores, dtype=np.float64).copy()
    out[:, np.asarray(seen, dtype=np.int64)] -= float(gamma)
    return out


def calibrated_predict(scores, seen, gamma: float) -> np.ndarray:
    return calibrate(scores, seen, gamma).argmax(axis=1)


def choose_gamma(fold_curves: Sequence[SeenUnseenCurve], nonnegative: bool = False) -> tuple[float, float]:
    """(gamma, mean H) maximising the mean H over the folds' curves; ties -> the smallest |gamma|.
    ``nonnegative``: only gammas >= 0 (seen-class scores lowered, never raised: calibrate "seen")."""
    if not fold_curves:
        raise SZSLError("choose_gamma: no validation curves")
    points = np.unique(np.concatenate([c.breakpoints for c in fold_curves]))
    candidates = representative_gammas(points)
    if nonnegative:
        candidates = np.unique(np.concatenate([[0.0], candidates[candidates >= 0]]))
    h = mean_h(fold_curves, candidates)
    best = np.flatnonzero(h >= h.max() - 1e-9)
    j = int(best[np.argmin(np.abs(candidates[best]))])
    return float(candidates[j]), float(h[j])
