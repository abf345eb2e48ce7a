"""Hyperparameter search by the paper's protocol: an Optuna study over the validation folds.

Objective of one trial: mean H over the class folds of ``protocol.validation_splits`` (train on
80 % of the pseudo-seen trainval images, score H on the other 20 % and on all images of the
pseudo-unseen classes). The test split is never read: the fold data come from
``protocol.validation_splits`` only, computed once per study run, not per trial.

The one study loop of every method (``space.method``, a method of ``szsl.methods``). Trials run
in batches (Optuna ask/tell): B trials are asked, their settings form ONE population per fold
(``evaluation.evaluate``, the one harness), and each trial is told its mean H.
A member that diverges in any fold makes its trial FAIL (with the message), never a score.

Multi-fidelity (``prune="halving"``, the default for network methods): the batch's populations are
scored on every fold at epochs 5, 10, ... (``prune_rungs``; Optuna intermediate values) and a trial
whose mean H there is not in the top half of the study's trials at that epoch stops (PRUNED, kept in
the study with its fold scores); the others train on to their full budget.

Storage: any SQLAlchemy URL (SQLite file by default, PostgreSQL/MySQL for many workers on many
machines). Re-running the same call continues the study: COMPLETE and PRUNED trials count toward
``n_trials`` and are never recomputed. RUNNING trials of a process that died are failed and
their parameters re-queued (detected at once on the same host from the worker's pid, and on
other hosts from a missing heartbeat). Several workers never overshoot ``n_trials``: a freshly
asked trial whose rank among the live trials (COMPLETE, RUNNING, WAITING) is >= n_trials is
failed as surplus before it trains.

A resumed study is the uninterrupted one (one worker): a trial's proposal comes from a sampler seeded
by (study seed, its slot: how many trials came before it, the trials lost with a killed worker not
counted, ``_slot``) and the finished history, never from a count of attempts; a lost trial's slot is
filled by its re-queued copy, in the batch (population) it was planned in (``_open_batch``), and lost
trials take no part in the pruner's rankings.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from szsl.data.benchmark import Benchmark
from szsl.errors import SZSLError
from szsl.final_model import DEFAULT_ENSEMBLE, ENSEMBLE_MARGIN, TOP_KEPT, final_members
from szsl.search_space import (  # noqa: F401 - the search-space API, re-exported from its old home
    BATCH_SIZES,
    DEFAULT_EPOCHS,
    DEFAULT_SPACE,
    GRID_POINTS,
    HIDDEN_SIZES,
    MAX_GRID_POINTS,
    MAX_GRID_SIZE,
    PAPER_SPACE,
    Param,
    SearchSpace,
    load_space,
    make_space,
    next_grid_point,
)
from szsl.study_storage import (  # noqa: F401 - re-exported
    GRACE_PERIOD,
    HEARTBEAT_INTERVAL,
    ORPHAN_SECONDS,
    Heartbeat,
    _silence_optuna_notes,
    fail_dead_trials,
    is_lost,
    load_or_create_study,
    open_storage,
    redact,
    sqlite_url,
)
from szsl.trust import selection_warnings

SAMPLERS = ("tpe", "random", "grid")
# Multi-fidelity search (network methods): "halving" scores every trial on the folds at epochs
# PRUNE_MIN_EPOCHS * PRUNE_REDUCTION**k (below its budget) and stops it there unless its mean H is in the
# top 1 / PRUNE_REDUCTION of every trial of the study scored at that epoch (successive halving); "none" trains
# every trial to its full budget.
PRUNERS = ("halving", "none")
DEFAULT_PRUNE = "halving"
PRUNE_MIN_EPOCHS = 5
PRUNE_REDUCTION = 2
PRUNE_SCALE_EPOCHS = 20
FINISHED = ("COMPLETE", "PRUNED")  # trial states that count toward n_trials
DEFAULT_BATCH = 8
POLL_SECONDS = 1.0


@dataclass
class TuneResult:
    study_name: str
    best_value: float
    best_params: dict[str, Any]  # the searched parameters of the best trial
    best_config: Any  # the method's full setting: a TrainConfig (network methods) or a dict
    best_trial: int
    folds: list[dict[str, float]]  # U, S, H per fold of the best trial
    n_complete: int
    n_failed: int
    space: dict[str, Any] = field(default_factory=dict)
    n_pruned: int = 0  # trials stopped early by the multi-fidelity pruner (they count toward n_trials)
    # The TOP_KEPT best complete trials, best first (the best one included): {"trial", "value", "params", "config"}.
    top: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # trust.selection_warnings: why the choice may not be trusted

    def ensemble(self, k: int = DEFAULT_ENSEMBLE, margin: float = ENSEMBLE_MARGIN) -> list[Any]:
        """The final model's members (``final_model.final_members``) as full settings, best first."""
        return final_members(self, k, margin, calibrate="none").members

    def to_dict(self) -> dict[str, Any]:
        return {
            "study": self.study_name,
            "best_value": self.best_value,
            "best_params": self.best_params,
            "best_config": self.best_config.to_dict() if hasattr(self.best_config, "to_dict") else dict(self.best_config),
            "best_trial": self.best_trial,
            "folds": self.folds,
            "n_complete": self.n_complete,
            "n_failed": self.n_failed,
            "n_pruned": self.n_pruned,
            "top": self.top,
            "objective": "mean H (%) over the validation folds",
            "space": self.space,
            "warnings": self.warnings,
        }


