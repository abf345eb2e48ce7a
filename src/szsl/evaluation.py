"""The one evaluation harness: a population of settings of any method -> scores -> metrics.

``evaluate(method, data, params)`` fits every setting on a split's training images (network
methods as ONE population), scores its evaluation images in row chunks and returns one ``Run``
per setting: plain U, S, H (and T1) at once (``evaluate_ensembles``: one Run per ensemble of settings,
their probabilities averaged); calibrated stacking (``Run.calibrated(gamma)``) and
the seen-unseen curve (``Run.curve()``) from the kept scores (``keep_scores=True``).

This is what a training run, a tuning trial's fold, a seed of the final evaluation, a point of
a sweep and a method of ``compare`` all are. ``summarize`` gives the mean and std over runs.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from szsl.curves import curve_from_summary, score_summary, seen_unseen_curve
from szsl.errors import SZSLError
from szsl.methods import get_method
from szsl.methods.calibration import calibrate, calibrated_predict
from szsl.methods.szsl import NetworkFit
from szsl.metrics import gzsl_metrics, zsl_top1

CHUNK_ROWS = 4096  # evaluation images scored at once: memory (K, chunk, C) whatever n


@dataclass
class Run:
    """One setting's fit and its scores on a split's evaluation images."""

    method: str
    params: dict[str, Any]
    config: Any  # the method's full setting (szsl.params.Setting; a network method's: a TrainConfig); None: an ensemble
    seen: np.ndarray
    unseen: np.ndarray
    y_seen: np.ndarray
    y_unseen: np.ndarray
    metrics: dict[str, float] = field(default_factory=dict)  # U, S, H (and T1), percent
    diverged: bool = False
    message: str = ""
    train_seconds: float = 0.0
    model: Any = None  # the fitted object (kept with keep_models=True)
    scores_seen: np.ndarray | None = None  # (n_seen_images, C), kept with keep_scores=True
    scores_unseen: np.ndarray | None = None
    # what the seen-unseen curve needs of the scores, 4 numbers per image (curves.score_summary), kept with keep_curves=True
    curve_summary: tuple | None = None
    members: list["Run"] = field(default_factory=list)  # an ensemble's members, each scored alone (evaluate_ensembles)

    @property
    def member(self):
        """The trained member of a network method (``szsl.train.TrainedMember``), when kept."""
        return getattr(self.model, "member", None)

    @property
    def scores(self) -> np.ndarray:
        self._need_scores()
        return np.concatenate([self.scores_seen, self.scores_unseen])

    @property
    def y_true(self) -> np.ndarray:
        return np.concatenate([self.y_seen, self.y_unseen])

    def _need_scores(self) -> None:
        if self.diverged:
            raise SZSLError(f"{self.method}: {self.message}")
        if self.scores_seen is None:
            raise SZSLError(f"{self.method}: scores were not kept (evaluate(..., keep_scores=True))")

    def calibrated(self, gamma: float) -> dict[str, float]:
        """U, S, H of calibrated stacking with ``gamma`` (``methods.calibration``)."""
        return gzsl_metrics(self.y_true, calibrated_predict(self.scores, self.seen, gamma), self.seen, self.unseen)

    def curve(self):
        if self.scores_seen is None and self.curve_summary is not None and not self.diverged:
            return curve_from_summary(self.curve_summary, self.y_true, self.seen, self.unseen)
        return seen_unseen_curve(self.scores, self.y_true, self.seen, self.unseen)

    def to_dict(self) -> dict:
        """method, params, the full setting ("config"; not for an ensemble), the metrics, diverged, message, train_seconds."""
        setting = {} if self.config is None else {"config": dict(self.config)}
        return {
            "method": self.method,
            "params": self.params,
            **setting,
            **self.metrics,
            "diverged": self.diverged,
            "message": self.message,
            "train_seconds": self.train_seconds,
        }


def _settings(m, params: Sequence[Any], seed: int) -> tuple[list, list[int]]:
    """Each entry (a mapping: a Setting, a dict) as the method's full setting and its seed (``Method.seeded``)."""
    settings, seeds = [], []
    for p in params:
        setting, s = m.seeded(p, seed)
        settings.append(setting)
        seeds.append(s)
    return settings, seeds


