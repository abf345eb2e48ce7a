import json

import numpy as np
import torch

from szsl.cli import main
from szsl.methods import get_method, method_names, se_gzsl

FAST = {"epochs": 20, "hidden": 64, "lr": 3e-3, "batch_size": 32, "n_synth": 20, "pre_lr": 1e-2, "pre_epochs": 20,
        "cls_lr": 1e-2, "cls_epochs": 15}


def test_defaults():
    assert se_gzsl.NAME == "se-gzsl"
    assert se_gzsl.DEFAULTS == {
        "lr": 1e-3, "epochs": 50, "batch_size": 64, "hidden": 512, "latent_dim": 0, "sem_weight": 1.0,
        "reg_gen_weight": 0.1, "feedback_weight": 0.1, "n_synth": 300, "cls_lr": 1e-3, "cls_epochs": 25,
        "cls_batch_size": 0, "pre_lr": 1e-3, "pre_epochs": 50, "pre_batch_size": 100, "minmax": True,
    }
    assert "se-gzsl" in method_names() and get_method("se-gzsl").defaults == se_gzsl.DEFAULTS


def test_space(checks):
    checks.space_keys(se_gzsl)


def test_decoder_and_encoder_shapes():
    g = torch.Generator().manual_seed(0)
    E = se_gzsl.Encoder(5, 2, 16, 3, g)
    G = se_gzsl.Decoder(3, 2, 16, 5, g)
    mu, logvar = E(torch.rand(4, 5), torch.rand(4, 2))
    x = G(torch.randn(4, 3), torch.rand(4, 2))
    assert mu.shape == logvar.shape == (4, 3) and x.shape == (4, 5) and ((x > 0) & (x < 1)).all()


def test_trains_scores_and_transfers_to_the_unseen_classes(checks):
    fitted, s = checks.shape_and_loss(se_gzsl, FAST)
    for h in (fitted.vae_history_, fitted.sem_history_, fitted.regressor_history_):
        assert len(h) == FAST["epochs"] and np.isfinite(h).all() and h[-1] < h[0]
    assert fitted.pretrain_history_[-1] < fitted.pretrain_history_[0]
    unseen = checks.y_test >= 8
    assert (s[unseen][:, 8:].argmax(1) + 8 == checks.y_test[unseen]).mean() > 0.5  # ZSL among the 2 unseen


def test_deterministic(checks):
    a = checks.deterministic(se_gzsl, {**FAST, "epochs": 2})
    b = se_gzsl.fit(checks.X, checks.y, checks.A, {**FAST, "epochs": 2}, seed=4, device="cpu").scores(checks.X_test)
    assert not np.array_equal(a, b)


def test_bad_params(checks):
    checks.bad_params(se_gzsl, {"lr": 0.0, "sem_weight": -1.0, "feedback_weight": float("nan"), "hidden": 0,
                                "minmax": "no"})


def test_cli_train_on_digits(tmp_path, capsys):
    out = tmp_path / "train.json"
    args = ["epochs=1", "hidden=32", "n_synth=10", "cls_epochs=2", "pre_epochs=2"]
    assert main(["train", "--method", "se-gzsl", *sum((["--param", a] for a in args), []), "--json", str(out),
                 "--device", "cpu"]) == 0
    res = json.loads(out.read_text())
    assert res["method"] == "se-gzsl" and res["params"]["epochs"] == 1 and 0 <= res["H"] <= 100
    assert "digits: U=" in capsys.readouterr().out
