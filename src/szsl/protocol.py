"""Who may see what. The only module that decides which images and classes a run may use.

- ``validation_splits``: the paper's cross-validation. For fold K of the xlsa17 class lists,
  pseudo-unseen = valclassesK, pseudo-seen = trainclassesK. Training images: 80% of the
  trainval images of the pseudo-seen classes (stratified per class, from the seed); seen
  validation: the other 20% (at least one image of a class that has two: ``seen_held_out``);
  unseen validation: all trainval images of the pseudo-unseen classes. It reads trainval
  indices and their labels only - never the test split, never ``train_loc`` / ``val_loc``
  (which overlap test_seen in the official release).
  Which classes a fold model knows (``fold_classes``):
    "all": every class of the benchmark. The test-unseen classes take part by their
      attributes alone (never an image), exactly as they do in the final model: they compete
      in every prediction and receive soft-label mass, so a fold faces the same unseen
      competitors and distractors as the final problem. U and S are still scored on the
      pseudo-unseen and held-out pseudo-seen images only.
    "ratio" (default): the fold has as many classes without training images as give the final
      problem's ratio of unseen to seen classes: round(pseudo-seen x unseen / seen). Filled and
      trimmed like "matched" (aPY: 5 + 4 = 9 for 15 pseudo-seen, AwA1/2: 7 of 13 for 27, CUB: 33 of
      50 for 100, SUN: 65 for 580, the paper's fold). The soft-label mass each unseen class receives
      grows with the number of seen classes that spread it; this keeps that balance as in the final model.
    "matched": the fold has exactly as many classes without training images as the
      final problem has unseen classes. With fewer pseudo-unseen classes than that, a seeded
      random subset of the test-unseen classes joins, by attributes only (aPY: 5 + 7 = 12, SUN:
      65 + 7 = 72); with more, a seeded subset of the pseudo-unseen classes is kept and the
      others leave the fold, their images unused (AwA1/2: 10 of 13); with as many (CUB: 50)
      it is the "trainval" fold.
    "trainval": the trainval classes only (the test classes do not exist for the fold model);
      the paper's protocol and szsl's behaviour before 0.2.
- ``final_split``: train on all of trainval, evaluate on test_seen / test_unseen over all
  classes. The one function that hands out test indices; only final evaluation calls it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from szsl.data.benchmark import Benchmark
from szsl.errors import SZSLError

SEEN_HOLDOUT = 0.2
FOLD_CLASSES = ("all", "matched", "ratio", "trainval")
DEFAULT_FOLD_CLASSES = "ratio"


@dataclass(frozen=True, eq=False)
class Split:
    name: str
    classes: np.ndarray  # benchmark class indices the model knows; model class j = classes[j]
    seen: np.ndarray  # model-space indices of the classes with training images
    unseen: np.ndarray  # model-space indices of the classes without
    train: np.ndarray  # image indices
    eval_seen: np.ndarray
    eval_unseen: np.ndarray


@dataclass(frozen=True, eq=False)
class SplitData:
    """The arrays one run sees, labels in model space (0 .. len(classes)-1)."""

    split: Split
    X_train: np.ndarray
    y_train: np.ndarray
    attributes: np.ndarray
    X_eval_seen: np.ndarray
    y_eval_seen: np.ndarray
    X_eval_unseen: np.ndarray
    y_eval_unseen: np.ndarray
    class_names: tuple[str, ...]

    @property
    def seen(self) -> np.ndarray:
        return self.split.seen

    @property
    def unseen(self) -> np.ndarray:
        return self.split.unseen


def validation_splits(
    benchmark: Benchmark, seed: int = 0, holdout: float = SEEN_HOLDOUT, fold_classes: str = DEFAULT_FOLD_CLASSES
) -> list[Split]:
    """The cross-validation splits (one per class fold). Never touches the test split.

    ``fold_classes``: "all" (the fold model also knows the test-unseen classes, by their
    attributes only), "ratio" (the default: as many classes without images as give the final
    problem's unseen : seen class ratio), "matched" (as many as the final problem's unseen count)
    or "trainval" (the trainval classes only); see the module docstring.
    """
    if not benchmark.folds:
        raise SZSLError(f"{benchmark.name}: no validation folds (class lists trainclassesK/valclassesK)")
    if fold_classes not in FOLD_CLASSES:
        raise SZSLError(f"fold_classes={fold_classes!r}: expected one of {', '.join(FOLD_CLASSES)}")
    seen_classes = np.sort(np.asarray(benchmark.seen, dtype=np.int64))
    if fold_classes == "all":  # the class set of the final model: seen + test-unseen, attributes only
        classes = np.arange(benchmark.n_classes, dtype=np.int64)
    else:
        classes = seen_classes
    trainval = np.asarray(benchmark.trainval, dtype=np.int64)
    trainval_labels = np.asarray(benchmark.labels)[trainval]
    splits = []
    for k, fold in enumerate(benchmark.folds, start=1):
        pseudo_seen = np.sort(np.asarray(fold.train_classes, dtype=np.int64))
        pseudo_unseen = np.sort(np.asarray(fold.val_classes, dtype=np.int64))
        outside = np.setdiff1d(np.concatenate([pseudo_seen, pseudo_unseen]), seen_classes)
        if outside.size:
            raise SZSLError(f"{benchmark.name} fold {k}: classes {outside.tolist()} are not trainval classes")
        if np.intersect1d(pseudo_seen, pseudo_unseen).size:
            raise SZSLError(f"{benchmark.name} fold {k}: train and validation classes overlap")
        train, held = split_seen_images(trainval, trainval_labels, pseudo_seen, np.random.default_rng([seed, k]), holdout)
        if not held.size:
            raise SZSLError(
                f"{benchmark.name} fold {k}: no seen validation images (no class of trainclasses{k} has 2 or more trainval "
                "images), so the folds cannot measure S: give the training classes at least 2 images each"
            )
        if fold_classes in ("matched", "ratio"):  # its own stream: the image split above does not depend on it
            want = _unseen_wanted(benchmark, pseudo_seen.size, fold_classes)
            pseudo_unseen, classes = _matched_classes(benchmark, seen_classes, pseudo_unseen, np.random.default_rng([seed, k, 1]), want)
        eval_unseen = trainval[np.isin(trainval_labels, pseudo_unseen)]
        splits.append(
            Split(
                name=f"fold{k}",
                classes=classes,
                seen=np.searchsorted(classes, pseudo_seen),
                unseen=np.searchsorted(classes, pseudo_unseen),
                train=train,
                eval_seen=held,
                eval_unseen=np.sort(eval_unseen),
            )
        )
    return splits


def split_seen_images(
    trainval: np.ndarray, labels: np.ndarray, classes: np.ndarray, rng, holdout: float = SEEN_HOLDOUT
) -> tuple[np.ndarray, np.ndarray]:
    """The trainval images (``trainval``, their ``labels``) of each of ``classes`` in turn, shuffled by ``rng`` and cut
    into training images and seen validation images (``seen_held_out`` of each class): both sorted."""
    train, held = [], []
    for c in classes:
        images = rng.permutation(trainval[labels == c])
        n_held = seen_held_out(images.size, holdout)
        held.append(images[:n_held])
        train.append(images[n_held:])
    none = np.empty(0, dtype=np.asarray(trainval).dtype)  # no classes: no images (the caller says what that means)
    return np.sort(np.concatenate([none, *train])), np.sort(np.concatenate([none, *held]))


def seen_held_out(n_images: int, holdout: float = SEEN_HOLDOUT) -> int:
    """How many of a pseudo-seen class's ``n_images`` trainval images a fold holds out as seen validation images:
    the share ``holdout``, rounded, and at least one where the class has two or more (with two images a class,
    rounding alone would hold out none and leave S undefined on every fold); none of a class's only image."""
    return max(1, int(round(holdout * n_images))) if n_images > 1 else 0


