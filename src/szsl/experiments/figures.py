"""The paper's figures, drawn with matplotlib's Agg backend and written atomically.

Figure 2: U, S, H vs q (other parameters at the best), one panel per dataset titled with its name.
Figure 3 (a): the unseen part of the soft label of one seen class for tau in {0.01, 0.2, 1, 10};
(b): U, S, H vs tau. Each sweep panel marks the test maximum of H and the value selected on the
validation folds (the base configuration's), says which model a point is (one model, not
calibrated) and over how many seeds (mean ± std error bars when more than one), draws the final
model's H (the headline: the tuned ensemble, calibrated) as a reference line and, at the selected value, as a
square with its std over seeds when its record is given, and says where its numbers come from
(the test split, never used for selection). Legends sit below the axes. ``build_figure2`` /
``build_figure3`` return the Figure (its ``szsl_panels``: ``sweep_summary`` of each sweep panel);
``figure2`` / ``figure3`` write it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from szsl.atomic import atomic_path
from szsl.data.benchmark import Benchmark
from szsl.experiments.paper import display_name
from szsl.experiments.sweep import SOURCE
from szsl.final_model import chosen_members

FIG3_TAUS = (0.01, 0.2, 1.0, 10.0)
PREFERRED_CLASS = {"AWA1": "squirrel", "AWA2": "squirrel", "digits": "8"}
MAX_BARS = 10
COLORS = {"U": "tab:blue", "S": "tab:orange", "H": "tab:green"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")
    _plt().close(fig)
    return path


SELECTED_LABEL = "selected on validation folds"
# Where a sweep's base parameters came from: the label of its marked value and the note on the other settings.
BASE_ORIGINS = {
    "tuned": (SELECTED_LABEL, "the best trial's other settings"),
    "given": ("the given value (--params)", "other settings from --params"),
    "default": ("the default value", "other settings at their defaults"),
}
FIGURE2_OTHERS = {"tuned": "other parameters at the tuned best", "given": "other parameters from --params",
                  "default": "other parameters at their defaults"}


def final_label(final: dict[str, Any] | None) -> str | None:
    """The headline model of a ``final`` stage record in words, with its H (None: no record, or no H)."""
    if not final or not isinstance(final.get("mean"), dict) or final["mean"].get("H") is None:
        return None
    k = len(final.get("ensemble") or [None])
    model = f"ensemble of {k} trials" if k > 1 else "best trial"
    model += ", calibrated" if final.get("calibrated") else ", not calibrated"
    n = len(final.get("seeds") or [])
    std = (final.get("std") or {}).get("H")
    h = f"{final['mean']['H']:.1f}" + (f" ± {std:.1f}" if std is not None and n > 1 else "")
    return f"final model ({model}): H = {h}" + (f", {n} seed{'s' if n != 1 else ''}" if n else "")


def sweep_summary(sweep: dict[str, Any], final: dict[str, Any] | None = None, *, origin: str = "tuned") -> dict[str, Any]:
    """What a sweep panel shows, in numbers and words: the swept parameter, the selected value (the base
    configuration's, i.e. the tuned best config's in ``reproduce``), the seeds behind each point, which model
    each point is, and the final model's headline H when ``final`` (a ``final`` stage record) is given."""
    if origin not in BASE_ORIGINS:
        raise ValueError(f"origin {origin!r}: expected one of {', '.join(BASE_ORIGINS)}")
    param = sweep["param"]
    seeds = [int(s) for s in sweep.get("seeds") or []]
    counts = [int(p.get("n_seeds", len(seeds) or 1)) for p in sweep["points"]]
    n = max(counts) if counts else len(seeds)
    selected = (sweep.get("base") or {}).get(param)
    label, others = BASE_ORIGINS[origin]
    seed_words = f"seed {seeds[0]}" if len(seeds) == 1 else (f"seeds {', '.join(map(str, seeds))}" if seeds else "")
    spread = f"{n} seed{'s' if n != 1 else ''}" + (", mean ± std" if n > 1 else ", no error bars")
    if counts and min(counts) < n:
        spread += f" (some points: {min(counts)}, the others diverged)"
    note = f"each point: one model, {others}, not calibrated; {seed_words + '; ' if seed_words else ''}{spread}"
    return {
        "param": param,
        "selected": None if selected is None else float(selected),
        "selected_label": label,
        "n_seeds": n,
        "seeds": seeds,
        "note": note,
        "final_H": None if final_label(final) is None else float(final["mean"]["H"]),
        "final_std": None if final_label(final) is None else (final.get("std") or {}).get("H"),
        "final_seeds": len((final or {}).get("seeds") or []),
        # where the final model sits on the x axis: the tuned value it was trained with (only a tuned base is that value)
        "final_at": None if final_label(final) is None or origin != "tuned" or selected is None else float(selected),
        "final_label": final_label(final),
        "final_members": _member_range(final, param),
    }


