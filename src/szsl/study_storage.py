"""Where studies live and how workers tell each other they are alive.

Storage: any SQLAlchemy URL (SQLite file by default, PostgreSQL/MySQL for many workers on many
machines). RUNNING trials of a process that died are failed and their parameters re-queued:
detected at once on the same host from the worker's pid, and on other hosts from a missing
heartbeat. Optuna records heartbeats itself only inside ``Study.optimize``; the study loop
(``szsl.tune``) uses ask/tell to train a batch of trials as one population, so ``Heartbeat``
beats for its RUNNING trials from a thread. Everything goes through Optuna's public storage
API (``BaseStorage``) on the storage object we opened, never through ``study._storage``.
"""

from __future__ import annotations

import datetime
import json
import os
import socket
import sqlite3
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from szsl.atomic import pid_alive
from szsl.errors import SZSLError

if TYPE_CHECKING:
    from szsl.data.benchmark import Benchmark
    from szsl.search_space import SearchSpace

HEARTBEAT_INTERVAL = 20  # seconds between heartbeats of a RUNNING trial (RDB storages)
GRACE_PERIOD = 120  # a RUNNING trial without a heartbeat for this long is stale (other hosts)
ORPHAN_SECONDS = 10.0  # a RUNNING trial without an owner label for this long was abandoned


LOCK_ENV = "SZSL_LOCK_TIMEOUT"  # seconds to wait for a SQLite study file locked by another process
DEFAULT_LOCK_WAIT = 360.0  # without it: as long as the busy timeout (60 s) over the 6 attempts of open_storage
_BUSY_TIMEOUT = 60.0


