"""Atomic file writes: a reader never sees a half-written file.

Write into a temporary file in the destination folder, fsync, then ``os.replace``
(atomic on POSIX and Windows). On any exception the temporary file is removed and the
destination is left as it was.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``.

    For writers that need a file name rather than a file object (np.save, savefig,
    torch.save, scipy.io.savemat). ``suffix`` keeps an extension some writers insist on.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent, path.name)  # what a killed earlier writer of this file left: it will never finish it
    # The writer's pid is part of the name, so a later run can tell a dead writer's file (remove_stale_temps).
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp" + suffix, dir=path.parent)
    # mkstemp creates 0600; give the result the permissions a plain open() would (0666 & ~umask).
    os.fchmod(fd, 0o666 & ~current_umask())
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def check_output_path(path: str | os.PathLike | None, option: str, *, folder: bool = False) -> None:
    """Fail at once, before any work, when ``path`` (the value of ``option``) can not be written.

    ``folder=False``: a file the command writes (atomically, creating missing parent folders);
    ``folder=True``: a folder it writes into. Refused: a file where a folder is expected and vice
    versa, a path below a file, a folder where nothing can be created (read-only, no permission).
    Writability is probed by creating and removing a temporary file, so it holds for root too.
    ``None`` (option not given) passes.
    """
    from szsl.errors import SZSLError

    if path is None:
        return
    path = Path(path)
    where = f"{option} {path}"
    if path.exists():
        if folder and not path.is_dir():
            raise SZSLError(f"{where}: is a file, expected a folder to write results into")
        if not folder and path.is_dir():
            raise SZSLError(f"{where}: is a folder, expected a file name to write")
        if not folder and not path.is_file():
            raise SZSLError(f"{where}: is not a regular file (a FIFO or device?), expected a file name to write")
    probe_in = path if folder and path.is_dir() else path.parent
    while not probe_in.exists() and probe_in != probe_in.parent:
        probe_in = probe_in.parent  # missing folders are created on writing: the nearest existing one must take them
    if not probe_in.is_dir():
        raise SZSLError(f"{where}: {probe_in} is a file, so nothing can be written below it")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".szsl-write-check.", dir=probe_in)
    except OSError as exc:
        raise SZSLError(f"{where}: cannot write in {probe_in} ({exc.strerror or type(exc).__name__})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_TEMP_NAME = re.compile(r"^\..+\.(\d+)\.[^.]+\.tmp")


def remove_stale_temps(folder: str | os.PathLike, name: str | None = None) -> list[Path]:
    """Remove the temporary files ``atomic_path`` left in ``folder`` when its writer died (SIGKILL); returns them.

    ``name``: only those of that file (``atomic_path`` calls this for the file it writes, so every
    command that writes a result also clears what a killed run left of it). A writer on this machine
    that is still alive keeps its file (another process may be writing it now).
    """
    removed = []
    pattern = f".{glob.escape(name)}.*.tmp*" if name is not None else ".*.tmp*"
    for p in Path(folder).glob(pattern):
        m = _TEMP_NAME.match(p.name)
        if m and int(m.group(1)) != os.getpid() and not pid_alive(int(m.group(1))):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                removed.append(p)
    return removed


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[Any]:
    """``open`` that publishes the file only when the block finishes without error."""
    if not mode.startswith("w"):
        raise ValueError("atomic_open only writes")
    with atomic_path(path) as tmp:
        with open(tmp, mode, **kwargs) as fh:
            yield fh


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; on success it replaces ``path``.

    A half-built folder is never visible under ``path``: an existing one is swapped out by
    rename and removed only after the new one is in place; on error the old one stays.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp creates 0700
    try:
        yield tmp
        if path.exists():
            old = path.parent / f".{path.name}.old-{os.getpid()}-{time.monotonic_ns()}"
            os.replace(path, old)
            try:
                os.replace(tmp, path)
            except BaseException:
                os.replace(old, path)
                raise
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON, atomically."""
    with atomic_open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=2, sort_keys=False)
        fh.write("\n")


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
