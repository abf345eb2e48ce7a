import numpy as np
import pytest

from szsl import SZSLError, gzsl_metrics, harmonic_mean, zsl_top1
from szsl.metrics import per_class_accuracy


def test_per_class_mean_not_per_image():
    # class 0: 9 of 10 right; class 1: 0 of 1 right -> per-class mean 45%, per-image would be 81.8%.
    y_true = np.array([0] * 10 + [1])
    y_pred = np.array([0] * 9 + [1] + [0])
    assert per_class_accuracy(y_true, y_pred, [0, 1]) == pytest.approx(45.0)


def test_gzsl_u_s_h_by_hand():
    seen, unseen = [0, 1], [2, 3]
    y_true = np.array([0, 0, 1, 1, 2, 2, 2, 3])
    y_pred = np.array([0, 1, 1, 1, 2, 0, 0, 3])
    m = gzsl_metrics(y_true, y_pred, seen, unseen)
    s = (50 + 100) / 2
    u = (100 / 3 + 100) / 2
    assert m == pytest.approx({"U": u, "S": s, "H": 2 * u * s / (u + s)})


def test_h_is_zero_when_both_are_zero_and_classes_without_images_are_skipped_with_a_warning():
    assert harmonic_mean(0.0, 0.0) == 0.0
    with pytest.warns(UserWarning, match=r"skipped 1 class\(es\) with no test images: \[3\]"):
        t1 = zsl_top1(np.array([2, 2]), np.array([2, 3]), [2, 3])
    assert t1 == pytest.approx(50.0)


def test_bad_label_arrays():
    with pytest.raises(SZSLError, match=r"y_pred: expected shape \(3,\) to match y_true, got \(2,\)"):
        per_class_accuracy([0, 1, 2], [0, 1], [0])
    with pytest.raises(SZSLError, match="y_true: expected integer class indices, got dtype float64"):
        gzsl_metrics(np.array([0.5]), np.array([0]), [0], [1])
