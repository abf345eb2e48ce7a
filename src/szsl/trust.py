"""When a selection on the validation folds cannot be trusted: one line each, with what to try.

``selection_warnings`` reads a finished study's result (``tune_result.TuneResult``) and the space it searched:
  - every trial scored (near) zero on the folds: the folds could not tell the settings apart;
  - the best trial sits at an end of a searched range: the best setting may lie outside the space;
  - the best trial's folds disagree strongly: its mean hides a fold where it fails;
  - the folds validate on so few classes without training images that their ranking is mostly chance.
The lines go to the terminal, ``best.json`` / ``tune.json`` (``warnings``) and results.md.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from szsl.final_model import FEW_FOLD_CLASSES, few_fold_classes

NEAR_ZERO_H = 5.0  # mean validation H (%) below which no trial's ranking means much
EDGE = 0.02  # a value within 2 % of its range's width (log width for log ranges) from an end is at the edge
FOLD_SPREAD = 40.0  # points of H between the best trial's best and worst fold


def selection_warnings(best_value: float, best_params: Mapping[str, Any], folds: Sequence[Mapping[str, float]],
                       space_params: Sequence[Any], n_complete: int, fold_unseen: float | None = None) -> list[str]:
    """The reasons (one line each) not to trust the selection; [] when there are none. ``fold_unseen``: how many classes
    without training images the folds hold on average (``protocol.fold_unseen_classes``; None: not known)."""
    out = []
    if few_fold_classes(fold_unseen):
        out.append(
            f"the validation folds hold {fold_unseen:.3g} classes without training images each (at most {FEW_FOLD_CLASSES}): one class "
            "more or less right moves a fold's H by tens of points, so the ranking of settings is mostly chance and validation H "
            "overstates test H (szsl reproduce leans on its untuned anchor here); data with more classes make the "
            "selection worth more"
        )
    if best_value < NEAR_ZERO_H:
        out.append(
            f"every one of the {n_complete} complete trials scored mean validation H below {NEAR_ZERO_H:g} (best {best_value:.1f}): the "
            "folds cannot rank the settings; try more trials (--trials), a longer budget (--epochs / --min-steps) or a wider "
            "space (--space)"
        )
    for p in space_params:
        if p.kind not in ("float", "int") or p.name not in best_params:
            continue
        v, lo, hi = float(best_params[p.name]), float(p.low), float(p.high)
        if p.log:
            v, lo, hi = math.log(v), math.log(lo), math.log(hi)
        width = hi - lo
        if width <= 0:
            continue
        end = "lower" if v - lo <= EDGE * width else "upper" if hi - v <= EDGE * width else None
        if end:
            out.append(
                f"the best trial's {p.name} = {best_params[p.name]:.4g} sits at the {end} end of its range [{p.low:g}, {p.high:g}]: "
                f"the best setting may lie outside; widen {p.name} in a --space file"
            )
    hs = [float(f["H"]) for f in folds if "H" in f]
    if len(hs) > 1 and max(hs) - min(hs) > FOLD_SPREAD:
        out.append(
            f"the best trial's validation folds disagree (H {' / '.join(f'{h:.1f}' for h in hs)}): its mean hides a fold where it fails; "
            "look at the per-fold numbers, and try more trials"
        )
    return out
