import json

import numpy as np
import torch

from szsl.cli import main
from szsl.methods import cycle_wgan, f_clswgan, get_method, method_names

# tiny budget, as f-clswgan's tests
FAST = {"epochs": 6, "hidden": 64, "lr": 1e-3, "batch_size": 32, "n_synth": 20, "pre_lr": 1e-2, "pre_epochs": 20,
        "cls_lr": 1e-2, "cls_epochs": 15, "cycle_weight": 0.1}


def test_defaults_are_f_clswgans_where_they_coincide():
    assert cycle_wgan.NAME == "cycle-wgan" and "GPU-budget" in cycle_wgan.DESCRIPTION
    d = cycle_wgan.DEFAULTS
    assert (d["cycle_weight"], d["unseen_cycle"], d["cls_weight"]) == (0.01, True, 0.0)
    shared = set(d) & set(f_clswgan.DEFAULTS) - {"cls_weight"}
    assert len(shared) == 16 and all(d[k] == f_clswgan.DEFAULTS[k] for k in shared)
    assert "cycle-wgan" in method_names() and get_method("cycle-wgan").defaults == d


def test_space(checks):
    checks.space_keys(cycle_wgan)


def test_cycle_loss_is_the_squared_reconstruction_error():
    W, b = torch.eye(2, 3), torch.tensor([1.0, 0.0])
    fake, a = torch.tensor([[1.0, 2.0, 5.0], [0.0, 0.0, 0.0]]), torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    assert float(cycle_wgan.cycle_loss(fake, a, lambda x: x @ W.T + b)) == (4.0 + 2.0) / 2  # rows: (0^2 + 2^2), (1^2 + 1^2)


def test_trains_scores_and_the_cycle_term_drops(checks):
    fitted, _ = checks.shape_and_loss(cycle_wgan, FAST)
    assert fitted.regressor_history_[-1] < fitted.regressor_history_[0]
    for h in (fitted.critic_history_, fitted.cycle_history_, fitted.cycle_unseen_history_, fitted.generator_history_):
        assert len(h) == FAST["epochs"] and np.isfinite(h).all()
    assert fitted.cycle_history_[-1] < fitted.cycle_history_[0]
    assert fitted.cycle_unseen_history_[-1] < fitted.cycle_unseen_history_[0]
    both = cycle_wgan.fit(checks.X, checks.y, checks.A, {**FAST, "epochs": 1, "cls_weight": 0.1, "unseen_cycle": False},
                          device="cpu")
    assert hasattr(both, "gen_cls_history_") and not hasattr(both, "cycle_unseen_history_")


def test_deterministic(checks):
    a = checks.deterministic(cycle_wgan, {**FAST, "epochs": 2})
    b = cycle_wgan.fit(checks.X, checks.y, checks.A, {**FAST, "epochs": 2}, seed=4, device="cpu").scores(checks.X_test)
    assert not np.array_equal(a, b)


def test_bad_params(checks):
    checks.bad_params(cycle_wgan, {"cycle_weight": -1.0, "unseen_cycle": "yes", "lr": 0.0, "n_synth": 0, "pre_epochs": 0})


def test_cli_train_on_digits(tmp_path, capsys):
    out = tmp_path / "train.json"
    args = ["epochs=1", "hidden=32", "n_synth=10", "cls_epochs=2", "pre_epochs=2"]
    assert main(["train", "--method", "cycle-wgan", *sum((["--param", a] for a in args), []), "--json", str(out),
                 "--device", "cpu"]) == 0
    res = json.loads(out.read_text())
    assert res["method"] == "cycle-wgan" and res["params"]["epochs"] == 1 and 0 <= res["H"] <= 100
    assert "digits: U=" in capsys.readouterr().out
