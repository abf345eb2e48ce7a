"""Benchmark: one GZSL dataset in memory, and ``validate_benchmark``. Pure data, no I/O.

All indices are 0-based. ``features`` may be a read-only memory map.
Who may see which images is decided by ``szsl.protocol``, not here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Mapping, NoReturn

import numpy as np

from szsl.errors import SZSLError


@dataclass(frozen=True)
class Fold:
    """One validation fold: pseudo-seen (train) and pseudo-unseen (val) classes, 0-based."""

    train_classes: np.ndarray
    val_classes: np.ndarray


@dataclass(frozen=True, eq=False)
class Benchmark:
    name: str
    features: np.ndarray  # (N, D) float32
    labels: np.ndarray  # (N,) int64, 0-based class index
    attributes: np.ndarray  # (C, A) float32, the L2-normalised class attributes ("att")
    original_attributes: np.ndarray  # (C, A') as released (may be the same as attributes)
    class_names: tuple[str, ...]
    seen: np.ndarray  # (S,) int64 sorted class indices of the trainval classes
    unseen: np.ndarray  # (U,) int64 sorted class indices of the test classes
    trainval: np.ndarray  # (n,) int64 image indices
    test_seen: np.ndarray
    test_unseen: np.ndarray
    folds: tuple[Fold, ...] = field(default=())
    source: str = ""  # where it came from (a path or "embedded"), for messages

    @property
    def n_classes(self) -> int:
        return int(self.attributes.shape[0])

    @property
    def n_images(self) -> int:
        return int(self.features.shape[0])

    @property
    def feature_dim(self) -> int:
        return int(self.features.shape[1])

    @property
    def attribute_dim(self) -> int:
        return int(self.attributes.shape[1])


def validate_benchmark(
    b: Benchmark,
    *,
    where: str | None = None,
    names: Mapping[str, str] | None = None,
    index_base: int = 0,
) -> None:
    """Raise ``SZSLError`` on the first inconsistency in ``b``; return None when it is sound.

    Checks shapes and dtypes, label and index ranges, NaN/inf in features and attributes,
    that the three splits are disjoint, that seen and unseen classes are disjoint and match
    the images of each split (no image of an unseen class in trainval or test_seen, no
    image of a seen class in test_unseen, every seen class has a trainval image), and that
    every fold splits seen classes into disjoint non-empty train / val sets.

    Loaders use ``where`` (message prefix, default ``b.name``), ``names`` (how to call each
    field: keys are the attribute names of ``Benchmark`` plus ``folds[k].train_classes`` /
    ``folds[k].val_classes``; default the field name quoted) and ``index_base`` (1 to report
    images and labels 1-based, as the files number them) so that messages point at the
    file and key the user has to fix rather than at the in-memory copy.
    """
    prefix = b.name if where is None else where
    names = dict(names or {})

    def name(key: str) -> str:
        return names.get(key, f"'{key}'")

    def fail(message: str) -> NoReturn:
        raise SZSLError(f"{prefix}: {message}")

    def class_name(c: int) -> str:
        return repr(b.class_names[c]) if 0 <= c < len(b.class_names) else str(c + index_base)

    # Shapes and dtypes first: every later check indexes with them.
    features, labels, attributes = b.features, b.labels, b.attributes
    if getattr(features, "ndim", None) != 2:
        fail(f"{name('features')} must be a 2-D (images x features) array, got shape {np.shape(features)}")
    if features.dtype.kind != "f":
        fail(f"{name('features')} must be floating point, got dtype {features.dtype}")
    n_images, feature_dim = features.shape
    if n_images == 0 or feature_dim == 0:
        fail(f"{name('features')} is empty (shape {features.shape})")
    if getattr(attributes, "ndim", None) != 2 or attributes.dtype.kind != "f" or 0 in attributes.shape:
        fail(f"{name('attributes')} must be a non-empty 2-D (classes x attributes) float array, got shape {np.shape(attributes)}")
    n_classes = attributes.shape[0]
    original = b.original_attributes
    if getattr(original, "ndim", None) != 2 or original.dtype.kind not in "fiu" or original.shape[0] != n_classes:
        fail(
            f"{name('original_attributes')} must be a 2-D numeric array with one row per class ({n_classes}), got shape "
            f"{np.shape(original)}"
        )
    if len(b.class_names) != n_classes or not all(isinstance(s, str) for s in b.class_names):
        fail(f"{name('class_names')} must hold {n_classes} strings (one per class of {name('attributes')}), got {len(b.class_names)}")
    counts = Counter(b.class_names)
    duplicate = next((s for s in b.class_names if counts[s] > 1), None)
    if duplicate is not None:
        fail(f"{name('class_names')} lists class {duplicate!r} {counts[duplicate]} times")
    if getattr(labels, "shape", None) != (n_images,) or labels.dtype.kind not in "iu":
        fail(
            f"{name('labels')} must be an integer vector with one label per image ({n_images}), got shape {np.shape(labels)} dtype "
            f"{getattr(labels, 'dtype', None)}"
        )

    bad = np.flatnonzero((labels < 0) | (labels >= n_classes))
    if bad.size:
        fail(
            f"{name('labels')} has label {int(labels[bad[0]]) + index_base} for image {int(bad[0]) + index_base}, outside "
            f"{index_base}..{n_classes - 1 + index_base} ({n_classes} classes)"
        )

    for key, values in (("attributes", attributes), ("original_attributes", original)):
        rows = np.flatnonzero(~np.isfinite(values).all(axis=1))
        if rows.size:
            fail(
                f"{name(key)} has {int((~np.isfinite(values)).sum())} non-finite values (NaN or inf), the first for class "
                f"{class_name(int(rows[0]))}"
            )
    _check_finite_rows(
        features,
        lambda count, row: fail(f"{name('features')} has {count} non-finite values (NaN or inf), the first in image {row + index_base}"),
    )

    # Classes: seen and unseen.
    class_sets = {}
    for key in ("seen", "unseen"):
        idx = _index_vector(getattr(b, key), name(key), fail)
        if idx.size == 0:
            fail(f"{name(key)} is empty")
        out = idx[(idx < 0) | (idx >= n_classes)]
        if out.size:
            fail(f"{name(key)} has class index {int(out[0]) + index_base} outside {index_base}..{n_classes - 1 + index_base}")
        if np.any(np.diff(idx) <= 0):
            fail(f"{name(key)} must be sorted and without repeats, got {idx.tolist()[:10]}")
        class_sets[key] = idx
    both = np.intersect1d(class_sets["seen"], class_sets["unseen"])
    if both.size:
        fail(f"class {class_name(int(both[0]))} is both seen ({name('seen')}) and unseen ({name('unseen')})")
    is_seen = np.zeros(n_classes, dtype=bool)
    is_seen[class_sets["seen"]] = True
    is_unseen = np.zeros(n_classes, dtype=bool)
    is_unseen[class_sets["unseen"]] = True

    # Images: the three splits.
    splits = {}
    for key in ("trainval", "test_seen", "test_unseen"):
        idx = _index_vector(getattr(b, key), name(key), fail)
        if idx.size == 0:
            fail(f"{name(key)} is empty")
        out = idx[(idx < 0) | (idx >= n_images)]
        if out.size:
            fail(f"{name(key)} has index {int(out[0]) + index_base} outside {index_base}..{n_images - 1 + index_base}")
        uniq, repeats = np.unique(idx, return_counts=True)
        twice = np.flatnonzero(repeats > 1)
        if twice.size:
            fail(f"{name(key)} lists image {int(uniq[twice[0]]) + index_base} {int(repeats[twice[0]])} times")
        splits[key] = idx
    for first, second in (("trainval", "test_seen"), ("trainval", "test_unseen"), ("test_seen", "test_unseen")):
        shared = np.intersect1d(splits[first], splits[second])
        if shared.size:
            fail(f"image {int(shared[0]) + index_base} is in both {name(first)} and {name(second)} ({shared.size} in common)")

    # An unseen class with a training image would leak; say so before blaming the class lists.
    trainval_classes = np.unique(labels[splits["trainval"]])
    unseen_labels = labels[splits["test_unseen"]]
    leaked = np.flatnonzero(np.isin(unseen_labels, trainval_classes))
    if leaked.size:
        c = int(unseen_labels[leaked[0]])
        j = int(splits["trainval"][np.flatnonzero(labels[splits["trainval"]] == c)[0]])
        fail(
            f"class {class_name(c)} has images in both {name('test_unseen')} (image {int(splits['test_unseen'][leaked[0]]) + index_base}) "
            f"and {name('trainval')} (image {j + index_base}): a test_unseen class must have no trainval image"
        )
    for key, allowed, kind in (("trainval", is_seen, "seen"), ("test_seen", is_seen, "seen"), ("test_unseen", is_unseen, "unseen")):
        split_labels = labels[splits[key]]
        wrong = np.flatnonzero(~allowed[split_labels])
        if wrong.size:
            c = int(split_labels[wrong[0]])
            status = "unseen" if is_unseen[c] else "seen" if is_seen[c] else "neither seen nor unseen"
            fail(
                f"{name(key)} holds image {int(splits[key][wrong[0]]) + index_base} of class {class_name(c)}, "
                f"which is {status}; expected only {kind} classes (listed in {name(kind)})"
            )
    without = np.setdiff1d(class_sets["seen"], trainval_classes)
    if without.size:
        fail(f"seen class {class_name(int(without[0]))} (listed in {name('seen')}) has no image in {name('trainval')}")

    # Validation folds: pseudo-seen / pseudo-unseen partitions of the seen classes.
    for k, fold in enumerate(b.folds):
        parts = {}
        for part in ("train_classes", "val_classes"):
            key = f"folds[{k}].{part}"
            idx = _index_vector(getattr(fold, part), name(key), fail)
            if idx.size == 0:
                fail(f"{name(key)} is empty")
            out = idx[(idx < 0) | (idx >= n_classes)]
            if out.size:
                fail(f"{name(key)} has class index {int(out[0]) + index_base} outside {index_base}..{n_classes - 1 + index_base}")
            not_seen = idx[~is_seen[idx]]
            if not_seen.size:
                fail(f"{name(key)} lists class {class_name(int(not_seen[0]))}, which is not a seen class ({name('seen')})")
            parts[part] = idx
        shared = np.intersect1d(parts["train_classes"], parts["val_classes"])
        if shared.size:
            fail(f"class {class_name(int(shared[0]))} is in both {name(f'folds[{k}].train_classes')} and {name(f'folds[{k}].val_classes')}")


def _index_vector(values, label: str, fail: Callable[[str], NoReturn]) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        fail(f"{label} must be a 1-D integer index array, got shape {arr.shape} dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


# Features may be a multi-GB memory map: scan it in blocks of about this many bytes.
_SCAN_BYTES = 1 << 26


def _check_finite_rows(features: np.ndarray, report: Callable[[int, int], None]) -> None:
    """Call ``report(count, first_row)`` if ``features`` holds NaN/inf, reading it block by block."""
    rows = max(1, _SCAN_BYTES // max(1, features.shape[1] * features.dtype.itemsize))
    first, count = -1, 0
    for start in range(0, features.shape[0], rows):
        bad = ~np.isfinite(features[start : start + rows])
        if bad.any():
            count += int(bad.sum())
            if first < 0:
                first = start + int(np.flatnonzero(bad.any(axis=1))[0])
    if count:
        report(count, first)
