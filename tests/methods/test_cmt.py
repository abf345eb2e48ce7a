import json

import numpy as np
import pytest
import torch
from scipy.stats import multivariate_normal

from szsl.cli import main
from szsl.methods import cmt, get_method, method_names

FAST = {"epochs": 40, "batch_size": 32, "lr": 1e-2}


def test_defaults():
    assert cmt.NAME == "cmt" and cmt.DEFAULTS["hidden"] == 100  # the paper's hidden units
    assert cmt.DEFAULTS == {"hidden": 100, "quantile": 0.05, "temperature": 1.0, "l2": 1e-4, "lr": 1e-3, "epochs": 30,
                            "batch_size": 256, "cls_weight_decay": 1e-4}
    assert "cmt" in method_names() and get_method("cmt").defaults == cmt.DEFAULTS


def test_space(checks):
    checks.space_keys(cmt)
    assert set(cmt.SPACE) == {"quantile", "l2"}


def test_gaussians_and_their_log_likelihoods():
    rng = np.random.default_rng(0)
    Z = torch.as_tensor(rng.normal(size=(30, 4)))
    col = torch.as_tensor(np.repeat([0, 1, 2], 10))
    mu, var = cmt.class_gaussians(Z, col, 3)
    for c in range(3):
        zc = Z[col == c].numpy()
        np.testing.assert_allclose(mu[c].numpy(), zc.mean(0))
        np.testing.assert_allclose(var[c].item(), ((zc - zc.mean(0)) ** 2).mean())
    got = cmt.log_likelihoods(Z[:5], mu, var).numpy()
    want = [[multivariate_normal(mu[c].numpy(), var[c].item() * np.eye(4)).logpdf(z) for c in range(3)] for z in Z[:5].numpy()]
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_the_gate_routes_hard_in_the_limit():
    log_ps = torch.log_softmax(torch.tensor([[2.0, 0.0], [2.0, 0.0]], dtype=torch.float64), 1)
    log_pu = torch.log_softmax(torch.tensor([[0.0, 1.0], [0.0, 1.0]], dtype=torch.float64), 1)
    s = cmt.gzsl_scores(log_ps, log_pu, torch.tensor([50.0, -50.0], dtype=torch.float64), torch.tensor([0, 2]),
                        torch.tensor([1, 3]), 4)
    assert s.argmax(1).tolist() == [0, 3]  # seen-routed: the seen softmax; unseen-routed: the unseen classifier
    assert torch.isfinite(s).all()


def test_trains_scores_and_transfers_to_the_unseen_classes(checks):
    fitted, s = checks.shape_and_loss(cmt, FAST)
    assert fitted.cls_history_[-1] < fitted.cls_history_[0]
    unseen = checks.y_test >= 8
    assert (s[unseen][:, 8:].argmax(1) + 8 == checks.y_test[unseen]).mean() > 0.5  # ZSL among the 2 unseen
    assert (s[unseen].argmax(1) >= 8).mean() > 0.5  # most unseen images are detected as novel


@pytest.mark.parametrize("quantile", [0.05, 0.3])
def test_the_threshold_is_the_quantile_of_the_training_points(checks, quantile):
    fitted = cmt.fit(checks.X, checks.y, checks.A, {**FAST, "quantile": quantile, "temperature": 1e-9}, device="cpu")
    assert fitted.train_outlier_fraction_ == pytest.approx(quantile, abs=1.5 / checks.X.shape[0])
    routed_unseen = (fitted.scores(checks.X).argmax(1) >= 8).mean()
    assert routed_unseen == pytest.approx(fitted.train_outlier_fraction_, abs=1.5 / checks.X.shape[0])


def test_deterministic_given_the_seed(checks):
    a = checks.deterministic(cmt, FAST)
    b = cmt.fit(checks.X, checks.y, checks.A, FAST, seed=4, device="cpu").scores(checks.X_test)
    assert not np.array_equal(a, b)


def test_bad_params(checks):
    checks.bad_params(cmt, {"hidden": 0, "quantile": 1.0, "temperature": 0.0, "l2": -1.0, "epochs": 0})


def test_cli_train_on_digits(tmp_path, capsys):
    out = tmp_path / "train.json"
    assert main(["train", "--method", "cmt", "--param", "epochs=2", "--json", str(out), "--device", "cpu"]) == 0
    res = json.loads(out.read_text())
    assert res["method"] == "cmt" and res["params"]["epochs"] == 2 and 0 <= res["H"] <= 100
    assert "digits: U=" in capsys.readouterr().out
