"""Own-data folders in the generic layout (classes.csv, images.csv, features) for tests."""

from __future__ import annotations

import csv

import numpy as np

from szsl.data.digits import ATTRIBUTE_NAMES, load_digits_benchmark


def write_csv(path, header, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def digits_as_generic(folder, *, with_split=True, features_name="features.npy"):
    """The embedded digits benchmark written in the generic layout."""
    b = load_digits_benchmark()
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / features_name, b.features)
    write_csv(
        folder / "classes.csv",
        ["name", "split", *ATTRIBUTE_NAMES],
        [[n, "seen" if c in b.seen else "unseen", *[int(v) for v in b.original_attributes[c]]] for c, n in enumerate(b.class_names)],
    )
    trainval = set(b.trainval.tolist())
    header = ["class", "split"] if with_split else ["class"]
    rows = [[b.class_names[label], "trainval" if i in trainval else "test"][: len(header)] for i, label in enumerate(b.labels)]
    write_csv(folder / "images.csv", header, rows)
    return b


def small_dataset(folder, n_per_class=6, dim=8, attributes=True, seed=0):
    """5 classes (3 seen, 2 unseen), random features, no split column."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    names = ["cat", "dog", "cow", "zebra", "whale"]
    splits = ["seen", "seen", "seen", "unseen", "unseen"]
    if attributes:
        att = rng.integers(0, 2, size=(5, 4)) + np.eye(5, 4, dtype=int)
        write_csv(
            folder / "classes.csv", ["name", "split", "a1", "a2", "a3", "a4"], [[n, s, *a] for n, s, a in zip(names, splits, att.tolist())]
        )
    labels = [n for n in names for _ in range(n_per_class)]
    write_csv(folder / "images.csv", ["class"], [[label] for label in labels])
    np.save(folder / "features.npy", rng.normal(size=(len(labels), dim)).astype(np.float32))
    return names, labels
