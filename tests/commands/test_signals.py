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
    assert "szsl: terminated; finished work is saved" in capsys.readouterr().err
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
