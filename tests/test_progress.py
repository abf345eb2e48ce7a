"""Progress on stderr (szsl.progress): tqdm's bars on a terminal; plain lines, one per event, with no
escape codes or carriage returns anywhere else (a pipe, a log file, CI). capsys's stderr is not a terminal."""

from __future__ import annotations

import subprocess

import szsl.progress as P
from tests.helpers.reliability import env, szsl


def _lines(err: str) -> list[str]:
    assert "\x1b" not in err and "\r" not in err, repr(err)
    return err.splitlines()


def test_plain_lines_one_per_event_with_a_start_line(capsys):
    assert not P.stderr_is_terminal()
    bar = P.progress_bar(3, "tune digits", "trial")
    assert isinstance(bar, P.LineProgress)
    assert _lines(capsys.readouterr().err) == ["tune digits: 0/3 trials, 0 s"]  # at once: a long command shows something
    bar.set_postfix_str("training trials 1-2 on 3 folds")
    bar.refresh()  # nothing new: no second line
    bar.n = 2
    bar.set_postfix_str("", refresh=False)
    bar.refresh()
    bar.update(1)
    bar.close()
    bar.close()
    assert _lines(capsys.readouterr().err) == [
        "tune digits: 0/3 trials (training trials 1-2 on 3 folds), 0 s",
        "tune digits: 2/3 trials, 0 s",
        "tune digits: 3/3 trials, 0 s",
    ]


def test_throttled_bars_print_their_last_state_on_close_and_bytes_read_as_sizes(capsys):
    with P.progress_bar(3 * 1024**2, "xlsa17.zip", "B", initial=1024, unit_scale=True, every=3600) as bar:
        for _ in range(100):
            bar.update(1024)
    assert _lines(capsys.readouterr().err) == ["xlsa17.zip: 1.0 KiB/3.0 MiB, 0 s", "xlsa17.zip: 101.0 KiB/3.0 MiB, 0 s"]
    with P.progress_bar(None, "features", "img", every=3600) as bar:
        bar.update(5)
    assert _lines(capsys.readouterr().err) == ["features: 0 images, 0 s", "features: 5 images, 0 s"]


def test_nested_bars_are_sparse_and_disabled_ones_silent(capsys, monkeypatch):
    with P.progress_bar(5, "train K=1 h=8", "epoch", nested=True) as bar:  # a short inner loop: nothing at all
        bar.update(5)
    with P.progress_bar(5, "tune digits", "trial", enabled=False) as bar:
        bar.set_postfix_str("x")
        bar.update(5)
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(P, "SPARSE_SECONDS", 0.0)  # a long one: lines, but no start or closing line
    with P.progress_bar(2, "train K=1 h=8", "epoch", nested=True) as bar:
        bar.update(1)
    assert _lines(capsys.readouterr().err) == ["train K=1 h=8: 1/2 epochs, 0 s"]


def test_a_long_stretch_with_no_event_repeats_the_innermost_state(capsys, monkeypatch):
    import time

    monkeypatch.setattr(P, "HEARTBEAT_SECONDS", 0.3)
    outer = P.progress_bar(2, "compare digits", "method")
    inner = P.progress_bar(4, "tune digits", "trial")
    inner.set_postfix_str("trials 1-4: fold 1/3")
    with P.progress_bar(30, "train K=4 h=8", "epoch", nested=True):  # a nested bar never beats: its own sparse lines do
        time.sleep(1.5)  # no event: the innermost open bar says it is still at work, about every 0.3 s
    inner.close()
    outer.close()
    lines = _lines(capsys.readouterr().err)
    beats = [line for line in lines if line.startswith("tune digits: 0/4 trials (trials 1-4: fold 1/3), ")]
    assert len(beats) >= 3, lines  # the event's own line, then the repeats with the time elapsed
    seconds = [int(line.rsplit(", ", 1)[1].removesuffix(" s")) for line in beats]
    assert seconds == sorted(seconds) and seconds[-1] >= 1, lines
    assert not [line for line in lines if line.startswith("train K=4")], lines
    assert [line.rsplit(", ", 1)[0] for line in lines if line.startswith("compare")] == ["compare digits: 0/2 methods"], lines
    time.sleep(1.0)  # every bar closed: silence
    assert capsys.readouterr().err == ""


def test_a_terminal_gets_tqdm(monkeypatch):
    from tqdm.std import tqdm

    monkeypatch.setattr(P, "stderr_is_terminal", lambda: True)
    bar = P.progress_bar(2, "tune digits", "trial", nested=True)
    try:
        assert isinstance(bar, tqdm) and bar.leave is False
    finally:
        bar.close()


def test_tune_cli_with_a_pipe_for_stderr_prints_plain_lines(tmp_path):
    argv = ["tune", "--trials", "2", "--epochs", "2", "--device", "cpu", "--out", str(tmp_path / "best.json")]
    argv += ["--storage", f"sqlite:///{tmp_path / 'tune.db'}"]
    proc = subprocess.run(szsl(*argv), env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in _lines(proc.stderr) if line.startswith("tune digits: ")]
    assert lines[0].startswith("tune digits: 0/2 trials, "), proc.stderr  # the start line
    assert any("(training trials 1-2 on 3 folds)" in line for line in lines), proc.stderr
    assert any("(trials 1-2: fold 3/3" in line for line in lines), proc.stderr  # within a batch: which fold trains
    assert lines[-1].startswith("tune digits: 2/2 trials, "), proc.stderr
    assert len(lines) == len(set(line.rsplit(", ", 1)[0] for line in lines)), proc.stderr  # at most one line per event


def test_compare_says_which_method_it_works_on(capsys):
    from szsl.data import load_benchmark
    from szsl.experiments.compare import compare

    compare(load_benchmark("digits"), "eszsl", trials=1, seeds=[0], device="cpu", progress=True)
    lines = [line.rsplit(", ", 1)[0] for line in _lines(capsys.readouterr().err)]
    assert lines[:3] == ["compare digits: 0/1 methods", "compare digits: 0/1 methods (eszsl: tuning)", "tune digits: 0/1 trials"]
    assert "compare digits: 0/1 methods (eszsl: final models, 1 seed)" in lines and lines[-1] == "compare digits: 1/1 methods"
