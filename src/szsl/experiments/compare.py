"""Compare methods with the same protocol and budget: tune on the validation folds, then
evaluate several seeds on the final split, with calibrated stacking and seen-unseen curves.

Per method:
1. Selection (never reads test data; only ``protocol.validation_splits``, with the folds of the
   ``protocol``: "default" = szsl tune's ratio folds, "paper" = trainval-class folds): ``trials`` random-search
   trials, each scored by the mean H over the class folds. Every method (network or closed form)
   goes through the one study loop ``szsl.tune.tune`` (Optuna, sampler "random", stored and
   resumable) over its own space ``search_space.make_space(method=name)``.
2. Calibration: the calibrated-stacking gamma that maximises the selected trial's mean validation H over
   the folds, chosen exactly by the study on that trial's fold scores (``trial_batch.fold_gamma``).
3. Final: one model per seed of ``seeds`` (one population) trained on trainval and scored on test_seen /
   test_unseen (``protocol.final_split``): U, S, H, T1, AUSUC, and U, S, H with the chosen gamma.

Methods: ``None`` = every registered method (the ablations included); ``"all"`` (alone or inside
a list) = every registered method except szsl's ablations (``methods.ABLATIONS``): the methods of
the paper's Table 2 layout.

Budget: ``trials``, ``seeds`` (the list of seeds of the final models, default 0-4); ``epochs`` / ``hidden`` fix those
of the network methods; ``params`` fixes (or re-ranges) any hyperparameter of any compared method, e.g. ``{"tf-vaegan": {"epochs": 20}}``
(the per-method knob, for the generative methods' own epochs among others).

Outputs (atomic): compare.md, compare.csv, compare.json, compare.png (every method's seen-unseen
curve of its first seed; filled marker: the curve's highest H, hollow: the gamma chosen on the validation
folds; a key under the axes says so), compare_table2.md and compare_table2.csv (the paper's Table 2 layout,
published next to honest numbers: ``szsl.experiments.table2``) in ``out``; Optuna studies in
``out/studies.db``.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from szsl.data.benchmark import Benchmark
from szsl.errors import SZSLError
from szsl.evaluation import evaluate
from szsl.experiments.compare_report import CompareResult, MethodResult, Selection
from szsl.lock import folder_lock
from szsl.methods import ABLATIONS, get_method, method_names
from szsl.methods.calibration import choose_gamma
from szsl.progress import progress_bar
from szsl.protocol import final_split, split_data, validation_splits
from szsl.search_space import make_space
from szsl.study_spec import check_timeout
from szsl.study_storage import sqlite_url
from szsl.tune import tune

ALL = "all"  # every registered method except the ablations

# The selection protocol of every method: "default" is szsl tune's (ratio folds, szsl's default space,
# successive-halving pruning of network methods, trials ranked by calibrated validation H); "paper" is the
# paper's (trainval-class folds, szsl's paper space, every trial to its full budget, plain H), szsl 0.1's compare.
PROTOCOLS = {
    "default": {"fold_classes": "ratio", "base": "default", "prune": "halving", "objective": "calibrated"},
    "paper": {"fold_classes": "trainval", "base": "paper", "prune": "none", "objective": "plain"},
}


DEFAULT_SEEDS = (0, 1, 2, 3, 4)


def _check_int(name: str, value, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SZSLError(f"{name}={value!r}: expected an integer >= {low}")


def check_seeds(seeds: Sequence[int]) -> list[int]:
    """``seeds`` as a list: the seeds of the final models (as ``szsl reproduce --seeds``), each an integer >= 0, no repeats."""
    if isinstance(seeds, (int, str, bytes)) or not isinstance(seeds, Sequence) or not seeds:
        raise SZSLError(f"seeds={seeds!r}: expected a non-empty list of seeds, e.g. [0, 1, 2] (not a count)")
    for s in seeds:
        _check_int("seed", s, 0)
    repeated = next((s for i, s in enumerate(seeds) if s in seeds[:i]), None)
    if repeated is not None:
        raise SZSLError(f"seeds: {repeated} is listed twice")
    return [int(s) for s in seeds]


def resolve_methods(methods: str | Sequence[str] | None = None) -> list[str]:
    """The registry names ``methods`` stands for: None = every registered method; ``"all"`` (alone or as
    an item) = every registered method except the ablations (``methods.ABLATIONS``); a name or a list of names."""
    items = list(method_names()) if methods is None else [methods] if isinstance(methods, str) else list(methods)
    names: list[str] = []
    for item in items:
        if isinstance(item, str) and item.strip().lower() == ALL:
            names += [n for n in method_names() if n not in ABLATIONS]
        else:
            names.append(get_method(item).name)
    if not names:
        raise SZSLError("methods: expected at least one method")
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise SZSLError(f"methods: {dup!r} is listed twice")
    return names


def parse_method_params(items: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``["f-clswgan.epochs=10", ...]`` (METHOD.NAME=VALUE, VALUE read as JSON, else text) -> ``{"f-clswgan": {"epochs": 10}}``."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, text = str(item).partition("=")
        method, dot, name = key.strip().rpartition(".")
        if not sep or not dot or not method.strip() or not name.strip():
            raise SZSLError(f"--param {item!r}: expected METHOD.NAME=VALUE (e.g. f-clswgan.epochs=10)")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        out.setdefault(get_method(method).name, {})[name.strip()] = value
    return out


def method_space(
    method: str, *, epochs: int | None = None, hidden: int | None = None, params: Mapping[str, Any] | None = None,
    protocol: str = "default", dataset: str | None = None,
):
    """The search space compare tunes ``method`` over: its space (for szsl the protocol's: default or paper),
    ``epochs`` / ``hidden`` fixed for a network method, then ``params`` (space overrides) on top; the method's
    published values for ``dataset`` (``PER_DATASET``) fix the parameters the space does not search, under ``params``."""
    m = get_method(method)
    overrides = {**m.budget_values(epochs=epochs, hidden=hidden), **dict(params or {})}
    return make_space(overrides, where=f"method {m.name}", method=m.name, base=_protocol(protocol)["base"], dataset=dataset)


def _protocol(name: str) -> dict[str, str]:
    if name not in PROTOCOLS:
        raise SZSLError(f"protocol={name!r}: expected one of {', '.join(PROTOCOLS)}")
    return PROTOCOLS[name]


def select_method(
    benchmark: Benchmark,
    method: str,
    *,
    trials: int,
    storage: str,
    timeout: float | None = None,
    seed: int = 0,
    epochs: int | None = None,
    hidden: int | None = None,
    params: Mapping[str, Any] | None = None,
    device="auto",
    progress: bool = False,
    protocol: str = "default",
) -> Selection:
    """Tune ``method`` on the validation folds and choose its calibration gamma there. Never reads test data.

    ``epochs`` / ``hidden`` fix those of a network method; ``params`` overrides entries of the method's space
    (a fixed value, ``{"choices": [...]}`` or ``{"low": a, "high": b}``), on top of them. ``timeout`` (seconds): no
    new trial is asked after that long (``tune``'s), so it bounds any method's search.
    """
    m = get_method(method)
    _check_int("trials", trials, 1)
    start = time.perf_counter()
    proto = _protocol(protocol)
    space = method_space(m.name, epochs=epochs, hidden=hidden, params=params, protocol=protocol, dataset=benchmark.name)
    # The paper protocol keeps szsl 0.2's study names; the default one names its fold classes (a changed default starts anew).
    suffix = "" if protocol == "paper" else f"-{protocol}-{proto['fold_classes']}-{proto['objective']}"
    result = tune(
        benchmark, n_trials=trials, storage=storage, space=space, sampler="random", seed=seed, device=device, progress=progress,
        study_name=f"compare-{benchmark.name}-{m.name}-{space.fingerprint()}-s{seed}{suffix}", fold_classes=proto["fold_classes"],
        prune=proto["prune"], objective=proto["objective"], timeout=timeout,
    )
    params = dict(result.best_config)
    # Calibration: the gamma the study chose on the best trial's own fold scores (``trial_batch.fold_gamma``); a trial
    # of a study from before szsl 0.3 recorded none: its model is trained once more per fold to choose it.
    best = result.top[0]
    gamma, cv_h_cs = best["gamma"], best["H_cs"]
    if gamma is None or cv_h_cs is None:
        gamma, cv_h_cs = _fold_gamma_again(benchmark, m, params, seed=seed, device=device, fold_classes=proto["fold_classes"])
    return Selection(m.name, params, float(result.best_value), gamma, cv_h_cs, trials, time.perf_counter() - start)


def _fold_gamma_again(benchmark: Benchmark, m, params: dict, *, seed: int, device, fold_classes: str) -> tuple[float, float]:
    """(gamma, mean validation H with it) of ``params`` trained once more on each validation fold."""
    folds = [split_data(benchmark, s) for s in validation_splits(benchmark, seed, fold_classes=fold_classes)]
    runs = [evaluate(m, data, [params], seed=seed, device=device, keep_scores=True)[0] for data in folds]
    bad = next((r for r in runs if r.diverged), None)
    if bad is not None:
        raise SZSLError(f"{m.name}: the selected configuration diverged on a validation fold: {bad.message}")
    return choose_gamma([r.curve() for r in runs])


def evaluate_final(
    benchmark: Benchmark, selection: Selection, *, seeds: Sequence[int] = DEFAULT_SEEDS, device="auto", progress: bool = False
) -> MethodResult:
    """Train one model per seed of ``seeds`` with the selected params on trainval; score the test split."""
    seeds = check_seeds(seeds)
    m = get_method(selection.method)
    data = split_data(benchmark, final_split(benchmark))
    if m.deterministic:  # every seed gives the same model: fit it once
        runs = evaluate(m, data, [selection.params], seed=seeds[0], device=device, keep_scores=True) * len(seeds)
        per_model = runs[0].train_seconds
    else:
        runs = evaluate(
            m, data, [{**selection.params, "seed": s} for s in seeds], device=device, progress=progress, keep_scores=True
        )
        # Network seeds train together as one population (each reports the group's time).
        per_model = runs[0].train_seconds / len(runs) if m.shared_train_time else float(np.mean([r.train_seconds for r in runs]))
    per_seed = []
    curve = None
    for run in runs:
        if run.diverged:
            raise SZSLError(f"{m.name}: final training diverged: {run.message}")
        c = run.curve()
        curve = curve or c
        row = dict(run.metrics)
        row["AUSUC"] = c.ausuc
        cs = run.calibrated(selection.gamma)
        row.update(U_cs=cs["U"], S_cs=cs["S"], H_cs=cs["H"])
        per_seed.append(row)
    return MethodResult(selection, per_seed, per_model, curve, deterministic=m.deterministic)


def compare(
    benchmark: Benchmark,
    methods: str | Sequence[str] | None = None,
    *,
    trials: int = 10,
    timeout: float | None = None,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    seed: int = 0,
    epochs: int | None = None,
    hidden: int | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    out: str | Path | None = None,
    device="auto",
    progress: bool = False,
    log: Callable[[str], None] | None = None,
    protocol: str = "default",
) -> CompareResult:
    """Tune, calibrate and evaluate every method alike; write the tables and figure to ``out`` when given.

    ``methods``: None = every registered method (the ablations included), ``"all"`` = every one but the
    ablations (``resolve_methods``). ``params``: per-method space overrides, ``{"f-clswgan": {"epochs": 10}}``.
    ``protocol``: "default" (szsl tune's: ratio folds, the default space, pruning) or "paper" (``PROTOCOLS``).
    ``seeds``: the seeds of the final models, one model each (a list, as ``szsl reproduce``'s; never a count);
    ``seed``: the seed of the fold split, the search and the calibration runs. ``timeout``: seconds of tuning per
    method after which no new trial is asked (None: ``trials`` alone bounds it).
    """
    _protocol(protocol)
    names = resolve_methods(methods)
    bad = next((k for k, v in (params or {}).items() if not isinstance(v, Mapping)), None)
    if bad is not None:
        raise SZSLError(f"params[{bad!r}]: expected a mapping of hyperparameter -> value, got {type(params[bad]).__name__}")
    params = {get_method(k).name: dict(v) for k, v in (params or {}).items()}
    stray = next((k for k in params if k not in names), None)
    if stray is not None:
        raise SZSLError(f"params: method {stray!r} is not among the compared methods ({', '.join(names)})")
    _check_int("trials", trials, 1)
    check_timeout(timeout)  # tune's own check, before the first (maybe long) tuning starts
    seeds = check_seeds(seeds)
    _check_int("seed", seed, 0)
    if epochs is not None:
        _check_int("epochs", epochs, 1)
    if hidden is not None:
        _check_int("hidden", hidden, 1)
    for name in names:  # every space is valid before the first (maybe long) tuning starts
        method_space(name, epochs=epochs, hidden=hidden, params=params.get(name), protocol=protocol, dataset=benchmark.name)
    settings = dict(
        methods=names, trials=trials, timeout=timeout, seeds=seeds,
        seed=seed, epochs=epochs, hidden=hidden, params=params, device=str(device),
        protocol=protocol,
    )
    result = CompareResult(benchmark.name, settings)
    # One compare per output folder: a second one is refused at once instead of interleaving writes.
    with tempfile.TemporaryDirectory() as tmp, folder_lock(out) if out is not None else contextlib.nullcontext():
        db = Path(out) / "studies.db" if out is not None else Path(tmp) / "studies.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        bar = progress_bar(len(names), f"compare {benchmark.name}", "method", enabled=progress)
        for name in names:
            bar.set_postfix_str(f"{name}: tuning")
            sel = select_method(
                benchmark,
                name,
                trials=trials,
                timeout=timeout,
                storage=sqlite_url(db),
                seed=seed,
                epochs=epochs,
                hidden=hidden,
                params=params.get(name),
                device=device,
                progress=progress,
                protocol=protocol,
            )
            bar.set_postfix_str(f"{name}: final models, {len(seeds)} seed{'s' if len(seeds) != 1 else ''}")
            res = evaluate_final(benchmark, sel, seeds=seeds, device=device, progress=progress)
            bar.set_postfix_str("", refresh=False)
            bar.update(1)
            result.results.append(res)
            if log is not None:
                r = res.summary()
                log(
                    f"{name}: cv H={sel.cv_h:.1f} -> test U={r['U']:.1f} S={r['S']:.1f} H={r['H']:.1f} T1={r['T1']:.1f} "
                    f"AUSUC={r['AUSUC']:.3f} H(CS)={r['H_cs']:.1f} (gamma={sel.gamma:.3g}; tune {sel.seconds:.0f} s)"
                )
        bar.close()
        if out is not None:
            result.write(out)
    return result
