import pytest

from szsl.errors import SZSLError


def test_param_checking_messages():
    from szsl.methods._peer_common import check_params

    defaults = {"epochs": 5, "lr": 0.1, "mode": "a", "flag": True}
    specs = {"epochs": ("int", 1, None), "lr": ("float", 0.0, None, False, False), "mode": ("choice", ("a", "b")),
             "flag": ("bool",)}
    assert check_params("m", defaults, specs, {"epochs": 7.0}) == {**defaults, "epochs": 7}
    for bad in ({"epochs": float("inf")}, {"epochs": True}, {"lr": float("nan")}, {"mode": "c"}, {"flag": 0},
                {"lr": None}, {"nope": 1}):
        with pytest.raises(SZSLError) as info:
            check_params("m", defaults, specs, bad)
        assert next(iter(bad)) in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(SZSLError, match="mapping"):
        check_params("m", defaults, specs, [1])
