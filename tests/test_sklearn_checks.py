"""scikit-learn's own estimator checks (``check_estimator``) on SZSLClassifier and SZSLEnsemble.

The checks call ``fit(X, y)`` only, while a zero-shot classifier needs the attributes of all its classes; the
estimator under test supplies one-hot attributes for the classes 0..max(y) (every class then has samples, as in
an ordinary classification problem). Four checks fail by design, each for the reason given in EXPECTED_FAILURES;
two may fail in float32's last bit (MAY_FAIL); every other check passes (or is skipped where an optional
dependency is missing: pandas, SCIPY_ARRAY_API).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn

from szsl import SZSLClassifier, SZSLEnsemble

if tuple(int(p) for p in sklearn.__version__.split(".")[:2]) < (1, 6):
    pytest.skip("check_estimator(expected_failed_checks=...) needs scikit-learn >= 1.6", allow_module_level=True)

from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

UNSEEN = "a class of class_attributes with no training sample is unseen, and a zero-shot model predicts it"
BINARY = (
    "decision_function returns the (n, C) logits of all C classes whatever C, 2 included (scikit-learn's binary "
    "convention is one column): C counts the unseen classes, and SZSLEnsemble averages the members' (n, C) blocks"
)
EXPECTED_FAILURES = {
    "check_classifiers_one_label": f"one seen class and one unseen class: {UNSEEN}",
    "check_classifiers_classes": "labels are class indices, the rows of class_attributes (their names are class_names); "
    "string labels are rejected",
    "check_classifiers_train": BINARY,
    "check_decision_proba_consistency": BINARY,
}
# The network runs in float32: scoring a subset or a permutation of the rows may change a logit in its last bit
# (BLAS blocks the matmul by the number of rows), at the checks' tolerance (rtol 1e-7, float32's epsilon is 1.2e-7).
# These checks may pass or fail; they are not counted either way.
FLOAT32 = "float32 logits: a subset or a reordering of the rows may change a score in its last bit (rtol 1e-7)"
MAY_FAIL = {"check_methods_subset_invariance": FLOAT32, "check_methods_sample_order_invariance": FLOAT32}


def one_hot_attributes(y) -> np.ndarray:
    """One-hot attributes for the classes 0..max(y) (2 classes when y has no usable maximum: fit says what is wrong)."""
    try:
        n = int(np.nanmax(np.asarray(y, dtype=np.float64))) + 1
    except (TypeError, ValueError, OverflowError):  # y None, empty, strings, inf
        n = 2
    return np.eye(max(n, 2), dtype=np.float32)


class OneHotClassifier(SZSLClassifier):
    """SZSLClassifier whose ``fit(X, y)`` supplies one-hot class attributes for the classes 0..max(y)."""

    def fit(self, X, y, class_attributes=None, class_names=None):
        return super().fit(X, y, one_hot_attributes(y) if class_attributes is None else class_attributes, class_names)


class OneHotEnsemble(SZSLEnsemble):
    """SZSLEnsemble whose ``fit(X, y)`` supplies one-hot class attributes for the classes 0..max(y)."""

    def fit(self, X, y, class_attributes=None, class_names=None):
        return super().fit(X, y, one_hot_attributes(y) if class_attributes is None else class_attributes, class_names)


SMALL = dict(hidden=16, epochs=20, batch_size=32)
ESTIMATORS = {
    "classifier": lambda: OneHotClassifier(**SMALL, device="cpu"),
    "ensemble": lambda: OneHotEnsemble(members=[SMALL, {**SMALL, "q": 0.3}], gammas=[0.1, 0.0], device="cpu"),
}


@pytest.mark.parametrize("kind", sorted(ESTIMATORS))
def test_scikit_learns_estimator_checks_pass_but_the_zero_shot_exceptions(kind):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(ESTIMATORS[kind](), expected_failed_checks={**EXPECTED_FAILURES, **MAY_FAIL}, on_fail=None)
    status: dict[str, set[str]] = {}
    for r in results:
        status.setdefault(r["check_name"], set()).add(r["status"])
    failed = {r["check_name"]: f"{type(r['exception']).__name__}: {r['exception']}"[:300] for r in results if r["status"] == "failed"}
    assert failed == {}
    # the exceptions are still exceptions: a check that starts to pass is taken off the list
    assert {name: status.get(name) for name in EXPECTED_FAILURES} == {name: {"xfail"} for name in EXPECTED_FAILURES}
    assert all(status[name] in ({"passed"}, {"xfail"}) for name in MAY_FAIL)
    passed = {name for name, s in status.items() if s == {"passed"} and name not in MAY_FAIL}
    assert len(passed) >= 39, sorted(status.items())
