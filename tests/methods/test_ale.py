import numpy as np
import torch

from szsl.methods import ale

FAST = {"epochs": 15, "lr": 1e-2}


def test_defaults():
    assert ale.NAME == "ale"
    expected = {"lr": 1e-3, "optimizer": "adam", "momentum": 0.9, "weight_decay": 0.0, "epochs": 30,
                "batch_size": 64, "normalize_features": True, "delta": 1.0}
    assert ale.DEFAULTS == expected


def test_space(checks):
    checks.space_keys(ale)


def test_trains_and_scores(checks):
    checks.shape_and_loss(ale, FAST)
    checks.shape_and_loss(ale, {**FAST, "optimizer": "sgd", "lr": 0.5})


def test_deterministic(checks):
    checks.deterministic(ale, FAST)


def test_bad_params(checks):
    checks.bad_params(ale, {"lr": 0.0, "optimizer": "rmsprop", "epochs": -3, "batch_size": 1.5, "delta": float("inf")})


def test_warp_weights_and_loss():
    r = torch.tensor([0, 1, 2, 3])
    np.testing.assert_allclose(ale.rank_weights(r, 5).numpy(), [0, 1, 1.5 / 2, (1 + 0.5 + 1 / 3) / 3], rtol=1e-6)
    s = torch.tensor([[0.0, 0.5, -2.0], [1.0, 0.2, 0.9]])
    # row 0 (y=0): margins 1.5 (j=1), -1.0 (j=2) -> r=1, loss 1.5; row 1 (y=2): 1.1, 0.3 -> r=2, (1.5/2)*1.4
    loss = ale.warp_loss(s, torch.tensor([0, 2]), {"delta": 1.0})
    assert abs(float(loss) - (1.5 + 0.75 * 1.4) / 2) < 1e-6
