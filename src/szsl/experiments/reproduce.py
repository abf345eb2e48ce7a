"""``reproduce``: for each dataset, tune on the validation folds, evaluate the best parameters
on the test split over 5 seeds, sweep q and tau for the figures, and write the table.

Stages per dataset, each cached as ``<out>/<DS>/<stage>.json`` (written atomically, with the
inputs it was computed from; a stage is skipped when its file is present, complete and made from
the same inputs): ``tune`` (the Optuna study itself lives in ``<out>/szsl-tune.db`` and resumes
trial by trial), ``final``, ``sweep_q``, ``sweep_tau``. Only ``tune`` selects anything; the other
stages read the test split and never feed back into selection. The final model is the ensemble of the
best few trials (``ReproduceOptions.ensemble``, chosen by validation H in ``tune``; 1 = the best alone).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from szsl.budget import EPOCH_STEPS
from szsl.data import find_datasets  # noqa: F401 - the one dataset resolver, re-exported
from szsl.errors import SZSLError
from szsl.experiments.final import DEFAULT_SEEDS
from szsl.experiments.paper import display_name
from szsl.experiments.report import write_results
from szsl.experiments.stages import load_stage, save_stage
from szsl.experiments.sweep import DEFAULT_VALUES
from szsl.final_model import (
    DEFAULT_ANCHOR,
    DEFAULT_CALIBRATE,
    DEFAULT_ENSEMBLE,
    ENSEMBLE_MARGIN,
    CalibrationError,
    anchor_for,
    anchor_weight_for,
    final_members,
)
from szsl.objective import DEFAULT_OBJECTIVE
from szsl.protocol import fold_unseen_classes

STAGES = ("tune", "duet", "final", "sweep_q", "sweep_tau")
REPRODUCE_TRIALS = 20
REPRODUCE_EPOCHS = 20


@dataclass
class ReproduceOptions:
    trials: int = REPRODUCE_TRIALS
    epochs: int | None = REPRODUCE_EPOCHS
    epoch_steps: int = EPOCH_STEPS  # budget.scaled_batch: the fixed batch size halves (to 32 at least) until an epoch has these steps
    min_steps: int = 0  # budget.scaled_epochs (an option): more epochs until a run has this many optimizer steps on trainval
    space: str | None = None  # a JSON space file
    search_mass: bool = False
    fold_classes: str = "ratio"  # protocol.validation_splits: "ratio", "matched", "all" or "trainval" (the paper's folds)
    prune: str = "halving"  # pruning.PRUNERS: the multi-fidelity pruner ("none": every trial to its full budget)
    objective: str = DEFAULT_OBJECTIVE  # objective.OBJECTIVES: what ranks the trials ("plain": szsl 0.3 and earlier)
    ensemble: int = DEFAULT_ENSEMBLE  # the final model: the best <= ensemble trials within ensemble_margin of the best, averaged
    ensemble_margin: float = ENSEMBLE_MARGIN  # points of mean validation H (1 trial: the best alone)
    calibrate: str = DEFAULT_CALIBRATE  # final_model.CALIBRATIONS: the members' calibration before the average (plain is reported too)
    anchor: str = DEFAULT_ANCHOR  # final_model.ANCHORS: szsl's untuned setting joins the final model's members (auto: on small data)
    sampler: str = "tpe"
    batch: int = 8
    seed: int = 0
    storage: str | None = None
    timeout: float | None = None
    device: str = "auto"
    seeds: Sequence[int] = DEFAULT_SEEDS
    sweep_seeds: Sequence[int] = (0,)
    q_values: Sequence[float] = DEFAULT_VALUES["q"]
    tau_values: Sequence[float] = DEFAULT_VALUES["tau"]
    sweeps: bool = True
    duet: bool = True  # also report szsl.methods.duet built on the final model (szsl's blend with cn)
    progress: bool = True


def reproduce(
    root: str | None, datasets: Sequence[str] | None, out: str | Path = "results", options: ReproduceOptions | None = None
) -> dict[str, Any]:
    """Run every stage for every dataset (skipping finished ones) and write the results files."""
    from szsl.lock import folder_lock
    from szsl.progress import progress_bar
    from szsl.search_space import load_space
    from szsl.study_storage import sqlite_url

    opts = options or ReproduceOptions()
    out = Path(out)
    names = find_datasets(root, datasets)
    space = load_space(opts.space, epochs=opts.epochs, search_mass=opts.search_mass)
    storage = opts.storage or sqlite_url(out / "szsl-tune.db")
    with folder_lock(out):  # one reproduce per output folder: a second one is refused, not interleaved
        started = time.monotonic()
        per_dataset: dict[str, dict[str, Any]] = {}
        stages = [s for s in STAGES if (opts.sweeps or not s.startswith("sweep")) and (opts.duet or s != "duet")]
        bar = progress_bar(len(names) * len(stages), "reproduce", "stage", enabled=opts.progress)
        try:
            for name in names:
                per_dataset[name] = _run_dataset(root, name, out, space, storage, opts, bar)
        finally:
            bar.close()
        return write_results(out, names, per_dataset, opts, time.monotonic() - started)


def _run_dataset(root, name: str, out: Path, space, storage: str, opts: ReproduceOptions, bar) -> dict[str, Any]:
    from szsl.config import TrainConfig
    from szsl.data import load_benchmark
    from szsl.experiments.figures import soft_label_panel_data
    from szsl.experiments.final import final_evaluation
    from szsl.experiments.sweep import run_sweep
    from szsl.study_spec import StudySpec
    from szsl.study_storage import redact
    from szsl.tune import tune

    folder = out / Path(name).stem  # an own-data path names its folder by its last part
    cache: dict[str, Any] = {}
    benchmark = None

    def bench():
        nonlocal benchmark
        if benchmark is None:
            benchmark = load_benchmark(name, root)
        return benchmark

    def stage(label: str, key: dict[str, Any], compute) -> dict[str, Any]:
        path = folder / f"{label}.json"
        result = load_stage(path, key)
        if result is None:
            bar.set_postfix_str(f"{display_name(name)}: {label}")
            result = compute()
            save_stage(path, key, result)
        bar.update(1)
        return result

    space = space.with_budget(len(bench().trainval), opts.epoch_steps, opts.min_steps)
    spec = StudySpec.build(
        bench(), n_trials=opts.trials, storage=storage, space=space, sampler=opts.sampler, seed=opts.seed, batch=opts.batch,
        timeout=opts.timeout, fold_classes=opts.fold_classes, prune=opts.prune, objective=opts.objective,
    )
    tune_key = {"study": spec.study_name, "storage": redact(storage), "trials": opts.trials}

    def do_tune():
        r = tune(bench(), spec, device=opts.device, progress=opts.progress)
        if r.n_complete + r.n_pruned < opts.trials:
            # A timeout stopped the search early: report it, but do not cache it as finished.
            raise _Incomplete(r)
        return r.to_dict()

    try:
        cache["tune"] = stage("tune", tune_key, do_tune)
    except _Incomplete as inc:
        cache["tune"] = inc.result.to_dict()
        cache["tune"]["incomplete"] = True
        bar.update(1)
    best = TrainConfig.from_dict(cache["tune"]["best_config"])
    try:
        anchor = anchor_for(opts.anchor, int(bench().trainval.size))
        weight = anchor_weight_for(fold_unseen_classes(bench(), opts.fold_classes)) if anchor else None
        members, gammas, chosen, weights = final_members(
            cache["tune"], opts.ensemble, opts.ensemble_margin, opts.calibrate, anchor=anchor, anchor_weight=weight
        )
    except CalibrationError as exc:
        raise SZSLError(f"{cache['tune'].get('study', 'the study')}: {exc} (--calibrate none)") from None
    seeds = [int(s) for s in opts.seeds]
    choice = None
    if opts.duet:  # duet's weight and shift for this final model, on the study's own folds (trainval only)
        from szsl.experiments.final import duet_choice
        from szsl.methods.duet import CN_BUDGET, FOLD_SEEDS, WEIGHTS

        key = {"members": [m.to_dict() for m in members], "gammas": gammas, "fold_seed": opts.seed, "fold_classes": opts.fold_classes,
               "cn": CN_BUDGET, "weights": list(WEIGHTS), "fold_seeds": FOLD_SEEDS, "szsl_alone": "as calibrated"}
        choice = cache["duet"] = stage(
            "duet", key,
            lambda: duet_choice(bench(), members, gammas, fold_seed=opts.seed, fold_classes=opts.fold_classes, device=opts.device),
        )
    key = {"config": best.to_dict(), "seeds": seeds}
    if len(members) > 1:  # a single model keeps szsl 0.2's key (and its cached stage)
        key["ensemble"] = [m.to_dict() for m in members]
    if gammas is not None:  # "none" keeps szsl 0.2's key (and its cached stage)
        key.update(gammas=gammas, calibrate=opts.calibrate)
    if choice is not None:  # without duet the key (and the cached stage) stays as before
        key["duet"] = choice
    if weights is not None:  # equal weights keep the key (and the cached stage) as before
        key["weights"] = weights
    anchored = bool(chosen[-1].get("anchor"))
    cache["final"] = stage(
        "final",
        key,
        lambda: {
            **final_evaluation(
                bench(), best, seeds=seeds, device=opts.device, progress=False, ensemble=members, gammas=gammas,
                calibrate=gammas is not None, duet=choice, weights=weights,
            ),
            "anchored": anchored,  # the last member is the untuned setting (final_model.anchor_for)
            "weights": weights,  # the members' weights in the average (None: equal; final_model.anchor_weight_for)
        },
    )
    if choice is not None:
        cache["duet"] = {**choice, **cache["final"]["duet"]}
    if opts.sweeps:
        sweep_seeds = [int(s) for s in opts.sweep_seeds]
        for param, values in (("q", opts.q_values), ("tau", opts.tau_values)):
            values = [float(v) for v in values]
            key = {"base": best.to_dict(), "values": values, "seeds": sweep_seeds}

            def compute(param=param, values=values):
                result = run_sweep(bench(), best, param, values, seeds=sweep_seeds, device=opts.device)
                if param == "tau":
                    result["soft_labels"] = soft_label_panel_data(bench())
                return result

            cache[f"sweep_{param}"] = stage(f"sweep_{param}", key, compute)
    return cache


class _Incomplete(Exception):
    def __init__(self, result):
        super().__init__("tuning stopped before the requested trials")
        self.result = result
