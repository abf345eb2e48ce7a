"""The final-model policy (szsl.final_model) on hand-made tuning records: which trials join, their gammas, the errors."""

from __future__ import annotations

import math

import pytest

from szsl.config import TrainConfig
from szsl.errors import SZSLError
from szsl.final_model import (
    CALIBRATIONS,
    DEFAULT_ANCHOR,
    DEFAULT_CALIBRATE,
    DEFAULT_ENSEMBLE,
    ENSEMBLE_MARGIN,
    TOP_KEPT,
    CalibrationError,
    check_gammas,
    final_members,
)
from szsl.methods import get_method
from szsl.params import Setting


def _record(values=(50.0, 48.5, 47.5, 46.0, 40.0), gammas=(0.3, -0.1, 0.2, 0.0, 0.5)):
    """A tuning record as tune.json / best.json hold it: ``top`` best first, each trial's q tells it apart."""
    top = [{"trial": i, "value": v, "params": {}, "config": {"q": round(0.1 * (i + 1), 1), "seed": 7}} for i, v in enumerate(values)]
    for t, g in zip(top, gammas):
        if g is not None:
            t["gamma"] = g
    return {"study": "s", "best_value": values[0], "best_config": top[0]["config"], "top": top}


def _qs(final):
    """The q of the chosen members (the untuned anchor, last where it joined, aside: test_the_anchor_* cover it)."""
    anchored = bool(final.trials) and final.trials[-1].get("anchor", False)
    return [m.q for m in (final.members[:-1] if anchored else final.members)]


def test_the_defaults_are_the_reproduce_rule():
    assert (DEFAULT_ENSEMBLE, ENSEMBLE_MARGIN, DEFAULT_CALIBRATE, CALIBRATIONS, TOP_KEPT, DEFAULT_ANCHOR) == (
        3, 3.0, "seen", ("none", "seen", "full"), 5, "auto")
    final = final_members(_record())
    assert all(isinstance(m, TrainConfig) for m in final.members)
    assert _qs(final) == [0.1, 0.2, 0.3]  # the best 3, all within 3 points of the best
    assert final.gammas == [0.3, 0.0, 0.2]  # "seen": a seen bias is corrected, an unseen one (gamma < 0) is not
    assert [t["trial"] for t in final.trials] == [0, 1, 2] and final.members[0].seed == 7  # the seed as recorded
    anchored = final_members(_record(), anchor=True)  # the untuned anchor last, uncalibrated
    assert anchored.members == [*final.members, TrainConfig(seed=7)] and anchored.gammas == [0.3, 0.0, 0.2, 0.0]
    assert anchored.trials[3] == {"anchor": True, "config": TrainConfig(seed=7).to_dict(), "gamma": 0.0}
    assert final_members(_record(), None, None, None) == final


@pytest.mark.parametrize("k, expected", [(1, [0.1]), (2, [0.1, 0.2]), (3, [0.1, 0.2, 0.3]), (5, [0.1, 0.2, 0.3])])
def test_at_most_k_trials_within_the_margin(k, expected):
    assert _qs(final_members(_record(), k, calibrate="none")) == expected


@pytest.mark.parametrize("margin, expected", [(0, [0.1]), (1.5, [0.1, 0.2]), (2.5, [0.1, 0.2, 0.3]), (100, [0.1, 0.2, 0.3, 0.4, 0.5])])
def test_the_margin_is_in_points_of_validation_h_below_the_best(margin, expected):
    assert _qs(final_members(_record(), 5, margin, "none")) == expected


def test_a_trial_below_the_margin_ends_the_members_even_when_k_allows_more():
    assert _qs(final_members(_record(values=(50.0, 40.0, 39.0)), 3)) == [0.1]


@pytest.mark.parametrize("calibrate, gammas", [("none", None), ("seen", [0.3, 0.0, 0.2]), ("full", [0.3, -0.1, 0.2])])
def test_calibrate(calibrate, gammas):
    final = final_members(_record(), calibrate=calibrate)
    assert final.gammas == gammas and _qs(final) == [0.1, 0.2, 0.3]