def fold_unseen_classes(benchmark: Benchmark, fold_classes: str = DEFAULT_FOLD_CLASSES) -> float | None:
    """How many classes without training images, and with validation images, the class folds of
    ``validation_splits`` hold, on average over the folds (the count does not depend on the seed); None for a benchmark
    without folds. What their validation H of a setting rests on (``final_model.anchor_weight_for``)."""
    if not benchmark.folds:
        return None
    return float(np.mean([s.unseen.size for s in validation_splits(benchmark, 0, fold_classes=fold_classes)]))


def _unseen_wanted(benchmark: Benchmark, n_pseudo_seen: int, fold_classes: str) -> int:
    """How many classes without training images a "matched" / "ratio" fold has: the final problem's
    unseen count ("matched"), or as many as give the final problem's unseen : seen class ratio ("ratio")."""
    n_unseen, n_seen = len(benchmark.unseen), len(benchmark.seen)
    if fold_classes == "matched" or n_seen == 0:
        return max(1, n_unseen)
    return max(1, int(round(n_pseudo_seen * n_unseen / n_seen)))


def _matched_classes(
    benchmark: Benchmark, seen_classes: np.ndarray, pseudo_unseen: np.ndarray, rng, want: int
) -> tuple[np.ndarray, np.ndarray]:
    """The pseudo-unseen classes kept and the classes a "matched" / "ratio" fold model knows: ``want``
    classes without training images. Fewer pseudo-unseen classes than that: test-unseen classes join
    by their attributes (seeded choice). More: a seeded subset of the pseudo-unseen classes is kept
    and the others leave the fold (model and scoring)."""
    test_unseen = np.sort(np.asarray(benchmark.unseen, dtype=np.int64))
    if pseudo_unseen.size > want:
        dropped = np.setdiff1d(pseudo_unseen, rng.choice(pseudo_unseen, size=want, replace=False))
        kept = np.setdiff1d(pseudo_unseen, dropped)
        return kept, np.setdiff1d(seen_classes, dropped)
    extra = rng.choice(test_unseen, size=min(test_unseen.size, want - pseudo_unseen.size), replace=False)
    return pseudo_unseen, np.sort(np.concatenate([seen_classes, extra]))