def lock_timeout() -> float | None:
    """The bound on waiting for a locked SQLite study file, from $SZSL_LOCK_TIMEOUT (seconds), or None."""
    text = os.environ.get(LOCK_ENV, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (0 <= value < float("inf")):
        raise SZSLError(f"{LOCK_ENV}={text!r}: expected a number of seconds >= 0")
    return value


def _sqlite_free(db: str, timeout: float) -> bool:
    """Whether a write lock on ``db`` can be had within ``timeout`` seconds (taken and released at once)."""
    try:
        con = sqlite3.connect(db, timeout=timeout, isolation_level=None)
    except sqlite3.Error:
        return True  # not openable: the storage says why
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        return "locked" not in str(exc) and "busy" not in str(exc)
    except sqlite3.Error:
        return True  # not a database, ...: the storage says why
    finally:
        con.close()


def _wait_for_sqlite_lock(db: str, url: str) -> None:
    """Return once ``db`` is not locked by another process; say so on stderr when that means waiting."""
    if not Path(db).is_file():
        return
    bound = lock_timeout()
    limit = DEFAULT_LOCK_WAIT if bound is None else bound
    first = min(1.0, limit)
    if _sqlite_free(db, first):
        return
    print(
        f"szsl: waiting for the study database {db}: locked by another process; waiting up to {limit:g} s "
        f"({LOCK_ENV}=SECONDS bounds it)",
        file=sys.stderr,
        flush=True,
    )
    if limit > first and _sqlite_free(db, limit - first):
        return
    raise _still_locked(url, limit)


def _still_locked(url: str, seconds: float) -> SZSLError:
    return SZSLError(f"--storage {redact(url)}: the study database is still locked by another process after {seconds:g} s ({LOCK_ENV})")


def sqlite_url(path: str | os.PathLike) -> str:
    return "sqlite:///" + str(Path(path).resolve())


def open_storage(url: str):
    """An Optuna RDB storage for any SQLAlchemy URL (heartbeats on, so dead workers are detected)."""
    import optuna

    # Heartbeats are driven by ``tune`` (not Study.optimize); Optuna's notes about that are noise here.
    _silence_optuna_notes()
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        db, query = url.split("///", 1)[-1], ""
        if "?" in db:  # SQLAlchemy would drop (with a warning) what pysqlite does not know, and '?...' became part of the file name
            db, query = db.split("?", 1)
        if query:
            raise SZSLError(
                f"--storage {redact(url)}: query string '?{query}' is not supported for a SQLite study database (szsl sets the SQLite "
                f"options itself; {LOCK_ENV} bounds the lock wait); remove it"
            )
        if db and db != ":memory:":
            try:
                Path(db).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                why = exc.strerror or type(exc).__name__
                raise SZSLError(f"--storage {redact(url)}: cannot create the folder {Path(db).parent} ({why})") from None
            _wait_for_sqlite_lock(db, url)
        bound = lock_timeout()
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": _BUSY_TIMEOUT if bound is None else bound}}
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
            bound = lock_timeout()
            if url.startswith("sqlite") and "database is locked" in str(exc) and bound is not None:
                raise _still_locked(url, bound) from None
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


def load_or_create_study(
    storage, study_name: str, *, space: SearchSpace, seed: int, sampler: str, benchmark: Benchmark, fold_classes: str = "ratio"
):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(storage=storage, study_name=study_name, direction="maximize", load_if_exists=True)
    meta = {
        "space": space.to_json(),
        "search_mass": space.search_mass,
        "seed": seed,
        "sampler": sampler,
        "benchmark": _benchmark_id(benchmark),
        "fold_classes": fold_classes,
    }
    attrs = study.user_attrs
    if "szsl" not in attrs:
        study.set_user_attr("szsl", meta)
    else:
        old = attrs["szsl"]
        for key, what in (
            ("benchmark", "benchmark"),
            ("space", "search space"),
            ("search_mass", "--search-mass"),
            ("seed", "seed"),
            ("sampler", "sampler"),
            ("fold_classes", "--fold-classes"),
        ):
            if json.dumps(old.get(key), sort_keys=True) != json.dumps(meta[key], sort_keys=True):
                raise SZSLError(
                    f"study {study_name!r} was created with a different {what} ({json.dumps(old.get(key), sort_keys=True)[:120]}); "
                    f"use another --study name to start a new study"
                )
    return study


class Heartbeat:
    """Records heartbeats of this worker's RUNNING trials, so other hosts can tell we are alive.

    Optuna beats only inside ``Study.optimize``; with ask/tell (a batch of trials trained as one
    population for minutes) nothing else would, and other hosts would fail our trials as stale.
    """

    def __init__(self, storage, study):
        self.storage = storage
        self.study = study
        self.trial_ids: dict[int, int] = {}  # trial number -> storage id
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(HEARTBEAT_INTERVAL):
            self.beat()

    def beat(self) -> None:
        with self.lock:
            ids = list(self.trial_ids.values())
        for tid in ids:
            try:
                self.storage.record_heartbeat(tid)
            except Exception:  # noqa: BLE001 - a missed beat is retried next interval
                pass

    def add(self, number: int) -> None:
        tid = trial_id(self.storage, self.study, number)
        with self.lock:
            self.trial_ids[number] = tid
        try:
            self.storage.record_heartbeat(tid)
        except Exception:  # noqa: BLE001
            pass

    def remove(self, number: int) -> None:
        with self.lock:
            self.trial_ids.pop(number, None)

    def close(self) -> None:
        self.stop.set()


def trial_id(storage, study, number: int) -> int:
    """The storage's id of trial ``number`` of ``study``, by Optuna's public storage API (not ``trial._trial_id``)."""
    return storage.get_trial_id_from_study_id_trial_number(storage.get_study_id_from_name(study.study_name), number)


def is_lost(frozen) -> bool:
    """A trial failed because its worker died (same host: dead pid; other hosts: no heartbeat), not because of
    its parameters: its re-queued copy (or, without all its parameters, the next fresh trial) takes its place.
    Lost trials are left out of everything a proposal or a pruning decision is derived from, so a resumed
    study goes on exactly as the uninterrupted one (``szsl.trial_batch.slot``)."""
    from optuna.trial import TrialState

    return frozen.state == TrialState.FAIL and not any(frozen.user_attrs.get(k) for k in ("diverged", "surplus", "invalid"))


def _requeue(study, frozen, names=None) -> None:
    """Enqueue the parameters of a trial that died while RUNNING, so exactly they are re-run. Only a trial that
    holds all its parameters (``names``; None: any); one killed half-way through its suggestions is proposed
    afresh, from the same sampler seed and history (``szsl.trial_batch.ask_batch``), which gives the same parameters."""
    if frozen.params and not frozen.user_attrs.get("surplus") and (names is None or set(names) <= set(frozen.params)):
        study.enqueue_trial(frozen.params, user_attrs={"retry_of": frozen.number}, skip_if_exists=False)


def fail_dead_trials(study, storage, names=None) -> int:
    """FAIL the RUNNING trials whose worker is gone; re-queue their parameters (``_requeue``: those holding
    all of ``names``). Returns how many."""
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
        elif w.get("host") == host and isinstance(w.get("pid"), int) and w["pid"] != os.getpid() and not pid_alive(w["pid"]):
            dead.append(t)
    for t in dead:
        try:
            tid = trial_id(storage, study, t.number)
            storage.set_trial_user_attr(tid, "fail_reason", "worker process died (stale RUNNING trial)")
            if not storage.set_trial_state_values(tid, state=TrialState.FAIL):
                continue
        except Exception:  # noqa: BLE001 - another worker got there first
            continue
        _requeue(study, t, names)
    # Other hosts: trials whose heartbeat stopped (the storage fails them, we re-queue).
    before = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
    optuna.storages.fail_stale_trials(study)
    after = {t.number for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))}
    for number in before - after:
        t = study.trials[number]
        if t.state == TrialState.FAIL and "fail_reason" not in t.user_attrs:  # failed for a missing heartbeat
            _requeue(study, t, names)
    return len(dead) + len(before - after)


def _silence_optuna_notes() -> None:
    warnings.filterwarnings("ignore", message=".*[Hh]eartbeat.*")
    warnings.filterwarnings("ignore", message=".*fail_stale_trials.*")
