"""Seen-unseen curve: exact breakpoints, AUSUC by hand, agreement with explicit calibrated stacking."""

import numpy as np
import pytest

from szsl.curves import ausuc, curve_styles, plot_curves, seen_unseen_curve
from szsl.errors import SZSLError
from szsl.methods.calibration import calibrated_predict, choose_gamma
from szsl.metrics import gzsl_metrics

# seen {0, 1}, unseen {2}; gamma_i = best seen score - best unseen score
TOY_SCORES = np.array(
    [
        [2.0, 0.0, 1.0],  # y=0: best seen 0 (right), switches at g = 1
        [0.0, 1.0, 3.0],  # y=1: best seen 1 (right), switches at g = -2
        [1.0, 0.0, 0.5],  # y=2: best unseen 2 (right), switches at g = 0.5
        [0.0, 3.0, 0.0],  # y=2: best unseen 2 (right), switches at g = 3
    ]
)
TOY_Y = np.array([0, 1, 2, 2])


def test_toy_curve_and_ausuc_by_hand():
    c = seen_unseen_curve(TOY_SCORES, TOY_Y, [0, 1], [2])
    np.testing.assert_array_equal(c.breakpoints, [-2.0, 0.5, 1.0, 3.0])
    # Intervals: (-inf,-2) (-2,.5) (.5,1) (1,3) (3,inf). Per-class means: each seen class has one
    # image (50 % each); the unseen class has two (50 % each).
    np.testing.assert_allclose(c.S, [100, 50, 50, 0, 0])
    np.testing.assert_allclose(c.U, [0, 0, 50, 50, 100])
    # Trapezoids in the unit square: (1,0)->(.5,0): 0; (.5,0)->(.5,.5): 0; (.5,.5)->(0,.5): .25; then 0.
    assert c.ausuc == pytest.approx(0.25, abs=1e-12)
    best = c.best()
    assert best == pytest.approx({"gamma": 0.75, "S": 50.0, "U": 50.0, "H": 50.0})


def test_ausuc_trapezoid_by_hand():
    # (1, 0) -> (.6, .4) -> (0, .8): .4 * (0 + .4) / 2 + .6 * (.4 + .8) / 2 = .08 + .36
    assert ausuc([100, 60, 0], [0, 40, 80]) == pytest.approx(0.44, abs=1e-12)
    assert ausuc([0, 60, 100], [80, 40, 0]) == pytest.approx(0.44, abs=1e-12)  # either direction
    assert ausuc([100, 0], [0, 100]) == pytest.approx(0.5)
    with pytest.raises(SZSLError, match="monotonically"):
        ausuc([100, 0, 50], [0, 10, 20])


def test_curve_matches_explicit_calibrated_stacking_at_every_interval():
    rng = np.random.default_rng(0)
    n, seen, unseen = 300, np.array([0, 2, 3, 5, 6]), np.array([1, 4, 7])
    y = rng.choice(8, n)
    scores = rng.standard_normal((n, 8)).astype(np.float32)
    scores[np.arange(n), y] += 1.0
    c = seen_unseen_curve(scores, y, seen, unseen)
    assert c.breakpoints.size == np.unique(scores[:, seen].max(1).astype(np.float64) - scores[:, unseen].max(1)).size
    assert np.all(np.diff(c.S) <= 1e-9) and np.all(np.diff(c.U) >= -1e-9)  # monotone
    assert c.S[-1] == 0 and c.U[0] == 0
    for gamma, s, u in zip(c.interval_gammas(), c.S, c.U):
        m = gzsl_metrics(y, calibrated_predict(scores, seen, gamma), seen, unseen)
        assert (m["S"], m["U"]) == pytest.approx((s, u), abs=1e-9)
    b = c.best()
    assert b["H"] == pytest.approx(max(c.H)) and b["H"] >= gzsl_metrics(y, scores.argmax(1), seen, unseen)["H"] - 1e-9


def test_curve_with_attribute_only_distractors_matches_explicit_calibrated_stacking():
    """A matched/all fold's model knows classes with no images at all (neither seen nor unseen):
    they compete unshifted, so the curve must equal calibrated stacking at every interval."""
    rng = np.random.default_rng(1)
    n, seen, unseen = 300, np.array([0, 2, 3, 5]), np.array([1, 4])  # classes 6 and 7: distractors
    y = rng.choice(np.concatenate([seen, unseen]), n)
    scores = rng.standard_normal((n, 8)).astype(np.float32)
    scores[np.arange(n), y] += 1.0
    scores[:, 6:] += 0.5  # strong distractors: many images' best non-seen class is one of them
    c = seen_unseen_curve(scores, y, seen, unseen)
    for gamma, s, u in zip(c.interval_gammas(), c.S, c.U):
        m = gzsl_metrics(y, calibrated_predict(scores, seen, gamma), seen, unseen)
        assert (m["S"], m["U"]) == pytest.approx((s, u), abs=1e-9)
    assert c.U.max() < 100  # images won by a distractor are wrong at every gamma