def test_a_record_without_gammas_is_plain_only():
    record = _record(gammas=(None,) * 5)  # a study of szsl 0.2
    assert final_members(record, calibrate="none").gammas is None
    for mode in ("seen", "full"):
        with pytest.raises(CalibrationError, match=r"^the study recorded no calibration gammas .*calibrate 'none'$"):
            final_members(record, calibrate=mode)
    # one member without a gamma is enough; a trial left out does not count
    assert final_members(_record(gammas=(0.3, None)), 1).gammas == [0.3]
    with pytest.raises(CalibrationError):
        final_members(_record(gammas=(0.3, None)), 2)


def test_a_record_without_top_is_its_best_trial_alone():
    record = {"best_value": 40.0, "best_config": {"q": 0.4}}  # szsl 0.2's tune.json
    assert _qs(final_members(record, calibrate="none")) == [0.4]
    with pytest.raises(CalibrationError):
        final_members(record)
    for empty in ({}, {"top": []}, None):
        with pytest.raises(SZSLError, match=r"lists no complete trials \('top'\): run szsl tune first"):
            final_members(empty)


@pytest.mark.parametrize("k", [0, 6, -1, 2.0, True, "3"])
def test_a_bad_k_is_refused(k):
    with pytest.raises(SZSLError, match=rf"ensemble={k!r}: expected an integer from 1 to 5"):
        final_members(_record(), k)


@pytest.mark.parametrize("margin", [-1, math.nan, "3"])
def test_a_bad_margin_is_refused(margin):
    with pytest.raises(SZSLError, match=r"ensemble margin=.*: expected a number of H points >= 0"):
        final_members(_record(), 3, margin)


def test_a_bad_calibrate_is_refused():
    with pytest.raises(CalibrationError, match=r"calibrate='yes': expected one of none, seen, full"):
        final_members(_record(), calibrate="yes")


def test_seed_replaces_the_recorded_seed_and_a_bad_setting_names_its_member():
    assert [m.seed for m in final_members(_record(), seed=3).members] == [3, 3, 3]
    assert [m.seed for m in final_members(_record(), seed=3, anchor=True).members] == [3, 3, 3, 3]
    record = _record()
    record["top"][1]["config"] = {"q": 2.0}
    with pytest.raises(SZSLError, match=r"^members\[1\]: "):
        final_members(record, calibrate="none")
    with pytest.raises(SZSLError, match=r"^members\[0\]: "):
        final_members(_record(), seed=-1)


def test_a_tune_result_gives_the_same_members_as_its_record():
    from szsl.tune_result import TuneResult

    record = _record()
    best = TrainConfig.from_dict(record["best_config"])
    result = TuneResult("s", 50.0, {}, best, 0, [], 5, 0, top=record["top"])
    assert final_members(result) == final_members(result.to_dict()) == final_members(record)
    assert result.ensemble() == final_members(record).members
    # another method's members are its settings (the record names the method; its defaults fill in what it omits)
    eszsl = {"gamma": 1.0, "lambda": 2.0, "targets": "01"}
    other = TuneResult("s", 50.0, {}, Setting(eszsl), 0, [], 1, 0, top=[{"value": 50.0, "config": {"gamma": 1.0}}], method="eszsl")
    (member,) = other.ensemble()
    assert isinstance(member, Setting) and member == {**get_method("eszsl").defaults, "gamma": 1.0}
    assert other.to_dict()["method"] == "eszsl" and other.to_dict()["best_config"] == eszsl
    assert final_members(other.to_dict(), calibrate="none").members == [member]


def test_check_gammas():
    assert check_gammas((0, 0.5, -1), 3) == [0.0, 0.5, -1.0]
    for bad in ([0.1], [0.1, math.nan], [0.1, math.inf], [0.1, "0.2"], 0.1, None, [0.1, 10**400]):
        with pytest.raises(SZSLError, match=r"^final evaluation: gammas=.*: expected one finite number per member \(2\)$"):
            check_gammas(bad, 2, "final evaluation: ")


