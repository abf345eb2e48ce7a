"""Hyperparameter search by the paper's protocol: an Optuna study over the validation folds.

Objective of one trial: mean H over the class folds of ``protocol.validation_splits`` (train on
80 % of the pseudo-seen trainval images, score H on the other 20 % and on all images of the
pseudo-unseen classes). The test split is never read: the fold data come from
``protocol.validation_splits`` only, computed once per study run, not per trial.

Trials run in batches (Optuna ask/tell): B trials are asked, their TrainConfigs form ONE
population per fold (``evaluation.evaluate_configs``), and each trial is told its mean H.
A member that diverges in any fold makes its trial FAIL (with the message), never a score.

Storage: any SQLAlchemy URL (SQLite file by default, PostgreSQL/MySQL for many workers on many
machines). Re-running the same call continues the study: COMPLETE trials count toward
``n_trials`` and are never recomputed. RUNNING trials of a process that died are failed and
their parameters re-queued (detected at once on the same host from the worker's pid, and on
other hosts from a missing heartbeat). Several workers never overshoot ``n_trials``: a freshly
asked trial whose rank among the live trials (COMPLETE, RUNNING, WAITING) is >= n_trials is
failed as surplus before it trains.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
import socket
import threading
import time
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from szsl.config import ACTIVATIONS, TrainConfig
from szsl.data.benchmark import Benchmark
from szsl.errors import SZSLError

SAMPLERS = ("tpe", "random", "grid")
BATCH_SIZES = (64, 128, 256, 512, 1024)
HIDDEN_SIZES = (128, 256, 512, 1024, 1500)
DEFAULT_EPOCHS = 30
DEFAULT_BATCH = 8
GRID_POINTS = 3  # points per continuous range under the grid sampler (override with "grid": n)
MAX_GRID_POINTS = 1000  # per range: the grid sampler lists every point of the product in memory
MAX_GRID_SIZE = 1_000_000
HEARTBEAT_INTERVAL = 20  # seconds between heartbeats of a RUNNING trial (RDB storages)
GRACE_PERIOD = 120  # a RUNNING trial without a heartbeat for this long is stale (other hosts)
POLL_SECONDS = 1.0
ORPHAN_SECONDS = 10.0  # a RUNNING trial without an owner label for this long was abandoned

# The paper's space, plus lr, l2 (lambda), l1 (gamma) and a fixed epoch budget.
PAPER_SPACE: dict[str, Any] = {
    "tau": {"low": 1e-2, "high": 10.0, "log": True},
    "batch_size": {"choices": list(BATCH_SIZES)},
    "q": {"low": 0.0, "high": 1.0},
    "alpha": {"low": 0.0, "high": 1.0},
    "hidden": {"choices": list(HIDDEN_SIZES)},
    "activation": {"choices": ["tanh", "sigmoid", "hard-sigmoid", "relu"]},
    "lr": {"low": 1e-4, "high": 1e-2, "log": True},
    "l2": {"low": 1e-7, "high": 1e-2, "log": True},
    "l1": {"low": 1e-7, "high": 1e-2, "log": True},
    "epochs": DEFAULT_EPOCHS,
}

# The default space (see docs/tuning.md for the study behind it): the soft-label mass m = alpha * q
# searched directly (alpha fixed to 1, so q is m), the temperature and the learning rate; the network
# shape, batch size and regularisation fixed (a batch of trials is one population; no l2/l1 costs).
DEFAULT_SPACE: dict[str, Any] = {
    "q": {"low": 0.05, "high": 1.0},
    "alpha": 1.0,
    "tau": {"low": 0.02, "high": 2.0, "log": True},
    "lr": {"low": 3e-4, "high": 3e-3, "log": True},
    "l2": 0.0,
    "l1": 0.0,
    "hidden": 512,
    "activation": "relu",
    "batch_size": 256,
    "epochs": DEFAULT_EPOCHS,
}

_INT_PARAMS = {"hidden", "batch_size", "epochs", "seed"}
_CONFIG_FIELDS = {f.name for f in fields(TrainConfig)}


# ----------------------------------------------------------------------------- search space


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "float", "int", "categorical", "fixed"
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple = ()
    value: Any = None
    grid: int = GRID_POINTS

    def to_json(self) -> Any:
        if self.kind == "fixed":
            return self.value
        if self.kind == "categorical":
            return {"choices": list(self.choices)}
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.grid != GRID_POINTS:
            out["grid"] = self.grid
        return out

    def grid_values(self) -> list:
        if self.kind == "categorical":
            return list(self.choices)
        if self.kind == "fixed":
            return [self.value]
        if self.log:
            vals = np.exp(np.linspace(math.log(self.low), math.log(self.high), self.grid))
        else:
            vals = np.linspace(self.low, self.high, self.grid)
        if self.kind == "int":
            return sorted({int(round(v)) for v in vals})
        return [float(v) for v in vals]


@dataclass(frozen=True)
class SearchSpace:
    """Per-parameter ranges, choices or fixed values over TrainConfig fields."""

    params: tuple[Param, ...]
    search_mass: bool = False

    @property
    def searched(self) -> list[Param]:
        return [p for p in self.params if p.kind != "fixed"]

    @property
    def fixed(self) -> dict[str, Any]:
        return {p.name: p.value for p in self.params if p.kind == "fixed"}

    def to_json(self) -> dict[str, Any]:
        return {p.name: p.to_json() for p in self.params}

    def fingerprint(self) -> str:
        blob = json.dumps({"space": self.to_json(), "search_mass": self.search_mass}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:8]

    def suggest(self, trial) -> dict[str, Any]:
        values = {}
        for p in self.searched:
            if p.kind == "categorical":
                values[p.name] = trial.suggest_categorical(p.name, list(p.choices))
            elif p.kind == "int":
                values[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)
            else:
                values[p.name] = trial.suggest_float(p.name, float(p.low), float(p.high), log=p.log)
        return values

    def config(self, values: Mapping[str, Any], seed: int) -> TrainConfig:
        merged = {**self.fixed, **values}
        merged.setdefault("seed", seed)
        return TrainConfig.from_dict(merged)

    def grid(self) -> dict[str, list]:
        return {p.name: p.grid_values() for p in self.searched}

    def grid_size(self) -> int:
        return int(np.prod([len(v) for v in self.grid().values()])) if self.searched else 1


SPACES = {"default": DEFAULT_SPACE, "paper": PAPER_SPACE}


def make_space(
    overrides: Mapping[str, Any] | None = None,
    *,
    epochs: int | None = None,
    search_mass: bool = False,
    where: str = "space",
    base: str = "default",
) -> SearchSpace:
    """The ``base`` space ("default" or "paper") with ``overrides`` (a space file's content) and ``epochs`` applied.

    Each override is a fixed value (``"l1": 0``), ``{"choices": [...]}`` or
    ``{"low": a, "high": b, "log": bool, "grid": n}``. ``search_mass``: fix alpha = 1 so that the
    searched q *is* the soft-label mass m = alpha * q (the only way alpha and q enter the loss).
    """
    if base not in SPACES:
        raise SZSLError(f"{where}: base space {base!r}: expected one of {', '.join(SPACES)}")
    spec: dict[str, Any] = dict(SPACES[base])
    for name, value in (overrides or {}).items():
        if name not in _CONFIG_FIELDS:
            raise SZSLError(f"{where}: unknown parameter {name!r}: expected some of {', '.join(sorted(_CONFIG_FIELDS))}")
        spec[name] = value
    if epochs is not None:
        spec["epochs"] = epochs
    if search_mass:
        spec["alpha"] = 1.0
    params = tuple(_parse_param(name, value, where) for name, value in spec.items())
    space = SearchSpace(params, search_mass=search_mass)
    # Every fixed value and every end of every range must make a valid TrainConfig.
    probe = {p.name: (p.value if p.kind == "fixed" else p.choices[0] if p.kind == "categorical" else p.low) for p in params}
    for p in space.searched:
        for v in (p.choices if p.kind == "categorical" else (p.low, p.high)):
            try:
                TrainConfig.from_dict({**probe, p.name: v})
            except SZSLError as exc:
                raise SZSLError(f"{where}: {p.name}: {exc}") from None
    try:
        TrainConfig.from_dict(probe)
    except SZSLError as exc:
        raise SZSLError(f"{where}: {exc}") from None
    return space


def load_space(path: str | os.PathLike | None, *, epochs: int | None = None, search_mass: bool = False) -> SearchSpace:
    """A named space ("default", "paper") or a JSON space file (``{"tau": {"low": 0.1, "high": 1, "log": true}, "l1": 0, ...}``).

    A file's parameters override the default space; ``"base": "paper"`` in the file starts from the
    paper's space instead.
    """
    if path is None or str(path) in SPACES:
        return make_space(epochs=epochs, search_mass=search_mass, base=str(path or "default"))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SZSLError(f"--space {path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise SZSLError(f"--space {path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
    try:
        content = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SZSLError(f"--space {path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(content, dict):
        raise SZSLError(f"--space {path}: expected a JSON object of parameter -> range/choices/value")
    base = content.pop("base", "default")
    return make_space(content, epochs=epochs, search_mass=search_mass, where=f"--space {path}", base=base if isinstance(base, str) else repr(base))


def _finite(v: int | float) -> bool:
    """A finite number that fits a float64 (and an int64, for integers): JSON allows 10**400."""
    if isinstance(v, int):
        return abs(v) < 2**63
    return math.isfinite(v)


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _parse_param(name: str, value: Any, where: str) -> Param:
    is_int = name in _INT_PARAMS
    if not isinstance(value, dict):
        if isinstance(value, (list, tuple)):
            raise SZSLError(f"{where}: {name}: a list is ambiguous; write {{\"choices\": [...]}} or a single value")
        return Param(name, "fixed", value=value)
    keys = set(value)
    if "choices" in keys:
        extra = keys - {"choices"}
        choices = value["choices"]
        if extra or not isinstance(choices, list) or not choices:
            raise SZSLError(f"{where}: {name}: expected {{\"choices\": [non-empty list]}}")
        if len(choices) == 1:
            return Param(name, "fixed", value=choices[0])
        return Param(name, "categorical", choices=tuple(choices))
    extra = keys - {"low", "high", "log", "grid"}
    if extra or not {"low", "high"} <= keys:
        raise SZSLError(f"{where}: {name}: expected {{\"low\": a, \"high\": b, \"log\": false}} or {{\"choices\": [...]}}, got keys {sorted(keys)}")
    low, high, log = value["low"], value["high"], bool(value.get("log", False))
    grid = value.get("grid", GRID_POINTS)
    for v in (low, high):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not _finite(v):
            raise SZSLError(f"{where}: {name}: low/high must be finite numbers (below 2**63 for integers), got {_short(v)}")
    if is_int and not (float(low).is_integer() and float(high).is_integer()):
        raise SZSLError(f"{where}: {name}: low/high must be integers")
    if not low <= high:
        raise SZSLError(f"{where}: {name}: low={low} > high={high}")
    if log and low <= 0:
        raise SZSLError(f"{where}: {name}: a log range needs low > 0, got {low}")
    if isinstance(grid, bool) or not isinstance(grid, int) or not 1 <= grid <= MAX_GRID_POINTS:
        raise SZSLError(f"{where}: {name}: grid must be an integer in [1, {MAX_GRID_POINTS}]")
    if low == high:
        return Param(name, "fixed", value=int(low) if is_int else float(low))
    if is_int:
        return Param(name, "int", low=int(low), high=int(high), log=log, grid=grid)
    return Param(name, "float", low=float(low), high=float(high), log=log, grid=grid)


# ----------------------------------------------------------------------------- the study


@dataclass
class TuneResult:
    study_name: str
    best_value: float
    best_params: dict[str, Any]  # the searched parameters of the best trial
    best_config: TrainConfig
    best_trial: int
    folds: list[dict[str, float]]  # U, S, H per fold of the best trial
    n_complete: int
    n_failed: int
    space: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "study": self.study_name,
            "best_value": self.best_value,
            "best_params": self.best_params,
            "best_config": self.best_config.to_dict(),
            "best_trial": self.best_trial,
            "folds": self.folds,
            "n_complete": self.n_complete,
            "n_failed": self.n_failed,
            "objective": "mean H (%) over the validation folds",
            "space": self.space,
        }


def default_study_name(benchmark: Benchmark, space: SearchSpace, seed: int, sampler: str = "tpe", fold_classes: str = "all") -> str:
    """Same benchmark, space, seed, sampler and fold classes -> same name, so a re-run continues the study."""
    return f"{benchmark.name}-{sampler}-s{seed}-{space.fingerprint()}" + ("" if fold_classes == "all" else f"-{fold_classes}")


def sqlite_url(path: str | os.PathLike) -> str:
    return "sqlite:///" + str(Path(path).resolve())


def open_storage(url: str):
    """An Optuna RDB storage for any SQLAlchemy URL (heartbeats on, so dead workers are detected)."""
    import optuna

    # Heartbeats are driven by ``tune`` (not Study.optimize); Optuna's notes about that are noise here.
    _silence_optuna_notes()
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        db = url.split("///", 1)[-1]
        if db and db != ":memory:":
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 60}}
    last: Exception | None = None
    for attempt in range(6):
        try:
            return optuna.storages.RDBStorage(url, heartbeat_interval=HEARTBEAT_INTERVAL, grace_period=GRACE_PERIOD, **kwargs)
        except ImportError as exc:  # missing driver: retrying will not help
            last = exc
            break
        except Exception as exc:  # noqa: BLE001 - workers creating the schema at once race; retry
            last = exc
            if "://" not in url or "Could not parse" in str(exc) or "Can't load plugin" in str(exc):
                break
            time.sleep(0.2 * (attempt + 1))
    first_line = str(last).splitlines()[0] if last is not None and str(last) else ""
    raise SZSLError(f"--storage {redact(url)}: cannot open ({type(last).__name__}: {first_line})")


def redact(url: str) -> str:
    """The URL with any password replaced by ***."""
    if "://" in url and "@" in url.split("://", 1)[1]:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        if ":" in creds:
            creds = creds.split(":", 1)[0] + ":***"
        return f"{scheme}://{creds}@{host}"
    return url


def _benchmark_id(benchmark: Benchmark) -> dict[str, Any]:
    return {"name": benchmark.name, "n_images": benchmark.n_images, "feature_dim": benchmark.feature_dim, "n_classes": benchmark.n_classes}


def load_or_create_study(storage, study_name: str, *, space: SearchSpace, seed: int, sampler: str, benchmark: Benchmark, fold_classes: str = "all"):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=storage, study_name=study_name, direction="maximize", load_if_exists=True)
    meta = {
        "space": space.to_json(), "search_mass": space.search_mass, "seed": seed, "sampler": sampler,
        "benchmark": _benchmark_id(benchmark), "fold_classes": fold_classes,
    }
    attrs = study.user_attrs
    if "szsl" not in attrs:
        study.set_user_attr("szsl", meta)
    else:
        old = attrs["szsl"]
        for key, what in (("benchmark", "benchmark"), ("space", "search space"), ("search_mass", "--search-mass"), ("seed", "seed"), ("sampler", "sampler"), ("fold_classes", "--fold-classes")):
            if json.dumps(old.get(key), sort_keys=True) != json.dumps(meta[key], sort_keys=True):
                raise SZSLError(
                    f"study {study_name!r} was created with a different {what} ({json.dumps(old.get(key), sort_keys=True)[:120]}); "
                    f"use another --study name to start a new study"
                )
    return study


def _make_sampler(kind: str, space: SearchSpace, seed: int):
    import optuna

    if kind == "tpe":
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if kind == "grid":  # grid points are enqueued by ``_next_grid_point``; this only fills nothing
        return optuna.samplers.RandomSampler(seed=seed)
    raise SZSLError(f"sampler {kind!r}: expected one of {', '.join(SAMPLERS)}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Heartbeat:
    """Records heartbeats of this worker's RUNNING trials, so other hosts can tell we are alive."""

    def __init__(self, storage):
        self.storage = storage
        self.trial_ids: set[int] = set()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(HEARTBEAT_INTERVAL):
            self.beat()

    def beat(self) -> None:
        with self.lock:
            ids = list(self.trial_ids)
        for tid in ids:
            try:
                self.storage.record_heartbeat(tid)
            except Exception:  # noqa: BLE001 - a missed beat is retried next interval
                pass

    def add(self, tid: int) -> None:
        with self.lock:
            self.trial_ids.add(tid)
        try:
            self.storage.record_heartbeat(tid)
        except Exception:  # noqa: BLE001
            pass

    def remove(self, tid: int) -> None:
        with self.lock:
            self.trial_ids.discard(tid)

    def close(self) -> None:
        self.stop.set()


def _requeue(study, frozen) -> None:
    """Enqueue the parameters of a trial that died while RUNNING, so exactly they are re-run."""
    if frozen.params and not frozen.user_attrs.get("surplus"):
        study.enqueue_trial(frozen.params, user_attrs={"retry_of": frozen.number}, skip_if_exists=False)


def _fail_dead_trials(study, storage) -> int:
    """FAIL the RUNNING trials whose worker is gone; re-queue their parameters. Returns how many."""
    import optuna
    from optuna.trial import TrialState

    host = socket.gethostname()
    dead = []
    now = datetime.datetime.now()
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        w = t.user_attrs.get("worker")
        if w is None:
            # A worker labels its trial right after asking for it; a trial still unlabelled after
            # ORPHAN_SECONDS lost its worker in between.
            if t.datetime_start is not None and (now - t.datetime_start).total_seconds() > ORPHAN_SECONDS:
                dead.append(t)
        elif w.get("host") == host and isinstance(w.get("pid"), int) and w["pid"] != os.getpid() and not _pid_alive(w["pid"]):
            dead.append(t)
    for t in dead:
        try:
            study._storage.set_trial_user_attr(t._trial_id, "fail_reason", "worker process died (stale RUNNING trial)")
            if not study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL):
                continue
        except Exception:  # noqa: BLE001 - another worker got there first
            continue
        _requeue(study, t)
    # Other hosts: trials whose heartbeat stopped (the storage fails them, we re-queue).
    before = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
    optuna.storages.fail_stale_trials(study)
    after = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
    for number in before - after:
        t = study.trials[number]
        if t.state == TrialState.FAIL and "fail_reason" not in t.user_attrs:  # failed for a missing heartbeat
            _requeue(study, t)
    return len(dead) + len(before - after)


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
    on_batch: Callable[[int], None] | None = None,
    fold_classes: str = "all",
) -> TuneResult:
    """Run (or continue) the study until it holds ``n_trials`` COMPLETE trials; return the best.

    ``seed`` fixes the 80/20 image split of the folds, the members' initial weights and the
    sampler. ``timeout`` (seconds) stops asking for new trials after that long. Safe to run
    from many processes at once against one ``storage`` URL. ``fold_classes``: which classes a
    fold model knows ("all": the test-unseen classes too, by their attributes only; "trainval":
    the paper's folds; see ``protocol.validation_splits``).
    """
    with warnings.catch_warnings():
        _silence_optuna_notes()
        return _tune(
            benchmark, n_trials=n_trials, storage=storage, study_name=study_name, space=space, sampler=sampler,
            seed=seed, batch=batch, timeout=timeout, device=device, progress=progress, worker=worker, on_batch=on_batch,
            fold_classes=fold_classes,
        )


