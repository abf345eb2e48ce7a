"""Two processes, one output folder: the folder lock (szsl.lock) refuses the second one at once,
with one line naming the folder and the holder's pid, exit 2; the first finishes untouched."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from szsl.errors import SZSLError
from szsl.lock import LOCK_NAME, folder_lock
from tests.helpers.reliability import TINY_SPACE, env, parse_outputs, report, szsl


def test_lock_in_process(tmp_path):
    with folder_lock(tmp_path / "out") as path:
        assert path == tmp_path / "out" / LOCK_NAME and path.read_text().strip() == str(os.getpid())
        with pytest.raises(SZSLError) as exc:  # noqa: SIM117 - a second open file description conflicts even in one process
            with folder_lock(tmp_path / "out"):
                pass
        assert (
            str(exc.value)
            == f"--out {tmp_path / 'out'}: already in use by another szsl process (pid {os.getpid()}); wait for it to finish or choose "
               "another --out folder"
        )
    with folder_lock(tmp_path / "out"):  # released on exit, the file stays
        pass
    with folder_lock(tmp_path / "other"), folder_lock(tmp_path / "out"):  # other folders are independent
        pass


def _wait_for_lock(out: Path, proc: subprocess.Popen, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        lock = out / LOCK_NAME
        if lock.exists() and lock.read_text().strip() == str(proc.pid):
            return lock.read_text().strip()
        time.sleep(0.02)
    raise AssertionError("the first process never took the lock")


@pytest.mark.parametrize("command", ["reproduce", "compare"])
def test_second_process_on_the_same_out_is_refused(command, tmp_path):
    out = tmp_path / "out"
    if command == "reproduce":
        space = tmp_path / "space.json"
        space.write_text(json.dumps(TINY_SPACE))
        args = szsl(
            "reproduce",
            "--out",
            str(out),
            "--trials",
            "4",
            "--batch",
            "1",
            "--space",
            str(space),
            "--seeds",
            "0",
            "--no-sweeps",
            "--device",
            "cpu",
            "--quiet",
        )
        results = "results.json"
    else:
        args = szsl(
            "compare",
            "--methods",
            "szsl",
            "--trials",
            "3",
            "--seeds",
            "0",
            "--epochs",
            "4",
            "--hidden",
            "16",
            "--out",
            str(out),
            "--device",
            "cpu",
        )
        results = "compare.json"
    first = subprocess.Popen(args, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_lock(out, first)
        first.send_signal(signal.SIGSTOP)  # hold it inside its locked section, however fast the machine
        try:
            second = subprocess.run(args, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False, timeout=60)
        finally:
            first.send_signal(signal.SIGCONT)
    finally:
        _, err1 = first.communicate(timeout=120)
    assert second.returncode == 2
    assert (
        second.stderr.strip()
        == f"szsl: error: --out {out}: already in use by another szsl process (pid {first.pid}); wait for it to finish or choose another "
           "--out folder"
    )
    assert first.returncode == 0, err1[-2000:]
    parse_outputs(out)
    assert (out / results).is_file()
    report(f"concurrency:{command}", second_refused=True, first_completed=True)


def test_lock_of_a_killed_process_is_released(tmp_path):
    out = tmp_path / "out"
    space = tmp_path / "space.json"
    space.write_text(json.dumps(TINY_SPACE))
    args = szsl(
        "reproduce",
        "--out",
        str(out),
        "--trials",
        "3",
        "--batch",
        "1",
        "--space",
        str(space),
        "--seeds",
        "0",
        "--no-sweeps",
        "--device",
        "cpu",
        "--quiet",
    )
    first = subprocess.Popen(args, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_lock(out, first)
    first.send_signal(signal.SIGKILL)
    first.wait()
    with folder_lock(out):  # no stale lock: the kernel released it with the process
        pass
    done = subprocess.run(args, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