def evaluate(
    method,
    data,
    params: Sequence[Mapping[str, Any]],
    *,
    seed: int = 0,
    device="auto",
    with_t1: bool = True,
    keep_scores: bool = False,
    keep_models: bool = False,
    progress: bool = False,
    keep_curves: bool = False,
) -> list[Run]:
    """Fit ``method`` once per entry of ``params`` on ``data`` (a ``protocol.SplitData``); score its evaluation images.

    Entries are the method's hyperparameters (a network method's: TrainConfig values or a
    TrainConfig; its fixed values win); ``seed`` is the seed of entries that name none.
    A setting that diverged gives a Run with ``diverged=True`` and no metrics. ``keep_curves``: each Run keeps
    what its seen-unseen curve needs (``Run.curve()``) without keeping its (n, C) scores.
    """

    m = get_method(method)
    settings, seeds = _settings(m, params, seed)
    start = time.perf_counter()
    fits = m.fit_population(data.X_train, data.y_train, data.attributes, settings, seeds=seeds, device=device, progress=progress)
    # A fit that reports no train_seconds (e.g. a fit_population that trains its members together) gets an equal share
    # of the population's wall time.
    share = (time.perf_counter() - start) / max(1, len(fits))
    runs = _runs(m, data, settings, fits, keep_models, share)
    return _score(m, data, fits, runs, with_t1=with_t1, keep_scores=keep_scores, keep_curves=keep_curves)


def evaluate_rungs(
    method,
    folds: Sequence[Any],
    params: Sequence[Mapping[str, Any]],
    rungs: Sequence[int],
    on_rung: Callable[[int, list[int], list[list[Run]]], Sequence[int]],
    *,
    seed: int = 0,
    device="auto",
    keep_curves: bool = False,
    rung_curves: bool = False,
    note: Callable[[str], None] | None = None,
) -> tuple[list[list[Run]], list[int]]:
    """Multi-fidelity ``evaluate`` of a network method on several splits at once (a study's folds).

    Every setting trains on every fold (one ``train.Population`` per fold), epoch by epoch. At each
    epoch of ``rungs`` the running members are scored on every fold and ``on_rung(epoch, running,
    per_fold_runs)`` returns the indices (into ``params``) to stop there; the others go on to their
    full budget. Returns the runs per fold (a stopped setting's as of the epoch it stopped at) and,
    per setting, the epoch it was stopped at (0: it ran its full budget). ``keep_curves``: the returned
    runs keep what ``Run.curve()`` needs; the runs given to ``on_rung`` do when ``rung_curves``. ``note``: told where training
    is ("fold 2/3, epoch 10/30") before each stretch, for a progress display.
    """
    from szsl.train import Population  # torch: not at import (szsl --help imports evaluation.summarize)

    m = get_method(method)
    if not m.multi_fidelity:
        raise SZSLError(f"method {m.name!r}: multi-fidelity evaluation needs a network method (trained epoch by epoch)")
    settings, _ = _settings(m, params, seed)
    pops = [Population(d.X_train, d.y_train, d.attributes, settings, device=device) for d in folds]
    stopped_at = [0] * len(settings)

    def runs_now(keep: bool = False) -> list[list[Run]]:
        out = []
        for d, pop in zip(folds, pops):
            fits = [NetworkFit(member, d.attributes, device) for member in pop.members()]
            out.append(_score(m, d, fits, _runs(m, d, settings, fits, False), with_t1=False, keep_scores=False, keep_curves=keep))
        return out

    budget = max(c.epochs for c in settings) if settings else 0

    def train_all_to(epoch: int) -> None:
        for k, pop in enumerate(pops, start=1):
            if note is not None:
                note(f"fold {k}/{len(pops)} to epoch {epoch}/{budget}")
            pop.train_to(epoch)

    for epoch in sorted({int(r) for r in rungs if 0 < int(r) < budget}):
        train_all_to(epoch)
        running = sorted(set.intersection(*(set(pop.running()) for pop in pops))) if pops else []
        if not running:
            break
        stop = sorted({int(i) for i in on_rung(epoch, running, runs_now(rung_curves))} & set(running))
        for pop in pops:
            pop.stop(stop)
        for i in stop:
            stopped_at[i] = epoch
    train_all_to(budget)
    return runs_now(keep_curves), stopped_at


