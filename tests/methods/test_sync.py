import json

import numpy as np
import torch

from szsl.cli import main
from szsl.methods import get_method, method_names, sync


def test_defaults_are_the_published_central_values():
    assert sync.NAME == "sync" and sync.DETERMINISTIC
    assert sync.DEFAULTS == {"sigma2": 1.0, "lambda": 2.0**-10, "iters": 500, "normalize_features": True}
    assert "sync" in method_names() and get_method("sync").defaults == sync.DEFAULTS


def test_space(checks):
    checks.space_keys(sync)
    assert set(sync.SPACE) == {"sigma2", "lambda"} and all(s["log"] for s in sync.SPACE.values())


def test_similarities_are_a_normalised_gaussian_kernel():
    A, B = torch.rand(5, 3, dtype=torch.float64), torch.rand(4, 3, dtype=torch.float64)
    s = sync.similarities(A, B, 0.5)
    k = torch.exp(-((A[:, None] - B[None]) ** 2).sum(-1) / 0.5)
    torch.testing.assert_close(s, k / k.sum(1, keepdim=True))


def test_trains_scores_and_transfers_to_the_unseen_classes(checks):
    fitted, s = checks.shape_and_loss(sync, {"iters": 100})
    unseen = checks.y_test >= 8
    assert (s[unseen][:, 8:].argmax(1) + 8 == checks.y_test[unseen]).mean() > 0.5  # ZSL among the 2 unseen
    # the synthesized seen classifiers are the learnt ones: S_s V = W_s
    np.testing.assert_allclose(fitted.S_[:8] @ fitted.V_, fitted.W_[:8], atol=1e-4)


def test_the_fit_converges_to_a_stationary_point(checks):
    fitted = sync.fit(checks.X, checks.y, checks.A, {"lambda": 0.5}, device="cpu")
    X = torch.as_tensor(checks.X, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    Y = -torch.ones(X.shape[0], 8, dtype=torch.float64)
    Y[torch.arange(X.shape[0]), torch.as_tensor(checks.y)] = 1.0
    W = torch.tensor(fitted.S_[:8] @ fitted.V_, requires_grad=True)
    sync.objective(W, X, Y, 0.5).backward()
    assert W.grad.abs().max() < 1e-5
    assert np.all(np.diff(fitted.loss_history_) <= 1e-12)


def test_deterministic_whatever_the_seed(checks):
    a = checks.deterministic(sync, {"iters": 50})
    b = sync.fit(checks.X, checks.y, checks.A, {"iters": 50}, seed=7, device="cpu").scores(checks.X_test)
    np.testing.assert_array_equal(a, b)


def test_bad_params(checks):
    checks.bad_params(sync, {"sigma2": 0.0, "lambda": -1.0, "iters": 0, "normalize_features": 1})


def test_cli_train_on_digits(tmp_path, capsys):
    out = tmp_path / "train.json"
    assert main(["train", "--method", "sync", "--param", "iters=50", "--json", str(out), "--device", "cpu"]) == 0
    res = json.loads(out.read_text())
    assert res["method"] == "sync" and res["params"]["iters"] == 50 and 0 <= res["H"] <= 100
    assert "digits: U=" in capsys.readouterr().out
