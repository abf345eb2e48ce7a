"""StudySpec checks every field however it is made: StudySpec.build and the constructor refuse the same bad values."""

from __future__ import annotations

import dataclasses

import pytest

from szsl.data import load_benchmark
from szsl.errors import SZSLError
from szsl.search_space import make_space
from szsl.study_spec import StudySpec

URL = "sqlite:///spec.db"


@pytest.fixture(scope="module")
def spec():
    space = make_space({"epochs": 2, "hidden": 16, "q": {"low": 0.1, "high": 0.9}})
    return StudySpec.build(load_benchmark("digits"), n_trials=2, storage=URL, space=space, batch=2)


def test_the_constructor_makes_the_spec_build_makes(spec):
    fields = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}
    assert StudySpec(**fields) == spec
    assert dataclasses.replace(spec, n_trials=5).n_trials == 5  # replace goes through the same checks


@pytest.mark.parametrize(
    "change, message",
    [
        ({"n_trials": 0}, r"^trials=0: expected an integer >= 1$"),
        ({"n_trials": True}, r"^trials=True: expected an integer >= 1$"),
        ({"batch": 0}, r"^batch=0: expected an integer >= 1$"),
        ({"sampler": "bayes"}, r"^sampler 'bayes': expected one of "),
        ({"timeout": 0}, r"^timeout=0: expected a number of seconds > 0$"),
        ({"timeout": "1h"}, r"^timeout='1h': expected a number of seconds > 0$"),
        ({"fold_classes": "some"}, r"^fold_classes='some': expected one of all, matched, ratio, trainval$"),
        ({"prune": "median"}, r"^prune='median': expected one of halving, none$"),
        ({"space": {"q": 0.5}}, r"^space=\{'q': 0.5\}: expected a SearchSpace"),
        ({"storage": ""}, r"^storage='': expected a database URL"),
        ({"study_name": " "}, r"^study_name=' ': expected a non-empty name$"),
        ({"seed": -1}, r"^seed=-1: expected an integer >= 0$"),
        ({"sampler": "grid", "n_trials": 10**6}, r"^the grid has only \d+ points, fewer than trials=1000000"),
    ],
)
def test_a_bad_field_is_refused_by_the_constructor_too(spec, change, message):
    with pytest.raises(SZSLError, match=message):
        dataclasses.replace(spec, **change)


def test_build_refuses_the_same_values_before_making_a_space():
    digits = load_benchmark("digits")
    with pytest.raises(SZSLError, match=r"^prune='median': expected one of halving, none$"):
        StudySpec.build(digits, n_trials=1, storage=URL, method="no-such-method", prune="median")
