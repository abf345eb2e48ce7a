"""A method's published per-dataset values (its module's PER_DATASET) apply wherever it runs on that
dataset -- szsl train, the fixed values of a tuning space, szsl compare -- and the user's values beat them."""

import dataclasses
import json
import types

import pytest

from szsl.cli import main
from szsl.data import load_benchmark
from szsl.errors import SZSLError
from szsl.experiments.compare import compare, method_space
from szsl.methods import f_clswgan, from_module, get_method, register, tf_vaegan, unregister
from szsl.search_space import load_space, make_space
from tests.helpers.methods import ridge_module
from tests.helpers.xlsa17 import make_dataset


def test_cn_uses_the_authors_seen_scale_on_cub_only_and_the_user_beats_it():
    for name in ("cn", "cn-soft"):
        m = get_method(name)
        assert m.params({}, dataset="CUB")["seen_scale"] == 1.0 == m.params({}, dataset="cub")["seen_scale"]
        assert m.params({}, dataset="APY")["seen_scale"] == 0.95 == m.params({})["seen_scale"] == m.params({}, dataset=None)["seen_scale"]
        assert m.params({"seen_scale": 0.9}, dataset="CUB")["seen_scale"] == 0.9
        assert m.params({"lr": 1e-3}, dataset="CUB")["lr"] == 1e-3


def test_the_generative_peers_declare_their_authors_values():
    for mod, name in ((f_clswgan, "f-clswgan"), (tf_vaegan, "tf-vaegan")):
        m = get_method(name)
        for ds in ("AWA1", "AWA2", "CUB", "SUN", "APY"):
            assert m.params({}, dataset=ds) == mod.authors_params(ds), (name, ds)
        assert m.params({"epochs": 3}, dataset="SUN")["epochs"] == 3


def test_per_dataset_is_checked_when_the_module_registers():
    def module(table):
        mod = types.ModuleType("bad")
        mod.NAME, mod.DEFAULTS, mod.SPACE, mod.PER_DATASET = "bad", {"a": 1.0}, {}, table
        mod.fit = lambda *a, **k: None
        return mod

    with pytest.raises(SZSLError, match="unknown hyperparameter"):
        from_module(module({"CUB": {"b": 1}}))
    with pytest.raises(SZSLError, match="upper-case dataset name"):
        from_module(module({"cub": {"a": 2.0}}))
    assert from_module(module({"CUB": {"a": 2.0}})).published("Cub") == {"a": 2.0}


# A closed-form method with a published value on CUB for a parameter its space searches (ridge) and
# for one it does not (shift).
@pytest.fixture
def pd_ridge():
    name = register(ridge_module("pd-ridge", {"ridge": 1.0, "shift": 0.0}, PER_DATASET={"CUB": {"ridge": 5.0, "shift": 2.0}}))
    yield name
    unregister(name)


def test_the_space_fixes_the_published_values_it_does_not_search(pd_ridge, tmp_path):
    space = make_space(method=pd_ridge, dataset="CUB")
    assert space.fixed == {"shift": 2.0} and [p.name for p in space.searched] == ["ridge"]  # ridge stays searched
    assert space.config({"ridge": 0.5}, 0) == {"ridge": 0.5, "shift": 2.0}
    assert make_space(method=pd_ridge, dataset="APY").config({"ridge": 0.5}, 0) == {"ridge": 0.5, "shift": 0.0}
    assert make_space(method=pd_ridge).fixed == {}
    assert make_space({"shift": 3.0}, method=pd_ridge, dataset="CUB").fixed == {"shift": 3.0}  # the override wins
    f = tmp_path / "space.json"
    f.write_text(json.dumps({"ridge": 7.0}))
    assert load_space(f, method=pd_ridge, dataset="CUB").fixed == {"ridge": 7.0, "shift": 2.0}
    # cn searches seen_scale: the search is left alone; a space that fixes it keeps its value
    assert "seen_scale" in [p.name for p in make_space(method="cn", dataset="CUB").searched]
    assert method_space("cn", dataset="CUB", params={"seen_scale": 0.9}).fixed["seen_scale"] == 0.9


def test_compare_and_tune_pick_up_the_published_values(pd_ridge, tmp_path):
    digits = load_benchmark("digits")
    cub = dataclasses.replace(digits, name="CUB")  # a benchmark named CUB: the published values apply
    kw = dict(trials=1, seeds=[0], device="cpu")
    assert compare(cub, pd_ridge, **kw).results[0].selection.params["shift"] == 2.0
    assert compare(digits, pd_ridge, **kw).results[0].selection.params["shift"] == 0.0
    assert compare(cub, pd_ridge, params={pd_ridge: {"shift": 3.0}}, **kw).results[0].selection.params["shift"] == 3.0


@pytest.fixture
def twins(shared_root, tmp_path, cache_dir):
    for ds in ("CUB", "APY"):
        make_dataset(shared_root, tmp_path / "data", ds)
    return tmp_path / "data"


def _train(root, tmp_path, ds, *extra):
    out = tmp_path / f"{ds}-{len(extra)}.json"
    argv = ["train", "--method", "cn", "--dataset", ds, "--root", str(root), "--device", "cpu", "--quiet", "--json", str(out),
            "--param", "epochs=1", "--param", "hidden=8", "--param", "batch_size=1024", *extra]
    assert main(argv) == 0
    return json.loads(out.read_text())["params"]


def test_szsl_train_cn_uses_seen_scale_1_on_cub_and_the_users_value_wins(twins, tmp_path, capsys):
    assert _train(twins, tmp_path, "CUB")["seen_scale"] == 1.0
    assert "CUB: seen_scale=1.0" in capsys.readouterr().out  # the run says which published value it used
    assert _train(twins, tmp_path, "APY")["seen_scale"] == 0.95
    assert _train(twins, tmp_path, "CUB", "--param", "seen_scale=0.9")["seen_scale"] == 0.9


def test_szsl_tune_fixes_the_published_values_on_its_dataset(twins, pd_ridge, tmp_path):
    out = tmp_path / "best.json"
    argv = ["tune", "--method", pd_ridge, "--dataset", "CUB", "--root", str(twins), "--trials", "1", "--quiet", "--device", "cpu"]
    assert main([*argv, "--out", str(out), "--storage", f"sqlite:///{tmp_path / 's.db'}"]) == 0
    assert json.loads(out.read_text())["best_config"]["shift"] == 2.0
