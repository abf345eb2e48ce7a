"""The paper's protocol: validation folds never touch the test split; the final split does."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from szsl.data.benchmark import Benchmark, Fold, validate_benchmark
from szsl.errors import SZSLError
from szsl.protocol import SEEN_HOLDOUT, final_split, seen_held_out, split_data, validation_splits


def tiny_benchmark(seed: int = 0, n_classes: int = 12, n_unseen: int = 3, per_class: int = 23) -> Benchmark:
    """Random features, 12 classes (3 unseen), 3 folds of 3 pseudo-unseen classes each."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_classes), per_class)
    features = rng.normal(size=(labels.size, 16)).astype(np.float32)
    att = rng.random((n_classes, 6)).astype(np.float32)
    att /= np.linalg.norm(att, axis=1, keepdims=True)
    unseen = np.arange(n_classes - n_unseen, n_classes)
    seen = np.arange(n_classes - n_unseen)
    trainval, test_seen = [], []
    for c in seen:
        idx = np.flatnonzero(labels == c)
        trainval.append(idx[: int(0.8 * idx.size)])
        test_seen.append(idx[int(0.8 * idx.size) :])
    test_unseen = np.flatnonzero(np.isin(labels, unseen))
    folds = tuple(Fold(np.setdiff1d(seen, seen[k::3]), seen[k::3]) for k in range(3))
    b = Benchmark(
        name="tiny", features=features, labels=labels.astype(np.int64), attributes=att, original_attributes=att,
        class_names=tuple(f"c{i}" for i in range(n_classes)), seen=seen, unseen=unseen,
        trainval=np.sort(np.concatenate(trainval)), test_seen=np.sort(np.concatenate(test_seen)), test_unseen=test_unseen, folds=folds,
    )
    validate_benchmark(b)
    return b


class GuardedFeatures(np.ndarray):
    """Features whose test rows raise on any read (fancy index, slice or scalar)."""

    forbidden: np.ndarray

    def __getitem__(self, item):
        rows = np.arange(self.shape[0])[item[0] if isinstance(item, tuple) else item]
        if np.intersect1d(np.atleast_1d(rows), self.forbidden).size:
            raise AssertionError("a test image was read")
        return np.asarray(super().__getitem__(item))


def guarded(b: Benchmark) -> Benchmark:
    feats = b.features.view(GuardedFeatures)
    feats.forbidden = np.concatenate([b.test_seen, b.test_unseen])
    return dataclasses.replace(b, features=feats)


@pytest.mark.parametrize("fold_classes", ["trainval", "all", "matched", "ratio"])
def test_folds_are_disjoint_stratified_and_inside_trainval(fold_classes):
    # "ratio" on 9 seen : 3 unseen would trim the folds' 3 pseudo-unseen classes to 2 (tested below): 7 : 5 adds classes instead
    b = tiny_benchmark(n_unseen=5) if fold_classes == "ratio" else tiny_benchmark()
    splits = validation_splits(b, seed=3, fold_classes=fold_classes)
    assert len(splits) == 3
    trainval = set(b.trainval.tolist())
    test = set(b.test_seen.tolist()) | set(b.test_unseen.tolist())
    for split, fold in zip(splits, b.folds):
        if fold_classes == "trainval":  # the model knows only the trainval classes
            assert np.array_equal(split.classes, b.seen)
        elif fold_classes == "all":  # it knows every class; the test-unseen ones by their attributes alone
            assert np.array_equal(split.classes, np.arange(b.n_classes))
        else:  # the trainval classes and, by attributes, some test-unseen ones
            assert np.isin(b.seen, split.classes).all() and np.isin(np.setdiff1d(split.classes, b.seen), b.unseen).all()
        assert np.array_equal(split.classes[split.seen], np.sort(fold.train_classes))
        assert np.array_equal(split.classes[split.unseen], np.sort(fold.val_classes))
        parts = [set(split.train.tolist()), set(split.eval_seen.tolist()), set(split.eval_unseen.tolist())]
        assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
        assert set().union(*parts) == trainval  # every trainval image, once
        assert not set().union(*parts) & test
        labels = b.labels
        assert set(labels[split.eval_unseen]) == set(fold.val_classes.tolist())
        assert np.array_equal(split.eval_unseen, np.sort(b.trainval[np.isin(labels[b.trainval], fold.val_classes)]))
        for c in fold.train_classes:  # 80/20 within every pseudo-seen class
            n = int(np.sum(labels[b.trainval] == c))
            held = int(np.sum(labels[split.eval_seen] == c))
            assert held == int(round(SEEN_HOLDOUT * n)) == seen_held_out(n)  # 20 images a class here
            assert int(np.sum(labels[split.train] == c)) == n - held


