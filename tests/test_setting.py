"""One setting type for every method (szsl.params.Setting): what Method.params returns, what the harness fits and
keeps (Run.config), what a tuning record lists; the registry's capabilities answer what differs between methods."""

from __future__ import annotations

import copy
import pickle

import pytest

from szsl.budget import budget_config
from szsl.config import TrainConfig
from szsl.data import load_benchmark
from szsl.errors import SZSLError
from szsl.evaluation import evaluate, evaluate_rungs
from szsl.methods import get_method, method_names, register, unregister
from szsl.params import Setting
from szsl.protocol import final_split, split_data
from tests.helpers.methods import ridge_fit, ridge_module


def test_a_setting_is_a_read_only_mapping():
    s = Setting({"lr": 0.1, "epochs": 3})
    assert s == {"lr": 0.1, "epochs": 3} and dict(s) == s.to_dict() == {"lr": 0.1, "epochs": 3}
    assert s["lr"] == 0.1 and "epochs" in s and "q" not in s and len(s) == 2 and list(s) == ["lr", "epochs"]
    with pytest.raises(AttributeError, match="read-only"):
        s.lr = 0.2
    with pytest.raises(TypeError):
        s["lr"] = 0.2  # no item assignment
    changed = s.replace(lr=0.2)
    assert changed == {"lr": 0.2, "epochs": 3} and s["lr"] == 0.1 and isinstance(changed, Setting)
    assert pickle.loads(pickle.dumps(s)) == s and copy.deepcopy(s) == s


def test_trainconfig_is_the_setting_of_the_network_methods():
    c = TrainConfig(q=0.3, hidden=64)
    assert isinstance(c, Setting)
    assert dict(c) == c.to_dict() and list(c) == [f for f in TrainConfig.__dataclass_fields__] and len(c) == len(dict(c))
    assert c["q"] == c.q == 0.3 and c.get("hidden") == 64 and "seed" in c and "ridge" not in c
    with pytest.raises(KeyError):
        c["ridge"]
    assert TrainConfig.from_dict(dict(c)) == c and pickle.loads(pickle.dumps(c)) == c and copy.deepcopy(c) == c
    assert hash(c) == hash(TrainConfig(q=0.3, hidden=64))


@pytest.mark.parametrize("name", method_names())
def test_every_method_s_setting_is_a_setting_and_round_trips_through_a_dict(name):
    m = get_method(name)
    s = m.params()
    assert isinstance(s, Setting) and set(s) >= set(m.fixed)
    assert m.params(dict(s)) == s  # the values of a setting are a setting's values again (what a tuning record holds)
    setting, seed = m.seeded({**s, "seed": 7}, 0)
    assert seed == 7 and m.params(dict(setting)) == setting
    # the seed is part of a setting exactly where the method declares one (the network methods: TrainConfig.seed)
    assert ("seed" in setting) == ("seed" in m.defaults) == m.multi_fidelity
    if "seed" in setting:
        assert setting["seed"] == 7 and m.seeded(dict(s), 5)[0]["seed"] == s["seed"]  # a recorded seed wins
    assert m.seeded({}, 5)[1] == 5


def test_the_capabilities_are_the_registry_s():
    for name in ("szsl", "hard", "dcn"):
        m = get_method(name)
        assert m.multi_fidelity and m.saveable and m.shared_train_time
        assert m.budget_values(epochs=3, hidden=None) == {"epochs": 3}
    eszsl = get_method("eszsl")
    assert not (eszsl.multi_fidelity or eszsl.saveable or eszsl.shared_train_time)
    assert eszsl.budget_values(epochs=3, hidden=8) == {}
    s = eszsl.params()
    assert eszsl.small_data(s, 10, 8, 100) is s
    big = TrainConfig(batch_size=256, epochs=2)
    small = get_method("szsl").small_data(big, 64, 8, 100)  # the budget rules of szsl.budget, on a network setting
    assert small == budget_config(big, 64, 8, 100) and small.batch_size < 256 and small.epochs > 2
    # strict (as given) for a TrainConfig, coerced for the others
    with pytest.raises(SZSLError, match=r"^space: hidden=64.0: expected an integer >= 1$"):
        get_method("szsl").check_value("hidden", 64.0, "space")
    assert get_method("sae").check_value("lambda", 2, "space") == 2.0


@pytest.fixture(scope="module")
def data():
    bench = load_benchmark("digits")
    return split_data(bench, final_split(bench))


def test_the_harness_keeps_every_method_s_setting_as_run_config(data):
    (net,) = evaluate("szsl", data, [{"hidden": 16, "epochs": 1}], seed=3, device="cpu", with_t1=False)
    (closed,) = evaluate("eszsl", data, [{"gamma": 2.0, "seed": 3}], device="cpu", with_t1=False)
    assert isinstance(net.config, TrainConfig) and net.config.seed == 3 and net.params == dict(net.config)
    assert isinstance(closed.config, Setting) and closed.config == get_method("eszsl").params({"gamma": 2.0})
    for run in (net, closed):
        out = run.to_dict()
        assert out["method"] == run.method and out["params"] == out["config"] == dict(run.config) and "H" in out
    with pytest.raises(SZSLError, match="multi-fidelity evaluation needs a network method"):
        evaluate_rungs("eszsl", [data], [{}], [1], lambda *a: [])


def test_a_module_s_fit_population_is_given_plain_dicts(data):
    seen = []

    def fit_population(X, y, attributes, params_list, *, seeds, device="auto", progress=False):
        seen.extend(params_list)
        params_list[0]["ridge"] = 1e9  # its own copy: the harness's setting is untouched
        return [ridge_fit(X, y, attributes, p) for p in params_list]

    name = register(ridge_module("ridge-pop", {"ridge": 1.0}, fit_population=fit_population))
    try:
        (run,) = evaluate(name, data, [{"ridge": 2.0}], device="cpu", with_t1=False)
    finally:
        unregister(name)
    assert [type(p) for p in seen] == [dict] and run.config == {"ridge": 2.0} and run.params == {"ridge": 2.0}


def test_the_kind_of_method_is_asked_only_in_the_registry():
    """No code reads ``Method.network`` (or the former ``is_network``) outside the registry, and no code asks whether a
    setting has ``to_dict`` (every setting has)."""
    import ast
    from pathlib import Path

    src = Path(__file__).resolve().parents[1] / "src" / "szsl"
    registry = src / "methods" / "__init__.py"
    kind, duck = [], []
    for path in sorted(src.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("network", "is_network") and path != registry:
                kind.append(f"{path.relative_to(src)}:{node.lineno}")
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "hasattr"
                    and len(node.args) == 2 and isinstance(node.args[1], ast.Constant) and node.args[1].value == "to_dict"):
                duck.append(f"{path.relative_to(src)}:{node.lineno}")
    assert kind == []
    assert duck == []
