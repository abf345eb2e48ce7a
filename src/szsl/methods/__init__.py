"""Methods compared in one harness: SZSL, its ablations, DCN and ESZSL.

Every network method (``szsl``, ``hard``, ``uniform``, ``nearest``, ``soft-only``, ``dcn``) is a
fixed setting of ``TrainConfig`` trained by the one loop ``szsl.train.train_population``;
``eszsl`` is a closed form (``methods.eszsl``). Calibrated stacking (``methods.calibration``)
applies to any of them, post hoc.

API::

    from szsl.methods import METHODS, get_method, search_space, fit_predict
    get_method("hard").config(hidden=256)           # TrainConfig(q=0, ...); fixed values win
    search_space("dcn")                              # tune-format overrides of tune.PAPER_SPACE
    runs = fit_predict("eszsl", split_data, [{"gamma": 1.0, "lambda": 0.1}])
    runs[0].metrics(), runs[0].metrics(gamma=0.5), runs[0].curve()
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from szsl.config import TrainConfig
from szsl.errors import SZSLError
from szsl.methods.ablations import ABLATIONS
from szsl.methods.dcn import DCN_FIXED, DCN_SPACE
from szsl.methods.eszsl import ESZSL_SPACE, ESZSLSolver, eszsl_scores


@dataclass(frozen=True)
class Method:
    name: str
    kind: str  # "network" (a TrainConfig setting, trained by train_population) or "closed-form"
    description: str
    fixed: Mapping[str, Any] = field(default_factory=dict)  # TrainConfig values the method fixes
    space: Mapping[str, Any] = field(default_factory=dict)  # extra searched parameters (tune format)

    @property
    def is_network(self) -> bool:
        return self.kind == "network"

    def config(self, values: Mapping[str, Any] | None = None, **more: Any) -> TrainConfig:
        """The TrainConfig of this method: ``values`` / keywords, then the method's fixed values on top."""
        if not self.is_network:
            raise SZSLError(f"method {self.name!r} is not trained by train_population (no TrainConfig)")
        return TrainConfig.from_dict({**dict(values or {}), **more, **self.fixed})


METHODS: dict[str, Method] = {
    "szsl": Method("szsl", "network", "semantic-similarity soft labels (the method)"),
    **{name: Method(name, "network", desc, fixed) for name, (fixed, desc) in ABLATIONS.items()},
    "dcn": Method("dcn", "network", "Deep Calibration Network (Liu et al. 2018): seen CE with temperature + unseen entropy", DCN_FIXED, DCN_SPACE),
    "eszsl": Method("eszsl", "closed-form", "ESZSL (Romera-Paredes & Torr 2015) closed form", {}, ESZSL_SPACE),
}
METHOD_NAMES = tuple(METHODS)


def get_method(name: str) -> Method:
    try:
        return METHODS[str(name).strip().lower()]
    except KeyError:
        raise SZSLError(f"unknown method {name!r}: expected one of {', '.join(METHOD_NAMES)}") from None


def search_space(name: str) -> dict[str, Any]:
    """Per-method search space in ``szsl.tune`` format.

    Network methods: overrides of ``tune.PAPER_SPACE`` (fixed values for what the method fixes,
    plus its own ranges), ready for ``tune.make_space(search_space(name))``. ``eszsl``: its whole
    space ({"gamma": range, "lambda": range, "targets": choices}), which is not a TrainConfig space.
    """
    m = get_method(name)
    return {**dict(m.fixed), **dict(m.space)}