def final_split(benchmark: Benchmark) -> Split:
    """Train on all of trainval, evaluate on the test split. The only reader of test indices."""
    classes = np.arange(benchmark.n_classes, dtype=np.int64)
    return Split(
        name="final",
        classes=classes,
        seen=np.sort(np.asarray(benchmark.seen, dtype=np.int64)),
        unseen=np.sort(np.asarray(benchmark.unseen, dtype=np.int64)),
        train=np.asarray(benchmark.trainval, dtype=np.int64),
        eval_seen=np.asarray(benchmark.test_seen, dtype=np.int64),
        eval_unseen=np.asarray(benchmark.test_unseen, dtype=np.int64),
    )


def split_data(benchmark: Benchmark, split: Split) -> SplitData:
    """Gather the features and model-space labels of one split (reads only the split's images)."""
    to_model = np.full(benchmark.n_classes, -1, dtype=np.int64)
    to_model[split.classes] = np.arange(split.classes.size)

    def take(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        labels = to_model[np.asarray(benchmark.labels)[images]]
        if images.size and labels.min() < 0:
            raise SZSLError(f"{benchmark.name} {split.name}: an image's class is not among the split's classes")
        # Sorted indices make a memory-mapped read sequential.
        return np.ascontiguousarray(benchmark.features[images], dtype=np.float32), labels

    X_train, y_train = take(split.train)
    X_seen, y_seen = take(split.eval_seen)
    X_unseen, y_unseen = take(split.eval_unseen)
    return SplitData(
        split=split,
        X_train=X_train,
        y_train=y_train,
        attributes=np.asarray(benchmark.attributes, dtype=np.float32)[split.classes],
        X_eval_seen=X_seen,
        y_eval_seen=y_seen,
        X_eval_unseen=X_unseen,
        y_eval_unseen=y_unseen,
        class_names=tuple(benchmark.class_names[c] for c in split.classes),
    )
