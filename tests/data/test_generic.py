"""The generic own-data layout: classes.csv + images.csv + features, as a Benchmark."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from szsl.cli import main
from szsl.data import load_benchmark
from szsl.data.generic import load_generic
from szsl.errors import SZSLError
from tests.helpers.generic import digits_as_generic, small_dataset, write_csv


def test_digits_in_generic_layout_equals_the_embedded_benchmark(tmp_path):
    ref = digits_as_generic(tmp_path / "dig")
    b = load_benchmark(str(tmp_path / "dig"))
    assert b.name == "dig" and b.class_names == ref.class_names
    np.testing.assert_array_equal(b.features, ref.features)
    np.testing.assert_array_equal(b.labels, ref.labels)
    np.testing.assert_allclose(b.attributes, ref.attributes, rtol=1e-6)
    for key in ("seen", "unseen", "trainval", "test_seen", "test_unseen"):
        np.testing.assert_array_equal(getattr(b, key), getattr(ref, key))
    assert len(b.folds) == 3
    val = np.concatenate([f.val_classes for f in b.folds])
    assert sorted(val.tolist()) == sorted(ref.seen.tolist())  # disjoint pseudo-unseen sets covering the seen classes
    # --root DIR --dataset NAME and a dataset.json find the same dataset
    assert load_benchmark("dig", root=str(tmp_path)).n_images == b.n_images
    (tmp_path / "dig" / "dataset.json").write_text(json.dumps({"name": "my-digits"}))
    assert load_benchmark(str(tmp_path / "dig" / "dataset.json")).name == "my-digits"


def test_default_split_and_folds_are_deterministic(tmp_path):
    small_dataset(tmp_path / "d")
    a, b = load_generic(tmp_path / "d"), load_generic(tmp_path / "d")
    for key in ("trainval", "test_seen", "test_unseen"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
    assert len(a.trainval) == 3 * 5 and len(a.test_seen) == 3 * 1 and len(a.test_unseen) == 12
    assert [f.val_classes.tolist() for f in a.folds] == [f.val_classes.tolist() for f in b.folds]
    assert len(a.folds) == 3 and all(len(f.val_classes) == 1 and len(f.train_classes) == 2 for f in a.folds)
    np.testing.assert_allclose(np.linalg.norm(a.attributes, axis=1), 1, rtol=1e-6)


def test_fold_column_and_label_and_row_columns(tmp_path):
    d = tmp_path / "d"
    small_dataset(d)
    write_csv(
        d / "classes.csv",
        ["name", "split", "fold", "a1", "a2"],
        [
            ["cat", "seen", "1", 1, 0],
            ["dog", "seen", "2", 0, 1],
            ["cow", "seen", "2", 1, 1],
            ["zebra", "unseen", "", 2, 1],
            ["whale", "unseen", "", 1, 2],
        ],
    )
    feats = np.arange(30 * 3, dtype=np.float32).reshape(30, 3)
    np.save(d / "features.npy", feats)
    # label = row of classes.csv, row = row of the features, in reverse order
    write_csv(d / "images.csv", ["label", "row"], [[i // 6, 29 - i] for i in range(30)])
    b = load_generic(d)
    assert [f.val_classes.tolist() for f in b.folds] == [[0], [1, 2]]
    np.testing.assert_array_equal(b.features, feats[::-1])
    assert b.labels.tolist() == [i // 6 for i in range(30)]


@pytest.mark.parametrize("fmt", ["npz", "csv", "parquet"])
def test_feature_formats(tmp_path, fmt):
    d = tmp_path / "d"
    small_dataset(d)
    feats = np.load(d / "features.npy")
    (d / "features.npy").unlink()
    if fmt == "npz":
        np.savez(d / "features.npz", features=feats)
    elif fmt == "csv":
        np.savetxt(d / "features.csv", feats, delimiter=",", header=",".join(f"f{j}" for j in range(feats.shape[1])), comments="")
    else:
        pa = pytest.importorskip("pyarrow")
        import pyarrow.parquet as pq

        pq.write_table(pa.table({f"f{j}": feats[:, j] for j in range(feats.shape[1])}), d / "features.parquet")
    np.testing.assert_allclose(load_generic(d).features, feats, rtol=1e-6)


def test_class_subfolders_instead_of_images_csv(tmp_path):
    d = tmp_path / "d"
    small_dataset(d)
    (d / "images.csv").unlink()
    for n in ["cat", "dog", "cow", "zebra", "whale"]:
        (d / "images" / n).mkdir(parents=True)
        for i in range(6):
            (d / "images" / n / f"{i}.png").write_bytes(b"")
    np.save(d / "features.npy", np.ones((30, 4), dtype=np.float32))
    b = load_generic(d)
    assert b.n_images == 30 and b.class_names[b.labels[0]] == "cat"


def _bad(d, what):
    if what == "missing split column":
        write_csv(d / "classes.csv", ["name", "a1"], [["cat", 1]])
    elif what == "unknown class":
        rows = list(csv.reader(open(d / "images.csv")))
        rows[3] = ["lion"]
        write_csv(d / "images.csv", rows[0], rows[1:])
    elif what == "nan feature":
        f = np.load(d / "features.npy")
        f[4, 2] = np.nan
        np.save(d / "features.npy", f)
    elif what == "wrong rows":
        np.save(d / "features.npy", np.zeros((29, 8), dtype=np.float32))
    elif what == "1-d features":
        np.save(d / "features.npy", np.zeros(30, dtype=np.float32))
    elif what == "nan attribute":
        rows = list(csv.reader(open(d / "classes.csv")))
        rows[2][3] = "nan"
        write_csv(d / "classes.csv", rows[0], rows[1:])
    elif what == "bad class split":
        rows = list(csv.reader(open(d / "classes.csv")))
        rows[1][1] = "train"
        write_csv(d / "classes.csv", rows[0], rows[1:])
    elif what == "unseen in trainval":
        write_csv(d / "images.csv", ["class", "split"], [[n, "trainval"] for n in ["cat", "dog", "cow", "zebra"]])
        np.save(d / "features.npy", np.zeros((4, 8), dtype=np.float32))
    elif what == "no attributes no description":
        rows = list(csv.reader(open(d / "classes.csv")))
        rows[2][3] = ""
        write_csv(d / "classes.csv", rows[0], rows[1:])
    elif what == "label too big for int64":
        write_csv(d / "images.csv", ["label"], [[i // 6] for i in range(29)] + [[99999999999999999999]])
    elif what == "row too big for int64":
        write_csv(d / "images.csv", ["class", "row"], [["cat", 99999999999999999999]] + [["cat", i] for i in range(1, 30)])
    elif what == "seen class without images":
        write_csv(d / "images.csv", ["class"], [[n] for n in ["cat", "dog", "zebra", "whale"] * 3])
        np.save(d / "features.npy", np.zeros((12, 8), dtype=np.float32))


@pytest.mark.parametrize(
    "what, message",
    [
        ("missing split column", "classes.csv: missing column 'split'"),
        ("unknown class", "images.csv line 4 column 'class': unknown class 'lion'"),
        ("nan feature", "features.npy has 1 non-finite values (NaN or inf), the first in image 4"),
        ("wrong rows", "features.npy: 29 feature rows but"),
        ("1-d features", "features.npy: features must be a 2-D (images x features) array"),
        ("nan attribute", "classes.csv line 3 column 'a2': attribute of class 'dog' is nan"),
        ("bad class split", "classes.csv line 2 column 'split': 'train' for class 'cat', expected seen or unseen"),
        ("unseen in trainval", "images.csv line 5 column 'split': image of unseen class 'zebra' is marked trainval"),
        ("no attributes no description", "classes.csv line 3 column 'a2': class 'dog' has no value for attribute 'a2' and"),
        ("seen class without images", "classes.csv line 4 column 'split': seen class 'cow' has no image in"),
        ("label too big for int64", "images.csv line 31 column 'label': class index 99999999999999999999 outside 0..4"),
        ("row too big for int64", "images.csv line 2 column 'row': row 99999999999999999999 outside 0..29"),
    ],
)
def test_bad_inputs_name_file_and_field_in_one_line(tmp_path, capsys, what, message):
    d = tmp_path / "d"
    small_dataset(d)
    _bad(d, what)
    with pytest.raises(SZSLError) as exc:
        load_generic(d)
    assert message in str(exc.value) and "\n" not in str(exc.value)
    # the CLI: one line on stderr, exit 2
    assert main(["data", "check", "--root", str(tmp_path), "--dataset", "d"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("szsl: error: ") and message in err and "\n" not in err



@pytest.mark.parametrize(
    "content, message",
    [
        ('{"classes": 5}', "dataset.json: 'classes' is 5, expected a path (non-empty string)"),
        ('{"features": ["a"]}', "dataset.json: 'features' is [\"a\"], expected a path (non-empty string)"),
        ('{"image_dir": 5}', "dataset.json: 'image_dir' is 5, expected a path (non-empty string)"),
        ('{"batch_size": "abc"}', "dataset.json: 'batch_size' is \"abc\", expected a positive integer"),
        ('{"batch_size": true}', "dataset.json: 'batch_size' is true, expected a positive integer"),
        ('{"random_init": "no"}', "dataset.json: 'random_init' is \"no\", expected true or false"),
        ('{"name": {"a": 1}}', "dataset.json: 'name' is {\"a\": 1}, expected a string"),
        ("[" * 100000 + "]" * 100000, "dataset.json: JSON nested too deeply"),
        ('{"name": ' + "[" * 100000 + "]" * 100000 + "}", "dataset.json: JSON nested too deeply"),
    ],
    ids=["classes", "features", "image_dir", "batch_size", "batch_size_bool", "random_init", "name", "deep", "deep_value"],
)
def test_wrong_json_types_and_deep_nesting_in_dataset_json_are_one_line(tmp_path, capsys, content, message):
    d = tmp_path / "d"
    small_dataset(d)
    (d / "dataset.json").write_text(content)
    assert main(["data", "check", "--dataset", str(d)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("szsl: error: ") and message in err and "\n" not in err, err


def test_unknown_names_still_fail_and_missing_paths_are_reported(tmp_path):
    with pytest.raises(SZSLError, match="unknown dataset 'mnist': expected one of digits, AWA1"):
        load_benchmark("mnist")
    with pytest.raises(SZSLError, match="dataset not found"):
        load_benchmark(str(tmp_path / "nope" / "dataset.json"))


def test_train_and_check_cli_on_generic_dataset(tmp_path, capsys):
    digits_as_generic(tmp_path / "dig")
    assert main(["data", "check", "--root", str(tmp_path), "--dataset", "dig"]) == 0
    out = capsys.readouterr().out
    assert "10 total: 7 seen, 3 unseen" in out and "check       ok" in out
    model = tmp_path / "m.pt"
    assert (
        main(["train", "--dataset", str(tmp_path / "dig"), "--hidden", "32", "--epochs", "2", "--device", "cpu", "--save", str(model)]) == 0
    )
    assert capsys.readouterr().out.startswith("dig: U=")
    from szsl import SZSLClassifier

    clf = SZSLClassifier.load(model)
    assert clf.class_names_ == [str(d) for d in range(10)] and clf.seen_.tolist() == [0, 1, 3, 4, 6, 7, 8]
