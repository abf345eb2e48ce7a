import torch

from szsl.methods import sje

FAST = {"epochs": 15, "lr": 1e-2}


def test_defaults():
    assert sje.NAME == "sje"
    expected = {"lr": 1e-3, "optimizer": "adam", "momentum": 0.9, "weight_decay": 0.0, "epochs": 30,
                "batch_size": 64, "normalize_features": True, "delta": 1.0}
    assert sje.DEFAULTS == expected


def test_space(checks):
    checks.space_keys(sje)


def test_trains_and_scores(checks):
    checks.shape_and_loss(sje, FAST)
    checks.shape_and_loss(sje, {**FAST, "optimizer": "sgd", "lr": 0.5})


def test_deterministic(checks):
    checks.deterministic(sje, FAST)


def test_bad_params(checks):
    checks.bad_params(sje, {"lr": 0.0, "optimizer": "rmsprop", "epochs": -3, "batch_size": 1.5, "delta": float("inf")})


def test_structured_hinge():
    s = torch.tensor([[0.0, 0.5, -2.0], [3.0, 0.2, 0.9]])
    # row 0 (y=0): max(0, 1.5, -1) - 0 = 1.5; row 1 (y=2): max(4, 1.2, 0.9) - 0.9 = 3.1
    loss = sje.structured_hinge(s, torch.tensor([0, 2]), {"delta": 1.0})
    assert abs(float(loss) - (1.5 + 3.1) / 2) < 1e-6
