"""One declaration per hyperparameter (szsl.params): the default, the CLI option, the validation and the search
space all come from a method's ``PARAMS``; a bad value is a one-line SZSLError naming the parameter."""

import argparse
import importlib

import pytest

from szsl import params as hp
from szsl.cli import main
from szsl.config import PARAMS as TRAIN_PARAMS
from szsl.config import TrainConfig
from szsl.errors import SZSLError
from szsl.methods import get_method, register, unregister
from szsl.params import BOOLEAN, POSITIVE, Interval, Options, Param
from szsl.search_space import make_space
from tests.helpers.methods import ridge_fit, ridge_module

# The new hyperparameter, declared once: default, constraint, search range, help.
SHRINK = Param("shrink", 0.5, Interval(float, 0.0, 1.0, "right"), {"low": 0.1, "high": 1.0}, "fraction of the ridge kept, in (0, 1]")


def _shrunk_fit(X, y, attributes, params, *, seed=0, device="auto"):
    return ridge_fit(X, y, attributes, {"ridge": params["ridge"] * params["shrink"]}, seed=seed, device=device)


@pytest.fixture
def method():
    """A test method that declares PARAMS only (no hand-written DEFAULTS or SPACE)."""
    module = ridge_module("ridge-hp", {})
    del module.DEFAULTS, module.SPACE
    module.PARAMS = (Param("ridge", 1.0, POSITIVE, {"low": 0.1, "high": 100.0, "log": True}, "ridge penalty"), SHRINK)
    module.fit = _shrunk_fit
    name = register(module)
    yield module
    unregister(name)


def test_a_new_hyperparameter_is_one_declaration(method, capsys):
    m = get_method("ridge-hp")
    # the default and the search space
    assert m.defaults == {"ridge": 1.0, "shrink": 0.5}
    assert m.space["shrink"] == {"low": 0.1, "high": 1.0}
    shrink = {p.name: p for p in make_space(method="ridge-hp").params}["shrink"]
    assert (shrink.kind, shrink.low, shrink.high, shrink.log) == ("float", 0.1, 1.0, False)
    # the CLI option (the helper szsl train builds its options with)
    parser = argparse.ArgumentParser()
    hp.add_options(parser, method.PARAMS)
    option = next(a for a in parser._actions if a.dest == "shrink")
    assert option.option_strings == ["--shrink"] and option.type is float and option.default == 0.5 and option.help == SHRINK.help
    assert parser.parse_args(["--shrink", "0.25"]).shrink == 0.25
    # the validation: the method's setting, a space file's range and szsl train --param, each one line naming it
    assert m.params({"shrink": 1.0}) == {"ridge": 1.0, "shrink": 1.0}
    with pytest.raises(SZSLError, match=r"^ridge-hp: shrink=0: expected a number in \(0, 1\]$"):
        m.params({"shrink": 0})
    with pytest.raises(SZSLError, match=r"^space: shrink=2.0: expected a number in \(0, 1\]$"):
        make_space({"shrink": {"low": 0.5, "high": 2}}, method="ridge-hp")
    assert main(["train", "--method", "ridge-hp", "--param", "shrink=1.5"]) == 2
    assert capsys.readouterr().err == "szsl: error: ridge-hp: shrink=1.5: expected a number in (0, 1]\n"


def test_the_new_hyperparameter_reaches_the_fit_and_a_study(method, tmp_path):
    assert main(["train", "--method", "ridge-hp", "--param", "shrink=0.2", "--json", str(tmp_path / "t.json"), "--device", "cpu",
                 "--quiet"]) == 0
    assert main(["tune", "--method", "ridge-hp", "--trials", "2", "--out", str(tmp_path / "b.json"), "--quiet", "--device", "cpu"]) == 0
    best = (tmp_path / "b.json").read_text()
    assert '"shrink"' in best


def test_options_take_type_choices_and_help_from_the_constraint():
    declared = (Param("solver", "exact", Options(("exact", "cg"))), Param("iters", 10, Interval(int, 1, None)),
                Param("center", False, BOOLEAN, help="center the features"))
    parser = argparse.ArgumentParser()
    hp.add_options(parser, declared)
    by = {a.dest: a for a in parser._actions}
    assert by["solver"].choices == ("exact", "cg") and by["iters"].type is int and by["iters"].help == "default 10"
    assert by["center"].help == "center the features"
    args = parser.parse_args(["--solver", "cg", "--iters", "3", "--center", "true"])
    assert (args.solver, args.iters, args.center) == ("cg", 3, True)