def _member_range(final: dict[str, Any] | None, param: str) -> tuple[float, float] | None:
    """The smallest and largest ``param`` over the final model's chosen members (None: not recorded); the anchor (the
    untuned setting, last when ``final["anchored"]``) was chosen by nobody and is not marked."""
    values = [m.get(param) for m in chosen_members(final or {}) if isinstance(m, dict)]
    values = [float(v) for v in values if isinstance(v, (int, float))]
    return (min(values), max(values)) if values else None


def _sweep_axes(ax, sweep: dict[str, Any], *, log: bool, final: dict[str, Any] | None = None, origin: str = "tuned") -> dict[str, Any]:
    info = sweep_summary(sweep, final, origin=origin)
    param = sweep["param"]
    xs = np.array([p[param] for p in sweep["points"]], dtype=float)
    curves = [f"{k} (mean ± std)" if info["n_seeds"] > 1 else k for k in ("U", "S", "H")]
    for k, label in zip(("U", "S", "H"), curves):
        ys = np.array([p[k] for p in sweep["points"]], dtype=float)
        err = np.array([p.get(f"{k}_std", 0.0) for p in sweep["points"]], dtype=float)
        if info["n_seeds"] > 1:
            ax.errorbar(xs, ys, yerr=err, marker="o", ms=3, color=COLORS[k], capsize=2.5, lw=1.4, label=label)
        else:
            ax.plot(xs, ys, marker="o", ms=3, color=COLORS[k], lw=1.4, label=label)
    hs = np.array([p["H"] for p in sweep["points"]], dtype=float)
    if np.isfinite(hs).any():
        i = int(np.nanargmax(hs))
        ax.plot([xs[i]], [hs[i]], ls="none", marker="*", ms=13, color="tab:red", zorder=5,
                label=f"max H on the test split: {hs[i]:.1f} at {param}={xs[i]:g}")
    sel = info["selected"]
    if sel is not None and math.isfinite(sel) and (sel > 0 or not log):
        at = np.flatnonzero(np.isclose(xs, sel, rtol=1e-6, atol=1e-9))
        ax.axvline(sel, color="black", lw=1.2, ls="--", zorder=4, label=f"{info['selected_label']}: {param}={sel:.3g}")
        if at.size and np.isfinite(hs[at[0]]):
            ax.plot([sel], [hs[at[0]]], ls="none", marker="D", ms=7, mfc="none", mec="black", mew=1.5, zorder=6,
                    label=f"H at the selected {param}: {hs[at[0]]:.1f}")
    final_handle = None
    if info["final_H"] is not None:
        line = ax.axhline(info["final_H"], color="tab:purple", lw=1.2, ls="-.", zorder=3, label=info["final_label"])
        if info["final_at"] is not None and (info["final_at"] > 0 or not log):
            # The headline model at the value it was trained with: a square (± its std over seeds) on the selected line.
            std = info["final_std"] if info["final_seeds"] > 1 else None
            point = ax.errorbar([info["final_at"]], [info["final_H"]], yerr=None if std is None else [std], ls="none", marker="s", ms=7,
                                color="tab:purple", mec="black", mew=0.8, capsize=3, zorder=7, label="_final model")
            final_handle = (line, point)
            lo, hi = info["final_members"] or (info["final_at"], info["final_at"])
            at = f"at {param}={info['final_at']:.3g}" if math.isclose(lo, hi, rel_tol=1e-6) else f"members' {param} {lo:.3g} to {hi:.3g}"
            line.set_label(f"{info['final_label']};\nsquare: {at}")  # two lines: the legend stays as wide as the axes
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(param if param != "tau" else "tau (temperature)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    # Below the axes: a legend never covers a curve.
    handles, labels = ax.get_legend_handles_labels()
    if final_handle is not None:  # the final model's line and square: one legend entry
        handles = [final_handle if h is final_handle[0] else h for h in handles]
    order = sorted(range(len(labels)), key=lambda j: (labels[j] not in curves, j))  # U, S, H first
    ax.legend([handles[j] for j in order], [labels[j] for j in order], fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16),
              ncol=2, frameon=False)
    return info


