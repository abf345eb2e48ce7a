"""The embedded digits benchmark: shapes, split, folds, attributes, determinism."""

from __future__ import annotations

import numpy as np

from szsl.data import load_benchmark
from szsl.data.digits import ATTRIBUTE_NAMES, load_digits_benchmark


def test_shapes_and_types():
    b = load_digits_benchmark()
    assert b.name == "digits"
    assert b.source == "embedded: scikit-learn UCI digits"
    assert b.features.shape == (1797, 64) and b.features.dtype == np.float32
    assert b.features.min() >= 0.0 and b.features.max() <= 1.0
    assert b.labels.shape == (1797,) and b.labels.dtype == np.int64
    assert b.attributes.shape == (10, len(ATTRIBUTE_NAMES)) and b.attributes.dtype == np.float32
    assert b.original_attributes.shape == b.attributes.shape
    assert b.class_names == tuple(str(d) for d in range(10))
    assert b.n_classes == 10 and b.feature_dim == 64 and b.attribute_dim == 13


def test_attributes_normalised_and_distinct():
    b = load_digits_benchmark()
    np.testing.assert_allclose(np.linalg.norm(b.attributes, axis=1), 1.0, atol=1e-6)
    # every class has its own attribute vector
    assert len({tuple(r) for r in b.original_attributes.tolist()}) == 10
    # seven-segment code of 8 is all ones, of 1 is b, c
    assert b.original_attributes[8, :7].tolist() == [1] * 7
    assert b.original_attributes[1, :7].tolist() == [0, 1, 1, 0, 0, 0, 0]


def test_split_seen_unseen():
    b = load_digits_benchmark()
    assert set(b.seen.tolist()).isdisjoint(b.unseen.tolist())
    assert sorted(b.seen.tolist() + b.unseen.tolist()) == list(range(10))
    assert np.all(np.diff(b.seen) > 0) and np.all(np.diff(b.unseen) > 0)
    tv, ts, tu = b.trainval, b.test_seen, b.test_unseen
    for idx in (tv, ts, tu):
        assert idx.dtype == np.int64 and len(np.unique(idx)) == len(idx)
    # the three sets partition all images
    assert sorted(np.concatenate([tv, ts, tu]).tolist()) == list(range(1797))
    assert np.isin(b.labels[tv], b.seen).all()
    assert np.isin(b.labels[ts], b.seen).all()
    assert np.isin(b.labels[tu], b.unseen).all()
    assert len(tu) == int(np.isin(b.labels, b.unseen).sum())
    # stratified 80/20 per seen class
    for c in b.seen:
        n_tv = int((b.labels[tv] == c).sum())
        n_ts = int((b.labels[ts] == c).sum())
        assert n_ts > 0 and abs(n_tv / (n_tv + n_ts) - 0.8) < 0.01


def test_folds_partition_seen():
    b = load_digits_benchmark()
    assert len(b.folds) == 3
    vals = []
    for f in b.folds:
        tr, va = set(f.train_classes.tolist()), set(f.val_classes.tolist())
        assert tr.isdisjoint(va) and tr | va == set(b.seen.tolist())
        assert len(va) >= 2 and len(tr) >= 4
        vals.append(va)
    assert vals[0].isdisjoint(vals[1]) and vals[0].isdisjoint(vals[2]) and vals[1].isdisjoint(vals[2])
    assert set().union(*vals) == set(b.seen.tolist())


def test_deterministic_and_dispatch():
    a, b = load_digits_benchmark(), load_benchmark("digits")
    np.testing.assert_array_equal(a.features, b.features)
    for key in ("labels", "attributes", "trainval", "test_seen", "test_unseen", "seen", "unseen"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))


def test_unseen_learnable_from_attributes():
    """A ridge map pixels -> attributes trained on seen trainval beats chance on unseen digits."""
    b = load_digits_benchmark()
    X, T = b.features[b.trainval].astype(np.float64), b.attributes[b.labels[b.trainval]]
    W = np.linalg.solve(X.T @ X + np.eye(X.shape[1]), X.T @ T)
    P = b.features[b.test_unseen] @ W
    pred = b.unseen[np.argmax(P @ b.attributes[b.unseen].T, axis=1)]
    acc = np.mean([np.mean(pred[b.labels[b.test_unseen] == c] == c) for c in b.unseen])
    assert acc > 0.45  # chance is 1/3
