import numpy as np
import torch

from szsl.methods import conse

FAST = {"epochs": 10, "lr": 1e-2, "batch_size": 64}


def test_defaults():
    assert conse.NAME == "conse"
    assert conse.DEFAULTS["T"] == 10
    assert conse.DEFAULTS == {"T": 10, "lr": 1e-3, "weight_decay": 1e-4, "epochs": 30, "batch_size": 256,
                              "normalize_features": False}


def test_space(checks):
    checks.space_keys(conse)


def test_trains_and_scores(checks):
    _, s = checks.shape_and_loss(conse, FAST)
    assert np.abs(s).max() <= 1 + 1e-5


def test_embedding_is_the_weighted_top_t():
    probs = torch.tensor([[0.5, 0.3, 0.2]])
    S = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(conse.conse_embedding(probs, S, 2).numpy(), [[0.5 / 0.8, 0.3 / 0.8]], rtol=1e-6)
    np.testing.assert_allclose(conse.conse_embedding(probs, S, 10).numpy(), [[0.7, 0.5]], rtol=1e-6)


def test_deterministic(checks):
    checks.deterministic(conse, FAST)


def test_bad_params(checks):
    checks.bad_params(conse, {"T": 0, "lr": "fast", "normalize_features": 1})
