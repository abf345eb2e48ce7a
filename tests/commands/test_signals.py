import signal
import sys

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
