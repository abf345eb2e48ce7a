"""One batch of a study: its trials asked (``ask_batch``), trained as ONE population per fold, and told their mean
validation H (``run_batch``), with each complete trial's calibrated-stacking gamma (``fold_gamma``).

A trial's proposal comes from a sampler seeded by (study seed, its slot: ``slot``), so a resumed study asks what
the uninterrupted one asked; a killed worker's part-finished batch is completed as planned (``open_batch``).
"""

from __future__ import annotations

import hashlib
import math
import os

from szsl.errors import SZSLError
from szsl.objective import DEFAULT_OBJECTIVE, fold_value, needs_curves
from szsl.pruning import halving, prunable, prune_rungs
from szsl.search_space import SearchSpace, next_grid_point
from szsl.study_storage import Heartbeat, is_lost

SAMPLERS = ("tpe", "random", "grid")


def make_sampler(kind: str, seed: int):
    import optuna

    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if kind == "grid":  # grid points are enqueued by ``next_grid_point``; this only fills nothing
        return optuna.samplers.RandomSampler(seed=seed)
    raise SZSLError(f"sampler {kind!r}: expected one of {', '.join(SAMPLERS)}")


def slot(trials) -> int:
    """The slot of the trial asked next: how many trials the study holds, those lost with a killed worker
    (``study_storage.is_lost``) not counted. An uninterrupted study has none, so this is its trial number;
    a resumed one fills the lost slots again (re-queued copies first) and goes on with the same slots."""
    return sum(1 for t in trials if not is_lost(t))


def open_batch(trials) -> tuple[list[int], int] | None:
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


def ask_batch(study, space: SearchSpace, sampler: str, seed: int, b: int, me: dict, heart: Heartbeat, plan: list[int] | None = None):
    from optuna.trial import TrialState

    asked = []
    for _ in range(b):
        trials = study.get_trials(deepcopy=False)
        others = any(t.state == TrialState.RUNNING and (t.user_attrs.get("worker") or {}) != me for t in trials)
        # Deterministic alone (same slot and finished history -> same proposals, however often the study was
        # interrupted: ``slot``); diversified when others run too. A re-queued trial (WAITING) is asked first
        # and keeps its parameters.
        key = f"{seed}:{slot(trials)}:{os.getpid() if others else 0}"
        study.sampler = make_sampler(sampler, int(hashlib.sha256(key.encode()).hexdigest()[:8], 16))
        if sampler == "grid" and not any(t.state == TrialState.WAITING for t in trials):
            point = next_grid_point(space, seed, trials)
            if point is None:  # every grid point is done or taken
                break
            study.enqueue_trial(point)
        trial = study.ask()
        trial.set_user_attr("worker", me)  # at once: the owner of a RUNNING trial must be known
        if plan is not None:
            trial.set_user_attr("batch", plan)  # the population it trains in (open_batch)
        values = space.suggest(trial)
        heart.add(trial.number)  # after the suggestions: a kill in between leaves a trial that can be re-run
        asked.append((trial, values))
    return asked


def run_batch(
    study, batch, space: SearchSpace, seed: int, folds, device, heart: Heartbeat, prune: str = "none", note=None,
    objective: str = DEFAULT_OBJECTIVE,
) -> None:
    """Train the batch's settings as one population per fold, tell each trial its validation objective
    (``objective.fold_value``: calibrated or plain mean fold H) or PRUNED / FAIL.
    ``note``: told which fold (and epoch) is training, for the progress display."""
    from optuna.trial import TrialState

    from szsl.evaluation import evaluate, evaluate_rungs

    configs = [space.config(values, seed) for _, values in batch]
    rungs = prune_rungs(max(getattr(c, "epochs", 0) for c in configs), prune) if prunable(space) else []
    stopped_at = [0] * len(configs)
    if rungs:  # one population per fold, scored at the rungs; the losers stop there
        per_fold, stopped_at = evaluate_rungs(
            space.method, folds, configs, rungs, lambda epoch, running, runs: halving(study, batch, epoch, running, runs, objective),
            seed=seed, device=device, keep_curves=True, rung_curves=needs_curves(objective), note=note,
        )
    else:  # one population per fold, through the one harness
        per_fold = []
        for k, data in enumerate(folds, start=1):
            if note is not None:
                note(f"fold {k}/{len(folds)}")
            per_fold.append(evaluate(space.method, data, configs, seed=seed, device=device, with_t1=False, keep_curves=True))
    invalid = None  # the first trial whose objective is not a number (its folds measured nothing): an error, after all are told
    for i, (trial, _values) in enumerate(batch):
        results = [fold[i] for fold in per_fold]
        bad = next((r for r in results if r.diverged), None)
        scores = None if bad is not None else [{k: round(float(r.metrics[k]), 4) for k in ("U", "S", "H")} for r in results]
        if bad is not None:
            attrs, value, state = {"diverged": True, "fail_reason": bad.message}, None, TrialState.FAIL
        elif stopped_at[i]:
            attrs, value, state = {"folds": scores, "pruned_at_epoch": stopped_at[i]}, None, TrialState.PRUNED
        else:
            gamma, h_cs = fold_gamma(results)
            attrs, value, state = (
                {
                    "folds": scores,
                    "config": dict(configs[i]),
                    "gamma": gamma,
                    "H_cs": h_cs,
                    "H_plain": round(fold_value(results, "plain"), 4),
                },
                fold_value(results, objective),
                TrialState.COMPLETE,
            )
            if not math.isfinite(value):  # optuna would FAIL a NaN silently, and the study ask for the same setting again forever
                reason = (f"trial {trial.number}: its validation objective is not a number (fold U / S / H "
                          f"{', '.join('/'.join(str(f[k]) for k in ('U', 'S', 'H')) for f in scores)}): the folds measured nothing")
                attrs, value, state = {"invalid": True, "fail_reason": reason}, None, TrialState.FAIL
                invalid = invalid or reason
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
    if invalid:
        raise SZSLError(invalid)


def fold_gamma(results) -> tuple[float, float]:
    """The calibrated-stacking gamma that maximises a trial's mean H over its folds (``methods.calibration``;
    validation scores only) and that mean H in %. Recorded with every complete trial (user attributes ``gamma``,
    ``H_cs``, beside ``H_plain``); the trial's value is its objective (``objective.fold_value``)."""
    from szsl.methods.calibration import choose_gamma

    gamma, h = choose_gamma([r.curve() for r in results])
    return float(gamma), round(h, 4)
