import torch

from szsl.methods import devise

FAST = {"epochs": 15, "lr": 1e-2}


def test_defaults():
    assert devise.NAME == "devise"
    expected = {"lr": 1e-3, "optimizer": "adam", "momentum": 0.9, "weight_decay": 0.0, "epochs": 30,
                "batch_size": 64, "normalize_features": True, "margin": 0.1}
    assert devise.DEFAULTS == expected


def test_space(checks):
    checks.space_keys(devise)


def test_trains_and_scores(checks):
    checks.shape_and_loss(devise, FAST)
    checks.shape_and_loss(devise, {**FAST, "optimizer": "sgd", "lr": 0.5})


def test_deterministic(checks):
    checks.deterministic(devise, FAST)


def test_bad_params(checks):
    checks.bad_params(devise, {"lr": 0.0, "optimizer": "rmsprop", "epochs": -3, "batch_size": 1.5, "margin": -0.1})


def test_hinge_rank_loss():
    s = torch.tensor([[0.0, 0.05, -2.0], [0.3, 0.2, 0.1]])
    # row 0 (y=0): max(0, .1+.05) + 0 = .15; row 1 (y=2): (.1+.3-.1) + (.1+.2-.1) = .5
    loss = devise.hinge_rank_loss(s, torch.tensor([0, 2]), {"margin": 0.1})
    assert abs(float(loss) - (0.15 + 0.5) / 2) < 1e-6
