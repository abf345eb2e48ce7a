"""Progress on stderr, the one factory every long command and library loop uses (``progress_bar``).

On a terminal (or in a notebook): a tqdm bar, as before. Anywhere else (a pipe, a log file, CI): plain
lines, one per event and never an escape code or a carriage return, e.g.::

    tune digits: 0/20 trials, 0 s
    tune digits: 0/20 trials (training trials 1-8 on 3 folds), 0 s
    tune digits: 8/20 trials, 41 s

A bar prints its start line when it is made (so a command shows something within seconds), then a line
whenever its count or its postfix changes (``every``: at most one line per that many seconds, for bars
that move per byte or per image), and its last state on ``close`` if not printed yet. A ``nested`` bar
(training's per-epoch bars inside a tune, a compare, a sweep) prints no start line and no closing line:
only sparse lines, the first after ``SPARSE_SECONDS`` and then at most one per ``SPARSE_SECONDS``, so a
short inner loop stays silent and a long one still shows it is alive.

A stretch with no event at all (one population training a fold, a method with no per-epoch report, a
final stage) is not a silent one: when no plain line has been written for ``HEARTBEAT_SECONDS``, the
innermost open bar writes its state again with the time elapsed (one daemon thread, only while a bar is
open), e.g. ``tune CUB: 0/20 trials (trials 1-8: fold 1/3), 30 s``.
"""

from __future__ import annotations

import sys
import threading
import time
import weakref

SPARSE_SECONDS = 10.0
HEARTBEAT_SECONDS = 30.0


def stderr_is_terminal() -> bool:
    """Whether stderr is a terminal (False when it is missing, closed or a pipe)."""
    try:
        return bool(sys.stderr.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _in_notebook() -> bool:
    """tqdm.auto picked the notebook widget (an IPython kernel with ipywidgets): no escape codes there either."""
    if "ipykernel" not in sys.modules:
        return False
    from tqdm.auto import tqdm as auto
    from tqdm.std import tqdm as std

    return auto is not std


def progress_bar(
    total: int | None,
    desc: str,
    unit: str = "it",
    *,
    enabled: bool = True,
    initial: int = 0,
    nested: bool = False,
    every: float = 0.0,
    unit_scale: bool = False,
    leave: bool = True,
):
    """A progress bar on stderr: tqdm's on a terminal, ``LineProgress`` (plain lines) elsewhere, a silent
    ``LineProgress`` when not ``enabled``. Either has ``n``, ``update``, ``refresh``, ``set_postfix_str``,
    ``close`` and works as a context manager. ``unit_scale``: the count is bytes (shown in KiB/MiB/GiB)."""
    if not enabled:
        return LineProgress(total, desc, unit, initial=initial, silent=True)
    if stderr_is_terminal() or _in_notebook():
        from tqdm.auto import tqdm

        scale = {"unit_scale": True, "unit_divisor": 1024} if unit_scale else {}
        return tqdm(total=total, initial=initial, desc=desc, unit=unit, leave=leave and not nested, file=sys.stderr, **scale)
    return LineProgress(total, desc, unit, initial=initial, nested=nested, every=every, unit_scale=unit_scale)


def _plural(unit: str) -> str:
    return {"img": "images", "it": "it"}.get(unit, unit + "s" if unit.isalpha() and unit.islower() else unit)


def _bytes(n: float) -> str:
    for prefix in ("", "Ki", "Mi", "Gi"):
        if abs(n) < 1024 or prefix == "Gi":
            return f"{n:.0f} B" if not prefix else f"{n:.1f} {prefix}B"
        n /= 1024
    raise AssertionError("unreachable")


_lock = threading.RLock()  # one line at a time, from the caller's thread or the heartbeat's
_open: list[weakref.ref] = []  # the open top-level plain-line bars, innermost (newest) last
_last_line = [time.monotonic()]  # when a plain line was last written
_heart: list[threading.Thread] = []


def _heartbeat() -> None:
    """While a bar is open: when no line has been written for HEARTBEAT_SECONDS, the innermost one repeats its state."""
    while True:
        time.sleep(max(0.01, min(1.0, HEARTBEAT_SECONDS / 4)))
        with _lock:
            bars = [b for b in (ref() for ref in _open) if b is not None and not b.closed]
            _open[:] = [weakref.ref(b) for b in bars]
            if not bars:
                _heart.clear()
                return
            now = time.monotonic()
            if now - _last_line[0] >= HEARTBEAT_SECONDS:
                bars[-1]._print(now)


def _register(bar: LineProgress) -> None:
    with _lock:
        _open.append(weakref.ref(bar))
        if not _heart:
            thread = threading.Thread(target=_heartbeat, name="szsl-progress-heartbeat", daemon=True)
            _heart.append(thread)
            thread.start()


class LineProgress:
    """A progress bar that writes plain lines to stderr (see the module docstring); ``silent``: none at all."""

    def __init__(self, total, desc, unit, *, initial=0, nested=False, every=0.0, unit_scale=False, silent=False):
        self.total, self.desc, self.unit = total, desc, unit
        self.n = initial
        self.postfix = ""
        self.nested, self.silent, self.unit_scale = nested, silent, unit_scale
        self.every = SPARSE_SECONDS if nested else float(every)
        self.start = time.monotonic()
        self.closed = False
        self._printed = None  # (n, postfix) of the last line
        self._printed_at = self.start if nested else float("-inf")
        if not (silent or nested):
            self._print(time.monotonic())
            _register(self)

    def line(self) -> str:
        if self.unit_scale:
            count = _bytes(self.n) + (f"/{_bytes(self.total)}" if self.total is not None else "")
        else:
            count = f"{self.n}/{self.total} {_plural(self.unit)}" if self.total is not None else f"{self.n} {_plural(self.unit)}"
        postfix = f" ({self.postfix})" if self.postfix else ""
        return f"{self.desc}: {count}{postfix}, {time.monotonic() - self.start:.0f} s"

    def _print(self, now: float) -> None:
        with _lock:
            self._printed, self._printed_at = (self.n, self.postfix), now
            _last_line[0] = now
            try:
                print(self.line(), file=sys.stderr, flush=True)
            except (AttributeError, OSError, ValueError):  # no stderr, a closed one or a broken pipe: progress is not worth an error
                pass

    def refresh(self) -> None:
        """One line if the count or the postfix changed since the last one (and ``every`` seconds have passed)."""
        if self.silent or self.closed or self._printed == (self.n, self.postfix):
            return
        now = time.monotonic()
        if now - self._printed_at >= self.every:
            self._print(now)

    def update(self, n: int = 1) -> None:
        self.n += n
        self.refresh()

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        self.postfix = str(s)
        if refresh:
            self.refresh()

    def close(self) -> None:
        """The last state, if a line has not shown it yet (never for a nested bar)."""
        if self.closed:
            return
        if not (self.silent or self.nested) and self._printed != (self.n, self.postfix):
            self._print(time.monotonic())
        self.closed = True

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


__all__ = ["progress_bar", "stderr_is_terminal", "LineProgress", "SPARSE_SECONDS", "HEARTBEAT_SECONDS"]
