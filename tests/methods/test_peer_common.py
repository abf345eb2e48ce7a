import numpy as np
import pytest
import torch

from szsl.errors import SZSLError
from szsl.methods import sje
from szsl.methods._compat import Bilinear
from szsl.methods._peer_common import l2_rows


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


def test_the_bilinear_compatibility_is_a_module_whose_fitted_w_scores_the_classes(tiny):
    """devise, ale and sje train W as a torch.nn.Module (``_compat.Bilinear``); the fitted W_ is its weight, and the
    scores are theta(x)^T W phi(c) (sje's: unnormalised features here)."""
    model = Bilinear(5, 3, torch.Generator().manual_seed(0))
    assert [name for name, _ in model.named_parameters()] == ["W"] and model.W.shape == (5, 3)
    x = torch.randn(4, 5)
    torch.testing.assert_close(model(x), x @ model.W)
    X, y, A, X_test, _ = tiny
    fitted = sje.fit(X, y, A, {"epochs": 1, "normalize_features": False}, seed=0, device="cpu")
    expected = X_test.astype(np.float64) @ fitted.W_ @ l2_rows(A.astype(np.float64)).T
    np.testing.assert_allclose(fitted.scores(X_test), expected, rtol=1e-4, atol=1e-4)
