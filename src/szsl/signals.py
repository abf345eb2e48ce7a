"""Signals as exceptions: SIGTERM / SIGHUP unwind like Ctrl-C (``Terminated``), for the CLI and the study loop.

The library's long loops (``szsl.tune``) check ``raise_if_terminated`` between batches; the CLI installs the
handlers (``install_signal_handlers``) for the length of a command. Neither imports the other.
"""

from __future__ import annotations


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP) turned into an exception, so that it unwinds like Ctrl-C: ``finally``
    blocks run, temporary files are removed, the Optuna trial in flight is left for the next run."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


# Signals turned into Terminated since main() began. Python prints and ignores an exception raised inside a
# finalizer (a weakref callback, __del__), so a signal that lands there would be lost: the command checks this
# list when it returns (and the tuning loop between batches, ``raise_if_terminated``).
_received: list[int] = []


def _raise_terminated(signum, frame):
    _received.append(signum)
    if _in_finalizer(frame):
        # Raised here, Terminated would be printed as "Exception ignored in ..." with a traceback and then lost:
        # deliver the signal again in a moment, outside the finalizer.
        _redeliver(signum)
        return
    raise Terminated(signum)


def _in_finalizer(frame) -> bool:
    """Whether the interrupted frame is a weakref callback or a ``__del__`` (where Python ignores exceptions)."""
    code = getattr(frame, "f_code", None)
    return code is not None and (code.co_name == "__del__" or code.co_filename.endswith(("weakref.py", "_weakrefset.py")))


def raise_if_terminated() -> None:
    """Raise ``Terminated`` again for a signal whose first ``Terminated`` was swallowed (see ``_received``)."""
    if _received:
        raise Terminated(_received[0])


def _redeliver(signum: int) -> None:
    import os
    import threading

    threading.Timer(0.05, os.kill, (os.getpid(), signum)).start()


def _unraisable(hook):
    """``sys.unraisablehook`` while the handlers are installed: a ``Terminated`` raised in a finalizer that
    ``_in_finalizer`` did not recognise (e.g. a library's weakref callback, as SQLAlchemy's ``_collection_gced``)
    is not printed as "Exception ignored in ..." with a traceback; the signal is delivered again outside it."""

    def unraisablehook(unraisable):
        if isinstance(unraisable.exc_value, Terminated):
            _redeliver(unraisable.exc_value.signum)
            return
        hook(unraisable)

    unraisablehook.previous = hook
    return unraisablehook


def install_signal_handlers() -> dict:
    """Route SIGTERM/SIGHUP to ``Terminated`` where they still have their default action; returns
    the previous handlers (restored when ``main`` returns, so an embedding process is unchanged)."""
    import signal
    import sys
    import threading

    previous = {}
    if threading.current_thread() is not threading.main_thread():
        return previous  # signal handlers can only be set from the main thread
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is not None and signal.getsignal(sig) in (signal.SIG_DFL, None):
            previous[sig] = signal.signal(sig, _raise_terminated)
    if previous:
        previous["unraisablehook"] = sys.unraisablehook
        sys.unraisablehook = _unraisable(sys.unraisablehook)
    return previous


def restore_signal_handlers(previous: dict) -> None:
    import signal
    import sys

    for sig, handler in previous.items():
        if sig == "unraisablehook":
            sys.unraisablehook = handler
        else:
            signal.signal(sig, handler)


def forget_signals() -> None:
    """Forget the signals received so far: a command starts and ends with none."""
    _received.clear()
