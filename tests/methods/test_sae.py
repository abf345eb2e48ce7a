import numpy as np

from szsl.methods import sae


def test_defaults():
    assert sae.NAME == "sae"
    assert sae.DEFAULTS == {"lambda": 0.2, "direction": "F->S", "normalize_features": True}


def test_space(checks):
    checks.space_keys(sae)


def test_trains_and_scores(checks):
    for direction in ("F->S", "S->F"):
        _fitted, s = checks.shape_and_loss(sae, {"direction": direction})
        assert np.abs(s).max() <= 1 + 1e-5  # cosines


def test_solution_is_a_stationary_point():
    rng = np.random.default_rng(1)
    X, S = rng.normal(size=(6, 40)), rng.normal(size=(4, 40))
    lam = 0.7
    W = sae.solve_sae(X, S, lam)
    grad = -2 * S @ (X.T - S.T @ W) + 2 * lam * (W @ X - S) @ X.T
    assert np.abs(grad).max() < 1e-8
    base = sae.objective(W, X, S, lam)
    for _ in range(5):
        assert sae.objective(W + 1e-3 * rng.normal(size=W.shape), X, S, lam) > base


def test_deterministic(checks):
    checks.deterministic(sae, {})


def test_bad_params(checks):
    checks.bad_params(sae, {"lambda": 0.0, "direction": "both", "normalize_features": "yes"})
