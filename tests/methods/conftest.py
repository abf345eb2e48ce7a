"""Fixtures of the peer-method tests: a tiny GZSL problem and the checks every method must pass."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from szsl.errors import SZSLError

N_CLASSES, N_UNSEEN, ATTR_DIM, FEAT_DIM = 10, 2, 12, 32


@pytest.fixture(autouse=True)
def _one_thread():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="session")
def tiny():
    """(X, y, attributes, X_test, y_test): 10 classes, the last 2 unseen (no training image);
    features are a nonlinear function of the class attributes plus noise."""
    rng = np.random.default_rng(0)
    A = rng.random((N_CLASSES, ATTR_DIM)).astype(np.float32)
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    R = rng.normal(size=(ATTR_DIM, FEAT_DIM))
    means = np.maximum(A @ R * 3.0, 0) + 0.1
    seen = np.arange(N_CLASSES - N_UNSEEN)
    y = np.repeat(seen, 30)
    X = (means[y] + 0.3 * rng.normal(size=(y.size, FEAT_DIM))).astype(np.float32)
    y_test = np.repeat(np.arange(N_CLASSES), 10)
    X_test = (means[y_test] + 0.3 * rng.normal(size=(y_test.size, FEAT_DIM))).astype(np.float32)
    return X, y, A, X_test, y_test


class Checks:
    """The contract every peer module satisfies, on the tiny problem."""

    def __init__(self, tiny):
        self.X, self.y, self.A, self.X_test, self.y_test = tiny

    def shape_and_loss(self, mod, params, *, decrease=True):
        fitted = mod.fit(self.X, self.y, self.A, params, seed=0, device="cpu")
        s = fitted.scores(self.X_test)
        assert s.shape == (self.X_test.shape[0], N_CLASSES)
        assert np.isfinite(s).all()
        hist = fitted.loss_history_
        assert len(hist) >= 1 and all(np.isfinite(hist))
        if decrease:
            assert hist[-1] < hist[0], hist
        # better than chance on the seen test images (the model learned something)
        seen_mask = self.y_test < N_CLASSES - N_UNSEEN
        acc = (s[seen_mask].argmax(1) == self.y_test[seen_mask]).mean()
        assert acc > 2.0 / N_CLASSES, acc
        return fitted, s

    def deterministic(self, mod, params):
        a = mod.fit(self.X, self.y, self.A, params, seed=3, device="cpu").scores(self.X_test)
        b = mod.fit(self.X, self.y, self.A, params, seed=3, device="cpu").scores(self.X_test)
        np.testing.assert_array_equal(a, b)
        return a

    def bad_params(self, mod, bad: dict):
        with pytest.raises(SZSLError, match="no_such_param"):
            mod.fit(self.X, self.y, self.A, {"no_such_param": 1}, seed=0, device="cpu")
        for key, value in bad.items():
            with pytest.raises(SZSLError, match=key) as info:
                mod.fit(self.X, self.y, self.A, {key: value}, seed=0, device="cpu")
            assert "\n" not in str(info.value)

    def space_keys(self, mod):
        assert set(mod.SPACE) <= set(mod.DEFAULTS)
        for key, spec in mod.SPACE.items():
            assert isinstance(spec, (dict, int, float, str)), key
            if isinstance(spec, dict):
                assert ("choices" in spec) or ("low" in spec and "high" in spec), key


@pytest.fixture
def checks(tiny):
    return Checks(tiny)
