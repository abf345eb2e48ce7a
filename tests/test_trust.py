"""szsl.trust: the one-line reasons not to trust a selection on the validation folds."""

from szsl.search_space import make_space
from szsl.trust import selection_warnings

SPACE = make_space().searched  # q [0.02, 1] log, tau [0.02, 10] log, lr [1e-4, 3e-3] log
MID = {"q": 0.5, "tau": 0.2, "lr": 1e-3}
AGREE = [{"H": 50.0}, {"H": 55.0}, {"H": 45.0}]


def test_a_clean_selection_has_no_warning():
    assert selection_warnings(50.0, MID, AGREE, SPACE, 20) == []


def test_all_trials_near_zero():
    (w,) = selection_warnings(0.0, MID, [{"H": 0.0}] * 3, SPACE, 2)
    assert "below 5" in w and "--trials" in w and "2 complete" in w


def test_best_at_the_edge_of_a_range():
    ws = selection_warnings(50.0, {**MID, "q": 0.995, "lr": 1e-4}, AGREE, SPACE, 20)
    assert len(ws) == 2
    assert any("q = 0.995 sits at the upper end of its range [0.02, 1]" in w for w in ws)
    assert any("lr = 0.0001 sits at the lower end" in w for w in ws)
    # on the log scale 0.9 is not at the edge of [0.02, 1], nor 2.5e-3 at the edge of [1e-4, 3e-3]
    assert selection_warnings(50.0, {**MID, "q": 0.9, "lr": 2.5e-3}, AGREE, SPACE, 20) == []


def test_folds_that_disagree():
    (w,) = selection_warnings(40.0, MID, [{"H": 10.0}, {"H": 60.0}, {"H": 50.0}], SPACE, 20)
    assert "disagree" in w and "10.0 / 60.0 / 50.0" in w


def test_folds_of_few_classes_without_training_images():
    (w,) = selection_warnings(50.0, MID, AGREE, SPACE, 20, fold_unseen=2.0)
    assert "hold 2 classes without training images each (at most 3)" in w and "mostly chance" in w
    # more classes a fold, or a count not known: no warning
    assert selection_warnings(50.0, MID, AGREE, SPACE, 20, fold_unseen=5.0) == []
    assert selection_warnings(50.0, MID, AGREE, SPACE, 20, fold_unseen=None) == []


def test_a_digits_study_says_its_folds_are_few(tmp_path):
    """The embedded digits' folds hold 2 such classes each: tune's result says so (end to end, tiny budget)."""
    from szsl import load_benchmark
    from szsl.study_spec import StudySpec
    from szsl.tune import tune

    bench = load_benchmark("digits")
    spec = StudySpec.build(bench, n_trials=1, storage=f"sqlite:///{tmp_path / 's.db'}", space=make_space(epochs=1), seed=0)
    result = tune(bench, spec, device="cpu", progress=False)
    assert any("hold 2 classes without training images each" in w for w in result.warnings)