def test_two_images_a_class_still_leave_seen_validation_images():
    """With 2 trainval images a class, 20 % rounds to none: every fold had no seen validation images, S and H were NaN
    on every fold (the SUN twin at 10 %). One of the two is held out now."""
    b = tiny_benchmark(per_class=3)  # 2 trainval images a class
    assert [seen_held_out(n) for n in (1, 2, 3, 4, 5, 7, 8)] == [0, 1, 1, 1, 1, 1, 2]
    for split, fold in zip(validation_splits(b, 0), b.folds):
        held = b.labels[split.eval_seen]
        assert sorted(held.tolist()) == sorted(fold.train_classes.tolist())  # one image of every pseudo-seen class
        assert np.isin(fold.train_classes, b.labels[split.train]).all()  # and one left to train on


def test_one_image_a_class_is_a_clear_error():
    b = tiny_benchmark(per_class=2)  # 1 trainval image a class: nothing to hold out
    with pytest.raises(SZSLError, match=r"tiny fold 1: no seen validation images .* at least 2 images"):
        validation_splits(b, 0)


def test_fold_split_is_seeded():
    b = tiny_benchmark()
    a1, a2, other = validation_splits(b, 0), validation_splits(b, 0), validation_splits(b, 1)
    assert all(np.array_equal(x.train, y.train) for x, y in zip(a1, a2))
    assert any(not np.array_equal(x.train, y.train) for x, y in zip(a1, other))


def test_fold_classes_change_the_known_classes_not_the_images():
    b = tiny_benchmark()
    for old, new in zip(validation_splits(b, 5, fold_classes="trainval"), validation_splits(b, 5, fold_classes="all")):
        for name in ("train", "eval_seen", "eval_unseen"):
            assert np.array_equal(getattr(old, name), getattr(new, name)), name
        # Same pseudo-seen / pseudo-unseen classes in benchmark space; the test-unseen classes join as distractors.
        assert np.array_equal(old.classes[old.seen], new.classes[new.seen])
        assert np.array_equal(old.classes[old.unseen], new.classes[new.unseen])
        data = split_data(b, new)
        assert data.attributes.shape[0] == b.n_classes
        without_images = np.setdiff1d(np.arange(b.n_classes), np.unique(data.y_train))
        # Classes without a training image (they get the soft-label mass): pseudo-unseen + test-unseen.
        assert np.array_equal(np.sort(new.classes[without_images]), np.sort(np.concatenate([new.classes[new.unseen], b.unseen])))
    with pytest.raises(SZSLError, match="fold_classes='some'"):
        validation_splits(b, 0, fold_classes="some")


@pytest.mark.parametrize("fold_classes", ["trainval", "all", "matched", "ratio"])
def test_validation_never_reads_test_features_final_does(fold_classes):
    b = guarded(tiny_benchmark())
    for split in validation_splits(b, 0, fold_classes=fold_classes):
        data = split_data(b, split)
        assert data.X_train.shape[0] == split.train.size
        assert set(np.unique(data.y_train)) == set(split.seen.tolist())
        assert data.attributes.shape[0] == {"trainval": b.seen.size, "all": b.n_classes}.get(fold_classes, split.classes.size)
    with pytest.raises(AssertionError, match="test image"):
        split_data(b, final_split(b))  # the guard works: the final split does read test images


@pytest.mark.parametrize("fold_classes", ["trainval", "all", "matched", "ratio"])
def test_validation_is_blind_to_test_labels_and_features(fold_classes):
    b = tiny_benchmark()
    rng = np.random.default_rng(9)
    feats = b.features.copy()
    labels = b.labels.copy()
    feats[b.test_seen] = rng.normal(size=(b.test_seen.size, feats.shape[1])) * 100
    feats[b.test_unseen] = rng.normal(size=(b.test_unseen.size, feats.shape[1])) * 100
    labels[b.test_seen] = rng.permutation(labels[b.test_seen])
    labels[b.test_unseen] = rng.permutation(labels[b.test_unseen])
    garbage = dataclasses.replace(b, features=feats, labels=labels)
    for s1, s2 in zip(validation_splits(b, 0, fold_classes=fold_classes), validation_splits(garbage, 0, fold_classes=fold_classes)):
        d1, d2 = split_data(b, s1), split_data(garbage, s2)
        for name in ("X_train", "y_train", "X_eval_seen", "y_eval_seen", "X_eval_unseen", "y_eval_unseen", "attributes"):
            assert np.array_equal(getattr(d1, name), getattr(d2, name)), name


