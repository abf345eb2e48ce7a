import signal
import sys
import time

import pytest

import szsl.commands.train as train_command
from szsl.cli import main


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM handlers are POSIX")
def test_a_sigterm_whose_exception_a_finalizer_swallowed_still_ends_the_command_as_terminated(monkeypatch, capsys):
    from szsl.cli import Terminated

    def swallowing(args):
        try:  # what Python does with an exception raised inside a weakref callback or __del__: print and ignore
            signal.raise_signal(signal.SIGTERM)
        except Terminated:
            pass
        return 0

    monkeypatch.setattr(train_command, "run", swallowing)
    assert main(["train"]) == 128 + signal.SIGTERM
    assert "szsl: terminated; this command saves nothing until it finishes and does not resume" in capsys.readouterr().err
    # The next command in the same process starts afresh.
    monkeypatch.setattr(train_command, "run", lambda args: 0)
    assert main(["train"]) == 0


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM handlers are POSIX")
def test_a_sigterm_inside_a_finalizer_is_delivered_again_outside_it(monkeypatch, capsys):
    def finalizer_then_work(args):
        class Finalized:
            def __del__(self):  # where Python would print and ignore the exception
                signal.raise_signal(signal.SIGTERM)

        Finalized()  # collected at once: its __del__ runs here
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # the re-delivered signal interrupts this loop
            time.sleep(0.01)
        return 0

    monkeypatch.setattr(train_command, "run", finalizer_then_work)
    start = time.monotonic()
    assert main(["train"]) == 128 + signal.SIGTERM
    assert time.monotonic() - start < 5  # it interrupted the work, not waited for the command to end
    err = capsys.readouterr().err
    assert "szsl: terminated" in err and "Exception ignored" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    "argv, module, message",
    [
        (["train"], "train", "szsl: interrupted; this command saves nothing until it finishes and does not resume: re-run it to start"),
        (["sweep", "q"], "sweep", "szsl: interrupted; this command saves nothing until it finishes and does not resume"),
        (["tune"], "tune", "szsl: interrupted; finished work is saved, re-run the same command to continue"),
        (["reproduce"], "reproduce", "szsl: interrupted; finished work is saved, re-run the same command to continue"),
    ],
)
def test_ctrl_c_message_promises_a_resume_only_for_commands_that_resume(monkeypatch, capsys, argv, module, message):
    import importlib

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(importlib.import_module(f"szsl.commands.{module}"), "run", interrupted)
    assert main(argv) == 130
    err = capsys.readouterr().err.strip()
    assert err == message or (err.startswith(message) and "\n" not in err), err


def test_a_closing_cursor_error_of_an_interrupted_read_prints_no_traceback(capsys):
    """SQLAlchemy logs "Error closing cursor" (with a traceback) through its pool logger when Ctrl-C lands inside a
    database read; a command reports the interrupt in one line and nothing else."""
    import logging

    from szsl.cli import main

    with pytest.raises(SystemExit):
        main(["--version"])  # any command: main sets the logging up first
    capsys.readouterr()
    try:
        raise RuntimeError("Cannot operate on a closed database.")
    except RuntimeError:
        logging.getLogger("sqlalchemy.pool.impl.QueuePool").error("Error closing cursor", exc_info=True)
    assert "Traceback" not in capsys.readouterr().err


def test_a_terminated_lost_in_a_librarys_finalizer_is_delivered_again_not_printed(monkeypatch):
    """SIGTERM landing in a weakref callback of a library (SQLAlchemy's _collection_gced in a CI run) used to print
    "Exception ignored in ..." with a traceback: the unraisable hook swallows it and delivers the signal again."""
    import signal
    import sys
    import types

    from szsl import signals

    seen, kills = [], []
    monkeypatch.setattr(signals, "_redeliver", kills.append)
    hook = signals._unraisable(seen.append)
    hook(types.SimpleNamespace(exc_value=signals.Terminated(signal.SIGTERM)))
    assert kills == [signal.SIGTERM] and seen == []
    other = types.SimpleNamespace(exc_value=ValueError("x"))
    hook(other)
    assert seen == [other] and kills == [signal.SIGTERM]
    before = sys.unraisablehook
    previous = signals.install_signal_handlers()
    try:
        if previous:  # the handlers were free to take (not under a harness that set its own)
            assert sys.unraisablehook is not before and sys.unraisablehook.previous is before
    finally:
        signals.restore_signal_handlers(previous)
    assert sys.unraisablehook is before
