"""The embedded real demo benchmark: scikit-learn's bundled UCI handwritten digits.

Built at run time from ``sklearn.datasets.load_digits`` (1797 8x8 grey images, 10 classes,
shipped inside scikit-learn), so the tool runs with no download. See docs/data.md.

* Features: the 64 pixel values scaled to [0, 1] (float32). A fixed random-Fourier feature
  map was tried and did not help the attribute map (docs/data.md), so the raw pixels stay.
* Class attributes (13, objective, of the canonical printed glyph): the seven-segment
  display code a..g (7 binary) plus number of closed loops, number of stroke end points,
  has a curved stroke, has a closed region in the upper half, in the lower half, and is
  top-bottom mirror-symmetric. ``original_attributes`` holds them raw; ``attributes`` is the
  per-class L2-normalised float32 copy (like xlsa17 ``att``).
* Split: unseen digits 2, 5, 9 (every attribute they use occurs among the seen digits:
  2 and 5 are segment mirror images, 9 is 8 minus segment e); seen 0, 1, 3, 4, 6, 7, 8.
  trainval = a fixed stratified 80 % of every seen class, test_seen = the other 20 %,
  test_unseen = every image of an unseen class.
* Validation: 3 class folds over the seen classes with disjoint pseudo-unseen sets
  {0, 7}, {1, 6}, {3, 4, 8} (together all seen classes), like xlsa17's trainclasses/valclasses.
"""

from __future__ import annotations

import numpy as np

from szsl.data.benchmark import Benchmark, Fold
from szsl.errors import SZSLError

CLASS_NAMES = tuple(str(d) for d in range(10))

SEGMENTS = ("a", "b", "c", "d", "e", "f", "g")
# Seven-segment display: a top, b upper right, c lower right, d bottom, e lower left,
# f upper left, g middle.
_SEGMENT_CODE = np.array(
    [
        [1, 1, 1, 1, 1, 1, 0],  # 0
        [0, 1, 1, 0, 0, 0, 0],  # 1
        [1, 1, 0, 1, 1, 0, 1],  # 2
        [1, 1, 1, 1, 0, 0, 1],  # 3
        [0, 1, 1, 0, 0, 1, 1],  # 4
        [1, 0, 1, 1, 0, 1, 1],  # 5
        [1, 0, 1, 1, 1, 1, 1],  # 6
        [1, 1, 1, 0, 0, 0, 0],  # 7
        [1, 1, 1, 1, 1, 1, 1],  # 8
        [1, 1, 1, 1, 0, 1, 1],  # 9
    ],
    dtype=np.float32,
)

SHAPE_ATTRIBUTES = ("closed_loops", "end_points", "has_curve", "loop_upper_half", "loop_lower_half", "top_bottom_symmetric")
# Of the canonical printed glyph (closed-top 4, 6 and 9 with a closed bowl and a tail).
_SHAPE_CODE = np.array(
    [
        [1, 0, 1, 1, 1, 1],  # 0
        [0, 2, 0, 0, 0, 1],  # 1
        [0, 2, 1, 0, 0, 0],  # 2
        [0, 3, 1, 0, 0, 1],  # 3
        [1, 3, 0, 1, 0, 0],  # 4
        [0, 2, 1, 0, 0, 0],  # 5
        [1, 1, 1, 0, 1, 0],  # 6
        [0, 2, 0, 0, 0, 0],  # 7
        [2, 0, 1, 1, 1, 1],  # 8
        [1, 1, 1, 1, 0, 0],  # 9
    ],
    dtype=np.float32,
)

ATTRIBUTE_NAMES = tuple(f"segment_{s}" for s in SEGMENTS) + SHAPE_ATTRIBUTES

UNSEEN_DIGITS = (2, 5, 9)
SEEN_DIGITS = tuple(d for d in range(10) if d not in UNSEEN_DIGITS)
VAL_FOLDS = ((0, 7), (1, 6), (3, 4, 8))
TRAINVAL_FRACTION = 0.8
SPLIT_SEED = 0


def digit_attributes() -> tuple[np.ndarray, np.ndarray]:
    """(original (10, 13) float32, L2-normalised (10, 13) float32) class attributes."""
    original = np.hstack([_SEGMENT_CODE, _SHAPE_CODE]).astype(np.float32)
    norms = np.linalg.norm(original.astype(np.float64), axis=1, keepdims=True)
    return original, (original / norms).astype(np.float32)


def _split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SPLIT_SEED)
    trainval, test_seen = [], []
    for c in SEEN_DIGITS:
        idx = np.flatnonzero(labels == c)
        idx = idx[rng.permutation(len(idx))]
        k = int(round(TRAINVAL_FRACTION * len(idx)))
        trainval.append(idx[:k])
        test_seen.append(idx[k:])
    test_unseen = np.flatnonzero(np.isin(labels, UNSEEN_DIGITS))
    return (
        np.sort(np.concatenate(trainval)).astype(np.int64),
        np.sort(np.concatenate(test_seen)).astype(np.int64),
        test_unseen.astype(np.int64),
    )


def load_digits_benchmark() -> Benchmark:
    """The embedded digits benchmark (deterministic; no download, no randomness left to the caller)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - scikit-learn is a dependency
        raise SZSLError("the embedded digits benchmark needs scikit-learn (pip install scikit-learn)") from exc
    raw = load_digits()
    data = np.asarray(raw.data, dtype=np.float32)
    labels = np.asarray(raw.target, dtype=np.int64)
    if data.shape[1] != 64 or labels.shape[0] != data.shape[0]:
        raise SZSLError(f"scikit-learn load_digits returned data of shape {data.shape}: expected (N, 64) 8x8 images")
    features = np.ascontiguousarray(data / np.float32(16.0), dtype=np.float32)
    original, attributes = digit_attributes()
    trainval, test_seen, test_unseen = _split(labels)
    seen = np.array(SEEN_DIGITS, dtype=np.int64)
    folds = tuple(
        Fold(
            train_classes=np.array([c for c in SEEN_DIGITS if c not in val], dtype=np.int64),
            val_classes=np.array(sorted(val), dtype=np.int64),
        )
        for val in VAL_FOLDS
    )
    return Benchmark(
        name="digits",
        features=features,
        labels=labels,
        attributes=attributes,
        original_attributes=original,
        class_names=CLASS_NAMES,
        seen=seen,
        unseen=np.array(UNSEEN_DIGITS, dtype=np.int64),
        trainval=trainval,
        test_seen=test_seen,
        test_unseen=test_unseen,
        folds=folds,
        source="embedded: scikit-learn UCI digits",
    )


__all__ = ["load_digits_benchmark", "digit_attributes", "ATTRIBUTE_NAMES", "CLASS_NAMES", "SEEN_DIGITS", "UNSEEN_DIGITS"]
