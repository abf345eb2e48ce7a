import json

import numpy as np
import torch

from szsl.cli import main
from szsl.methods import get_method, method_names, zskl
from szsl.methods.eszsl import ESZSLSolver


def test_defaults():
    assert zskl.NAME == "zskl"
    assert zskl.DEFAULTS == {"sigma": 1.0, "gamma": 1.0, "lambda": 1.0, "targets": "pm1", "landmarks": 2000}
    assert "zskl" in method_names() and get_method("zskl").defaults == zskl.DEFAULTS


def test_space(checks):
    checks.space_keys(zskl)
    assert set(zskl.SPACE) == {"sigma", "gamma", "lambda", "targets"}


def test_rbf():
    X, L = torch.rand(5, 3, dtype=torch.float64), torch.rand(4, 3, dtype=torch.float64)
    want = torch.exp(-((X[:, None] - L[None]) ** 2).sum(-1) / (2 * 0.7**2))
    torch.testing.assert_close(zskl.rbf(X, L, 0.7), want)


def test_trains_scores_and_transfers_to_the_unseen_classes(checks):
    for targets in ("pm1", "01"):
        fitted, s = checks.shape_and_loss(zskl, {"targets": targets})
        unseen = checks.y_test >= 8
        assert (s[unseen][:, 8:].argmax(1) + 8 == checks.y_test[unseen]).mean() > 0.5  # ZSL among the 2 unseen
        assert fitted.landmarks_ == checks.X.shape[0]  # the full kernel


def test_the_closed_form_is_a_stationary_point():
    rng = np.random.default_rng(0)
    Phi = torch.as_tensor(rng.random((40, 7)))
    S = torch.as_tensor(rng.normal(size=(4, 3)))
    y = np.repeat(np.arange(4), 10)
    Y = 2 * torch.nn.functional.one_hot(torch.as_tensor(y), 4).double() - 1
    V = ESZSLSolver.fit(Phi.numpy(), y, S.numpy(), targets="pm1", device="cpu").V(0.3, 2.0).clone().requires_grad_(True)
    zskl.objective(V, Phi, Y, S, 0.3, 2.0).backward()
    assert V.grad.abs().max() < 1e-10


def test_landmarks_are_a_seeded_subset(checks):
    a = checks.deterministic(zskl, {"landmarks": 50})  # seed 3, twice: the same subset
    b = zskl.fit(checks.X, checks.y, checks.A, {"landmarks": 50}, seed=4, device="cpu")
    assert b.landmarks_ == 50 and not np.array_equal(a, b.scores(checks.X_test))


def test_bad_params(checks):
    checks.bad_params(zskl, {"sigma": 0.0, "gamma": -1.0, "targets": "0/1", "landmarks": 1})


def test_cli_train_on_digits(tmp_path, capsys):
    out = tmp_path / "train.json"
    assert main(["train", "--method", "zskl", "--param", "landmarks=100", "--json", str(out), "--device", "cpu"]) == 0
    res = json.loads(out.read_text())
    assert res["method"] == "zskl" and res["params"]["landmarks"] == 100 and 0 <= res["H"] <= 100
    assert "digits: U=" in capsys.readouterr().out
