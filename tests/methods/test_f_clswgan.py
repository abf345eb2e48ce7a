import numpy as np
import torch

from szsl.methods import _gan_common, f_clswgan

# tiny budget: small nets, larger learning rates, enough generator steps to see the GAN learn
FAST = {"epochs": 6, "hidden": 64, "lr": 1e-3, "batch_size": 32, "n_synth": 20, "pre_lr": 1e-2, "pre_epochs": 20,
        "cls_lr": 1e-2, "cls_epochs": 15, "cls_weight": 0.1}


def test_defaults_are_the_authors():
    assert f_clswgan.NAME == "f-clswgan"
    assert f_clswgan.DEFAULTS == {
        "lr": 1e-4, "beta1": 0.5, "epochs": 56, "batch_size": 64, "critic_iters": 5, "gp_lambda": 10.0,
        "cls_weight": 0.01, "hidden": 4096, "noise_dim": 0, "n_synth": 300, "cls_lr": 1e-3, "cls_epochs": 25,
        "cls_batch_size": 0, "pre_lr": 1e-3, "pre_epochs": 50, "pre_batch_size": 100, "minmax": True,
    }
    awa = f_clswgan.authors_params("awa1")
    assert (awa["lr"], awa["epochs"], awa["n_synth"], awa["cls_weight"]) == (1e-5, 30, 1800, 0.01)
    sun = f_clswgan.authors_params("SUN")
    assert (sun["lr"], sun["epochs"], sun["n_synth"]) == (2e-4, 40, 400)
    flo = f_clswgan.authors_params("FLO")
    assert (flo["cls_weight"], flo["epochs"], flo["n_synth"]) == (0.1, 80, 1200)
    assert f_clswgan.authors_params("APY") == f_clswgan.DEFAULTS


def test_space(checks):
    checks.space_keys(f_clswgan)


def test_trains_and_scores(checks):
    fitted, _ = checks.shape_and_loss(f_clswgan, FAST)  # loss_history_: the final classifier's loss, decreasing
    assert fitted.pretrain_history_[-1] < fitted.pretrain_history_[0]
    for h in (fitted.critic_history_, fitted.wasserstein_history_, fitted.generator_history_, fitted.gen_cls_history_):
        assert len(h) == FAST["epochs"] and np.isfinite(h).all()
    # the critic learns to separate real from generated features: its loss drops below its start
    assert min(fitted.critic_history_) < fitted.critic_history_[0]
    W1 = fitted.generator_params_[0]
    assert W1.shape == (FAST["hidden"], 2 * checks.A.shape[1])  # noise_dim 0 -> attribute dimension


def test_generator_learns_the_classes(checks):
    """With a longer budget the generated features become recognisable to the pre-trained classifier."""
    params = {**FAST, "epochs": 30, "lr": 3e-3, "cls_weight": 1.0, "pre_epochs": 40, "cls_epochs": 2}
    f = f_clswgan.fit(checks.X, checks.y, checks.A, params, seed=0, device="cpu")
    h = f.gen_cls_history_
    assert np.mean(h[-5:]) < 0.5 * np.mean(h[:5]), h


def test_deterministic(checks):
    checks.deterministic(f_clswgan, {**FAST, "epochs": 2})


def test_bad_params(checks):
    checks.bad_params(f_clswgan, {"lr": 0.0, "critic_iters": 0, "gp_lambda": float("inf"), "n_synth": 2.5,
                                  "beta1": 1.0, "minmax": "yes"})


def test_gradient_penalty_of_a_linear_critic():
    """For D(x, a) = w.x the input gradient is w everywhere: the penalty is (|w| - 1)^2."""
    w = torch.tensor([3.0, 4.0])
    g = torch.Generator().manual_seed(0)
    gp = _gan_common.gradient_penalty(lambda x, a: x @ w, torch.randn(5, 2), torch.randn(5, 2), torch.zeros(5, 1), g)
    assert abs(float(gp) - 16.0) < 1e-4


def test_minmax_uses_training_statistics():
    X = torch.tensor([[0.0, 2.0], [4.0, 2.0]])
    s = _gan_common.MinMax(X)
    torch.testing.assert_close(s(X), torch.tensor([[0.0, 0.0], [1.0, 0.0]]))
    torch.testing.assert_close(s(torch.tensor([[8.0, 3.0]])), torch.tensor([[2.0, 1.0]]))
