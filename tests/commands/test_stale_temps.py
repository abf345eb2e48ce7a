"""A run killed while publishing a file leaves ``.<name>.<pid>.<random>.tmp`` beside it; the next run that writes that
file removes it (its writer is dead), and keeps a live writer's (another process may be writing it now)."""

from __future__ import annotations

import os
import subprocess
import sys

from szsl.atomic import write_text
from szsl.cli import main


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_writing_a_file_removes_the_temporaries_a_dead_writer_left_of_it(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    stale = tmp_path / f".results.md.{dead}.k2j4h5g6.tmp"
    live = tmp_path / f".results.md.{alive}.a1b2c3d4.tmp"
    other = tmp_path / f".results.csv.{dead}.z9y8x7w6.tmp"  # another file's: left to the run that writes that file
    for p in (stale, live, other):
        p.write_text("half")
    write_text(tmp_path / "results.md", "done\n")
    assert (tmp_path / "results.md").read_text() == "done\n"
    assert not stale.exists() and live.exists() and other.exists()


def test_a_successful_rerun_of_a_command_leaves_no_stale_temporary(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    stale = out / f".train.json.{_dead_pid()}.q1w2e3r4.tmp"  # what `szsl train --json` left when SIGKILLed while writing
    stale.write_text('{"half": ')
    assert main(["train", "--epochs", "1", "--hidden", "8", "--quiet", "--device", "cpu", "--json", str(out / "train.json")]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["train.json"]
