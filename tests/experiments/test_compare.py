"""szsl compare: selection never sees test data; the CLI writes the table, CSV, JSON and figure."""

import csv
import dataclasses
import json

import numpy as np
import pytest

from szsl.cli import main
from szsl.curves import SeenUnseenCurve
from szsl.data import load_benchmark
from szsl.errors import SZSLError
from szsl.experiments.compare import compare, parse_method_params, resolve_methods
from szsl.methods import method_names

ALL = ["szsl", "dcn", "eszsl", "sae", "devise", "ale", "sje", "conse", "cn", "cn-soft", "f-clswgan", "tf-vaegan", "sync", "cmt", "zskl",
       "crnet", "cycle-wgan", "se-gzsl", "cosmo", "sp-aen", "duet"]
# The smallest budget each method's parameters allow that still trains something: one epoch, 16 hidden units,
# a few synthetic features (network methods: epochs=1, hidden=16 of compare itself).
TINY = {
    **{m: {"epochs": 1} for m in ("devise", "ale", "sje", "conse")},
    "cn": {"epochs": 1, "hidden": 16},
    "cn-soft": {"epochs": 1, "hidden": 16},
    "f-clswgan": {"epochs": 1, "hidden": 16, "n_synth": 10, "cls_epochs": 1, "pre_epochs": 1},
    "tf-vaegan": {"epochs": 1, "hidden": 16, "n_synth": 10, "cls_epochs": 1},
    "sync": {"iters": 20},
    "cmt": {"epochs": 1, "hidden": 16},
    "zskl": {"landmarks": 100},
    "crnet": {"epochs": 1, "hidden": 16},
    "cycle-wgan": {"epochs": 1, "hidden": 16, "n_synth": 10, "cls_epochs": 1, "pre_epochs": 1},
    "se-gzsl": {"epochs": 1, "hidden": 16, "n_synth": 10, "cls_epochs": 1, "pre_epochs": 1},
    "cosmo": {"epochs": 1, "zs_method": "eszsl"},
    "sp-aen": {"epochs": 1, "hidden": 16},
    # a list or mapping as a fixed value of a space: one choice (search_space: a bare list is ambiguous)
    "duet": {"members": {"choices": [[{"epochs": 1, "hidden": 16}]]}, "cn": {"choices": [{"epochs": 1, "hidden": 16}]}},
}


def with_garbage_test(b):
    """The same benchmark with every test image's features replaced by large random numbers."""
    features = np.array(b.features, copy=True)
    test = np.concatenate([b.test_seen, b.test_unseen])
    features[test] = np.random.default_rng(123).standard_normal((test.size, features.shape[1])).astype(np.float32) * 1e3
    return dataclasses.replace(b, features=features)


def test_all_is_every_method_but_the_ablations():
    assert resolve_methods("all") == ALL == resolve_methods(["ALL"])
    assert resolve_methods(None) == list(method_names())  # the default: every registered method, ablations included
    assert resolve_methods(["all", "hard"]) == ALL + ["hard"]
    assert resolve_methods("eszsl") == ["eszsl"]
    with pytest.raises(SZSLError, match="'szsl' is listed twice"):
        resolve_methods(["all", "szsl"])


def test_method_params_parse():
    assert parse_method_params(["f-clswgan.epochs=10", "F-CLSWGAN.lr=1e-4", "sae.direction=S->F", 'ale.epochs={"choices": [1, 2]}']) == {
        "f-clswgan": {"epochs": 10, "lr": 1e-4}, "sae": {"direction": "S->F"}, "ale": {"epochs": {"choices": [1, 2]}}
    }


