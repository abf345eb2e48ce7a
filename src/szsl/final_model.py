"""The final model of ``szsl reproduce``: which trials of a study it averages, and how each is calibrated.

The one place of this policy. From a tuning record (``TuneResult`` or its ``to_dict()``, what ``szsl tune``'s
best.json and reproduce's tune.json hold), ``final_members`` picks the best ``k`` complete trials at most (of the
``TOP_KEPT`` the record lists), those whose mean validation H is within ``margin`` points of the best, and their
calibrated-stacking gammas (each chosen on its trial's validation folds) under ``calibrate``. The members are
trained on trainval and their class probabilities averaged, each member's seen-class scores lowered by its gamma
first (``evaluation.ensemble_log_proba``). ``TuneResult.ensemble``, ``SZSLEnsemble.from_tune``, ``szsl
reproduce`` and ``szsl train --from-tune`` all take their members from here; ``check_gammas`` is the one check
of a final model's gammas. A selection on the validation folds only, like the best trial itself.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any, NamedTuple

from szsl.errors import SZSLError
from szsl.methods import get_method

TOP_KEPT = 5  # complete trials listed in TuneResult.top (the final model may ensemble the best few)
# The best DEFAULT_ENSEMBLE trials at most, those within ENSEMBLE_MARGIN points of mean validation H of the best,
# their class probabilities averaged (docs/tuning.md has the study behind it).
DEFAULT_ENSEMBLE = 3
ENSEMBLE_MARGIN = 3.0
# Calibration of the members before the average, from the calibrated-stacking gamma chosen on each member's
# trial's folds (user attribute "gamma" of every complete trial): "none" (plain), "seen" (only a seen bias is
# corrected: gamma clipped at 0, so seen-class scores are lowered, never raised), "full" (the fold gamma as it
# is). docs/tuning.md has the study behind the default; the plain model is always reported beside it.
CALIBRATIONS = ("none", "seen", "full")
DEFAULT_CALIBRATE = "seen"
# The anchor: szsl's untuned setting (what ``szsl train`` trains with no hyperparameters: the method's defaults) joins
# the members, uncalibrated (gamma 0), whatever the folds chose. A hedge against the folds: where they are few or small
# (the real digits: 2-3 pseudo-unseen classes a fold) the chosen trials can be far off, and the untuned setting, chosen
# by nobody, is not. It raised the mean test H of every family of the robustness suite it ran on (digits: 10 of 13
# splits; every small, twin and knob set; docs/robustness.md, "Round 4"), but it is a 1500-unit, 30-epoch network: on
# a full twin it costs ~1.9 trainings of the fixed setting per final seed (the default CUB run would go from ~10 to ~19,
# beyond the budget of 12). So "auto" (the default) adds it where training is cheap, at most ANCHOR_MAX_IMAGES training
# images; "on" / "off" always / never. Only szsl's studies have one.
ANCHORS = ("auto", "on", "off")
DEFAULT_ANCHOR = "auto"
ANCHOR_MAX_IMAGES = 4000
# The anchor's weight in the average. One member among the others, except where the folds validate on so few classes
# without training images (at most FEW_FOLD_CLASSES a fold, on average; the real digits: 2) that their ranking of the
# trials is mostly chance: there the anchor has ANCHOR_HEAVY of the average and the chosen trials share the rest. On
# the digits it lifted 8 of 13 splits and the mean by 1.3 H; on twelve held-out splits the mean is flat (48.3 against
# 48.2; one split where the untuned setting itself fails lost 6.8; docs/robustness.md, "Round 5"); on the twins subsampled to
# 600-2100 images (5 and 33 such classes a fold) a heavy anchor lost 1.7 H on average (up to 4.0), so it stays one
# member there.
FEW_FOLD_CLASSES = 3
ANCHOR_HEAVY = 2 / 3


def chosen_members(final: Mapping) -> list:
    """The members the folds chose, of a final stage's record (``szsl reproduce``'s final.json: its "ensemble", whose
    last member is the anchor when "anchored")."""
    members = list(final.get("ensemble") or [])
    return members[:-1] if final.get("anchored") else members


def anchor_for(mode: str, n_images: int | None) -> bool:
    """Whether the final model has the anchor: ``mode`` one of ANCHORS; "auto" on ``n_images`` training images."""
    if mode not in ANCHORS:
        raise SZSLError(f"anchor={mode!r}: expected one of {', '.join(ANCHORS)}")
    return mode == "on" or (mode == "auto" and n_images is not None and n_images <= ANCHOR_MAX_IMAGES)


def few_fold_classes(fold_unseen: float | None) -> bool:
    """Whether folds with ``fold_unseen`` classes without training images each (mean over the folds;
    ``protocol.fold_unseen_classes``; None: not known) hold at most FEW_FOLD_CLASSES: too few for their ranking of
    settings to mean much (the anchor's weight here, the warning of ``trust.selection_warnings``)."""
    return fold_unseen is not None and fold_unseen <= FEW_FOLD_CLASSES


def anchor_weight_for(fold_unseen: float | None) -> float | None:
    """The anchor's share of the final model's average on folds with ``fold_unseen`` classes without training images
    each: ANCHOR_HEAVY where they are few (``few_fold_classes``), else None (one member among the others)."""
    return ANCHOR_HEAVY if few_fold_classes(fold_unseen) else None


def member_weights(n: int, anchor_weight: float | None) -> list[float] | None:
    """The weights of a final model's ``n`` members whose last is the anchor with share ``anchor_weight`` (the others
    share the rest equally); None (equal weights) for no share or a single member."""
    if anchor_weight is None or n < 2:
        return None
    if not (isinstance(anchor_weight, (int, float)) and 0 < anchor_weight < 1):
        raise SZSLError(f"anchor weight={anchor_weight!r}: expected a number in (0, 1)")
    return [(1 - anchor_weight) / (n - 1)] * (n - 1) + [float(anchor_weight)]


class CalibrationError(SZSLError):
    """The members' gammas cannot be had: an unknown ``calibrate``, or a study that recorded none."""


class FinalModel(NamedTuple):
    members: list[Any]  # the method's full settings (szsl.params.Setting; TrainConfigs for a network method), best first
    gammas: list[float] | None  # one calibrated-stacking gamma per member; None: plain ("none")
    # the members' entries of the record's "top", as recorded ("value", "config", "gamma", ...); the anchor's last,
    # {"anchor": True, "config": ..., "gamma": 0.0 (None: plain)}, with no trial or value
    trials: list[dict[str, Any]]
    weights: list[float] | None = None  # the members' weights in the average (sum 1); None: equal


def final_members(
    tuned, k: int | None = None, margin: float | None = None, calibrate: str | None = None, *, seed: int | None = None,
    anchor: bool = False, anchor_weight: float | None = None,
) -> FinalModel:
    """The final model of a tuning record: the (at most) ``k`` best of its complete trials (``top``, best first)
    whose mean validation H is within ``margin`` points of the best (k = 1: the best alone), and their gammas under
    ``calibrate`` (``CALIBRATIONS``). None takes the default (``DEFAULT_ENSEMBLE``, ``ENSEMBLE_MARGIN``,
    ``DEFAULT_CALIBRATE``). ``seed``: the members' seed (None: as recorded). A record without ``top`` (szsl 0.2)
    has its best trial alone; a trial without a recorded gamma (szsl 0.2) is an error unless ``calibrate`` is "none". The
    members are settings of the record's ``method`` (szsl for a record that names none: before szsl 0.3 only szsl's were written).
    ``anchor`` (``anchor_for`` decides it for reproduce and train): for a study of szsl, its untuned setting joins as
    the last member, with the first member's seed and gamma 0, and ``anchor_weight`` (``anchor_weight_for``) its share of
    the average (None: one member among the others)."""

    k = DEFAULT_ENSEMBLE if k is None else k
    margin = ENSEMBLE_MARGIN if margin is None else margin
    calibrate = DEFAULT_CALIBRATE if calibrate is None else calibrate
    record = tuned if isinstance(tuned, Mapping) else _record(tuned)
    top = record.get("top")
    if not top:
        if "best_config" not in record:
            raise SZSLError("the tuning result lists no complete trials ('top'): run szsl tune first")
        top = [{"value": record["best_value"], "config": record["best_config"]}]
    chosen = _within_margin(top, k, margin)
    gammas = _gammas(chosen, calibrate)
    method = get_method(record.get("method") or "szsl")
    members = [_setting(i, t["config"], method, seed) for i, t in enumerate(chosen)]
    if anchor and method.name == "szsl":
        fixed = method.params({"seed": members[0].seed})
        members.append(fixed)
        gammas = None if gammas is None else [*gammas, 0.0]
        chosen = [*chosen, {"anchor": True, "config": fixed.to_dict(), "gamma": None if gammas is None else 0.0}]
        return FinalModel(members, gammas, chosen, member_weights(len(members), anchor_weight))
    return FinalModel(members, gammas, chosen)


def check_weights(weights, n: int, where: str = "") -> list[float] | None:
    """``weights`` (None: equal) as floats when they are one positive number per member (``n``) summing to 1; SZSLError
    (prefixed ``where``) otherwise."""
    if weights is None:
        return None
    try:
        values = [float(w) for w in weights]
        ok = len(values) == n and all(math.isfinite(w) and w > 0 for w in values) and abs(sum(values) - 1) < 1e-6
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise SZSLError(f"{where}weights={weights!r}: expected one positive number per member ({n}), summing to 1")
    return values


def check_gammas(gammas, n: int, where: str = "") -> list[float]:
    """``gammas`` as floats when they are one finite number per member (``n``); SZSLError (prefixed ``where``) otherwise."""
    try:
        values = list(gammas)
        ok = len(values) == n and all(isinstance(g, numbers.Real) and math.isfinite(g) for g in values)
    except (TypeError, OverflowError):  # not a sequence; an int beyond float range
        ok = False
    if not ok:
        raise SZSLError(f"{where}gammas={gammas!r}: expected one finite number per member ({n})")
    return [float(g) for g in values]


def _within_margin(top: list[dict[str, Any]], k: int, margin: float) -> list[dict[str, Any]]:
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= TOP_KEPT:
        raise SZSLError(f"ensemble={k!r}: expected an integer from 1 to {TOP_KEPT}")
    if not (isinstance(margin, (int, float)) and margin >= 0):
        raise SZSLError(f"ensemble margin={margin!r}: expected a number of H points >= 0")
    return [t for t in top[:k] if t["value"] >= top[0]["value"] - margin]


def _gammas(chosen: list[dict[str, Any]], mode: str) -> list[float] | None:
    if mode not in CALIBRATIONS:
        raise CalibrationError(f"calibrate={mode!r}: expected one of {', '.join(CALIBRATIONS)}")
    if mode == "none":
        return None
    gammas = [t.get("gamma") for t in chosen]
    if any(g is None for g in gammas):
        raise CalibrationError(
            "the study recorded no calibration gammas (its trials were made by an older szsl): tune anew, or calibrate 'none'"
        )
    return [max(float(g), 0.0) if mode == "seen" else float(g) for g in gammas]


def _record(result) -> Mapping:
    """A TuneResult's record (its ``to_dict()``); {} for anything else (a record of no trials)."""
    try:
        return result.to_dict()
    except AttributeError:
        return {}


def _setting(i: int, config, method, seed: int | None):
    """Member ``i``'s full setting of ``method`` (``seed`` replaces its recorded seed, where the setting holds one)."""
    values = dict(config)
    try:
        return method.seeded(values if seed is None else {**values, "seed": int(seed)}, 0)[0]
    except (TypeError, ValueError) as exc:
        raise SZSLError(f"members[{i}]: {exc}") from None
