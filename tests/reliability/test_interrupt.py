"""Interruption: SIGINT, SIGTERM and SIGKILL at seeded random points of real ``szsl`` processes.

For each command the same invocation is started, killed after fresh progress plus a random
delay, checked, and started again, KILLS times; a last run finishes. After every kill: nothing
that was finished is lost (finished Optuna trials, COMPLETE or PRUNED, before the kill are still so with the
same value after the re-run), every output file present parses (nothing half-written is ever
read as complete), SIGINT/SIGTERM end with one line on stderr, a non-zero exit code, no traceback
and no temporary file left. Counts go to $SZSL_RELIABILITY_LOG (see tests/helpers/reliability.py, report).
"""

from __future__ import annotations

import http.server
import io
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
import zipfile
from collections import Counter
from contextlib import closing
from pathlib import Path

import numpy as np

from tests.helpers.reliability import TINY_SPACE, env, parse_outputs, report, szsl

KILLS = int(os.environ.get("SZSL_KILLS", "3"))
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)
DATASETS = ("AWA1", "AWA2", "CUB", "SUN", "APY")
# Epochs of every trial of the tune and reproduce kill tests: about 1 s a trial on an idle core, longer
# than the longest wait before a signal (max_delay 0.4 s after the trial that showed progress), so a
# killed run finishes one trial (two on a much faster machine) and several are left after the last
# kill. With TINY_SPACE's 6 epochs (reproduce: its default 20) a trial took 0.1-0.3 s and a quiet
# machine could finish the whole command before the second signal.
KILL_EPOCHS = 60


