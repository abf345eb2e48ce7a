import json

import numpy as np
import pytest
import torch

from szsl.cli import main
from szsl.errors import SZSLError
from szsl.methods import cosmo, get_method, method_names

FAST = {"epochs": 20, "lr": 1e-2}  # the zero-shot expert: szsl at ZS_NETWORK_BUDGET


def test_defaults():
    assert cosmo.NAME == "cosmo"
    assert cosmo.DEFAULTS == {"zs_method": "szsl", "zs_params": None, "l2": 1e-4, "lr": 1e-3, "epochs": 30, "batch_size": 64,
                              "top_k": 3, "smoothing": 1.0, "holdout_classes": 0.25, "holdout_images": 0.2, "gate_l2": 1e-3}
    assert "cosmo" in method_names() and get_method("cosmo").defaults == cosmo.DEFAULTS


def test_space(checks):
    checks.space_keys(cosmo)
    assert set(cosmo.SPACE) == {"l2", "smoothing"}


def test_the_gate_split_uses_seen_classes_only_and_is_seeded():
    y = np.repeat(np.array([0, 1, 2, 3, 5, 6, 7, 8]), 10)
    seen = np.unique(y)
    a = cosmo.holdout_split(y, seen, classes=0.25, images=0.2, g=torch.Generator().manual_seed(0))
    b = cosmo.holdout_split(y, seen, classes=0.25, images=0.2, g=torch.Generator().manual_seed(0))
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    tr, v_seen, v_unseen, p_seen, p_unseen = a
    assert p_unseen.size == 2 and np.array_equal(np.sort(np.concatenate([p_seen, p_unseen])), seen)
    assert np.array_equal(np.sort(np.concatenate([tr, v_seen, v_unseen])), np.arange(y.size))  # a partition
    assert set(y[v_unseen]) == set(p_unseen) and set(y[tr]) == set(y[v_seen]) == set(p_seen) and v_seen.size == 12
    with pytest.raises(SZSLError, match="at least 3 seen classes"):
        cosmo.holdout_split(y[:20], seen[:2], classes=0.25, images=0.2, g=torch.Generator())


def test_smoothing_and_the_combined_scores_are_a_distribution():
    assert cosmo.top_k(torch.tensor([[0.25, 0.5, 0.125]]), 5).tolist() == [[0.5, 0.25, 0.125, 0.0, 0.0]]
    g = torch.Generator().manual_seed(0)
    log_ps = torch.log_softmax(torch.randn(4, 3, generator=g, dtype=torch.float64) * 5, 1)
    log_pu = torch.log_softmax(torch.randn(4, 2, generator=g, dtype=torch.float64) * 5, 1)
    logit = torch.tensor([-30.0, -1.0, 0.5, 40.0], dtype=torch.float64)
    for beta in (0.0, 1.0, 3.0):
        s = cosmo.combine(log_ps, log_pu, logit, beta, torch.tensor([0, 2, 4]), torch.tensor([1, 3]), 5)
        assert torch.isfinite(s).all()
        torch.testing.assert_close(s.exp().sum(1), torch.ones(4, dtype=torch.float64))
        gate = torch.sigmoid(logit)[:, None]
        keep = gate**beta
        torch.testing.assert_close(s[:, [0, 2, 4]].exp(), gate * (keep * log_ps.exp() + (1 - keep) / 3))
    s0 = cosmo.combine(log_ps, log_pu, logit, 0.0, torch.tensor([0, 2, 4]), torch.tensor([1, 3]), 5)
    torch.testing.assert_close(s0[:, [1, 3]], torch.nn.functional.logsigmoid(-logit)[:, None] + log_pu)  # beta 0: no smoothing


def test_trains_scores_and_transfers_to_the_unseen_classes(checks):
    fitted, s = checks.shape_and_loss(cosmo, FAST)
    unseen = checks.y_test >= 8
    assert (s[unseen][:, 8:].argmax(1) + 8 == checks.y_test[unseen]).mean() > 0.5  # the ZS expert among the 2 unseen
    assert (s[unseen].argmax(1) >= 8).mean() > 0.2  # the gate lets unseen images reach their classes
    assert fitted.val_gate_accuracy_ > 0.5 and fitted.pseudo_unseen_.size == 2 and fitted.zs_method_ == "szsl"


def test_any_registered_method_is_the_zero_shot_expert(checks):
    for name, params in (("eszsl", None), ("sae", {})):
        fitted, _ = checks.shape_and_loss(cosmo, {**FAST, "zs_method": name, "zs_params": params})
        assert fitted.zs_method_ == name


def test_deterministic_given_the_seed(checks):
    params = {**FAST, "epochs": 2}
    a = checks.deterministic(cosmo, params)
    b = cosmo.fit(checks.X, checks.y, checks.A, params, seed=4, device="cpu").scores(checks.X_test)
    assert not np.array_equal(a, b)


def test_bad_params(checks):
    checks.bad_params(cosmo, {"zs_method": "nope", "zs_params": 3, "l2": -1.0, "top_k": 0, "smoothing": -1.0,
                              "holdout_classes": 1.0, "holdout_images": 0.0, "gate_l2": -1.0})
    for bad in ({"zs_method": "cosmo"}, {"zs_params": {"nope": 1}}, {"zs_method": "eszsl", "zs_params": {"gamma": -1}}):
        with pytest.raises(SZSLError, match="zs_") as info:
            cosmo.fit(checks.X, checks.y, checks.A, bad, seed=0, device="cpu")
        assert "\n" not in str(info.value)


def test_cli_train_on_digits(tmp_path, capsys):
    out = tmp_path / "train.json"
    assert main(["train", "--method", "cosmo", "--param", "epochs=1", "--param", 'zs_params={"hidden": 16, "epochs": 1}',
                 "--json", str(out), "--device", "cpu"]) == 0
    res = json.loads(out.read_text())
    assert res["method"] == "cosmo" and res["params"]["epochs"] == 1 and 0 <= res["H"] <= 100
    assert "digits: U=" in capsys.readouterr().out


def test_without_unseen_classes_the_scores_are_the_seen_experts(checks):
    keep = checks.y < 8
    fitted = cosmo.fit(checks.X[keep], checks.y[keep], checks.A[:8], {**FAST, "epochs": 2}, seed=0, device="cpu")
    s = fitted.scores(checks.X_test)
    assert s.shape == (checks.X_test.shape[0], 8) and np.isfinite(s).all() and fitted.gate_w_ is None
    np.testing.assert_allclose(np.exp(s).sum(1), 1.0)