def test_the_whole_compare_run_of_all_methods_never_reads_test_data():
    """Every method of "all" through compare (tune, calibrate, final): test images replaced by garbage give
    bit-identical selected parameters, validation H and gamma; only the test numbers change."""
    b = load_benchmark("digits")
    garbage = with_garbage_test(b)
    assert not np.array_equal(garbage.features, b.features)
    kw = dict(trials=2, seeds=[0], seed=0, epochs=1, hidden=16, params=TINY, device="cpu")
    a = compare(b, "all", **kw)
    g = compare(garbage, "all", **kw)
    assert [r.selection.method for r in a.results] == [r.selection.method for r in g.results] == ALL
    for ra, rg in zip(a.results, g.results):
        sa, sg = ra.selection, rg.selection
        assert sa.params == sg.params, sa.method
        assert (sa.gamma, sa.cv_h, sa.cv_h_cs) == (sg.gamma, sg.cv_h, sg.cv_h_cs), sa.method
        for k, v in TINY.get(sa.method, {"epochs": 1, "hidden": 16} if sa.method in ("szsl", "dcn") else {}).items():
            assert sa.params[k] == (v["choices"][0] if isinstance(v, dict) else v), (sa.method, k)  # the budget reached every method
    assert any(ra.per_seed != rg.per_seed for ra, rg in zip(a.results, g.results))  # the garbage did reach the test split
    assert all(r.seconds_per_model > 0 for r in a.results)  # timed by the harness where a method reports no time (cn)
    assert [r["registry"] for r in a.table2_rows()] == ["eszsl", "sae", "devise", "ale", "sje", "conse", "sync", "cmt",
                                                       "dcn", "f-clswgan", "zskl", "crnet", "cycle-wgan",
                                                       "se-gzsl", "cosmo", "sp-aen", "cn",
                                                       "tf-vaegan", "szsl", "cn-soft", "duet"]  # digits: no published row, by family


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
        "0",
        "1",
        "--epochs",
        "2",
        "--hidden",
        "16",
        "--param",
        "eszsl.targets=01",
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
    assert data["settings"]["seeds"] == [0, 1] and len(data["methods"][0]["per_seed"]) == 2
    for r in data["summary"]:
        assert 0 <= r["H"] <= 100 and 0 <= r["AUSUC"] <= 1
    assert data["methods"][1]["selected_params"]["targets"] == "01" and data["settings"]["params"] == {"eszsl": {"targets": "01"}}
    assert (out / "compare.png").read_bytes()[:4] == b"\x89PNG"
    for m in data["methods"]:  # compare.png's hollow marker (curve at the chosen gamma) is the table's seed-0 CS point
        c = SeenUnseenCurve(*(np.array(m["curve_seed0"][k], dtype=float) for k in ("breakpoints", "S", "U")))
        s_at, u_at = c.at(m["gamma"])
        assert (float(s_at), float(u_at)) == pytest.approx((m["per_seed"][0]["S_cs"], m["per_seed"][0]["U_cs"]), abs=1e-6), m["method"]
    table = list(csv.DictReader((out / "compare_table2.csv").open()))
    assert [(r["family"], r["method"]) for r in table] == [("embedding", "eszsl"), ("ours", "hard")]
    assert table[0]["published_H"] == "" and float(table[0]["H"]) == pytest.approx(float(rows[1]["H"]), abs=1e-4)
    md2 = (out / "compare_table2.md").read_text()
    assert "No published numbers for digits" in md2 and "per-method settings: eszsl: targets=01" in md2
    assert "| embedding | eszsl |" in printed and "compare_table2.csv" in printed


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--trials", "0"], "szsl: error: trials=0: expected an integer >= 1"),
        (["--seeds", "-1"], "szsl compare: error: argument --seeds: expected an integer >= 0, got '-1'"),
        (["--seeds", "1", "1"], "szsl: error: seeds: 1 is listed twice"),
        (["--methods", "foo"], "szsl: error: unknown method 'foo': expected one of szsl, hard"),
        (["--methods", "hard", "hard"], "szsl: error: methods: 'hard' is listed twice"),
        (["--methods", "all", "foo"], "szsl: error: unknown method 'foo': expected one of szsl, hard"),
        (["--methods", "all", "--param", "hard.epochs=1"],
         "szsl: error: params: method 'hard' is not among the compared methods (" + ", ".join(ALL) + ")"),
        (["--param", "eszsl.nope=1"], "szsl: error: method eszsl: unknown parameter 'nope': expected some of gamma, lambda, targets"),
        (["--param", "eszsl.gamma=-1"], "szsl: error: eszsl gamma=-1.0, lambda="),  # checked by the method when it fits
        (["--param", "epochs=1"], "szsl: error: --param 'epochs=1': expected METHOD.NAME=VALUE"),
        (["--param", "nope.epochs=1"], "szsl: error: unknown method 'nope'"),
        (["--epochs", "0"], "szsl: error: epochs=0: expected an integer >= 1"),
        (["--dataset", "AWA2"], "szsl: error: --root is required for dataset AWA2"),
        (["--device", "tpu"], "szsl: error: device='tpu': expected auto, cpu, cuda or cuda:N"),
        (["--trials", "x"], "szsl compare: error: argument --trials: invalid int value: 'x'"),
        (["--timeout", "0"], "szsl compare: error: argument --timeout: expected a finite number > 0, got '0'"),
    ],
)
def test_bad_values_give_one_line_and_exit_2(extra, message, tmp_path, capsys):
    out = tmp_path / "cmp"
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(["compare", "--out", str(out), "--methods", "eszsl", "--trials", "1", "--seeds", "0", "--quiet"] + extra))
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(message) and "\n" not in err and "Traceback" not in err
    assert not (out / "compare.md").exists()


