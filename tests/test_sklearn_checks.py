"""scikit-learn's own estimator checks (``check_estimator``) on SZSLClassifier.

The checks call ``fit(X, y)`` only, while a zero-shot classifier needs the attributes of all its classes; the
classifier under test supplies one-hot attributes for the classes 0..max(y) (every class then has samples, as in
an ordinary classification problem). Four checks fail by design, each for the reason given in EXPECTED_FAILURES;
every other check passes (or is skipped where an optional dependency is missing: pandas, SCIPY_ARRAY_API).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn

from szsl import SZSLClassifier

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


class OneHotAttributes(SZSLClassifier):
    """SZSLClassifier whose ``fit(X, y)`` supplies one-hot class attributes for the classes 0..max(y)."""

    def fit(self, X, y, class_attributes=None, class_names=None):
        if class_attributes is None:
            try:
                n = int(np.nanmax(np.asarray(y, dtype=np.float64))) + 1
            except (TypeError, ValueError, OverflowError):  # y None, empty, strings, inf: fit says what is wrong
                n = 2
            class_attributes = np.eye(max(n, 2), dtype=np.float32)
        return super().fit(X, y, class_attributes, class_names)


def test_scikit_learns_estimator_checks_pass_but_the_zero_shot_exceptions():
    estimator = OneHotAttributes(hidden=16, epochs=20, batch_size=32, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, expected_failed_checks=EXPECTED_FAILURES, on_fail=None)
    status: dict[str, set[str]] = {}
    for r in results:
        status.setdefault(r["check_name"], set()).add(r["status"])
    failed = {r["check_name"]: f"{type(r['exception']).__name__}: {r['exception']}"[:300] for r in results if r["status"] == "failed"}
    assert failed == {}
    # the exceptions are still exceptions: a check that starts to pass is taken off the list
    assert {name: status.get(name) for name in EXPECTED_FAILURES} == {name: {"xfail"} for name in EXPECTED_FAILURES}
    passed = {name for name, s in status.items() if s == {"passed"}}
    assert len(passed) >= 41, sorted(status.items())
