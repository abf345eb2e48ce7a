"""An output path that can not be written fails BEFORE the work starts: one line, exit 2, nothing written.

``szsl train --json DIR`` used to train first and then crash, losing the result.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from szsl.cli import main

# (command line without the output option, the output option, whether it names a folder, the work that must not start)
COMMANDS = {
    "train --json": (["train", "--epochs", "1", "--hidden", "8", "--device", "cpu"], "--json", False, "szsl.evaluation.evaluate"),
    "train --save": (["train", "--epochs", "1", "--hidden", "8", "--device", "cpu"], "--save", False, "szsl.evaluation.evaluate"),
    "tune --out": (["tune", "--trials", "1", "--epochs", "1", "--device", "cpu"], "--out", False, "szsl.tune.tune"),
    "predict --out": (["predict", "--model", "MODEL", "--features", "FEATS"], "--out", False, "szsl.model_file.load_model"),
    "reproduce --out": (["reproduce", "--trials", "1", "--device", "cpu"], "--out", True, "szsl.experiments.reproduce.reproduce"),
    "compare --out": (["compare", "--trials", "1", "--device", "cpu"], "--out", True, "szsl.experiments.compare.compare"),
}


def _bad_paths(tmp_path, folder: bool):
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("x")
    (tmp_path / "a-folder").mkdir(exist_ok=True)
    cases = {
        "below a file": (a_file / "sub" / "out.json", "a-file.txt is a file, so nothing can be written below it"),
        "read-only": (Path("/proc/szsl-no-such-folder/out.json"), "cannot write in /proc"),
    }
    if folder:
        cases["a file"] = (a_file, "is a file, expected a folder")
    else:
        cases["a folder"] = (tmp_path / "a-folder", "is a folder, expected a file name")
    return cases


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("case", ["below a file", "read-only", "wrong kind"])
def test_unwritable_output_fails_before_the_work(tmp_path, capsys, monkeypatch, command, case):
    argv, option, folder, work = COMMANDS[command]
    cases = _bad_paths(tmp_path, folder)
    path, message = cases[case] if case in cases else cases["a file" if folder else "a folder"]
    if case == "read-only" and not Path("/proc/self").is_dir():
        pytest.skip("needs Linux's /proc, where nothing can be created")
    module, name = work.rsplit(".", 1)

    def started(*args, **kwargs):
        raise AssertionError(f"{work} started although {option} can not be written")

    monkeypatch.setattr(f"{module}.{name}", started)
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main([*argv, option, str(path)])
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 2, captured
    assert err.startswith(f"szsl: error: {option} {path}: ") and "\n" not in err and message in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, no probe file left


def test_a_read_only_folder_is_refused_for_a_non_root_user(tmp_path, capsys):
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        assert main(["train", "--epochs", "1", "--hidden", "8", "--json", str(ro / "r.json")]) == 2
        assert "cannot write in" in capsys.readouterr().err
    finally:
        ro.chmod(0o700)