def default_sigint() -> None:
    """preexec_fn of every command under test: SIGINT back to its default disposition. A shell that
    starts a job in the background without job control (CI scripts, ``nohup ... &``) makes its
    children ignore SIGINT, and Python keeps an inherited SIG_IGN, so Ctrl-C would never arrive."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def complete_trials(db: Path) -> dict:
    """(study, trial number) -> (state, value, params) of every finished (COMPLETE or PRUNED) trial in the SQLite file
    (retried while a writer holds the database or creates its schema)."""
    for _ in range(100):
        got = _complete_trials(db)
        if got is not None:
            return got
        time.sleep(0.05)
    raise AssertionError(f"{db}: unreadable")


def _complete_trials(db: Path) -> dict | None:
    if not db.exists():
        return {}
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = {}
    try:
        url = "sqlite:///" + str(db)
        for s in optuna.get_all_study_summaries(url):
            study = optuna.load_study(study_name=s.study_name, storage=url)
            for t in study.get_trials(deepcopy=False):
                if t.state.name in ("COMPLETE", "PRUNED"):
                    out[(s.study_name, t.number)] = (t.state.name, t.value, t.params)
    except Exception:  # noqa: BLE001 - the schema is being created right now, or the database is locked
        return None
    return out


def count_complete(db: Path) -> int:
    """How many COMPLETE trials the SQLite file holds: the cheap probe polled while a command runs
    (``complete_trials`` opens Optuna storages, about 0.1 s of CPU a call, which a loaded machine
    would take from the command under test and add to the time until a signal)."""
    if not db.exists():
        return 0
    for _ in range(100):
        try:
            with closing(sqlite3.connect(db, timeout=5)) as con:
                return con.execute("SELECT COUNT(*) FROM trials WHERE state IN ('COMPLETE', 'PRUNED')").fetchone()[0]
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):  # the schema is being created right now
                return 0
            time.sleep(0.05)  # locked
    raise AssertionError(f"{db}: unreadable")


def temp_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if ".tmp" in p.name) if folder.exists() else []


def check_interrupted(sig: int, proc: subprocess.Popen, err: str) -> None:
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        return
    assert proc.returncode != 0, err
    assert "Traceback" not in err, err
    lines = [line.rsplit("\r", 1)[-1] for line in err.split("\n")]  # progress bars redraw with '\r'
    lines = [line for line in lines if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("szsl: "), err
    assert ("interrupted" if sig == signal.SIGINT else "terminated") in lines[0]
    assert proc.returncode == (130 if sig == signal.SIGINT else 128 + signal.SIGTERM)


def kill_and_resume(
    name: str, args: list[str], *, progress, check, finished, seed: int, max_delay: float, process_env=None, timeout: float = 90
) -> int:
    """Start ``args``, wait for ``progress()`` to change, sleep a random delay, signal; KILLS times.
    Then run to completion. Returns how many kills landed while the command was still running.
    ``finished()``: the final outputs exist (a signal that lands while a finished process exits
    meets the default handlers again, which ``main`` restored on return)."""
    rng = random.Random(seed)
    landed, sent = 0, []
    for i in range(KILLS):
        sig = SIGNALS[i % len(SIGNALS)]
        start_state = progress()
        proc = subprocess.Popen(
            args, env=process_env or env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint
        )
        deadline = time.monotonic() + timeout
        while proc.poll() is None and progress() == start_state and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0, max_delay))
        if proc.poll() is None:
            proc.send_signal(sig)
            landed += 1
            sent.append(sig.name)
        _, err = proc.communicate(timeout=timeout)
        if proc.returncode == 0 or finished():  # finished before the signal: nothing left to interrupt
            if proc.returncode != 0:
                landed -= 1
                sent.pop()
            break
        check_interrupted(sig, proc, err)
        check(sig)
    done = subprocess.run(
        args, env=process_env or env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False, timeout=timeout * 2
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report(f"interrupt:{name}", kills_landed=landed, signals=dict(Counter(sent)), resumed_ok=True)
    assert landed >= 2, "the command finished too fast to be interrupted"
    return landed


class Ledger:
    """Finished trials seen so far; every later snapshot must contain them unchanged."""

    def __init__(self, db: Path):
        self.db, self.seen = db, {}

    def check(self) -> dict:
        now = complete_trials(self.db)
        lost = {k: v for k, v in self.seen.items() if now.get(k) != v}
        assert not lost, f"finished trials lost or changed: {lost}"
        self.seen = now
        return now


def _graceful_leaves_no_temp(sig: int, folder: Path) -> None:
    if sig != signal.SIGKILL:
        assert not temp_files(folder), temp_files(folder)


# ------------------------------------------------------------------------------ tune


def test_tune_survives_kills(tmp_path):
    space = tmp_path / "space.json"
    space.write_text(json.dumps(TINY_SPACE))
    out, db = tmp_path / "out", tmp_path / "out" / "tune.db"
    n = max(8, 3 * KILLS)  # every kill waits for a new COMPLETE trial
    # --prune none: every trial trains its KILL_EPOCHS (the pruner would stop most at epoch 5, too little work to interrupt;
    # kills among pruned trials: tests/test_tune.py::test_killed_tune_loses_no_finished_trial).
    args = szsl("tune", "--trials", str(n), "--batch", "1", "--space", str(space), "--epochs", str(KILL_EPOCHS), "--study", "k",
                "--prune", "none", "--storage", "sqlite:///" + str(db), "--out", str(out / "best.json"), "--device", "cpu",
                "--quiet")  # fmt: skip
    ledger = Ledger(db)

    def check(sig):
        ledger.check()
        if (out / "best.json").exists():
            json.loads((out / "best.json").read_text())
        _graceful_leaves_no_temp(sig, out)

    kill_and_resume(
        "tune",
        args,
        progress=lambda: count_complete(db),
        check=check,
        finished=lambda: (out / "best.json").exists(),
        seed=1,
        max_delay=0.4,
    )
    final = ledger.check()
    assert len(final) == n
    best = json.loads((out / "best.json").read_text())
    assert best["n_complete"] + best["n_pruned"] == n
    import optuna

    trials = optuna.load_study(study_name="k", storage="sqlite:///" + str(db)).trials
    assert not [t for t in trials if t.state.name in ("RUNNING", "WAITING")]
    for t in trials:  # a trial in flight at the kill is failed as dead, its parameters re-run
        if t.state.name == "FAIL":
            assert "died" in t.user_attrs.get("fail_reason", "")


# ------------------------------------------------------------------------------ reproduce


def test_reproduce_survives_kills(tmp_path):
    space = tmp_path / "space.json"
    space.write_text(json.dumps(TINY_SPACE))
    out = tmp_path / "results"
    n = max(8, 2 * KILLS + 2)  # a kill may cost up to two trials; some are left for the last run
    args = szsl(
        "reproduce",
        "--out",
        str(out),
        "--trials",
        str(n),
        "--batch",
        "1",
        "--space",
        str(space),
        "--epochs",
        str(KILL_EPOCHS),
        "--seeds",
        "0",
        "--no-sweeps",
        "--prune",
        "none",  # full KILL_EPOCHS per trial, as in the tune test
        "--device",
        "cpu",
        "--quiet",
    )
    ledger = Ledger(out / "szsl-tune.db")

    def progress():
        stages = sorted(p.name for p in (out / "digits").glob("*.json")) if (out / "digits").exists() else []
        return (count_complete(out / "szsl-tune.db"), tuple(stages))

    def check(sig):
        ledger.check()
        parse_outputs(out)
        for stage in (out / "digits").glob("*.json") if (out / "digits").exists() else []:
            assert json.loads(stage.read_text())["complete"] is True
        _graceful_leaves_no_temp(sig, out)

    kill_and_resume(
        "reproduce", args, progress=progress, check=check, finished=lambda: (out / "results.csv").exists(), seed=2, max_delay=0.4
    )
    assert len(ledger.check()) == n
    parse_outputs(out)
    tuned = json.loads((out / "results.json").read_text())["datasets"]["digits"]["tune"]
    assert tuned["n_complete"] + tuned["n_pruned"] == n


# ------------------------------------------------------------------------------ compare


def test_compare_survives_kills(tmp_path):
    out = tmp_path / "cmp"
    args = szsl(
        "compare",
        "--methods",
        "szsl",
        "eszsl",
        "--trials",
        "16",  # two batches of 8 per method that outlast the kills; a run with the tuning done has only ~2.5 s after the lock
        "--seeds",
        "0",
        "1",
        "--epochs",
        "10",
        "--hidden",
        "16",
        "--out",
        str(out),
        "--device",
        "cpu",
        "--quiet",  # compare draws progress bars on stderr since it has --quiet; the check reads stderr's one line
    )
    ledger = Ledger(out / "studies.db")

    def check(sig):
        ledger.check()
        parse_outputs(out)
        _graceful_leaves_no_temp(sig, out)

    def progress():  # the pid a new process writes into the folder lock, or trials finished
        lock = out / ".szsl.lock"
        return (lock.read_text() if lock.exists() else "", count_complete(out / "studies.db"))

    kill_and_resume("compare", args, progress=progress, check=check, finished=lambda: (out / "compare.png").exists(), seed=3, max_delay=2.5)
    ledger.check()
    parse_outputs(out)
    summary = json.loads((out / "compare.json").read_text())["summary"]
    assert [r["method"] for r in summary] == ["szsl", "eszsl"]


# ------------------------------------------------------------------------------ data download


def _archive() -> tuple[bytes, dict]:
    rng = np.random.default_rng(0)
    files = {}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for ds in DATASETS:
            for name, size in (
                ("att_splits.mat", 2000),
                ("trainvalclasses.txt", 100),
                ("res101.mat", 1_200_000),
            ):  # 6 MB at 1 MB/s: urllib reads 1 MB chunks, a kill costs at most one; ~4 MB (4 s) are left after the third
                files[(ds, name)] = rng.bytes(size)
                zf.writestr(f"xlsa17/data/{ds}/{name}", files[(ds, name)])
    return buf.getvalue(), files


class SlowServer:
    """127.0.0.1 server of one archive with Range support, throttled so a download takes seconds."""

    def __init__(self, data: bytes, bytes_per_s: int = 1_000_000):
        outer = self
        self.data = data

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                start = 0
                rng = self.headers.get("Range")
                if rng:
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(outer.data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(outer.data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(outer.data) - 1}/{len(outer.data)}")
                else:
                    self.send_response(200)
                body = outer.data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                step = 16_384
                try:
                    for i in range(0, len(body), step):
                        self.wfile.write(body[i : i + step])
                        time.sleep(step / bytes_per_s)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/xlsa17.zip"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_download_survives_kills(tmp_path):
    data, files = _archive()
    server = SlowServer(data)
    root = tmp_path / "data"
    args = szsl("data", "download", "--root", str(root), "--url", server.url, "--no-progress", "--timeout", "20")
    part = root / ".xlsa17.zip.part"

    def progress():
        return (
            part.stat().st_size // 100_000 if part.exists() else -1,
            (root / ".xlsa17.zip").exists(),
            tuple(sorted(p.name for p in root.glob("*"))) if root.exists() else (),
        )

    def check(sig):
        assert not part.exists() or part.stat().st_size <= len(data)
        if part.exists():  # what was received so far is a prefix of the archive
            assert data.startswith(part.read_bytes())
        if (root / ".xlsa17.zip").exists():
            assert (root / ".xlsa17.zip").read_bytes() == data
        for ds in DATASETS:  # a dataset folder, once visible, is complete
            if (root / ds).exists():
                for (d, name), content in files.items():
                    if d == ds:
                        assert (root / ds / name).read_bytes() == content
        if sig != signal.SIGKILL:
            assert not [p for p in root.rglob("*") if ".tmp" in p.name]

    try:
        kill_and_resume(
            "download",
            args,
            progress=progress,
            check=check,
            finished=lambda: (
                all((root / ds / "res101.mat").exists() for ds in DATASETS) and not part.exists() and not (root / ".xlsa17.zip").exists()
            ),
            seed=4,
            max_delay=0.3,
        )
    finally:
        server.close()
    for (ds, name), content in files.items():
        assert (root / ds / name).read_bytes() == content
    assert not part.exists() and not (root / ".xlsa17.zip").exists()


# ------------------------------------------------------------------------------ feature cache


def test_feature_cache_build_survives_kills(shared_root, tmp_path):
    """``szsl data check`` on a fresh cache dir builds the .npy feature cache; kill it while it does."""
    import scipy.io

    from szsl.data.xlsa17 import load_xlsa17
    from tests.helpers.xlsa17 import make_dataset

    root = tmp_path / "data"
    folder = make_dataset(shared_root, root, "AWA2")
    labels = np.load(shared_root / "AWA2" / "labels_1based.npy").astype(np.float64)
    features = np.random.default_rng(1).random((192, labels.size), dtype=np.float32)  # 28 MB: conversion takes a while
    scipy.io.savemat(folder / "res101.mat", {"features": features, "labels": labels.reshape(-1, 1)})
    cache = tmp_path / "cache"
    args = szsl("data", "check", "--root", str(root), "--dataset", "AWA2")
    rng = random.Random(5)

    stale: set = set()

    def check_cache(sig):
        for entry in (cache / "xlsa17").glob("AWA2-*") if (cache / "xlsa17").exists() else []:
            if (entry / "marker.json").exists():  # published: must be whole and right
                marker = json.loads((entry / "marker.json").read_text())
                cached = np.load(entry / "features.npy", mmap_mode="r")
                assert cached.shape == (marker["n_images"], marker["feature_dim"]) == features.T.shape
                np.testing.assert_array_equal(cached, features.T)
        if sig != signal.SIGKILL:  # a graceful stop removes its own temporary file (a SIGKILLed one's stays)
            assert not set(temp_files(cache)) - stale, temp_files(cache)

    landed = mid_build = 0
    sent: list[str] = []
    for i in range(KILLS):
        sig = SIGNALS[i % len(SIGNALS)]
        stale = set(temp_files(cache))  # a SIGKILL leaves its temporary file behind (never read)
        proc = subprocess.Popen(
            args, env=env(SZSL_CACHE_DIR=str(cache)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            preexec_fn=default_sigint,
        )
        while proc.poll() is None and not set(temp_files(cache)) - stale:  # the cache is being written right now
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.02))
        if proc.poll() is None:
            proc.send_signal(sig)
            landed += 1
            sent.append(sig.name)
        _, err = proc.communicate(timeout=60)
        if proc.returncode == 0:
            break
        check_interrupted(sig, proc, err)
        check_cache(sig)
        built = (cache / "xlsa17").exists() and any((e / "marker.json").exists() for e in (cache / "xlsa17").iterdir())
        if built:  # the signal came after the marker: start the next round from a fresh cache again
            shutil.rmtree(cache)
        else:
            mid_build += 1
    done = subprocess.run(
        args, env=env(SZSL_CACHE_DIR=str(cache)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    check_cache(signal.SIGKILL)
    b = load_xlsa17(root, "AWA2", cache_dir=cache)
    assert isinstance(b.features, np.memmap)
    np.testing.assert_array_equal(b.features, features.T)
    report("interrupt:feature_cache", kills_landed=landed, kills_mid_build=mid_build, signals=dict(Counter(sent)), resumed_ok=True)
    assert landed >= 2