def _panel_title(head: str, info: dict[str, Any]) -> str:
    return f"{head}\n{info['note']}\n({SOURCE})"


def build_figure2(sweeps: Sequence[dict[str, Any]], finals: Sequence[dict[str, Any] | None] | None = None, *, origin: str = "tuned"):
    """The Figure of ``figure2`` (not saved): each panel titled with its dataset; ``finals`` (one ``final`` stage
    record or None per sweep) draws each final model's H as a reference line and a square at the selected q."""
    plt = _plt()
    finals = list(finals) if finals is not None else [None] * len(sweeps)
    if len(finals) != len(sweeps):
        raise ValueError(f"figure 2: {len(finals)} final records for {len(sweeps)} sweeps")
    n = max(1, len(sweeps))
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.0 * cols, 6.0 * rows), squeeze=False)
    fig.szsl_panels = []
    for ax, sweep, final in zip(axes.flat, sweeps, finals):
        info = _sweep_axes(ax, sweep, log=False, final=final, origin=origin)
        info["dataset"] = display_name(sweep["dataset"])
        ax.set_title(_panel_title(f"{info['dataset']}: U, S, H vs q", info), fontsize=8)
        fig.szsl_panels.append(info)
    for ax in list(axes.flat)[len(sweeps) :]:
        ax.axis("off")
    names = ", ".join(display_name(s["dataset"]) for s in sweeps)
    fig.suptitle(f"Figure 2: U, S, H vs q ({names}), {FIGURE2_OTHERS[origin]}", fontsize=10)
    fig.tight_layout()
    return fig


def figure2(
    sweeps: Sequence[dict[str, Any]], path: str | Path, finals: Sequence[dict[str, Any] | None] | None = None, *, origin: str = "tuned"
) -> Path:
    """U, S, H vs q, one panel per dataset (each sweep from ``run_sweep(..., 'q')``), written to ``path``."""
    return _save(build_figure2(sweeps, finals, origin=origin), path)


def pick_seen_class(benchmark: Benchmark) -> int:
    """The class shown in Figure 3 (a): the paper's choice when present, else the first seen class."""
    names = list(benchmark.class_names)
    wanted = PREFERRED_CLASS.get(benchmark.name) or PREFERRED_CLASS.get(benchmark.name.upper())
    seen = [int(c) for c in np.asarray(benchmark.seen)]
    if wanted in names and names.index(wanted) in seen:
        return names.index(wanted)
    return seen[0]