def evaluate_ensembles(
    method,
    data,
    ensembles: Sequence[Sequence[Mapping[str, Any]]],
    *,
    seed: int = 0,
    device="auto",
    with_t1: bool = True,
    keep_scores: bool = False,
    score_members: bool = False,
    gammas: Sequence[Sequence[float]] | None = None,
    keep_models: bool = False,
    weights: Sequence[Sequence[float] | None] | None = None,
) -> list[Run]:
    """One Run per entry of ``ensembles`` (a list of settings): its members' class probabilities (softmax of
    their scores) averaged, the prediction is the most probable class. Every member of every ensemble is fit
    in ONE call (network methods: one population); a setting that appears in several ensembles (same values,
    same seed) is fit once. Members that diverged are left out of their ensemble's mean (``Run.message`` says
    how many); an ensemble with no member left is diverged. ``gammas``: per ensemble, one calibrated-stacking
    gamma per member (``methods.calibration``), subtracted from that member's seen-class scores before its
    softmax; None: plain. ``weights``: per ensemble, its members' weights in the mean (None: equal; see
    ``ensemble_log_proba``). ``Run.params`` is ``{"ensemble": [each member's setting]}`` (and ``"gammas"``, ``"weights"``);
    kept scores are the log of the mean probability; ``Run.members`` are the members' own Runs (plain), with
    their metrics alone when ``score_members`` and their fitted objects when ``keep_models``.
    """

    m = get_method(method)
    if any(len(e) == 0 for e in ensembles):
        raise SZSLError("evaluate_ensembles: an ensemble needs at least one member")
    if gammas is not None and (len(gammas) != len(ensembles) or any(len(g) != len(e) for g, e in zip(gammas, ensembles))):
        raise SZSLError("evaluate_ensembles: gammas needs one value per member of every ensemble")
    if weights is not None and (len(weights) != len(ensembles) or any(w and len(w) != len(e) for w, e in zip(weights, ensembles))):
        raise SZSLError("evaluate_ensembles: weights needs one value per member of every ensemble (or None for one)")
    flat_settings, flat_seeds = _settings(m, [p for e in ensembles for p in e], seed)
    settings, seeds, where, index = [], [], {}, []
    for st, sd in zip(flat_settings, flat_seeds):
        key = (json.dumps(dict(st), sort_keys=True, default=str), sd)
        if key not in where:
            where[key] = len(settings)
            settings.append(st)
            seeds.append(sd)
        index.append(where[key])
    start = time.perf_counter()
    fits = m.fit_population(data.X_train, data.y_train, data.attributes, settings, seeds=seeds, device=device)
    share = (time.perf_counter() - start) / max(1, len(fits))
    members = _runs(m, data, settings, fits, keep_models, share)
    seen = np.asarray(data.seen)
    out, first = [], 0
    for j, e in enumerate(ensembles):
        idx = index[first : first + len(e)]
        first += len(e)
        ok = [k for k, i in enumerate(idx) if not members[i].diverged]
        params = {"ensemble": [members[i].params for i in idx]}
        if gammas is not None:
            params["gammas"] = [float(g) for g in gammas[j]]
        weight = None if weights is None or weights[j] is None else [float(w) for w in weights[j]]
        if weight is not None:
            params["weights"] = weight
        run = dataclasses.replace(
            members[idx[0]],
            params=params,
            config=None,
            train_seconds=float(sum(members[i].train_seconds for i in idx)),
            diverged=not ok,
            message="" if len(ok) == len(idx) else f"{len(idx) - len(ok)} of {len(idx)} members diverged: {members[idx[0]].message}",
        )
        if ok:
            base = _scorer(m, [fits[idx[k]] for k in ok])
            shift = [float(gammas[j][k]) for k in ok] if gammas is not None else [0.0] * len(ok)
            w = None if weight is None else [weight[k] for k in ok]  # renormalised there: the others share a diverged one's

            def score(X, base=base, shift=shift, w=w):
                return [ensemble_log_proba(base(X), seen, shift, w)]

            _score_with(score, data, [run], with_t1=with_t1, keep_scores=keep_scores)
            todo = [idx[k] for k in ok if not members[idx[k]].metrics]
            if score_members and todo:
                _score_with(_scorer(m, [fits[i] for i in todo]), data, [members[i] for i in todo], with_t1=with_t1, keep_scores=False)
        run.members = [members[i] for i in idx]
        out.append(run)
    return out


