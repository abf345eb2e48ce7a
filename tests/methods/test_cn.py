import math

import numpy as np
import torch

from szsl.methods import cn

FAST = {"epochs": 8, "hidden": 64, "batch_size": 64, "lr": 2e-3}


def test_defaults_are_the_authors():
    assert cn.NAME == "cn"
    assert cn.DEFAULTS == {
        "lr": 5e-4, "weight_decay": 1e-4, "epochs": 50, "batch_size": 256, "lr_step": 25, "lr_gamma": 0.1,
        "hidden": 1024, "scale": 5.0, "cs_momentum": 0.1, "cs_eps": 1e-5, "seen_scale": 0.95,
    }


def test_space(checks):
    checks.space_keys(cn)
    assert {"lr", "weight_decay", "seen_scale"} <= set(cn.SPACE)


def test_trains_and_scores(checks):
    fitted, _s = checks.shape_and_loss(cn, FAST)
    assert fitted.prototypes_.shape == (10, checks.X.shape[1])


def test_deterministic(checks):
    checks.deterministic(cn, FAST)


def test_bad_params(checks):
    checks.bad_params(cn, {"lr": -1.0, "epochs": 0, "seen_scale": float("nan"), "hidden": 2.5, "weight_decay": "x"})


def test_seen_scale_multiplies_seen_columns(checks):
    a = cn.fit(checks.X, checks.y, checks.A, {**FAST, "seen_scale": 1.0}, seed=1, device="cpu").scores(checks.X_test)
    b = cn.fit(checks.X, checks.y, checks.A, {**FAST, "seen_scale": 0.5}, seed=1, device="cpu").scores(checks.X_test)
    np.testing.assert_allclose(b[:, :8], 0.5 * a[:, :8], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(b[:, 8:], a[:, 8:], rtol=1e-6, atol=1e-6)
    assert np.abs(a).max() <= 25.0 + 1e-4  # |<5 x/|x|, 5 P/|P|>| <= 25


def test_recipe_pieces():
    A = np.random.default_rng(0).random((5, 7))
    An = cn.cn_attributes(A)
    np.testing.assert_allclose(np.linalg.norm(An, axis=1), math.sqrt(7), rtol=1e-5)
    g = torch.Generator().manual_seed(0)
    net = cn.ProtoNet(7, 16, 32, [g], momentum=0.1, eps=1e-5, stacked=False)
    bound = math.sqrt(3 / (16 * 32))
    W3 = net.members[0].W3
    assert W3.shape == (32, 16) and float(W3.detach().abs().max()) <= bound
    assert [n for n, _ in net.named_parameters()] == [f"members.0.{n}" for n in ("W1", "b1", "W2", "b2", "W3", "b3")]
    h = torch.randn(6, 16) * 3 + 1
    out = net._cs(h, "cs1")
    # divides by the variance + eps (not the std)
    torch.testing.assert_close(out, (h - h.mean(0)) / (h.var(0) + 1e-5))
    torch.testing.assert_close(net.cs1_mean[0], 0.1 * h.mean(0))
    torch.testing.assert_close(net.cs1_var[0], 0.9 + 0.1 * h.var(0))
    net.eval()
    ev = net._cs(h, "cs1")
    torch.testing.assert_close(ev, (h - net.cs1_mean[0]) / (net.cs1_var[0] + 1e-5))
    # stacked: the same standardisation per member, over each member's classes
    stacked = cn.ProtoNet(7, 16, 32, [torch.Generator().manual_seed(0), torch.Generator().manual_seed(1)],
                          momentum=0.1, eps=1e-5)
    hk = torch.stack([h, 2 * h + 1])
    out = stacked._cs(hk, "cs1")
    for k in range(2):
        torch.testing.assert_close(out[k], (hk[k] - hk[k].mean(0)) / (hk[k].var(0) + 1e-5))
    torch.testing.assert_close(stacked.members[0].W1, net.members[0].W1)  # a member's draws do not depend on K


def test_population_matches_single_fits(checks):
    small = {**FAST, "epochs": 4}
    plist = [{**small, "lr": 2e-3}, {**small, "lr": 1e-3, "weight_decay": 1e-3, "seen_scale": 0.9}]
    members = cn.fit_population(checks.X, checks.y, checks.A, plist, seeds=[5, 6], device="cpu")
    for p, seed, member in zip(plist, [5, 6], members):
        single = cn.fit(checks.X, checks.y, checks.A, p, seed=seed, device="cpu")
        np.testing.assert_allclose(member.scores(checks.X_test), single.scores(checks.X_test), rtol=1e-3, atol=1e-3)
        np.testing.assert_allclose(member.loss_history_, single.loss_history_, rtol=1e-4)


def test_population_with_mixed_structure_trains_each_structure_apart(checks):
    """A study's batch may differ in searched structure (SPACE has epochs): each structure is its own population."""
    plist = [{**FAST, "epochs": 2}, {**FAST, "epochs": 3, "lr": 2e-3}, {**FAST, "epochs": 2, "hidden": 16}]
    members = cn.fit_population(checks.X, checks.y, checks.A, plist, seeds=[0, 1, 2], device="cpu")
    assert [len(m.loss_history_) for m in members] == [2, 3, 2]
    for p, seed, member in zip(plist, [0, 1, 2], members):
        single = cn.fit(checks.X, checks.y, checks.A, p, seed=seed, device="cpu")
        np.testing.assert_allclose(member.scores(checks.X_test), single.scores(checks.X_test), rtol=1e-3, atol=1e-3)

