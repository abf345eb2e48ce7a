"""One writer per output folder: an advisory, non-blocking lock on ``<folder>/.szsl.lock``.

``szsl reproduce`` and ``szsl compare`` write several files and caches into one folder; two
processes doing so at once would interleave stages and overwrite each other's results. The
first process takes ``fcntl.flock(LOCK_EX | LOCK_NB)`` on the lock file and writes its pid
into it; a second one is refused at once with an ``SZSLError`` naming the folder and the
holder's pid (CLI: one line, exit 2). The kernel drops the lock when the holder exits in any
way (SIGKILL included), so a stale lock never needs cleaning up; the lock file itself stays
(removing it would let two processes lock two different files of the same name).

Limits: flock is advisory (only szsl takes it) and works across processes of one machine;
on network file systems it depends on the server. Where ``fcntl`` does not exist (Windows)
the lock is a no-op.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

from szsl.errors import SZSLError

LOCK_NAME = ".szsl.lock"


def _read_pid(fd: int) -> str:
    # The holder writes its pid right after locking; give it a moment if we raced it.
    for _ in range(20):
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 64).decode("ascii", "replace").strip()
        if text:
            return text
        time.sleep(0.01)
    return "unknown"


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, *, option: str = "--out") -> Iterator[Path]:
    """Hold the exclusive lock of ``folder`` (created if missing) for the duration of the block."""
    folder = Path(folder)
    try:
        import fcntl
    except ImportError:  # no flock on this platform
        folder.mkdir(parents=True, exist_ok=True)
        yield folder / LOCK_NAME
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / LOCK_NAME
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise SZSLError(f"{option} {folder}: cannot create the lock file ({exc.strerror or exc})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            raise SZSLError(
                f"{option} {folder}: already in use by another szsl process (pid {holder}); wait for it to finish or choose another "
                f"{option} folder"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield path
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


__all__ = ["LOCK_NAME", "folder_lock"]