def evaluate_fitted(method: str, params: Mapping[str, Any], data, score: Callable | None, *, with_t1: bool = True) -> Run:
    """The Run of a model fitted elsewhere, ``score(X) -> (n, C)`` (e.g. duet's blend of members trained by
    ``evaluate_ensembles(keep_models=True)``), on ``data``'s evaluation images; None: a diverged model."""
    run = Run(method, dict(params), None, np.asarray(data.seen), np.asarray(data.unseen), data.y_eval_seen, data.y_eval_unseen,
              diverged=score is None, message="every member diverged" if score is None else "")
    if score is not None:
        _score_with(lambda X: [score(X)], data, [run], with_t1=with_t1, keep_scores=False)
    return run


def ensemble_log_proba(blocks, seen=None, gammas=None, weights=None) -> np.ndarray:
    """log of the mean over members of softmax(scores), float64, (n, C): an ensemble's class probabilities,
    computed in log space (finite where a probability underflows to 0). ``gammas`` (one per member, with ``seen``):
    each member's seen-class scores lowered by its gamma first (calibrated stacking, ``methods.calibration``).
    ``weights`` (one per member, > 0; None: equal): a weighted mean, weights scaled to sum 1 (``member_weights``)."""
    from scipy.special import log_softmax, logsumexp  # not at import: szsl --help imports evaluation.summarize

    blocks = [np.asarray(s, dtype=np.float64) for s in blocks]
    if gammas is not None:
        blocks = [calibrate(s, seen, g) if g else s for s, g in zip(blocks, gammas, strict=True)]
    logs = np.stack([log_softmax(s, axis=1) for s in blocks])
    if weights is None:
        return logsumexp(logs, axis=0) - np.log(len(blocks))
    w = np.asarray(weights, dtype=np.float64)
    return logsumexp(logs, axis=0, b=(w / w.sum()).reshape(-1, 1, 1))


def _runs(m, data, settings, fits, keep_models: bool, share: float = 0.0) -> list[Run]:
    seen, unseen = np.asarray(data.seen), np.asarray(data.unseen)
    return [
        Run(
            m.name,
            dict(s),
            s,
            seen,
            unseen,
            data.y_eval_seen,
            data.y_eval_unseen,
            diverged=bool(getattr(f, "diverged", False)),
            message=getattr(f, "message", ""),
            train_seconds=float(share if getattr(f, "train_seconds", None) is None else f.train_seconds),
            model=f if keep_models else None,
        )
        for s, f in zip(settings, fits)
    ]


def _score(m, data, fits, runs: list[Run], *, with_t1: bool, keep_scores: bool, keep_curves: bool = False) -> list[Run]:
    """Score the evaluation images with every fit that did not diverge; fill in the runs' metrics."""
    ok = [i for i, r in enumerate(runs) if not r.diverged]
    if not ok:
        return runs
    score = _scorer(m, [fits[i] for i in ok])
    _score_with(score, data, [runs[i] for i in ok], with_t1=with_t1, keep_scores=keep_scores, keep_curves=keep_curves)
    return runs