def test_final_split_trains_on_trainval_and_scores_on_test():
    b = tiny_benchmark()
    s = final_split(b)
    assert np.array_equal(s.train, b.trainval)
    assert np.array_equal(s.eval_seen, b.test_seen) and np.array_equal(s.eval_unseen, b.test_unseen)
    assert np.array_equal(s.seen, b.seen) and np.array_equal(s.unseen, b.unseen)
    data = split_data(b, s)
    assert data.attributes.shape[0] == b.n_classes


def test_fold_with_a_test_class_is_rejected():
    b = tiny_benchmark()
    bad = dataclasses.replace(b, folds=(Fold(b.seen[:-1], np.array([b.unseen[0]])),))
    with pytest.raises(SZSLError, match="not trainval classes"):
        validation_splits(bad, 0)


def test_matched_folds_have_as_many_imageless_classes_as_the_final_problem():
    b = tiny_benchmark(n_unseen=5)  # 7 seen classes: folds of 3, 2, 2 pseudo-unseen; 5 test-unseen
    for split, old in zip(validation_splits(b, 4, fold_classes="matched"), validation_splits(b, 4, fold_classes="trainval")):
        for name in ("train", "eval_seen", "eval_unseen"):  # the same images as the paper's folds
            assert np.array_equal(getattr(split, name), getattr(old, name)), name
        data = split_data(b, split)
        imageless = split.classes[np.setdiff1d(np.arange(split.classes.size), np.unique(data.y_train))]
        assert imageless.size == b.unseen.size  # pseudo-unseen + distractors = the final problem's unseen count
        distractors = np.setdiff1d(imageless, split.classes[split.unseen])
        assert np.isin(distractors, b.unseen).all() and distractors.size == b.unseen.size - split.unseen.size
        assert np.array_equal(split.classes[split.seen], old.classes[old.seen])
    again = validation_splits(b, 4, fold_classes="matched")
    assert all(np.array_equal(x.classes, y.classes) for x, y in zip(again, validation_splits(b, 4, fold_classes="matched")))
    # Enough pseudo-unseen classes already (3 per fold, 3 test-unseen): the paper's fold exactly.
    b = tiny_benchmark()
    for split, old in zip(validation_splits(b, 0, fold_classes="matched"), validation_splits(b, 0, fold_classes="trainval")):
        assert np.array_equal(split.classes, old.classes) and np.array_equal(split.unseen, old.unseen)


def test_matched_folds_keep_only_as_many_pseudo_unseen_classes_as_the_final_problem_has():
    b = tiny_benchmark(n_unseen=2)  # 10 seen classes: folds of 4, 3, 3 pseudo-unseen; 2 test-unseen
    for split, old in zip(validation_splits(b, 2, fold_classes="matched"), validation_splits(b, 2, fold_classes="trainval")):
        kept = split.classes[split.unseen]
        assert kept.size == b.unseen.size and np.isin(kept, old.classes[old.unseen]).all()
        dropped = np.setdiff1d(old.classes[old.unseen], kept)
        assert not np.isin(dropped, split.classes).any()  # the other pseudo-unseen classes leave the fold
        assert not np.isin(split.classes, b.unseen).any()  # and no test-unseen class joins
        assert np.array_equal(split.train, old.train) and np.array_equal(split.eval_seen, old.eval_seen)
        assert np.array_equal(split.eval_unseen, np.sort(b.trainval[np.isin(b.labels[b.trainval], kept)]))
        data = split_data(b, split)
        assert np.setdiff1d(np.arange(split.classes.size), np.unique(data.y_train)).size == b.unseen.size


def test_ratio_folds_have_the_final_problems_unseen_to_seen_class_ratio():
    """"ratio": imageless classes per fold = round(pseudo-seen * unseen / seen) of the final problem;
    the images are the paper's fold's; extra pseudo-unseen leave, missing ones are test-unseen by attributes."""
    for n_unseen in (2, 5, 9):
        b = tiny_benchmark(n_unseen=n_unseen)
        for split, old in zip(validation_splits(b, 3, fold_classes="ratio"), validation_splits(b, 3, fold_classes="trainval")):
            assert np.array_equal(split.train, old.train) and np.array_equal(split.eval_seen, old.eval_seen)
            n_pseudo_seen = split.seen.size
            want = max(1, round(n_pseudo_seen * b.unseen.size / b.seen.size))
            data = split_data(b, split)
            imageless = split.classes[np.setdiff1d(np.arange(split.classes.size), np.unique(data.y_train))]
            assert imageless.size == want
            assert np.isin(split.classes[split.unseen], old.classes[old.unseen]).all()  # scored: pseudo-unseen only
            assert np.isin(np.setdiff1d(imageless, split.classes[split.unseen]), b.unseen).all()  # the rest: test-unseen
