"""A method module of the documented contract (NAME, DEFAULTS, SPACE, fit) registers with one line
and then runs through the one harness and the one study loop: szsl train / tune / compare."""

import json

import pytest

from szsl.cli import main
from szsl.methods import get_method, method_names, register, unregister
from tests.helpers.methods import ridge_module


def _dummy_module():
    return ridge_module("ridge", {"ridge": 1.0})


@pytest.fixture
def ridge():
    name = register(_dummy_module())  # the one line a new method needs
    yield name
    unregister(name)


def test_a_contract_module_registers_with_one_line(ridge):
    assert ridge == "ridge" and "ridge" in method_names()
    m = get_method("ridge")
    assert not m.multi_fidelity and not m.saveable and m.defaults == {"ridge": 1.0}
    assert m.params({"ridge": 3.0}) == {"ridge": 3.0}
    with pytest.raises(Exception, match="unknown hyperparameter"):
        m.params({"lr": 1.0})


def test_the_dummy_method_runs_through_train_tune_and_compare(ridge, tmp_path, capsys):
    assert main(["train", "--method", "ridge", "--param", "ridge=2.0", "--json", str(tmp_path / "train.json"), "--device", "cpu"]) == 0
    out = json.loads((tmp_path / "train.json").read_text())
    assert out["method"] == "ridge" and out["params"] == out["config"] == {"ridge": 2.0} and 0 <= out["H"] <= 100
    assert "digits: U=" in capsys.readouterr().out

    assert main(["tune", "--method", "ridge", "--trials", "3", "--out", str(tmp_path / "best.json"), "--quiet", "--device", "cpu"]) == 0
    best = json.loads((tmp_path / "best.json").read_text())
    assert best["n_complete"] == 3 and set(best["best_config"]) == {"ridge"} and 0.1 <= best["best_config"]["ridge"] <= 100

    argv = ["compare", "--methods", "ridge", "--trials", "2", "--seeds", "0", "1", "--out", str(tmp_path / "cmp"), "--device", "cpu"]
    assert main(argv) == 0
    data = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert [m["method"] for m in data["methods"]] == ["ridge"] and len(data["methods"][0]["per_seed"]) == 2
    assert 0 <= data["summary"][0]["AUSUC"] <= 1


def test_tune_with_epochs_for_a_method_without_epochs_is_one_line(ridge, tmp_path, capsys):
    assert main(["tune", "--method", "ridge", "--epochs", "3", "--out", str(tmp_path / "b.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "szsl: error: --epochs: method ridge has no epochs (only network methods do)"