def _scorer(m, fits):
    """X -> [(n, C) scores of each fit], batched by the method's scorer when it has one."""
    return m.scorer(fits) if m.scorer is not None else (lambda X: [f.scores(X) for f in fits])


def _score_with(score, data, runs: list[Run], *, with_t1: bool, keep_scores: bool, keep_curves: bool = False) -> None:
    """Fill in the metrics (and kept scores or curve summaries) of ``runs`` from ``score(X) -> [(n, C) per run]``."""
    seen, unseen = np.asarray(data.seen), np.asarray(data.unseen)
    n_classes = int(np.asarray(data.attributes).shape[0])
    k, summarise = len(runs), (seen if keep_curves else None)
    pred_seen, _, kept_seen, sum_seen = _predict(score, data.X_eval_seen, k, None, keep_scores, n_classes, summarise)
    pred_unseen, pred_zsl, kept_unseen, sum_unseen = _predict(score, data.X_eval_unseen, k, unseen, keep_scores, n_classes, summarise)
    y_true = np.concatenate([data.y_eval_seen, data.y_eval_unseen])
    for j, run in enumerate(runs):
        metrics = gzsl_metrics(y_true, np.concatenate([pred_seen[j], pred_unseen[j]]), seen, unseen)
        if with_t1:
            metrics["T1"] = zsl_top1(data.y_eval_unseen, pred_zsl[j], unseen)
        run.metrics = metrics
        if keep_scores:
            run.scores_seen, run.scores_unseen = kept_seen[j], kept_unseen[j]
        if keep_curves:
            run.curve_summary = tuple(np.concatenate([a, b]) for a, b in zip(sum_seen[j], sum_unseen[j]))


def _predict(score, X, k: int, among: np.ndarray | None, keep: bool, n_classes: int, summarise: np.ndarray | None = None):
    """Top-1 over all classes (and over ``among``) of k fits on X, chunk by chunk; the scores when ``keep``; with
    ``summarise`` (the seen classes), each fit's ``curves.score_summary``, chunk by chunk."""

    n = int(X.shape[0])
    parts = [[] for _ in range(k)] if summarise is not None else None
    top = np.empty((k, n), dtype=np.int64)
    top_among = np.empty((k, n), dtype=np.int64) if among is not None else None
    kept = [[] for _ in range(k)] if keep else None
    for start in range(0, n, CHUNK_ROWS):
        for j, s in enumerate(score(X[start : start + CHUNK_ROWS])):
            s = np.asarray(s)
            top[j, start : start + s.shape[0]] = s.argmax(-1)
            if among is not None:
                top_among[j, start : start + s.shape[0]] = among[s[:, among].argmax(-1)]
            if keep:
                kept[j].append(np.asarray(s, dtype=np.float32))
            if parts is not None:
                parts[j].append(score_summary(np.asarray(s, dtype=np.float32), summarise))
    if keep:
        kept = [np.concatenate(c) if c else np.empty((0, n_classes), dtype=np.float32) for c in kept]
    summaries = None
    if parts is not None:
        empty = (np.empty(0, np.int64), np.empty(0), np.empty(0, np.int64), np.empty(0))
        summaries = [tuple(np.concatenate(col) for col in zip(*p)) if p else empty for p in parts]
    return top, top_among, kept, summaries


def summarize(rows: Sequence[Mapping[str, float]], keys: Sequence[str]) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and sample std (ddof=1; 0 for a single value) of each metric over ``rows``."""
    mean, std = {}, {}
    for k in keys:
        vals = np.array([r[k] for r in rows], dtype=np.float64)
        mean[k] = float(vals.mean()) if vals.size else float("nan")
        std[k] = float(vals.std(ddof=1)) if vals.size > 1 else 0.0
    return mean, std
