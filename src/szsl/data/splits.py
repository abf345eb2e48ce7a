"""The image split and class folds of your own data: from images.csv ``split`` / classes.csv
``fold`` when given, else a fixed 80 % of every seen class's images as trainval and 3 folds over
the seen classes from a fixed permutation (docs/own-data.md)."""

from __future__ import annotations

import numpy as np

from szsl.data.benchmark import Fold
from szsl.data.tables import Table
from szsl.errors import SZSLError

N_FOLDS = 3
TRAINVAL_FRACTION = 0.8
SPLIT_SEED = 0


def image_splits(images: Table, labels: np.ndarray, is_seen: np.ndarray, class_names: list[str]):
    n = labels.size
    if images.has("split"):
        trainval = np.zeros(n, dtype=bool)
        for i, s in enumerate(images.column("split")):
            s = s.lower()
            if s not in ("trainval", "test"):
                raise SZSLError(f"{images.where(i, 'split')}: {s!r}, expected trainval or test")
            if s == "trainval":
                if not is_seen[labels[i]]:
                    raise SZSLError(
                        f"{images.where(i, 'split')}: image of unseen class {class_names[labels[i]]!r} is marked trainval; unseen classes "
                        "may only have test images"
                    )
                trainval[i] = True
    else:
        rng = np.random.default_rng(SPLIT_SEED)
        trainval = np.zeros(n, dtype=bool)
        for c in np.flatnonzero(is_seen):
            idx = np.flatnonzero(labels == c)
            idx = idx[rng.permutation(idx.size)]
            k = idx.size if idx.size < 2 else max(1, int(round(TRAINVAL_FRACTION * idx.size)))
            trainval[idx[:k]] = True
    seen_img = is_seen[labels]
    return (
        np.flatnonzero(trainval).astype(np.int64),
        np.flatnonzero(~trainval & seen_img).astype(np.int64),
        np.flatnonzero(~seen_img).astype(np.int64),
    )


def class_folds(classes: Table, seen: np.ndarray, is_seen: np.ndarray) -> tuple[Fold, ...]:
    if classes.has("fold"):
        assigned: dict[int, list[int]] = {}
        for i, f in enumerate(classes.column("fold")):
            if f == "":
                continue
            if not is_seen[i]:
                raise SZSLError(
                    f"{classes.where(i, 'fold')}: unseen class {classes.rows[i][0]!r} has fold {f}; only seen classes belong to "
                    "validation folds"
                )
            try:
                k = int(f)
            except ValueError:
                raise SZSLError(f"{classes.where(i, 'fold')}: {f!r} is not a fold number (1, 2, ...)") from None
            if k < 1:
                raise SZSLError(f"{classes.where(i, 'fold')}: fold {k}, expected 1 or more")
            assigned.setdefault(k, []).append(i)
        groups = [np.array(assigned[k], dtype=np.int64) for k in sorted(assigned)]
    else:
        if seen.size < 2:
            return ()
        order = np.random.default_rng(SPLIT_SEED).permutation(seen)
        groups = [np.sort(g) for g in np.array_split(order, min(N_FOLDS, seen.size)) if g.size]
    return tuple(Fold(train_classes=np.setdiff1d(seen, g).astype(np.int64), val_classes=g) for g in groups)
