import numpy as np

from szsl.methods import cn, cn_soft

FAST = {"epochs": 8, "hidden": 64, "batch_size": 64, "lr": 2e-3}


def test_defaults():
    assert cn_soft.NAME == "cn-soft"
    assert cn_soft.DEFAULTS == {**cn.DEFAULTS, "q": 0.3, "tau": 0.2}
    assert cn_soft.DEFAULTS["seen_scale"] == 0.95
    assert cn_soft.DEFAULTS["lr"] == 5e-4 and cn_soft.DEFAULTS["epochs"] == 50


def test_space(checks):
    checks.space_keys(cn_soft)
    assert {"q", "tau"} <= set(cn_soft.SPACE)


def test_soft_targets(tiny):
    A = tiny[2]
    seen, unseen = np.arange(8), np.array([8, 9])
    T = cn_soft.soft_targets(A, seen, unseen, 0.3, 0.2)
    np.testing.assert_allclose(T[seen].sum(1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.diag(T)[seen], 0.7, rtol=1e-6)
    np.testing.assert_allclose(T[np.ix_(seen, unseen)].sum(1), 0.3, rtol=1e-6)
    assert T[:, :8][seen].sum() == np.diag(T)[seen].sum()  # nothing on other seen classes
    a = A / np.linalg.norm(A, axis=1, keepdims=True)
    logits = a[0] @ a[unseen].T / 0.2
    expected = 0.3 * np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(T[0, unseen], expected, rtol=1e-5)
    np.testing.assert_array_equal(cn_soft.soft_targets(A, seen, unseen, 0.0, 0.2), np.eye(10, dtype=np.float32))


def test_trains_and_scores(checks):
    checks.shape_and_loss(cn_soft, FAST)


def test_soft_labels_raise_unseen_scores(checks):
    hard = cn_soft.fit(checks.X, checks.y, checks.A, {**FAST, "q": 0.0}, seed=0, device="cpu").scores(checks.X_test)
    soft = cn_soft.fit(checks.X, checks.y, checks.A, {**FAST, "q": 0.6}, seed=0, device="cpu").scores(checks.X_test)
    assert (soft[:, 8:].max(1) - soft[:, :8].max(1)).mean() > (hard[:, 8:].max(1) - hard[:, :8].max(1)).mean()


def test_deterministic(checks):
    checks.deterministic(cn_soft, FAST)


def test_bad_params(checks):
    checks.bad_params(cn_soft, {"q": 1.5, "tau": 0.0, "lr": -1.0})