def test_the_compare_summary_says_1_seed_and_1_trial():
    from szsl.experiments.compare_report import CompareResult

    settings = dict(methods=[], trials=1, seeds=[0], seed=0, epochs=2, hidden=8, params={}, device="cpu", protocol="paper")
    md = CompareResult("digits", settings).markdown()
    assert "1 random-search trial per method" in md and "1 seed on the test split" in md and "1 seeds" not in md
    md = CompareResult("digits", {**settings, "trials": 4, "seeds": [3, 4]}).markdown()
    assert "4 random-search trials per method" in md and "2 seeds on the test split" in md


def test_one_seed_prints_its_numbers_without_a_spread():
    from szsl.experiments.compare_report import METRICS, CompareResult, MethodResult, Selection

    settings = dict(methods=["eszsl"], trials=1, seeds=[0], seed=0, epochs=None, hidden=None, params={}, device="cpu",
                    protocol="default")
    selection = Selection("eszsl", {"gamma": 1.0}, 50.0, 0.5, 55.0, 1, 2.0)
    rows = [{k: 40.0 + i for k in METRICS} for i in range(2)]  # H 40 and 41: mean 40.5, std 0.7
    one = CompareResult("digits", settings, [MethodResult(selection, rows[:1], 1.0)]).markdown()
    assert "| eszsl | 40.0 | 40.0 | 40.0 |" in one and "±" not in one
    two = CompareResult("digits", {**settings, "seeds": [0, 1]}, [MethodResult(selection, rows, 1.0)]).markdown()
    assert "(mean ± std)" in two and "| eszsl | 40.5 ± 0.7 | 40.5 ± 0.7 | 40.5 ± 0.7 |" in two


@pytest.mark.parametrize("method, params", [("eszsl", None), ("szsl", {"epochs": 2, "hidden": 16})])
def test_the_study_recorded_gamma_is_the_one_a_retraining_on_the_folds_chooses(tmp_path, method, params):
    """compare takes the calibration gamma the study recorded for its best trial; a study without one (older than
    szsl 0.3) has it chosen again by retraining on the folds, which gives the same gamma."""
    from szsl.experiments.compare import _fold_gamma_again, select_method
    from szsl.methods import get_method
    from szsl.study_storage import sqlite_url

    bench = load_benchmark("digits")
    sel = select_method(bench, method, trials=2, storage=sqlite_url(tmp_path / "s.db"), params=params, device="cpu")
    again = _fold_gamma_again(bench, get_method(method), sel.params, seed=0, device="cpu", fold_classes="ratio")
    assert again == pytest.approx((sel.gamma, sel.cv_h_cs), abs=1e-3)


def test_timeout_bounds_a_methods_search_and_the_tables_say_so(tmp_path):
    """--timeout stops asking for trials after S seconds of a method's tuning: far fewer than --trials run (the first
    population batch always finishes), and both tables state the bound."""
    import optuna

    bench = load_benchmark("digits")
    res = compare(bench, ["szsl"], trials=40, timeout=1e-3, seeds=[0], epochs=1, hidden=8, out=tmp_path / "cmp", device="cpu")
    studies = optuna.get_all_study_summaries(f"sqlite:///{tmp_path / 'cmp' / 'studies.db'}")
    assert len(studies) == 1 and 1 <= studies[0].n_trials < 40
    assert res.settings["timeout"] == 1e-3
    assert "40 random-search trials (at most, within 0.001 s of tuning) per method" in res.markdown()
    assert "(at most, within 0.001 s of tuning) per method" in res.table2_markdown()
    with pytest.raises(SZSLError, match=r"^timeout=-1: expected a number of seconds > 0$"):
        compare(bench, ["szsl"], trials=1, timeout=-1, seeds=[0], epochs=1, hidden=8, device="cpu")