@dataclass
class MethodRun:
    """One trained model's scores on a split's evaluation images."""

    method: str
    params: dict[str, Any]
    config: TrainConfig | None
    seen: np.ndarray
    unseen: np.ndarray
    scores_seen: np.ndarray | None  # (n_seen_images, C) over all classes
    scores_unseen: np.ndarray | None
    y_seen: np.ndarray
    y_unseen: np.ndarray
    train_seconds: float
    diverged: bool = False
    message: str = ""

    @property
    def scores(self) -> np.ndarray:
        return np.concatenate([self.scores_seen, self.scores_unseen])

    @property
    def y_true(self) -> np.ndarray:
        return np.concatenate([self.y_seen, self.y_unseen])

    def metrics(self, gamma: float | None = None, with_t1: bool = True) -> dict[str, float]:
        """U, S, H (and T1) in percent; with ``gamma``, of calibrated stacking (T1 is unaffected)."""
        from szsl.methods.calibration import calibrated_predict
        from szsl.metrics import gzsl_metrics, zsl_top1

        if self.diverged:
            raise SZSLError(f"{self.method}: {self.message}")
        scores = self.scores
        pred = scores.argmax(1) if gamma is None else calibrated_predict(scores, self.seen, gamma)
        out = gzsl_metrics(self.y_true, pred, self.seen, self.unseen)
        if with_t1:
            out["T1"] = zsl_top1(self.y_unseen, self.unseen[self.scores_unseen[:, self.unseen].argmax(1)], self.unseen)
        return out

    def curve(self):
        from szsl.curves import seen_unseen_curve

        return seen_unseen_curve(self.scores, self.y_true, self.seen, self.unseen)


def fit_predict(method: str, data, params: Sequence[Mapping[str, Any]], *, device="auto", progress: bool = False, seed: int | None = None) -> list[MethodRun]:
    """Train ``method`` once per entry of ``params`` on ``data`` (a ``protocol.SplitData``) and score its evaluation images.

    Network methods: each entry is TrainConfig values (the method's fixed values win; ``seed``,
    when given, replaces the seed); all entries train as ONE population. ``eszsl``: each entry
    is {"gamma": g, "lambda": l} (optionally "targets"), solved from one shared decomposition.
    """
    m = get_method(method)
    params = [dict(p) for p in params]
    common = dict(seen=np.asarray(data.seen), unseen=np.asarray(data.unseen), y_seen=data.y_eval_seen, y_unseen=data.y_eval_unseen)
    if m.is_network:
        from szsl.model import predict_scores
        from szsl.train import train_population

        configs = [m.config(p, **({} if seed is None else {"seed": seed})) for p in params]
        members = train_population(data.X_train, data.y_train, data.attributes, configs, device=device, progress=progress)
        runs = [MethodRun(m.name, p, mem.config, scores_seen=None, scores_unseen=None, train_seconds=mem.train_seconds, diverged=mem.diverged, message=mem.message, **common) for p, mem in zip(params, members)]
        shapes: dict[tuple, list[int]] = {}
        for i, mem in enumerate(members):
            if not mem.diverged:
                shapes.setdefault((mem.config.hidden, mem.config.activation), []).append(i)
        for (_, activation), idx in shapes.items():
            states = [members[i].state for i in idx]
            s_seen = predict_scores(states, activation, data.X_eval_seen, data.attributes, device=device)
            s_unseen = predict_scores(states, activation, data.X_eval_unseen, data.attributes, device=device)
            for j, i in enumerate(idx):
                runs[i].scores_seen, runs[i].scores_unseen = s_seen[j], s_unseen[j]
        return runs
    # eszsl
    start = time.perf_counter()
    by_targets: dict[str, ESZSLSolver] = {}
    runs = []
    for p in params:
        unknown = set(p) - {"gamma", "lambda", "targets", "seed"}
        if unknown or not {"gamma", "lambda"} <= set(p):
            raise SZSLError(f"eszsl parameters {sorted(p)}: expected gamma, lambda (and optionally targets)")
        t0 = time.perf_counter()
        targets = p.get("targets", "pm1")
        if targets not in by_targets:
            by_targets[targets] = ESZSLSolver.fit(data.X_train, data.y_train, data.attributes, targets=targets, device=device)
        V = by_targets[targets].V(float(p["gamma"]), float(p["lambda"]))
        runs.append(
            MethodRun(
                m.name, p, None,
                scores_seen=eszsl_scores(V, data.X_eval_seen, data.attributes),
                scores_unseen=eszsl_scores(V, data.X_eval_unseen, data.attributes),
                train_seconds=time.perf_counter() - t0, **common,
            )
        )
    # The shared decomposition counts toward the first solve.
    if runs:
        runs[0].train_seconds = max(runs[0].train_seconds, time.perf_counter() - start - sum(r.train_seconds for r in runs[1:]))
    return runs


__all__ = ["METHODS", "METHOD_NAMES", "Method", "MethodRun", "fit_predict", "get_method", "search_space"]
