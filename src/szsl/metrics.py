"""GZSL metrics as the paper (and Xian et al. 2017) define them.

U and S: mean over classes of per-class top-1 accuracy on test-unseen and test-seen images,
predicting among ALL classes. H = 2US / (U + S) (0 when U + S = 0). T1: per-class mean top-1
on test-unseen images predicting among the unseen classes only (the ZSL setting).
Every value is a percentage in [0, 100].
"""

from __future__ import annotations

import warnings

import numpy as np

from szsl.errors import SZSLError


def per_class_accuracy(y_true, y_pred, classes) -> float:
    """Mean over ``classes`` of the top-1 accuracy of each class, in percent.

    Classes with no image in ``y_true`` are skipped (with a warning); nan if none has any.
    """
    y_true, y_pred = _as_labels(y_true, "y_true"), _as_labels(y_pred, "y_pred")
    if y_true.shape != y_pred.shape:
        raise SZSLError(f"y_pred: expected shape {y_true.shape} to match y_true, got {y_pred.shape}")
    classes = np.asarray(classes, dtype=np.int64).ravel()
    accs, skipped = [], []
    for c in classes:
        mask = y_true == c
        if mask.any():
            accs.append(float(np.mean(y_pred[mask] == c)))
        else:
            skipped.append(int(c))
    if skipped:
        warnings.warn(f"per-class accuracy: skipped {len(skipped)} class(es) with no test images: {skipped[:10]}", stacklevel=2)
    return 100.0 * float(np.mean(accs)) if accs else float("nan")


def harmonic_mean(u: float, s: float) -> float:
    return 0.0 if u + s == 0 else 2.0 * u * s / (u + s)


def gzsl_metrics(y_true, y_pred, seen, unseen) -> dict[str, float]:
    """{"U", "S", "H"} in percent from GZSL predictions (made among all classes) of test images."""
    y_true, y_pred = _as_labels(y_true, "y_true"), _as_labels(y_pred, "y_pred")
    seen_mask = np.isin(y_true, np.asarray(seen))
    u = per_class_accuracy(y_true[~seen_mask], y_pred[~seen_mask], unseen)
    s = per_class_accuracy(y_true[seen_mask], y_pred[seen_mask], seen)
    return {"U": u, "S": s, "H": harmonic_mean(u, s)}


def zsl_top1(y_true, y_pred, unseen) -> float:
    """T1: per-class mean top-1 of predictions made among the unseen classes only, in percent."""
    return per_class_accuracy(y_true, y_pred, unseen)


def _as_labels(values, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise SZSLError(f"{name}: expected a 1-D array of class indices, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise SZSLError(f"{name}: expected integer class indices, got dtype {arr.dtype}")
    return arr.astype(np.int64)