def _silence_optuna_notes() -> None:
    warnings.filterwarnings("ignore", message=".*[Hh]eartbeat.*")
    warnings.filterwarnings("ignore", message=".*fail_stale_trials.*")


def _tune(benchmark, *, n_trials, storage, study_name, space, sampler, seed, batch, timeout, device, progress, worker, on_batch, fold_classes) -> TuneResult:
    from optuna.trial import TrialState
    from tqdm.auto import tqdm

    from szsl.evaluation import evaluate_configs
    from szsl.protocol import split_data, validation_splits

    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise SZSLError(f"trials={n_trials!r}: expected an integer >= 1")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SZSLError(f"batch={batch!r}: expected an integer >= 1")
    if sampler not in SAMPLERS:
        raise SZSLError(f"sampler {sampler!r}: expected one of {', '.join(SAMPLERS)}")
    if timeout is not None and not (timeout > 0):
        raise SZSLError(f"timeout={timeout!r}: expected a number of seconds > 0")
    space = space or make_space()
    if sampler == "grid" and space.grid_size() > MAX_GRID_SIZE:
        raise SZSLError(f"the grid has {space.grid_size():,} points, more than {MAX_GRID_SIZE:,} (every point is listed in memory); use fewer grid points or --sampler tpe/random")
    if sampler == "grid" and space.grid_size() < n_trials:
        raise SZSLError(f"the grid has only {space.grid_size()} points, fewer than trials={n_trials}; lower --trials or add grid points")
    from szsl.protocol import FOLD_CLASSES

    if fold_classes not in FOLD_CLASSES:
        raise SZSLError(f"fold_classes={fold_classes!r}: expected one of {', '.join(FOLD_CLASSES)}")
    study_name = study_name or default_study_name(benchmark, space, seed, sampler, fold_classes)
    rdb = open_storage(storage)
    study = load_or_create_study(rdb, study_name, space=space, seed=seed, sampler=sampler, benchmark=benchmark, fold_classes=fold_classes)

    # The fold data, once per run (never per trial). Reads trainval images only.
    folds = [split_data(benchmark, s) for s in validation_splits(benchmark, seed, fold_classes=fold_classes)]
    me = {"host": socket.gethostname(), "pid": os.getpid(), "worker": worker}
    heart = _Heartbeat(rdb)
    start = time.monotonic()

    def states():
        return [t.state for t in study.get_trials(deepcopy=False)]

    n_done = sum(s == TrialState.COMPLETE for s in states())
    bar = tqdm(total=n_trials, initial=min(n_done, n_trials), desc=f"tune {benchmark.name}", unit="trial", disable=not progress, leave=False)
    max_failures = max(10, 3 * n_trials)
    try:
        while True:
            _fail_dead_trials(study, rdb)
            trials = study.get_trials(deepcopy=False)
            complete = sum(t.state == TrialState.COMPLETE for t in trials)
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
            if slots <= 0:  # the rest is being worked on by other workers: wait for them
                time.sleep(POLL_SECONDS)
                continue
            asked = _ask_batch(study, space, sampler, seed, min(batch, slots), me, heart)
            # Never overshoot: a trial ranked >= n_trials among the live ones is surplus.
            live = sorted(t.number for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)))
            rank = {num: i for i, num in enumerate(live)}
            keep = []
            for trial, values in asked:
                if rank.get(trial.number, n_trials) >= n_trials:
                    trial.set_user_attr("surplus", True)
                    trial.set_user_attr("fail_reason", "surplus: other workers already claimed the remaining trials")
                    study.tell(trial, state=TrialState.FAIL)
                    heart.remove(trial._trial_id)
                else:
                    keep.append((trial, values))
            if keep:
                _run_batch(study, keep, space, seed, folds, device, heart, evaluate_configs)
                bar.n = min(sum(s == TrialState.COMPLETE for s in states()), n_trials)
                bar.refresh()
            if on_batch is not None:
                on_batch(len(keep))
    finally:
        heart.close()
        bar.close()
    return best_result(study, space, seed)


