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
counted, ``trial_batch.slot``) and the finished history, never from a count of attempts; a lost trial's slot is
filled by its re-queued copy, in the batch (population) it was planned in (``trial_batch.open_batch``), and lost
trials take no part in the pruner's rankings.
"""

from __future__ import annotations

import os
import socket
import time
import warnings
from pathlib import Path

from szsl.data.benchmark import Benchmark
from szsl.errors import SZSLError
from szsl.protocol import fold_unseen_classes
from szsl.study_spec import StudySpec
from szsl.study_storage import (
    Heartbeat,
    _silence_optuna_notes,
    fail_dead_trials,
    load_or_create_study,
    open_storage,
    sqlite_url,
)
from szsl.trial_batch import ask_batch, open_batch, run_batch, slot
from szsl.tune_result import TuneResult, best_result

FINISHED = ("COMPLETE", "PRUNED")  # trial states that count toward n_trials
POLL_SECONDS = 1.0


def default_paths(benchmark: Benchmark, out: str | os.PathLike | None = None, storage: str | None = None) -> tuple[Path, str]:
    """Where ``szsl tune`` writes: the best-parameters JSON (results/<dataset>-best.json) and the study DB next to it."""
    out = Path(out) if out else Path("results") / f"{benchmark.name}-best.json"
    return out, storage or sqlite_url(out.parent / "szsl-tune.db")


def tune(
    benchmark: Benchmark,
    spec: StudySpec | None = None,
    *,
    device: str = "auto",
    progress: bool = True,
    workers: int = 1,
    worker: int = 0,
    **study,
) -> TuneResult:
    """Run (or continue) the study until it holds ``n_trials`` finished (COMPLETE or PRUNED) trials; return the best.

    The study is ``spec`` (``study_spec.StudySpec``), or the one ``StudySpec.build(benchmark, **study)`` makes of
    keyword options (``n_trials``, ``storage``, ``space``, ``method``, ``study_name``, ``sampler``, ``seed``, ``batch``,
    ``timeout``, ``fold_classes``, ``prune``; see there). ``method``: a method of the registry (default: the space's,
    szsl); ``space`` defaults to its space. ``seed`` fixes the 80/20 image split of the folds, the members' initial
    weights and the sampler. ``timeout`` (seconds) stops asking for new trials after that long, once a trial is
    complete. Safe to run from many processes at once against one ``storage`` URL; ``workers=K`` starts K - 1 more
    worker processes on this machine
    (SIGTERM / Ctrl-C reach them too) and returns the best of the whole study once all are done. ``fold_classes``:
    which classes a fold model knows ("ratio", the default; "matched", "all", "trainval": see
    ``protocol.validation_splits``). ``prune``: "halving" (the default; network methods) stops a trial at an early
    epoch when its mean validation H there is not in the top half of the study's trials at that epoch (rungs
    ``prune_rungs``); a stopped trial is PRUNED, stays in the study and counts toward ``n_trials``. "none": every
    trial trains to its full budget.
    """
    if spec is None:
        spec = StudySpec.build(benchmark, **study)
    elif study:
        raise SZSLError(f"tune: give a StudySpec or its options, not both ({', '.join(sorted(study))})")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SZSLError(f"workers={workers!r}: expected an integer >= 1")
    children = _start_workers(benchmark, spec, device, workers)
    try:
        with warnings.catch_warnings():
            _silence_optuna_notes()
            result = _tune(benchmark, spec, device=device, progress=progress, worker=worker)
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
        open_storage(spec.storage), spec.study_name, space=spec.space, seed=spec.seed, sampler=spec.sampler, benchmark=benchmark,
        fold_classes=spec.fold_classes,
    )
    return best_result(st, spec.space, spec.seed, fold_unseen_classes(benchmark, spec.fold_classes))


def _start_workers(benchmark: Benchmark, spec: StudySpec, device: str, workers: int) -> list:
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")  # never fork a process that may hold torch threads
    children = []
    for i in range(1, workers):
        child = ctx.Process(target=_worker_main, args=(benchmark, spec, device, i), name=f"szsl-tune-worker-{i}")
        child.start()
        children.append(child)
    return children


def _worker_main(benchmark: Benchmark, spec: StudySpec, device: str, worker: int) -> None:
    """An extra worker: the same study, no progress bar; SIGTERM unwinds it like Ctrl-C."""
    import sys

    from szsl.signals import Terminated, install_signal_handlers

    install_signal_handlers()
    _stop_when_orphaned()
    try:
        tune(benchmark, spec, device=device, progress=False, worker=worker)
    except Terminated as exc:
        sys.exit(128 + exc.signum)
    except KeyboardInterrupt:
        sys.exit(130)
    except SZSLError as exc:
        print(f"szsl: error: worker {worker}: {exc}", file=sys.stderr)
        sys.exit(2)


def _stop_when_orphaned() -> None:
    """SIGTERM to this extra worker once the process that started it is gone. ``tune`` passes its own SIGTERM on when it
    unwinds, but a parent killed outright (SIGKILL, or aborted inside a native library) cannot: the worker would go on
    with the study alone, and keep the terminal's pipes open."""
    import multiprocessing
    import signal
    import threading

    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()  # returns when the parent's end of the sentinel pipe closes: it exited, however
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="szsl-parent-watch", daemon=True).start()


def _tune(benchmark: Benchmark, spec: StudySpec, *, device: str, progress: bool, worker: int) -> TuneResult:
    from optuna.trial import TrialState

    from szsl.progress import progress_bar
    from szsl.protocol import split_data, validation_splits

    n_trials, space, seed, study_name = spec.n_trials, spec.space, spec.seed, spec.study_name
    sampler, batch, timeout, fold_classes, prune = spec.sampler, spec.batch, spec.timeout, spec.fold_classes, spec.prune
    rdb = open_storage(spec.storage)
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
    from szsl.signals import raise_if_terminated

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
            # Past the timeout no new trial is asked, once one trial is COMPLETE (a study of pruned trials only has no result).
            if timeout is not None and time.monotonic() - start > timeout and any(t.state == TrialState.COMPLETE for t in trials):
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
            resumed = open_batch(trials)
            if resumed is not None:  # a killed worker's batch, part of it finished: its other members alone
                plan, held = resumed
                size = min(plan[1] - held, slots)
            else:
                size = min(batch, slots)
                plan = [slot(trials), size]
            asked = ask_batch(study, space, sampler, seed, size, me, heart, plan)
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
                which = f"trial{f's {first}-{last}' if last > first else f' {first}'}"
                bar.set_postfix_str(f"training {which} on {len(folds)} folds")
                where = lambda at: bar.set_postfix_str(f"{which}: {at}")  # noqa: E731 - which fold (and epoch) trains now
                run_batch(study, keep, space, seed, folds, device, heart, prune, note=where, objective=spec.objective)
                bar.set_postfix_str("", refresh=False)
                bar.n = min(sum(s in finished for s in states()), n_trials)
                bar.refresh()
    finally:
        heart.close()
        bar.close()
    return best_result(study, space, seed, fold_unseen_classes(benchmark, fold_classes))
