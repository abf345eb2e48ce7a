"""The seen-unseen accuracy curve (Chao, Changpinyo, Gong, Sha; ECCV 2016) and its area AUSUC.

Calibrated stacking predicts ``argmax_c (score_c - gamma * [c is seen])``. As gamma sweeps from
-inf to +inf each test image switches ONCE from its best seen class to its best unseen class,
at gamma_i = max_seen score - max_unseen score. So S(gamma) and U(gamma) (per-class mean
accuracies, as in ``szsl.metrics``) are step functions with breakpoints at the distinct gamma_i:
the curve is computed exactly, from all breakpoints, in O(n log n), with no gamma grid.

Units: S, U, H in percent (like ``szsl.metrics``); AUSUC is the area under the polyline through
the points (S, U) in the unit square (S on x, accuracies as fractions), in [0, 1], from the
end point at gamma = -inf (S_max, 0) to the one at gamma = +inf (0, U_max), by the trapezoid rule.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from szsl.errors import SZSLError
from szsl.metrics import harmonic_mean


@dataclass(frozen=True)
class SeenUnseenCurve:
    breakpoints: np.ndarray  # (m,) sorted distinct gammas at which some prediction switches
    S: np.ndarray  # (m + 1,) percent; S[j] holds for gamma in (breakpoints[j-1], breakpoints[j])
    U: np.ndarray  # (m + 1,) percent; interval 0 is gamma -> -inf, interval m is gamma -> +inf

    @property
    def H(self) -> np.ndarray:
        return np.array([harmonic_mean(float(s), float(u)) for s, u in zip(self.S, self.U)])

    @property
    def ausuc(self) -> float:
        return ausuc(self.S, self.U)

    def interval_gammas(self) -> np.ndarray:
        """One gamma inside each of the m + 1 intervals (midpoints; the two ends padded outward)."""
        return representative_gammas(self.breakpoints)

    def at(self, gamma) -> tuple[np.ndarray, np.ndarray]:
        """(S, U) in percent at the given gamma(s); at a breakpoint itself, the value just below it."""
        j = np.searchsorted(self.breakpoints, np.asarray(gamma, dtype=np.float64), side="left")
        return self.S[j], self.U[j]

    def best(self) -> dict[str, float]:
        """The H-maximising point: {"gamma", "S", "U", "H"} (first interval on ties)."""
        h = self.H
        j = int(np.argmax(h))
        return {"gamma": float(self.interval_gammas()[j]), "S": float(self.S[j]), "U": float(self.U[j]), "H": float(h[j])}

    def to_dict(self) -> dict:
        return {
            "breakpoints": self.breakpoints.tolist(),
            "S": self.S.tolist(),
            "U": self.U.tolist(),
            "AUSUC": self.ausuc,
            "best": self.best(),
        }


def representative_gammas(breakpoints: np.ndarray) -> np.ndarray:
    b = np.asarray(breakpoints, dtype=np.float64)
    if b.size == 0:
        return np.zeros(1)
    pad = max(1.0, float(b[-1] - b[0])) if b.size == 1 else float(b[-1] - b[0]) / (b.size - 1)
    pad = max(pad, 1e-6)
    return np.concatenate([[b[0] - pad], (b[:-1] + b[1:]) / 2, [b[-1] + pad]])


def ausuc(S, U) -> float:
    """Trapezoid area under the points (S, U) (percent) in the order given, in [0, 1] of the unit square.

    The points must run monotonically in S (as a seen-unseen curve does, from gamma = -inf to +inf).
    """
    s = np.asarray(S, dtype=np.float64) / 100.0
    u = np.asarray(U, dtype=np.float64) / 100.0
    if s.shape != u.shape or s.ndim != 1:
        raise SZSLError(f"S and U: expected two 1-D arrays of the same length, got {s.shape} and {u.shape}")
    ds = np.diff(s)
    if ds.size and not (np.all(ds <= 1e-12) or np.all(ds >= -1e-12)):
        raise SZSLError("S: the curve's points must be ordered monotonically in S")
    return float(np.sum(np.abs(ds) * (u[1:] + u[:-1]) / 2))


def seen_unseen_curve(scores, y_true, seen, unseen) -> SeenUnseenCurve:
    """The exact curve of calibrated stacking on ``scores`` (n, C) over all classes.
    Classes in neither ``seen`` nor ``unseen`` (a fold's attribute-only distractors) compete unshifted, like unseen ones.

    y_true (n,): true classes; images of seen classes count toward S, of unseen ones toward U
    (per-class mean accuracy, classes without images skipped as in ``szsl.metrics``).
    """
    scores = np.asarray(scores)
    y = np.asarray(y_true, dtype=np.int64)
    seen = np.asarray(seen, dtype=np.int64)
    unseen = np.asarray(unseen, dtype=np.int64)
    if scores.ndim != 2 or scores.shape[0] != y.shape[0]:
        raise SZSLError(f"scores: expected shape ({y.shape[0]}, C), got {scores.shape}")
    if seen.size == 0 or unseen.size == 0:
        raise SZSLError("seen_unseen_curve: needs at least one seen and one unseen class")
    if not np.isfinite(scores).all():
        raise SZSLError("scores: contains NaN or inf")
    return curve_from_summary(score_summary(scores, seen), y, seen, unseen)


def score_summary(scores, seen) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All that the seen-unseen curve needs of scores (n, C), per image: the best seen class and its score, the
    best other class and its score (float64). 4 numbers per image instead of C, so scores can be summarised
    chunk by chunk (``evaluation``'s ``keep_curves``) and the curve built later (``curve_from_summary``)."""
    scores = np.asarray(scores)
    seen = np.asarray(seen, dtype=np.int64)
    # The competitors of the seen classes are ALL the other classes: the unseen ones and any class that is
    # neither (a fold's attribute-only distractors: no images, but calibrated stacking leaves them unshifted).
    others = np.setdiff1d(np.arange(scores.shape[1]), seen)
    s_cls = seen[scores[:, seen].argmax(1)]
    o_cls = others[scores[:, others].argmax(1)]
    rows = np.arange(scores.shape[0])
    # float64: the same values calibrated prediction compares (scores - gamma, in float64)
    return s_cls, scores[rows, s_cls].astype(np.float64), o_cls, scores[rows, o_cls].astype(np.float64)


def curve_from_summary(summary, y_true, seen, unseen) -> SeenUnseenCurve:
    """``seen_unseen_curve`` from ``score_summary`` of the scores."""
    s_cls, s_val, o_cls, o_val = (np.asarray(a) for a in summary)
    y = np.asarray(y_true, dtype=np.int64)
    seen = np.asarray(seen, dtype=np.int64)
    unseen = np.asarray(unseen, dtype=np.int64)
    if s_cls.shape != y.shape:
        raise SZSLError(f"score summary: expected {y.shape[0]} images, got {s_cls.shape[0]}")
    if not (np.isfinite(s_val).all() and np.isfinite(o_val).all()):
        raise SZSLError("scores: contains NaN or inf")
    g = s_val - o_val
    right_seen = (s_cls == y).astype(np.float64)
    right_unseen = (o_cls == y).astype(np.float64)

    is_seen_img = np.isin(y, seen)
    weight = np.zeros(y.size)
    for group, classes in ((is_seen_img, seen), (~is_seen_img & np.isin(y, unseen), unseen)):
        present = [c for c in classes if np.any(y[group] == c)]
        missing = len(classes) - len(present)
        if missing:
            warnings.warn(f"seen-unseen curve: skipped {missing} class(es) with no test images", stacklevel=2)
        for c in present:
            mask = group & (y == c)
            weight[mask] = 100.0 / (mask.sum() * len(present))
    s0 = float(np.sum(weight * right_seen * is_seen_img))
    u0 = float(np.sum(weight * right_seen * ~is_seen_img))  # 0: an unseen image is never right when predicted seen
    delta = weight * (right_unseen - right_seen)  # what crossing gamma_i changes
    order = np.argsort(g, kind="stable")
    g_sorted = g[order]
    breakpoints, first = np.unique(g_sorted, return_index=True)
    d_s = np.add.reduceat(np.where(is_seen_img, delta, 0.0)[order], first) if first.size else np.zeros(0)
    d_u = np.add.reduceat(np.where(is_seen_img, 0.0, delta)[order], first) if first.size else np.zeros(0)
    S = np.concatenate([[s0], s0 + np.cumsum(d_s)])
    U = np.concatenate([[u0], u0 + np.cumsum(d_u)])
    # Exact ends (a seen image is never right when predicted unseen, and vice versa): no float noise.
    S = np.clip(S, 0.0, 100.0)
    U = np.clip(U, 0.0, 100.0)
    S[-1] = 0.0
    U[0] = 0.0
    return SeenUnseenCurve(breakpoints, S, U)


LEGEND_INSIDE = 6  # up to this many curves the legend sits inside the axes
_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")  # tab10
_LINESTYLES = ("-", "--", "-.", ":")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")


def curve_styles(n: int) -> list[dict[str, str]]:
    """``n`` plot styles (color, linestyle, marker of the best point), pairwise distinct up to 60 curves:
    color and line style cycle together (10 x 4 -> 20 distinct pairs), the marker adds 12 more."""
    return [
        {"color": _COLORS[i % len(_COLORS)], "linestyle": _LINESTYLES[i % len(_LINESTYLES)], "marker": _MARKERS[i % len(_MARKERS)]}
        for i in range(n)
    ]


MARKER_MAX = "filled marker: the highest H on that curve (test split; a best case, not selectable)"
MARKER_CHOSEN = "hollow marker: the gamma chosen on the validation folds (calibrated stacking)"


def build_curves_figure(curves: Mapping[str, SeenUnseenCurve], title: str = "", chosen: Mapping[str, float] | None = None):
    """The Figure of ``plot_curves`` (not saved): every curve (S on x, U on y, percent), its H-maximising point marked
    (filled), and where ``chosen`` gives a curve's gamma (chosen on validation folds) that point too (hollow, same shape).
    A key under the axes says what the markers mean (``fig.szsl_marker_key``: its lines)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    chosen = dict(chosen or {})
    many = len(curves) > LEGEND_INSIDE
    # Many curves (compare --methods all: about 12): a wider figure with the legend outside the axes.
    fig, ax = plt.subplots(figsize=(9.6 if many else 6.4, 5.2), dpi=120)
    handles = []
    for (name, c), style in zip(curves.items(), curve_styles(len(curves))):
        ax.plot(c.S, c.U, style["linestyle"], color=style["color"], lw=1.6)
        b = c.best()
        ax.plot([b["S"]], [b["U"]], style["marker"], color=style["color"], ms=6)
        if name in chosen and chosen[name] is not None and np.isfinite(chosen[name]):
            s_at, u_at = c.at(chosen[name])
            ax.plot([float(s_at)], [float(u_at)], style["marker"], mfc="white", mec=style["color"], mew=1.6, ms=8, zorder=4)
        # the legend shows the line style and the marker of the best point together
        handles.append(Line2D([], [], color=style["color"], ls=style["linestyle"], lw=1.6, marker=style["marker"], ms=5,
                              label=f"{name} (AUSUC {c.ausuc:.3f})"))
    ax.set_xlabel("S: seen-class accuracy (%)")
    ax.set_ylabel("U: unseen-class accuracy (%)")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    if many:
        legend = ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, handlelength=3.0)
    else:
        legend = ax.legend(handles=handles, fontsize=8, loc="upper right", handlelength=3.0)
    ax.add_artist(legend)
    key = [Line2D([], [], ls="none", marker="o", color="dimgray", ms=6, label=MARKER_MAX)]
    if chosen:
        key.append(Line2D([], [], ls="none", marker="o", mfc="white", mec="dimgray", mew=1.6, ms=8, label=MARKER_CHOSEN))
    key_legend = ax.legend(handles=key, fontsize=7, loc="upper left", bbox_to_anchor=(0.0, -0.12), frameon=False,
                           title="markers (shape: the method)", title_fontsize=7, alignment="left")
    fig.szsl_marker_key = [h.get_label() for h in key]
    fig.szsl_legends = [legend, key_legend]  # savefig's bbox_extra_artists: a tight box keeps both
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_curves(
    curves: Mapping[str, SeenUnseenCurve], path: str | os.PathLike, title: str = "", chosen: Mapping[str, float] | None = None
) -> None:
    """``build_curves_figure``'s Figure as a PNG, written atomically."""
    import matplotlib.pyplot as plt

    from szsl.atomic import atomic_path

    fig = build_curves_figure(curves, title, chosen)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight", bbox_extra_artists=fig.szsl_legends)
    plt.close(fig)


def mean_h(curves: Sequence[SeenUnseenCurve], gammas) -> np.ndarray:
    """Mean over curves (e.g. validation folds) of H at each gamma."""
    gammas = np.asarray(gammas, dtype=np.float64)
    hs = []
    for c in curves:
        s, u = c.at(gammas)
        hs.append(np.where(s + u > 0, 2 * s * u / np.where(s + u > 0, s + u, 1), 0.0))
    return np.mean(hs, axis=0)