def test_szsl_train_options_come_from_the_trainconfig_declarations():
    from szsl.commands.train import add_config_args
    from szsl.methods.dcn import PARAMS as DCN_PARAMS

    parser = argparse.ArgumentParser()
    add_config_args(parser)
    by = {a.dest: a for a in parser._actions}
    for p in TRAIN_PARAMS + DCN_PARAMS:  # DCN's own hyperparameters are declared in methods/dcn.py
        assert by[p.name].default == p.default, p.name
        if p.name != "method":  # --method takes the registry's names
            assert by[p.name].help == (p.help or f"default {p.default}"), p.name
    assert by["q"].type is float and by["hidden"].type is int and by["activation"].choices == ("relu", "tanh", "sigmoid", "hard-sigmoid")
    assert [f for f in TrainConfig.__dataclass_fields__] == [p.name for p in TRAIN_PARAMS]


def _bad_values(p: Param) -> list:
    c = p.constraint
    if isinstance(c, Options):
        return ["no-such-choice", None]
    if c is BOOLEAN:
        return [0, "yes"]
    bad = ["text", None, True, float("nan")]
    if c.low is not None:
        bad.append(c.low - 1)
    if c.high is not None:
        bad.append(c.high + 1)
    if c.type is int:
        bad.append(1.5)
    return bad


@pytest.mark.parametrize("p", TRAIN_PARAMS, ids=lambda p: p.name)
def test_bad_trainconfig_values_are_one_line_naming_the_parameter(p):
    for value in _bad_values(p):
        with pytest.raises(SZSLError) as info:
            TrainConfig(**{p.name: value})
        assert str(info.value).startswith(f"{p.name}={value!r}: expected ") and "\n" not in str(info.value)


PEERS = ["sae", "devise", "ale", "sje", "conse", "cn", "cn_soft", "f_clswgan", "tf_vaegan", "eszsl"]


@pytest.mark.parametrize("module_name", PEERS)
def test_bad_peer_values_are_one_line_naming_the_parameter(module_name):
    module = importlib.import_module(f"szsl.methods.{module_name}")
    m = get_method(module.NAME)
    assert m.defaults == module.DEFAULTS and m.space == module.SPACE and hp.check(module.NAME, module.PARAMS, None) == module.DEFAULTS
    for p in (p for p in module.PARAMS if p.constraint is not None):  # eszsl's gamma, lambda: checked by its solver
        for value in _bad_values(p):
            for call in (lambda: hp.check(module.NAME, module.PARAMS, {p.name: value}), lambda: m.params({p.name: value})):
                with pytest.raises(SZSLError) as info:
                    call()
                assert str(info.value).startswith(f"{module.NAME}: {p.name}={value!r}: expected ") and "\n" not in str(info.value)


def test_messages_and_coercion():
    assert Interval(float, 0.0, 1.0).describe() == "a number in [0, 1]"
    assert Interval(int, 0, 2**63, "left").describe() == "an integer in [0, 2**63)"
    assert POSITIVE.describe() == "a number > 0" and Interval(int, 1, None).describe() == "an integer >= 1"
    epochs = Param("epochs", 5, Interval(int, 1, None))
    assert epochs.check(7.0) == 7 and isinstance(epochs.check(7.0), int)
    with pytest.raises(SZSLError, match=r"^epochs=7.0: expected an integer >= 1$"):
        epochs.check(7.0, strict=True)  # TrainConfig's: no coercion
    with pytest.raises(SZSLError, match=r"^lr=10000000000.*: expected a number > 0$"):
        Param("lr", 1.0, POSITIVE).check(10**400)


def test_an_old_style_module_still_registers_and_is_checked_by_its_specs():
    module = ridge_module("ridge-old", {"ridge": 1.0, "mode": "a"}, SPECS={"ridge": ("float", 0.0, None, False, False)})
    name = register(module)
    try:
        m = get_method(name)
        assert m.defaults == {"ridge": 1.0, "mode": "a"} and m.space == module.SPACE
        assert m.params({"mode": "anything"})["mode"] == "anything"  # no spec: any value
        with pytest.raises(SZSLError, match=r"^ridge-old: ridge=-1: expected a number > 0$"):
            m.params({"ridge": -1})
        with pytest.raises(SZSLError, match=r"^space: ridge=0.0: expected a number > 0$"):
            make_space({"ridge": {"low": 0, "high": 1}}, method=name)
    finally:
        unregister(name)


def test_szsl_train_passes_dcns_options_to_dcn_only():
    from szsl.cli import build_parser
    from szsl.commands.train import method_params
    from szsl.methods import get_method

    args = build_parser().parse_args(["train", "--method", "dcn", "--dcn-temperature", "0.5", "--q", "0.3"])
    dcn = get_method("dcn")
    setting = dcn.params(method_params(args, dcn))
    assert (type(setting).__name__, setting.dcn_temperature, setting.dcn_entropy) == ("DCNConfig", 0.5, 0.1)
    szsl = get_method("szsl")
    assert "dcn_temperature" not in method_params(args, szsl) and szsl.params(method_params(args, szsl)).q == 0.3
