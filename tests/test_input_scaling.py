"""TrainConfig.input_scaling: features far from a ResNet feature's scale train as if rescaled to it."""

import numpy as np
import pytest

from szsl.config import TrainConfig
from szsl.errors import SZSLError
from szsl.train import train_population
from szsl.training_data import BAND, REF_NORM, input_scale, mean_norm

from .helpers.train import toy_problem


def _rows_with_norm(norm, n=50, d=16, seed=0):
    X = np.abs(np.random.default_rng(seed).standard_normal((n, d))).astype(np.float32)
    return (X / np.linalg.norm(X, axis=1, keepdims=True) * norm).astype(np.float32)


def test_mean_norm_is_the_mean_row_norm():
    X = _rows_with_norm(3.0)
    assert mean_norm(X) == pytest.approx(3.0, rel=1e-5)


@pytest.mark.parametrize("norm", [REF_NORM / BAND * 1.01, 43.0, REF_NORM * BAND * 0.99])
def test_features_at_a_resnet_scale_are_used_as_given(norm):
    assert input_scale(_rows_with_norm(norm)) == 1.0


@pytest.mark.parametrize("norm", [1.0, 3.9, 1000.0])
def test_features_far_from_it_are_scaled_to_the_reference(norm):
    assert input_scale(_rows_with_norm(norm)) == pytest.approx(REF_NORM / norm, rel=1e-5)
    assert input_scale(_rows_with_norm(norm), "none") == 1.0


def test_bad_mode_is_one_error():
    with pytest.raises(SZSLError, match="input_scaling='x'"):
        input_scale(_rows_with_norm(1.0), "x")
    with pytest.raises(SZSLError, match="input_scaling='x'"):
        TrainConfig(input_scaling="x")


def test_training_does_not_depend_on_the_feature_scale():
    X, y, A = toy_problem(n=200, d=12)
    X = X / mean_norm(X)  # norm 1: rescaled to REF_NORM
    cfg = TrainConfig(hidden=16, epochs=3, batch_size=64, seed=1)
    (m1,) = train_population(X, y, A, [cfg], device="cpu")
    (m3,) = train_population(3 * X, y, A, [cfg], device="cpu")
    # both train on the same rescaled features; each stored W1 takes its own scale in
    np.testing.assert_allclose(m1.state["W1"].numpy(), 3 * m3.state["W1"].numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(m1.state["W2"].numpy(), m3.state["W2"].numpy(), rtol=1e-4, atol=1e-6)
    # without the rescaling, the two runs differ
    (n1,) = train_population(X, y, A, [cfg.replace(input_scaling="none")], device="cpu")
    (n3,) = train_population(3 * X, y, A, [cfg.replace(input_scaling="none")], device="cpu")
    assert not np.allclose(n1.state["W1"].numpy(), 3 * n3.state["W1"].numpy(), rtol=1e-3)


def test_the_model_applies_to_the_features_as_given():
    from szsl.estimator import SZSLClassifier

    X, y, A = toy_problem(n=200, d=12)
    X = X / mean_norm(X)
    clf = SZSLClassifier(hidden=16, epochs=3, batch_size=64, device="cpu").fit(X, y, A)
    ref = SZSLClassifier(hidden=16, epochs=3, batch_size=64, device="cpu").fit(X * REF_NORM, y, A)  # already at the reference scale
    np.testing.assert_allclose(clf.decision_function(X), ref.decision_function(X * REF_NORM), rtol=1e-3, atol=1e-4)