def _ask_batch(study, space: SearchSpace, sampler: str, seed: int, b: int, me: dict, heart: _Heartbeat):
    from optuna.trial import TrialState

    asked = []
    for _ in range(b):
        trials = study.get_trials(deepcopy=False)
        others = any(t.state == TrialState.RUNNING and (t.user_attrs.get("worker") or {}) != me for t in trials)
        # Deterministic alone (same history -> same proposals); diversified when others run too.
        key = f"{seed}:{len(trials)}:{os.getpid() if others else 0}"
        study.sampler = _make_sampler(sampler, space, int(hashlib.sha256(key.encode()).hexdigest()[:8], 16))
        if sampler == "grid":
            point = _next_grid_point(space, seed, trials)
            if point is None:  # every grid point is done or taken
                break
            study.enqueue_trial(point)
        trial = study.ask()
        trial.set_user_attr("worker", me)  # at once: the owner of a RUNNING trial must be known
        heart.add(trial._trial_id)
        values = space.suggest(trial)
        asked.append((trial, values))
    return asked


def _grid_key(params: Mapping[str, Any]) -> tuple:
    return tuple(sorted((k, round(v, 12) if isinstance(v, float) else v) for k, v in params.items()))


def _next_grid_point(space: SearchSpace, seed: int, trials) -> dict[str, Any] | None:
    """The first grid point (in a seeded order) that no COMPLETE, RUNNING or WAITING trial holds.

    Optuna's GridSampler ignores RUNNING trials (so a batch could repeat a point) and calls
    ``study.stop()`` outside ``optimize``; enqueueing the points ourselves avoids both.
    """
    import itertools

    from optuna.trial import TrialState

    grid = space.grid()
    names = sorted(grid)
    points = [dict(zip(names, combo)) for combo in itertools.product(*(grid[n] for n in names))]
    order = np.random.default_rng(seed).permutation(len(points))
    taken = {_grid_key(t.params) for t in trials if t.state in (TrialState.COMPLETE, TrialState.RUNNING, TrialState.WAITING)}
    taken |= {_grid_key(t.system_attrs.get("fixed_params", {})) for t in trials if t.state == TrialState.WAITING}
    for i in order:
        if _grid_key(points[i]) not in taken:
            return points[i]
    return None


