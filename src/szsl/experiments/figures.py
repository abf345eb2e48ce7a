"""The paper's figures, drawn with matplotlib's Agg backend and written atomically.

Figure 2: U, S, H vs q (other parameters at the best), max of H marked, one panel per dataset.
Figure 3 (a): the unseen part of the soft label of one seen class for tau in {0.01, 0.2, 1, 10};
(b): U, S, H vs tau. Sweep panels say where their numbers come from (the test split, never
used for selection).
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


def _sweep_axes(ax, sweep: dict[str, Any], *, log: bool) -> None:
    param = sweep["param"]
    xs = np.array([p[param] for p in sweep["points"]], dtype=float)
    for k in ("U", "S", "H"):
        ys = np.array([p[k] for p in sweep["points"]], dtype=float)
        err = np.array([p.get(f"{k}_std", 0.0) for p in sweep["points"]], dtype=float)
        ax.plot(xs, ys, marker="o", ms=3, color=COLORS[k], label=k)
        if np.any(err > 0):
            ax.fill_between(xs, ys - err, ys + err, color=COLORS[k], alpha=0.15, lw=0)
    hs = np.array([p["H"] for p in sweep["points"]], dtype=float)
    if np.isfinite(hs).any():
        i = int(np.nanargmax(hs))
        ax.plot([xs[i]], [hs[i]], marker="*", ms=14, color="tab:red", zorder=5, label=f"max H {hs[i]:.1f} at {param}={xs[i]:g}")
        ax.axvline(xs[i], color="tab:red", lw=0.8, ls=":")
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(param if param != "tau" else "tau (temperature)")
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")


def figure2(sweeps: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """U, S, H vs q, one panel per dataset (each sweep from ``run_sweep(..., 'q')``)."""
    plt = _plt()
    n = max(1, len(sweeps))
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows), squeeze=False)
    for ax, sweep in zip(axes.flat, sweeps):
        _sweep_axes(ax, sweep, log=False)
        ax.set_title(display_name(sweep["dataset"]), fontsize=10)
    for ax in list(axes.flat)[len(sweeps) :]:
        ax.axis("off")
    fig.suptitle(f"Figure 2: U, S, H vs q, other parameters at the tuned best\n({SOURCE})", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


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


def figure3(data: dict[str, Any], tau_sweep: dict[str, Any] | None, dataset: str, path: str | Path) -> Path:
    """(a) soft-label bars of one seen class for several tau (``soft_label_panel_data``); (b) U, S, H vs tau."""
    plt = _plt()
    ncols = 2 if tau_sweep is not None else 1
    fig, axes = plt.subplots(1, ncols, figsize=(6.0 * ncols, 4.0), squeeze=False)
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
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    if tau_sweep is not None:
        _sweep_axes(axes[0, 1], tau_sweep, log=True)
        axes[0, 1].set_title(f"(b) U, S, H vs tau ({SOURCE})", fontsize=9)
    fig.suptitle(f"Figure 3: {display_name(dataset)}", fontsize=10)
    fig.tight_layout()
    return _save(fig, path)