def test_choose_gamma_maximises_mean_h_over_folds():
    c1 = seen_unseen_curve(TOY_SCORES, TOY_Y, [0, 1], [2])
    c2 = seen_unseen_curve(TOY_SCORES - np.array([0.0, 0.0, 0.4]), TOY_Y, [0, 1], [2])  # breakpoints shifted by +0.4
    gamma, h = choose_gamma([c1, c2])
    # Both folds have H = 50 exactly on (0.9, 1.0): c1 on (0.5, 1), c2 on (0.9, 1.4).
    assert 0.9 < gamma < 1.0 and h == pytest.approx(50.0)
    assert choose_gamma([c1]) == pytest.approx((0.75, 50.0))


def test_choose_gamma_nonnegative_never_raises_the_seen_scores():
    """The unseen class 5 points ahead: every image is predicted unseen at gamma 0 (S 0, H 0); only a negative gamma
    (raising the seen scores) recovers H 50, which the final model's "seen" calibration never applies."""
    shifted = seen_unseen_curve(TOY_SCORES + np.array([0.0, 0.0, 5.0]), TOY_Y, [0, 1], [2])
    gamma, h = choose_gamma([shifted])
    assert gamma < 0 and h == pytest.approx(50.0)
    assert choose_gamma([shifted], nonnegative=True) == (0.0, 0.0)
    c1 = seen_unseen_curve(TOY_SCORES, TOY_Y, [0, 1], [2])
    assert choose_gamma([c1], nonnegative=True) == pytest.approx((0.75, 50.0))  # a positive optimum is kept


def test_plot_writes_a_png(tmp_path):
    c = seen_unseen_curve(TOY_SCORES, TOY_Y, [0, 1], [2])
    out = tmp_path / "img" / "c.png"
    plot_curves({"toy": c, "other": c}, out, title="toy")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_dozen_curves_get_distinct_styles_and_the_legend_outside(tmp_path):
    styles = curve_styles(12)
    assert len({(s["color"], s["linestyle"]) for s in styles}) == 12  # color and line style alone tell them apart
    assert len({tuple(s.values()) for s in curve_styles(60)}) == 60
    c = seen_unseen_curve(TOY_SCORES, TOY_Y, [0, 1], [2])
    few, many = tmp_path / "few.png", tmp_path / "many.png"
    plot_curves({"a": c, "b": c}, few)
    plot_curves({f"method-{i}": c for i in range(12)}, many)
    width = lambda p: int.from_bytes(p.read_bytes()[16:20], "big")  # noqa: E731 - the PNG header's IHDR width
    assert width(many) > width(few) + 100  # the legend sits beside the axes, not over the curves


def test_bad_inputs_raise_one_line_errors():
    with pytest.raises(SZSLError, match="needs at least one seen and one unseen"):
        seen_unseen_curve(TOY_SCORES, TOY_Y, [0, 1, 2], [])
    with pytest.raises(SZSLError, match="scores: expected shape"):
        seen_unseen_curve(TOY_SCORES[:2], TOY_Y, [0, 1], [2])
    bad = TOY_SCORES.copy()
    bad[0, 0] = np.nan
    with pytest.raises(SZSLError, match="NaN"):
        seen_unseen_curve(bad, TOY_Y, [0, 1], [2])


def test_the_curve_from_a_chunked_score_summary_equals_the_curve_from_the_scores():
    from szsl.curves import curve_from_summary, score_summary, seen_unseen_curve

    rng = np.random.default_rng(3)
    scores = rng.normal(size=(300, 9)).astype(np.float32)
    y = rng.integers(0, 9, size=300)
    seen, unseen = np.array([0, 2, 3, 5, 8]), np.array([1, 4, 6])  # class 7: a distractor without images of its own
    y[y == 7] = 1
    chunks = [score_summary(scores[i : i + 64], seen) for i in range(0, 300, 64)]
    summary = tuple(np.concatenate(col) for col in zip(*chunks))
    a, b = seen_unseen_curve(scores, y, seen, unseen), curve_from_summary(summary, y, seen, unseen)
    np.testing.assert_array_equal(a.breakpoints, b.breakpoints)
    np.testing.assert_array_equal(a.S, b.S)
    np.testing.assert_array_equal(a.U, b.U)


def test_the_markers_are_explained_and_the_chosen_gamma_is_marked():
    import matplotlib.pyplot as plt

    from szsl.curves import MARKER_CHOSEN, MARKER_MAX, build_curves_figure

    c = seen_unseen_curve(TOY_SCORES, TOY_Y, [0, 1], [2])
    fig = build_curves_figure({"toy": c, "other": c}, "toy", chosen={"toy": 0.75})
    ax = fig.axes[0]
    assert fig.szsl_marker_key == [MARKER_MAX, MARKER_CHOSEN]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [MARKER_MAX, MARKER_CHOSEN]
    assert "highest H" in MARKER_MAX and "validation folds" in MARKER_CHOSEN
    hollow = [line for line in ax.get_lines() if line.get_markerfacecolor() == "white"]
    s_at, u_at = c.at(0.75)
    assert len(hollow) == 1 and (hollow[0].get_xdata()[0], hollow[0].get_ydata()[0]) == (float(s_at), float(u_at))
    assert [t.get_text() for t in fig.szsl_legends[0].get_texts()] == [f"toy (AUSUC {c.ausuc:.3f})", f"other (AUSUC {c.ausuc:.3f})"]
    plt.close(fig)
    fig = build_curves_figure({"toy": c})
    assert fig.szsl_marker_key == [MARKER_MAX]  # no chosen gamma given: only the filled marker is explained
    plt.close(fig)