def soft_label_panel_data(benchmark: Benchmark, taus: Sequence[float] = FIG3_TAUS, class_index: int | None = None) -> dict[str, Any]:
    """The unseen soft-label distribution (q = 1 part, i.e. rows sum to 1) of one seen class per tau."""
    from szsl.soft_labels import soft_labels

    c = pick_seen_class(benchmark) if class_index is None else int(class_index)
    unseen = np.asarray(benchmark.unseen, dtype=np.int64)
    dist = {}
    for tau in taus:
        row = soft_labels(benchmark.attributes, np.array([c]), unseen, q=1.0, tau=float(tau))[0]
        dist[float(tau)] = row[unseen]
    # Show the unseen classes most similar to the chosen class (at most MAX_BARS of them).
    order = np.argsort(-dist[float(min(taus))], kind="stable")[:MAX_BARS]
    return {
        "class": benchmark.class_names[c],
        "unseen": [benchmark.class_names[int(unseen[j])] for j in order],
        "n_unseen": int(unseen.size),
        "taus": [float(t) for t in taus],
        "probabilities": {str(float(t)): [float(dist[float(t)][j]) for j in order] for t in taus},
    }


def build_figure3(
    data: dict[str, Any], tau_sweep: dict[str, Any] | None, dataset: str, final: dict[str, Any] | None = None, *, origin: str = "tuned"
):
    """The Figure of ``figure3`` (not saved): (a) soft-label bars of one seen class for several tau
    (``soft_label_panel_data``); (b) U, S, H vs tau, with the final model's H as a reference line (and a square at the selected
    tau) when ``final`` is given."""
    plt = _plt()
    ncols = 2 if tau_sweep is not None else 1
    fig, axes = plt.subplots(1, ncols, figsize=(6.4 * ncols, 5.6), squeeze=False)
    ax = axes[0, 0]
    taus = data["taus"]
    x = np.arange(len(data["unseen"]))
    width = 0.8 / len(taus)
    for i, tau in enumerate(taus):
        ax.bar(x + (i - (len(taus) - 1) / 2) * width, data["probabilities"][str(tau)], width, label=f"tau={tau:g}")
    ax.set_xticks(x)
    ax.set_xticklabels(
        data["unseen"],
        rotation=45 if max(len(s) for s in data["unseen"]) > 3 else 0,
        ha="right" if max(len(s) for s in data["unseen"]) > 3 else "center",
        fontsize=8,
    )
    shown = "" if data["n_unseen"] <= len(data["unseen"]) else f" ({len(data['unseen'])} most similar of {data['n_unseen']})"
    ax.set_xlabel(f"unseen class{shown}")
    ax.set_ylabel("share of the soft-label mass q")
    ax.set_title(f"(a) soft label of seen class {data['class']!r} on the unseen classes", fontsize=9)
    # One row of keys in a strip above the tallest bar (headroom), never over a bar.
    top = max((max(v) for v in data["probabilities"].values() if len(v)), default=1.0) or 1.0
    ax.set_ylim(0, top * 1.2)
    ax.legend(fontsize=8, loc="upper center", ncol=len(taus), frameon=False, handlelength=1.2, columnspacing=1.0)
    ax.grid(axis="y", alpha=0.3)
    fig.szsl_panels = []
    if tau_sweep is not None:
        info = _sweep_axes(axes[0, 1], tau_sweep, log=True, final=final, origin=origin)
        info["dataset"] = display_name(dataset)
        axes[0, 1].set_title(_panel_title("(b) U, S, H vs tau", info), fontsize=8)
        fig.szsl_panels.append(info)
    fig.suptitle(f"Figure 3: {display_name(dataset)}", fontsize=10)
    fig.tight_layout()
    return fig


def figure3(
    data: dict[str, Any],
    tau_sweep: dict[str, Any] | None,
    dataset: str,
    path: str | Path,
    final: dict[str, Any] | None = None,
    *,
    origin: str = "tuned",
) -> Path:
    """``build_figure3``'s Figure, written to ``path``."""
    return _save(build_figure3(data, tau_sweep, dataset, final, origin=origin), path)