def test_the_anchor_is_szsls_untuned_setting_and_only_szsls():
    """The untuned setting (what szsl train trains with no hyperparameters) joins last, with the first member's seed and
    gamma 0 (None when plain); anchor=False leaves the chosen trials alone; a study of another method has no anchor."""
    final = final_members(_record(), 1, calibrate="full", anchor=True)
    assert final.members == [TrainConfig(q=0.1, seed=7), TrainConfig(seed=7)] and final.gammas == [0.3, 0.0]
    assert get_method("szsl").params({}) == TrainConfig()  # szsl train with no hyperparameters (commands/train.py)
    assert final_members(_record(), 1, calibrate="none", anchor=True).gammas is None
    assert final_members(_record(), 1, calibrate="none", anchor=True).trials[-1]["gamma"] is None
    alone = final_members(_record(), 1)
    assert alone.members == [TrainConfig(q=0.1, seed=7)] and alone.gammas == [0.3] and "anchor" not in alone.trials[-1]
    dcn = {**_record(), "method": "dcn"}
    assert [m.method for m in final_members(dcn, 2, anchor=True).members] == ["dcn", "dcn"]


def test_the_anchor_joins_by_default_where_training_is_cheap():
    """anchor_for: "auto" (the default) up to ANCHOR_MAX_IMAGES training images, "on" / "off" always / never."""
    from szsl.final_model import ANCHOR_MAX_IMAGES, anchor_for

    assert ANCHOR_MAX_IMAGES == 4000
    assert [anchor_for("auto", n) for n in (1, 4000, 4001, None)] == [True, True, False, False]
    assert [anchor_for(m, 10**6) for m in ("on", "off")] == [True, False] and not anchor_for("off", 10)
    with pytest.raises(SZSLError, match=r"anchor='yes': expected one of auto, on, off"):
        anchor_for("yes", 10)


def test_the_anchor_weighs_more_where_the_folds_validate_on_few_classes():
    """At most FEW_FOLD_CLASSES classes without training images a fold (the real digits: 2): the anchor has
    ANCHOR_HEAVY of the average, the chosen trials share the rest; more classes: one member among the others."""
    from szsl.final_model import ANCHOR_HEAVY, FEW_FOLD_CLASSES, anchor_weight_for, check_weights, member_weights

    assert (FEW_FOLD_CLASSES, ANCHOR_HEAVY) == (3, 2 / 3)
    assert anchor_weight_for(2.0) == anchor_weight_for(3.0) == ANCHOR_HEAVY
    assert anchor_weight_for(3.5) is None and anchor_weight_for(33.0) is None and anchor_weight_for(None) is None
    assert member_weights(4, 2 / 3) == pytest.approx([1 / 9, 1 / 9, 1 / 9, 2 / 3])
    assert member_weights(4, None) is None and member_weights(1, 2 / 3) is None
    heavy = final_members(_record(), anchor=True, anchor_weight=2 / 3)
    assert heavy.weights == pytest.approx([1 / 9, 1 / 9, 1 / 9, 2 / 3]) and math.isclose(sum(heavy.weights), 1.0)
    assert heavy.members == final_members(_record(), anchor=True).members
    assert final_members(_record(), anchor=False, anchor_weight=2 / 3).weights is None  # no anchor, no share
    assert final_members(_record(), anchor=True).weights is None
    with pytest.raises(SZSLError, match=r"anchor weight=1.5: expected a number in \(0, 1\)"):
        final_members(_record(), anchor=True, anchor_weight=1.5)
    assert check_weights(None, 3) is None and check_weights([0.5, 0.5], 2) == [0.5, 0.5]
    with pytest.raises(SZSLError, match=r"where: weights=\[0.5\]: expected one positive number per member \(2\)"):
        check_weights([0.5], 2, "where: ")


def test_the_digits_folds_validate_on_two_classes_a_fold():
    """What the anchor's weight rests on (protocol.fold_unseen_classes): the embedded digits' ratio folds hold 2 classes
    without training images each; the paper's own folds ("trainval") their listed validation classes."""
    import szsl
    from szsl.protocol import fold_unseen_classes

    bench = szsl.load_benchmark("digits")
    assert fold_unseen_classes(bench) == 2.0
    assert fold_unseen_classes(bench, "trainval") == pytest.approx(sum(len(f.val_classes) for f in bench.folds) / len(bench.folds))
