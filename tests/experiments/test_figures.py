"""Figures 2 and 3 and their panels: the selected value, the seed count, the model a point is, the final model's H,
legends that cover no data (checked on the matplotlib Figure, not on pixels)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402

from szsl.experiments.figures import (  # noqa: E402
    SELECTED_LABEL,
    build_figure2,
    build_figure3,
    figure2,
    figure3,
    final_label,
    sweep_summary,
)

PNG = b"\x89PNG\r\n\x1a\n"


def _sweep(param="q", values=(0.0, 0.2, 0.4, 0.6), seeds=(0,), selected=0.4, dataset="digits", std=0.0):
    hs = [5.0, 20.0, 30.0, 25.0]
    points = [
        {param: v, "U": h - 2, "S": 90.0 - 10 * i, "H": h, "U_std": std, "S_std": std, "H_std": std, "n_seeds": len(seeds)}
        for i, (v, h) in enumerate(zip(values, hs))
    ]
    return {"dataset": dataset, "param": param, "base": {"q": 0.5, "tau": 1.0, param: selected}, "seeds": list(seeds), "points": points}


FINAL = {
    "mean": {"U": 40.0, "S": 50.0, "H": 44.5, "T1": 50.0},
    "std": {"U": 1.0, "S": 1.0, "H": 0.7, "T1": 1.0},
    "seeds": [{"seed": s} for s in range(5)],
    "ensemble": [{}, {}, {}],
    "calibrated": {"gammas": [0.1, 0.2, 0.3]},
}
SOFT = {
    "class": "8",
    "unseen": ["9", "2", "5"],
    "n_unseen": 3,
    "taus": [0.01, 1.0],
    "probabilities": {"0.01": [1, 0, 0], "1.0": [0.4, 0.3, 0.3]},
}


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def _below_axes(fig, ax) -> bool:
    fig.canvas.draw()
    return ax.get_legend().get_window_extent().y1 <= ax.get_window_extent().y0


def test_figure2_marks_the_selected_q_the_final_model_and_one_seed():
    fig = build_figure2([_sweep()], [FINAL])
    ax = fig.axes[0]
    labels = _legend(ax)
    assert f"{SELECTED_LABEL}: q=0.4" in labels
    assert "selected on validation folds" in SELECTED_LABEL
    assert "H at the selected q: 30.0" in labels  # on the grid: the measured H there is marked too
    assert "max H on the test split: 30.0 at q=0.4" in labels
    final = "final model (ensemble of 3 trials, calibrated): H = 44.5 ± 0.7, 5 seeds;\nsquare: at q=0.4"
    assert final in labels and final.startswith(final_label(FINAL))
    # the vertical line at the selected q, the horizontal one at the final model's H
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines[f"{SELECTED_LABEL}: q=0.4"].get_xdata()) == [0.4, 0.4]
    assert list(lines[final].get_ydata()) == [44.5, 44.5]
    # the headline model at the tuned q: a square with its std over the 5 seeds, one legend entry with the line
    (square,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert square[0].get_marker() == "s" and (list(square[0].get_xdata()), list(square[0].get_ydata())) == ([0.4], [44.5])
    (caps,) = square[2]
    assert caps.get_segments()[0][:, 1].tolist() == pytest.approx([44.5 - 0.7, 44.5 + 0.7])
    assert sum(s.startswith("final model") for s in labels) == 1
    title = ax.get_title()
    assert title.startswith("digits") and "one model" in title and "not calibrated" in title and "1 seed" in title
    assert "seed 0" in title and "test split" in title
    assert len(ax.containers) == 1  # one seed: no error bars on the sweep (only the final model's square has them)
    assert "digits" in fig._suptitle.get_text() and "other parameters at the tuned best" in fig._suptitle.get_text()
    (panel,) = fig.szsl_panels
    assert panel["selected"] == 0.4 and panel["n_seeds"] == 1 and panel["final_H"] == 44.5 and panel["dataset"] == "digits"
    assert _below_axes(fig, ax)
    plt.close(fig)


def test_figure2_several_seeds_error_bars_and_panels_per_dataset():
    sweeps = [_sweep(seeds=(0, 1, 2), std=2.0, selected=0.3), _sweep(dataset="CUB", seeds=(0, 1, 2), std=2.0)]
    fig = build_figure2(sweeps, [FINAL, None])
    a, b = fig.axes[:2]
    for ax in (a, b):
        bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer) and c[0].get_marker() == "o"]
        assert len(bars) == 3  # U, S, H with their std
        assert "3 seeds, mean ± std" in ax.get_title() and "seeds 0, 1, 2" in ax.get_title()
        assert "U (mean ± std)" in _legend(ax)
        assert _below_axes(fig, ax)
    assert a.get_title().startswith("digits") and b.get_title().startswith("CUB")
    assert f"{SELECTED_LABEL}: q=0.3" in _legend(a) and not any(s.startswith("H at the selected") for s in _legend(a))  # off the grid
    assert not any(s.startswith("final model") for s in _legend(b))  # no final record: no reference line
    assert any(s.startswith(final_label(FINAL) + ";\nsquare: at q=0.3") for s in _legend(a))  # off the grid: the square all the same
    assert [p["n_seeds"] for p in fig.szsl_panels] == [3, 3]
    plt.close(fig)
    with pytest.raises(ValueError, match="final records"):
        build_figure2(sweeps, [FINAL])


def test_figure3_tau_panel_and_files(tmp_path):
    sweep = _sweep("tau", values=(0.01, 0.1, 1.0, 10.0), selected=1.0)
    fig = build_figure3(SOFT, sweep, "AWA2", FINAL)
    ax = fig.axes[1]
    labels = _legend(ax)
    assert f"{SELECTED_LABEL}: tau=1" in labels and final_label(FINAL) + ";\nsquare: at tau=1" in labels
    fig.canvas.draw()
    legend, a = ax.get_legend().get_window_extent(), fig.axes[0].get_tightbbox()
    assert not legend.overlaps(a) and not legend.overlaps(ax.get_window_extent())  # (b)'s legend covers neither panel
    bars = [patch.get_window_extent() for patch in fig.axes[0].patches]
    assert bars and fig.axes[0].get_legend().get_window_extent().y0 >= max(b.y1 for b in bars)  # (a)'s keys above every bar
    assert ax.get_title().startswith("(b)") and "1 seed" in ax.get_title() and "not calibrated" in ax.get_title()
    assert "AwA2" in fig._suptitle.get_text()
    assert _below_axes(fig, ax)
    plt.close(fig)
    # the writers keep their signatures (the final record optional) and write PNGs
    assert figure3(SOFT, sweep, "digits", tmp_path / "f3.png").read_bytes()[:8] == PNG
    assert figure3(SOFT, sweep, "digits", tmp_path / "f3b.png", FINAL).read_bytes()[:8] == PNG
    assert figure2([_sweep()], tmp_path / "f2.png").read_bytes()[:8] == PNG


def test_origin_and_final_labels():
    given = sweep_summary(_sweep(), origin="given")
    assert given["selected_label"] == "the given value (--params)" and "other settings from --params" in given["note"]
    assert sweep_summary(_sweep(), origin="default")["selected_label"] == "the default value"
    with pytest.raises(ValueError):
        sweep_summary(_sweep(), origin="oracle")
    single = {"mean": {"H": 12.0}, "std": {"H": 0.0}, "seeds": [{"seed": 0}], "ensemble": [{}]}
    assert final_label(single) == "final model (best trial, not calibrated): H = 12.0, 1 seed"
    assert final_label(None) is None and final_label({}) is None
    diverged = _sweep(seeds=(0, 1))
    diverged["points"][0]["n_seeds"] = 1
    assert "some points: 1" in sweep_summary(diverged)["note"]


def test_the_final_square_says_where_its_members_sit_and_needs_a_tuned_base():
    members = {**FINAL, "ensemble": [{"q": 0.4}, {"q": 0.35}, {"q": 0.5}]}
    fig = build_figure2([_sweep()], [members])
    assert final_label(members) + ";\nsquare: members' q 0.35 to 0.5" in _legend(fig.axes[0])
    plt.close(fig)
    one = {**FINAL, "ensemble": [{"q": 0.4}]}
    fig = build_figure2([_sweep()], [one])
    assert final_label(one) + ";\nsquare: at q=0.4" in _legend(fig.axes[0])
    plt.close(fig)
    fig = build_figure2([_sweep()], [FINAL], origin="given")  # the base is not the tuned value: the line only
    ax = fig.axes[0]
    assert "other parameters from --params" in fig._suptitle.get_text()
    assert final_label(FINAL) in _legend(ax) and not ax.containers
    plt.close(fig)
