import numpy as np
import torch

from szsl.methods import tf_vaegan

FAST = {"epochs": 3, "hidden": 48, "lr": 1e-3, "feed_lr": 1e-3, "dec_lr": 1e-3, "batch_size": 32, "critic_iters": 2,
        "n_synth": 20, "cls_lr": 1e-2, "cls_epochs": 15}


def test_defaults_are_the_authors():
    assert tf_vaegan.NAME == "tf-vaegan"
    assert tf_vaegan.DEFAULTS == {
        "lr": 1e-4, "beta1": 0.5, "feed_lr": 1e-5, "dec_lr": 1e-4, "epochs": 300, "batch_size": 64, "critic_iters": 5,
        "gp_lambda": 10.0, "adaptive_gp": True, "gamma_d": 10.0, "gamma_g": 10.0, "recons_weight": 0.01,
        "feedback_train": 1.0, "feedback_eval": 1.0, "feedback_loops": 2, "freeze_dec": False, "encoded_noise": True,
        "hidden": 4096, "latent_dim": 0, "n_synth": 300, "cls_lr": 1e-3, "cls_epochs": 25, "cls_batch_size": 0,
        "transform_features": True, "minmax": True,
    }
    awa = tf_vaegan.authors_params("AWA2")
    assert (awa["lr"], awa["epochs"], awa["n_synth"], awa["recons_weight"], awa["freeze_dec"], awa["feed_lr"],
            awa["feedback_train"], awa["feedback_eval"]) == (1e-5, 120, 1800, 0.1, True, 1e-4, 0.01, 0.01)
    sun = tf_vaegan.authors_params("sun")
    assert (sun["lr"], sun["epochs"], sun["n_synth"], sun["gamma_d"], sun["gamma_g"], sun["cls_lr"], sun["feedback_train"],
            sun["feedback_eval"], sun["encoded_noise"]) == (1e-3, 400, 400, 1.0, 1.0, 5e-4, 0.1, 0.01, False)
    assert tf_vaegan.authors_params("APY") == tf_vaegan.DEFAULTS


def test_space(checks):
    checks.space_keys(tf_vaegan)


def test_trains_and_scores(checks):
    fitted, _ = checks.shape_and_loss(tf_vaegan, FAST)  # loss_history_: the final classifier's loss, decreasing
    for h in (fitted.critic_history_, fitted.wasserstein_history_, fitted.generator_history_, fitted.vae_history_):
        assert len(h) == FAST["epochs"] and np.isfinite(h).all()
    assert fitted.critic_history_[-1] < fitted.critic_history_[0]
    # the authors' adaptive rule: a penalty far below 1 shrinks lambda by 1.1 per generator step
    lam = fitted.gp_lambda_history_
    assert lam[-1] < lam[0] < 10.0


def test_vae_learns_without_the_critic(checks):
    """gamma_G = 0 leaves a conditional VAE (+ decoder loss): its loss falls."""
    f = tf_vaegan.fit(checks.X, checks.y, checks.A, {**FAST, "gamma_g": 0.0, "lr": 3e-3, "epochs": 4, "cls_epochs": 1},
                      seed=0, device="cpu")
    assert f.vae_history_[-1] < f.vae_history_[0], f.vae_history_


def test_variants_run(checks):
    p = {**FAST, "epochs": 1, "cls_epochs": 2, "encoded_noise": False, "freeze_dec": True, "transform_features": False,
         "adaptive_gp": False, "minmax": False, "latent_dim": 5}
    f = tf_vaegan.fit(checks.X, checks.y, checks.A, p, seed=0, device="cpu")
    assert f.gp_lambda_history_ == [10.0]
    s = f.scores(checks.X_test)
    assert s.shape == (checks.X_test.shape[0], 10) and np.isfinite(s).all()


def test_deterministic(checks):
    checks.deterministic(tf_vaegan, {**FAST, "epochs": 1})


def test_bad_params(checks):
    checks.bad_params(tf_vaegan, {"lr": -1.0, "feedback_loops": 0, "gamma_d": 0.0, "recons_weight": float("nan"),
                                  "freeze_dec": 1, "n_synth": 0})


def test_losses():
    p = torch.tensor([[0.0, 3.0], [1.0, 1.0]])
    t = torch.tensor([[0.0, 1.0], [1.0, 1.0]])
    # row 1: diff (0, 2): w = (0, 4)/2 -> 2 * 2 = 4; row 2: 0 -> mean 2
    assert abs(float(tf_vaegan.weighted_l1(p, t)) - 2.0) < 1e-6
    x = torch.tensor([[0.2, 0.8]])
    mu, logvar = torch.zeros(1, 3), torch.zeros(1, 3)
    bce = -(0.2 * np.log(0.2) + 0.8 * np.log(0.8)) * 2
    assert abs(float(tf_vaegan.vae_loss(x.clone(), x, mu, logvar)) - bce) < 1e-5  # KL of N(0, I) to itself is 0
    assert float(tf_vaegan.vae_loss(x.clone(), x, torch.ones(1, 3), logvar)) > bce


def test_feature_transformation_shape():
    g = torch.Generator().manual_seed(0)
    nets = tf_vaegan.Nets(6, 4, 4, 8, g, torch.device("cpu"))
    out = nets.transform(torch.rand(3, 6))
    assert out.shape == (3, 6 + 4 + 8)
    torch.testing.assert_close(out[:, 6:10].norm(dim=1), torch.ones(3))
