"""szsl compare: selection never sees test data; the CLI writes the table, CSV, JSON and figure."""

import csv
import dataclasses
import json

import numpy as np
import pytest

from szsl.cli import main
from szsl.data import load_benchmark
from szsl.experiments.compare import select_method
from szsl.tune import sqlite_url


def with_garbage_test(b):
    """The same benchmark with every test image's features replaced by large random numbers."""
    features = np.array(b.features, copy=True)
    test = np.concatenate([b.test_seen, b.test_unseen])
    features[test] = np.random.default_rng(123).standard_normal((test.size, features.shape[1])).astype(np.float32) * 1e3
    return dataclasses.replace(b, features=features)


@pytest.mark.parametrize("method", ["eszsl", "dcn"])
def test_selection_and_gamma_do_not_depend_on_test_data(method, tmp_path):
    b = load_benchmark("digits")
    garbage = with_garbage_test(b)
    assert not np.array_equal(garbage.features, b.features)
    kw = dict(trials=3, seed=0, epochs=2, hidden=16, device="cpu")
    a = select_method(b, method, storage=sqlite_url(tmp_path / "a.db"), **kw)
    g = select_method(garbage, method, storage=sqlite_url(tmp_path / "g.db"), **kw)
    assert a.params == g.params
    assert a.gamma == g.gamma and a.cv_h == g.cv_h and a.cv_h_cs == g.cv_h_cs


def test_compare_cli_writes_table_csv_json_and_figure(tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = [
        "compare",
        "--methods",
        "hard",
        "eszsl",
        "--trials",
        "2",
        "--seeds",
        "2",
        "--epochs",
        "2",
        "--hidden",
        "16",
        "--out",
        str(out),
        "--device",
        "cpu",
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "| method | U | S | H | T1 | AUSUC |" in printed and "| hard |" in printed and "| eszsl (deterministic) |" in printed
    md = (out / "compare.md").read_text()
    assert "# szsl compare: digits" in md and "± " in md
    rows = list(csv.DictReader((out / "compare.csv").open()))
    assert [r["method"] for r in rows] == ["hard", "eszsl"]
    assert {"U", "S", "H", "T1", "AUSUC", "H_cs", "seconds_per_model"} <= set(rows[0])
    data = json.loads((out / "compare.json").read_text())
    assert data["settings"]["seeds"] == 2 and len(data["methods"][0]["per_seed"]) == 2
    for r in data["summary"]:
        assert 0 <= r["H"] <= 100 and 0 <= r["AUSUC"] <= 1
    assert (out / "compare.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--trials", "0"], "szsl: error: trials=0: expected an integer >= 1"),
        (["--seeds", "0"], "szsl: error: seeds=0: expected an integer >= 1"),
        (["--methods", "foo"], "szsl: error: unknown method 'foo': expected one of szsl, hard"),
        (["--methods", "hard", "hard"], "szsl: error: methods: 'hard' is listed twice"),
        (["--epochs", "0"], "szsl: error: epochs=0: expected an integer >= 1"),
        (["--dataset", "AWA2"], "szsl: error: --root is required for dataset AWA2"),
        (["--device", "tpu"], "szsl: error: device='tpu': expected auto, cpu, cuda or cuda:N"),
        (["--trials", "x"], "szsl compare: error: argument --trials: invalid int value: 'x'"),
    ],
)
def test_bad_values_give_one_line_and_exit_2(extra, message, tmp_path, capsys):
    out = tmp_path / "cmp"
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(["compare", "--out", str(out), "--methods", "eszsl", "--trials", "1", "--seeds", "1"] + extra))
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(message) and "\n" not in err and "Traceback" not in err
    assert not (out / "compare.md").exists()