def _run_batch(study, batch, space: SearchSpace, seed: int, folds, device, heart: _Heartbeat, evaluate_configs) -> None:
    from optuna.trial import TrialState

    configs = [space.config(values, seed) for _, values in batch]
    per_fold = [evaluate_configs(data, configs, device=device, with_t1=False) for data in folds]  # one population per fold
    for i, (trial, _values) in enumerate(batch):
        results = [fold[i] for fold in per_fold]
        bad = next((r for r in results if r.diverged), None)
        if bad is not None:
            attrs, value, state = {"diverged": True, "fail_reason": bad.message}, None, TrialState.FAIL
        else:
            scores = [{k: round(float(r.metrics[k]), 4) for k in ("U", "S", "H")} for r in results]
            attrs, value, state = {"folds": scores, "config": configs[i].to_dict()}, float(np.mean([r.metrics["H"] for r in results])), TrialState.COMPLETE
        try:
            for key, v in attrs.items():
                trial.set_user_attr(key, v)
            study.tell(trial, value, state=state)
        except Exception as exc:  # noqa: BLE001
            # Another worker took this trial for abandoned (and re-queued its parameters).
            from optuna.exceptions import UpdateFinishedTrialError

            if not isinstance(exc, (UpdateFinishedTrialError, ValueError, RuntimeError)):
                raise
        heart.remove(trial._trial_id)


def best_result(study, space: SearchSpace, seed: int) -> TuneResult:
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    if not complete:
        raise SZSLError(f"study {study.study_name!r} has no complete trial yet (run longer or raise --timeout)")
    # Ties go to the lowest trial number: deterministic whatever the worker order.
    best = max(complete, key=lambda t: (t.value, -t.number))
    return TuneResult(
        study_name=study.study_name,
        best_value=float(best.value),
        best_params=dict(best.params),
        best_config=space.config(best.params, seed),
        best_trial=best.number,
        folds=list(best.user_attrs.get("folds", [])),
        n_complete=len(complete),
        n_failed=sum(t.state == TrialState.FAIL and not t.user_attrs.get("surplus") for t in trials),
        space=space.to_json(),
    )


def trial_table(storage: str, study_name: str) -> list[dict[str, Any]]:
    """Every trial of a study as a flat dict (number, state, value, params, per-fold H)."""
    import optuna

    study = optuna.load_study(study_name=study_name, storage=open_storage(storage))
    rows = []
    for t in study.get_trials(deepcopy=False):
        rows.append({"number": t.number, "state": t.state.name, "value": t.value, **t.params, "fail_reason": t.user_attrs.get("fail_reason", "")})
    return rows
