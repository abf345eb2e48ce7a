import json

import numpy as np
import torch

from szsl.cli import main
from szsl.methods import get_method, method_names, sp_aen

FAST = {"epochs": 30, "lr": 3e-3, "hidden": 64, "embed_dim": 32}


def test_defaults():
    assert sp_aen.NAME == "sp-aen" and "feature-level variant" in sp_aen.DESCRIPTION
    assert sp_aen.DEFAULTS == {"embed_dim": 256, "hidden": 512, "lr": 1e-4, "epochs": 30, "batch_size": 64, "adv_weight": 0.1,
                               "rec_weight": 1.0, "scale": 10.0, "weight_decay": 0.0}
    assert "sp-aen" in method_names() and get_method("sp-aen").defaults == sp_aen.DEFAULTS


def test_space(checks):
    checks.space_keys(sp_aen)
    assert set(sp_aen.SPACE) == {"lr", "adv_weight"}


def test_cosine_scores():
    e, phi = torch.tensor([[3.0, 4.0]]), torch.tensor([[1.0, 0.0], [0.0, 2.0], [-6.0, -8.0]])
    torch.testing.assert_close(sp_aen.cosine_scores(e, phi, 10.0), torch.tensor([[6.0, 8.0, -10.0]]))


def test_trains_reconstructs_and_transfers_to_the_unseen_classes(checks):
    fitted, s = checks.shape_and_loss(sp_aen, FAST)
    unseen = checks.y_test >= 8
    assert (s[unseen][:, 8:].argmax(1) + 8 == checks.y_test[unseen]).mean() > 0.5  # ZSL among the 2 unseen
    parts = fitted.parts_history_
    assert set(parts) == {"ce", "rec", "adv", "dis"} and all(len(v) == FAST["epochs"] for v in parts.values())
    assert parts["ce"][-1] < parts["ce"][0] and parts["rec"][-1] < 0.5 * parts["rec"][0]
    rec = fitted.reconstruct_(checks.X_test)
    assert rec.shape == checks.X_test.shape and ((rec - checks.X_test) ** 2).mean() < ((checks.X_test.mean(0) - checks.X_test) ** 2).mean()


def test_the_adversarial_term_moves_the_classifier_embedding(checks):
    a = sp_aen.fit(checks.X, checks.y, checks.A, {**FAST, "epochs": 2, "adv_weight": 0.0}, seed=0, device="cpu")
    b = sp_aen.fit(checks.X, checks.y, checks.A, {**FAST, "epochs": 2, "adv_weight": 1.0}, seed=0, device="cpu")
    assert not np.array_equal(a.scores(checks.X_test), b.scores(checks.X_test))


def test_deterministic_given_the_seed(checks):
    a = checks.deterministic(sp_aen, {**FAST, "epochs": 2})
    b = sp_aen.fit(checks.X, checks.y, checks.A, {**FAST, "epochs": 2}, seed=4, device="cpu").scores(checks.X_test)
    assert not np.array_equal(a, b)


def test_bad_params(checks):
    checks.bad_params(sp_aen, {"embed_dim": 0, "hidden": 0, "lr": 0.0, "epochs": 0, "adv_weight": -1.0, "rec_weight": -1.0,
                               "scale": 0.0, "weight_decay": -1.0})


def test_cli_train_on_digits(tmp_path, capsys):
    out = tmp_path / "train.json"
    assert main(["train", "--method", "sp-aen", "--param", "epochs=1", "--param", "hidden=32", "--json", str(out),
                 "--device", "cpu"]) == 0
    res = json.loads(out.read_text())
    assert res["method"] == "sp-aen" and res["params"]["epochs"] == 1 and 0 <= res["H"] <= 100
    assert "digits: U=" in capsys.readouterr().out