def default_study_name(
    benchmark: Benchmark, space: SearchSpace, seed: int, sampler: str = "tpe", fold_classes: str = "ratio", prune: str = DEFAULT_PRUNE
) -> str:
    """Same benchmark, method, space, seed, sampler, fold classes and pruner -> same name, so a re-run continues the study."""
    method = "" if space.method == "szsl" else f"{space.method}-"
    folds = f"-{fold_classes}"  # always: szsl 0.2's default ("matched") named no suffix, so no new study continues one of those
    pruned = "" if prune == DEFAULT_PRUNE or not _prunable(space) else f"-prune-{prune}"
    return f"{benchmark.name}-{method}{sampler}-s{seed}-{space.fingerprint()}{folds}{pruned}"


def _prunable(space: SearchSpace) -> bool:
    from szsl.methods import get_method

    return get_method(space.method).is_network


def prune_rungs(epochs: int, prune: str) -> list[int]:
    """The epochs at which a trial of ``epochs`` epochs is scored and may be stopped."""
    if prune == "none":
        return []
    # A longer budget (budget.scaled_epochs on a small data set) starts later, so the first rung is still
    # about a quarter of the run: 5 up to 39 epochs, 25 at 100.
    rungs, r = [], PRUNE_MIN_EPOCHS * max(1, epochs // PRUNE_SCALE_EPOCHS)
    while r < epochs:
        rungs.append(r)
        r *= PRUNE_REDUCTION
    return rungs


def default_paths(benchmark: Benchmark, out: str | os.PathLike | None = None, storage: str | None = None) -> tuple[Path, str]:
    """Where ``szsl tune`` writes: the best-parameters JSON (results/<dataset>-best.json) and the study DB next to it."""
    out = Path(out) if out else Path("results") / f"{benchmark.name}-best.json"
    return out, storage or sqlite_url(out.parent / "szsl-tune.db")


def _make_sampler(kind: str, space: SearchSpace, seed: int):
    import optuna

    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if kind == "grid":  # grid points are enqueued by ``next_grid_point``; this only fills nothing
        return optuna.samplers.RandomSampler(seed=seed)
    raise SZSLError(f"sampler {kind!r}: expected one of {', '.join(SAMPLERS)}")


def tune(
    benchmark: Benchmark,
    *,
    n_trials: int,
    storage: str,
    study_name: str | None = None,
    space: SearchSpace | None = None,
    sampler: str = "tpe",
    seed: int = 0,
    batch: int = DEFAULT_BATCH,
    timeout: float | None = None,
    device: str = "auto",
    progress: bool = True,
    worker: int = 0,
    workers: int = 1,
    method: str | None = None,
    fold_classes: str = "ratio",
    prune: str = DEFAULT_PRUNE,
) -> TuneResult:
    """Run (or continue) the study until it holds ``n_trials`` finished (COMPLETE or PRUNED) trials; return the best.

    ``method``: a method of the registry (default: the space's, szsl); ``space`` defaults to its
    space. ``seed`` fixes the 80/20 image split of the folds, the members' initial weights and
    the sampler. ``timeout`` (seconds) stops asking for new trials after that long. Safe to run
    from many processes at once against one ``storage`` URL; ``workers=K`` starts K - 1 more
    worker processes on this machine (SIGTERM / Ctrl-C reach them too) and returns the best of
    the whole study once all are done. ``fold_classes``: which classes a fold model knows
    ("ratio", the default: as many classes without images as give the final problem's unseen :
    seen class ratio, test-unseen classes joining by their attributes only when pseudo-unseen ones
    are too few; "matched": as many as the final problem's unseen count; "all": every test-unseen
    class; "trainval": the paper's folds; see ``protocol.validation_splits``). ``prune``: "halving"
    (the default; network methods) stops a trial at an early epoch when its mean validation H there
    is not in the top half of the study's trials at that epoch (successive halving, rungs
    ``prune_rungs``); a stopped trial is PRUNED, stays in the study with its intermediate values,
    and counts toward ``n_trials``. "none": every trial trains to its full budget.
    """
    from szsl.protocol import FOLD_CLASSES

    if fold_classes not in FOLD_CLASSES:
        raise SZSLError(f"fold_classes={fold_classes!r}: expected one of {', '.join(FOLD_CLASSES)}")
    if prune not in PRUNERS:
        raise SZSLError(f"prune={prune!r}: expected one of {', '.join(PRUNERS)}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SZSLError(f"workers={workers!r}: expected an integer >= 1")
    if space is None:
        space = make_space(method=method or "szsl", dataset=benchmark.name)
    elif method is not None and space.method != method.strip().lower():
        raise SZSLError(f"method {method!r}: the search space is {space.method!r}'s")
    study_name = study_name or default_study_name(benchmark, space, seed, sampler, fold_classes, prune)
    kwargs = dict(
        n_trials=n_trials, storage=storage, study_name=study_name, space=space, sampler=sampler, seed=seed, batch=batch, timeout=timeout,
        device=device, fold_classes=fold_classes, prune=prune,
    )
    children = _start_workers(benchmark, kwargs, workers)
    try:
        with warnings.catch_warnings():
            _silence_optuna_notes()
            result = _tune(benchmark, progress=progress, worker=worker, **kwargs)
    except BaseException:
        for c in children:  # SIGTERM (or Ctrl-C) of this process: pass it on, then wait
            c.terminate()
        for c in children:
            c.join()
        raise
    for c in children:
        c.join()
    codes = [c.exitcode for c in children]
    if any(codes):
        raise SZSLError(f"{sum(1 for c in codes if c)} of {len(children)} extra worker(s) failed (exit codes {codes})")
    if not children:
        return result
    # Re-read: the other workers may have finished trials after ours.
    st = load_or_create_study(
        open_storage(storage), study_name, space=space, seed=seed, sampler=sampler, benchmark=benchmark, fold_classes=fold_classes
    )
    return best_result(st, space, seed)


def _start_workers(benchmark: Benchmark, kwargs: dict, workers: int) -> list:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # never fork a process that may hold torch threads
    children = []
    for i in range(1, workers):
        child = ctx.Process(target=_worker_main, args=(benchmark, {**kwargs, "worker": i}), name=f"szsl-tune-worker-{i}")
        child.start()
        children.append(child)
    return children


def _worker_main(benchmark: Benchmark, kwargs: dict) -> None:
    """An extra worker: the same study, no progress bar; SIGTERM unwinds it like Ctrl-C."""
    import sys

    from szsl.cli import Terminated, install_signal_handlers

    install_signal_handlers()
    try:
        tune(benchmark, progress=False, **kwargs)
    except Terminated as exc:
        sys.exit(128 + exc.signum)
    except KeyboardInterrupt:
        sys.exit(130)
    except SZSLError as exc:
        print(f"szsl: error: worker {kwargs.get('worker')}: {exc}", file=sys.stderr)
        sys.exit(2)


def _tune(
    benchmark, *, n_trials, storage, study_name, space, sampler, seed, batch, timeout, device, progress, worker, fold_classes, prune
) -> TuneResult:
    from optuna.trial import TrialState

    from szsl.progress import progress_bar
    from szsl.protocol import split_data, validation_splits

    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise SZSLError(f"trials={n_trials!r}: expected an integer >= 1")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SZSLError(f"batch={batch!r}: expected an integer >= 1")
    if sampler not in SAMPLERS:
        raise SZSLError(f"sampler {sampler!r}: expected one of {', '.join(SAMPLERS)}")
    if timeout is not None and not (timeout > 0):
        raise SZSLError(f"timeout={timeout!r}: expected a number of seconds > 0")
    if sampler == "grid" and space.grid_size() > MAX_GRID_SIZE:
        raise SZSLError(
            f"the grid has {space.grid_size():,} points, more than {MAX_GRID_SIZE:,} (every point is listed in memory); use fewer grid "
            "points or --sampler tpe/random"
        )
    if sampler == "grid" and space.grid_size() < n_trials:
        raise SZSLError(f"the grid has only {space.grid_size()} points, fewer than trials={n_trials}; lower --trials or add grid points")
    rdb = open_storage(storage)
    study = load_or_create_study(rdb, study_name, space=space, seed=seed, sampler=sampler, benchmark=benchmark, fold_classes=fold_classes)

    # The fold data, once per run (never per trial). Reads trainval images only.
    folds = [split_data(benchmark, s) for s in validation_splits(benchmark, seed, fold_classes=fold_classes)]
    me = {"host": socket.gethostname(), "pid": os.getpid(), "worker": worker}
    heart = Heartbeat(rdb, study)
    start = time.monotonic()

    def states():
        return [t.state for t in study.get_trials(deepcopy=False)]

    finished = tuple(TrialState[name] for name in FINISHED)
    n_done = sum(s in finished for s in states())
    bar = progress_bar(n_trials, f"tune {benchmark.name}", "trial", initial=min(n_done, n_trials), enabled=progress, leave=False)
    max_failures = max(10, 3 * n_trials)
    from szsl.cli import raise_if_terminated

    try:
        while True:
            raise_if_terminated()  # SIGTERM whose exception a finalizer swallowed: stop between batches all the same
            fail_dead_trials(study, rdb, names=[p.name for p in space.searched])
            trials = study.get_trials(deepcopy=False)
            complete = sum(t.state in finished for t in trials)
            running = sum(t.state == TrialState.RUNNING for t in trials)
            bar.n = min(complete, n_trials)
            bar.refresh()
            if complete >= n_trials:
                break
            if timeout is not None and time.monotonic() - start > timeout:
                break
            failed = sum(1 for t in trials if t.state == TrialState.FAIL and t.user_attrs.get("diverged"))
            if failed >= max_failures:
                raise SZSLError(f"study {study_name!r}: {failed} trials diverged; lower the lr range in the search space")
            slots = n_trials - complete - running
            # A trial asked but not labelled with its worker yet is another worker's (labelled within
            # milliseconds) or was left by a process killed in between (failed after ORPHAN_SECONDS): wait,
            # so that it never shifts the slots of the batch asked next.
            unlabelled = any(t.state == TrialState.RUNNING and "worker" not in t.user_attrs for t in trials)
            if slots <= 0 or unlabelled:  # the rest is being worked on by other workers: wait for them
                time.sleep(POLL_SECONDS)
                continue
            resumed = _open_batch(trials)
            if resumed is not None:  # a killed worker's batch, part of it finished: its other members alone
                plan, held = resumed
                size = min(plan[1] - held, slots)
            else:
                size = min(batch, slots)
                plan = [_slot(trials), size]
            asked = _ask_batch(study, space, sampler, seed, size, me, heart, plan)
            # Never overshoot: a trial ranked >= n_trials among the live ones is surplus.
            live = sorted(
                t.number for t in study.get_trials(deepcopy=False, states=(*finished, TrialState.RUNNING, TrialState.WAITING))
            )
            rank = {num: i for i, num in enumerate(live)}
            keep = []
            for trial, values in asked:
                if rank.get(trial.number, n_trials) >= n_trials:
                    trial.set_user_attr("surplus", True)
                    trial.set_user_attr("fail_reason", "surplus: other workers already claimed the remaining trials")
                    study.tell(trial, state=TrialState.FAIL)
                    heart.remove(trial.number)
                else:
                    keep.append((trial, values))
            if keep:
                first, last = keep[0][0].number + 1, keep[-1][0].number + 1  # a batch trains as one population: say so at its start
                bar.set_postfix_str(f"training trial{f's {first}-{last}' if last > first else f' {first}'} on {len(folds)} folds")
                _run_batch(study, keep, space, seed, folds, device, heart, prune)
                bar.set_postfix_str("", refresh=False)
                bar.n = min(sum(s in finished for s in states()), n_trials)
                bar.refresh()
    finally:
        heart.close()
        bar.close()
    return best_result(study, space, seed)


def _slot(trials) -> int:
    """The slot of the trial asked next: how many trials the study holds, those lost with a killed worker
    (``study_storage.is_lost``) not counted. An uninterrupted study has none, so this is its trial number;
    a resumed one fills the lost slots again (re-queued copies first) and goes on with the same slots."""
    return sum(1 for t in trials if not is_lost(t))


def _open_batch(trials) -> tuple[list[int], int] | None:
    """The batch (user attribute "batch": [first slot, planned size]) of the newest trial when a killed worker
    left it part-finished: (that plan, how many of its members are held by trials that were not lost). Its
    remaining members (the re-queued copies of the lost ones) then train as a batch of their own, as they
    would have in the uninterrupted population, not together with the next batch's fresh trials (whose
    proposals must see the whole batch finished). None when the newest batch is whole or still in work."""
    from optuna.trial import TrialState

    planned = [t for t in trials if "batch" in t.user_attrs]
    if not planned:
        return None
    plan = list(planned[-1].user_attrs["batch"])
    members = [t for t in planned if list(t.user_attrs["batch"]) == plan and not is_lost(t)]
    if not members or len(members) >= plan[1] or any(t.state in (TrialState.RUNNING, TrialState.WAITING) for t in members):
        return None  # nothing finished (asked again whole, as planned), whole, or another worker's in work
    return plan, len(members)


def _ask_batch(study, space: SearchSpace, sampler: str, seed: int, b: int, me: dict, heart: Heartbeat, plan: list[int] | None = None):
    from optuna.trial import TrialState

    asked = []
    for _ in range(b):
        trials = study.get_trials(deepcopy=False)
        others = any(t.state == TrialState.RUNNING and (t.user_attrs.get("worker") or {}) != me for t in trials)
        # Deterministic alone (same slot and finished history -> same proposals, however often the study was
        # interrupted: ``_slot``); diversified when others run too. A re-queued trial (WAITING) is asked first
        # and keeps its parameters.
        key = f"{seed}:{_slot(trials)}:{os.getpid() if others else 0}"
        study.sampler = _make_sampler(sampler, space, int(hashlib.sha256(key.encode()).hexdigest()[:8], 16))
        if sampler == "grid" and not any(t.state == TrialState.WAITING for t in trials):
            point = next_grid_point(space, seed, trials)
            if point is None:  # every grid point is done or taken
                break
            study.enqueue_trial(point)
        trial = study.ask()
        trial.set_user_attr("worker", me)  # at once: the owner of a RUNNING trial must be known
        if plan is not None:
            trial.set_user_attr("batch", plan)  # the population it trains in (_open_batch)
        values = space.suggest(trial)
        heart.add(trial.number)  # after the suggestions: a kill in between leaves a trial that can be re-run
        asked.append((trial, values))
    return asked


def _run_batch(study, batch, space: SearchSpace, seed: int, folds, device, heart: Heartbeat, prune: str = "none") -> None:
    from optuna.trial import TrialState

    from szsl.evaluation import evaluate, evaluate_rungs

    configs = [space.config(values, seed) for _, values in batch]
    rungs = prune_rungs(max(getattr(c, "epochs", 0) for c in configs), prune) if _prunable(space) else []
    stopped_at = [0] * len(configs)
    if rungs:  # one population per fold, scored at the rungs; the losers stop there
        per_fold, stopped_at = evaluate_rungs(
            space.method, folds, configs, rungs, lambda epoch, running, runs: _halving(study, batch, epoch, running, runs), seed=seed,
            device=device, keep_curves=True,
        )
    else:  # one population per fold, through the one harness
        per_fold = [evaluate(space.method, data, configs, seed=seed, device=device, with_t1=False, keep_curves=True) for data in folds]
    for i, (trial, _values) in enumerate(batch):
        results = [fold[i] for fold in per_fold]
        bad = next((r for r in results if r.diverged), None)
        scores = None if bad is not None else [{k: round(float(r.metrics[k]), 4) for k in ("U", "S", "H")} for r in results]
        if bad is not None:
            attrs, value, state = {"diverged": True, "fail_reason": bad.message}, None, TrialState.FAIL
        elif stopped_at[i]:
            attrs, value, state = {"folds": scores, "pruned_at_epoch": stopped_at[i]}, None, TrialState.PRUNED
        else:
            gamma, h_cs = _fold_gamma(results)
            attrs, value, state = (
                {
                    "folds": scores,
                    "config": configs[i].to_dict() if hasattr(configs[i], "to_dict") else dict(configs[i]),
                    "gamma": gamma,
                    "H_cs": h_cs,
                },
                float(np.mean([r.metrics["H"] for r in results])),
                TrialState.COMPLETE,
            )
        try:
            for key, v in attrs.items():
                trial.set_user_attr(key, v)
            study.tell(trial, value, state=state)
        except Exception as exc:  # noqa: BLE001
            # Another worker took this trial for abandoned (and re-queued its parameters).
            from optuna.exceptions import UpdateFinishedTrialError

            if not isinstance(exc, (UpdateFinishedTrialError, ValueError, RuntimeError)):
                raise
        heart.remove(trial.number)


def _fold_gamma(results) -> tuple[float, float]:
    """The calibrated-stacking gamma that maximises a trial's mean H over its folds (``methods.calibration``;
    validation scores only) and that mean H in %. Recorded with every complete trial (user attributes ``gamma``,
    ``H_cs``); the trial's value stays its plain mean H."""
    from szsl.methods.calibration import choose_gamma

    gamma, h = choose_gamma([r.curve() for r in results])
    return float(gamma), round(h, 4)


def _halving(study, batch, epoch: int, running: list[int], per_fold) -> list[int]:
    """Successive halving at one rung: report each running trial's mean fold H at ``epoch``; stop those
    below the top 1 / PRUNE_REDUCTION of every trial of the study (this batch included) scored at ``epoch``."""
    import math

    values = {}
    for i in running:
        hs = [runs[i].metrics.get("H", float("nan")) if not runs[i].diverged else float("nan") for runs in per_fold]
        values[i] = float(np.mean(hs))
        if math.isfinite(values[i]):
            batch[i][0].report(values[i], epoch)
    mine = {trial.number for trial, _ in batch}
    others = [  # a trial lost with a killed worker is not counted: its re-run (this batch, or an earlier one) is
        t.intermediate_values[epoch]
        for t in study.get_trials(deepcopy=False)
        if t.number not in mine and epoch in t.intermediate_values and not is_lost(t)
    ]
    competing = sorted([v for v in values.values() if math.isfinite(v)] + [float(v) for v in others], reverse=True)
    if not competing:
        return list(running)
    threshold = competing[max(1, math.ceil(len(competing) / PRUNE_REDUCTION)) - 1]
    return [i for i in running if not (values[i] >= threshold)]


def best_result(study, space: SearchSpace, seed: int) -> TuneResult:
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    if not complete:
        raise SZSLError(f"study {study.study_name!r} has no complete trial yet (run longer or raise --timeout)")
    # Ties go to the lowest trial number: deterministic whatever the worker order.
    ranked = sorted(complete, key=lambda t: (-t.value, t.number))
    best = ranked[0]

    def as_dict(c):
        return c.to_dict() if hasattr(c, "to_dict") else dict(c)

    top = [
        {
            "trial": t.number,
            "value": float(t.value),
            "params": dict(t.params),
            "config": as_dict(space.config(t.params, seed)),
            # the calibrated-stacking gamma chosen on the trial's folds (None: a study from before szsl 0.3)
            "gamma": t.user_attrs.get("gamma"),
        }
        for t in ranked[:TOP_KEPT]
    ]
    folds = list(best.user_attrs.get("folds", []))
    return TuneResult(
        study_name=study.study_name,
        best_value=float(best.value),
        best_params=dict(best.params),
        best_config=space.config(best.params, seed),
        best_trial=best.number,
        folds=folds,
        n_complete=len(complete),
        n_failed=sum(t.state == TrialState.FAIL and not t.user_attrs.get("surplus") for t in trials),
        n_pruned=sum(t.state == TrialState.PRUNED for t in trials),
        space=space.to_json(),
        top=top,
        warnings=selection_warnings(float(best.value), dict(best.params), folds, space.searched, len(complete)),
    )
