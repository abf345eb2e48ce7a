"""szsl.data.xlsa17: loading the real xlsa17 metadata, v7.3 files, the feature cache, and
one exact error message per kind of bad input.

The real att_splits.mat and class lists come from ../shared/xlsa17 (the ``shared_root``
fixture); res101.mat is not available anywhere, so ``make_dataset`` writes a small one with
labels consistent with the real splits (the real labels for AWA2).
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

from szsl.data import xlsa17
from szsl.data.xlsa17 import feature_cache_dir, load_xlsa17
from szsl.errors import SZSLError
from tests.helpers.shared_data import DATASETS
from tests.helpers.xlsa17 import BAD_INPUTS, read_list, read_mat, rewrite_mat, savemat73, to_v73

pytestmark = pytest.mark.usefixtures("cache_dir")  # every test gets its own feature cache


# ------------------------------------------------------------------ loading real metadata


@pytest.mark.parametrize("ds", DATASETS)
def test_load_matches_real_files(pristine, shared_root, ds):
    b = load_xlsa17(pristine, ds.lower())
    real = read_mat(shared_root / ds / "att_splits.mat")
    names = [str(x[0]) for x in real["allclasses_names"].ravel()]
    mine = read_mat(pristine / ds / "res101.mat")

    assert b.name == ds and b.source == str(pristine / ds)
    assert b.class_names == tuple(names)
    np.testing.assert_allclose(b.attributes, real["att"].T, rtol=1e-6)
    np.testing.assert_allclose(b.original_attributes, real["original_att"].T, rtol=1e-6)
    assert b.attributes.dtype == np.float32 and b.attributes.shape == (len(names), real["att"].shape[0])
    for field, key in (("trainval", "trainval_loc"), ("test_seen", "test_seen_loc"), ("test_unseen", "test_unseen_loc")):
        got = getattr(b, field)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, real[key].ravel().astype(np.int64) - 1)
    for field, listing in (("seen", "trainvalclasses.txt"), ("unseen", "testclasses.txt")):
        expected = sorted(names.index(n) for n in read_list(shared_root / ds / listing))
        np.testing.assert_array_equal(getattr(b, field), expected)
    assert len(b.folds) == 3
    for k, fold in enumerate(b.folds, start=1):
        train_classes = sorted(names.index(n) for n in read_list(shared_root / ds / f"trainclasses{k}.txt"))
        np.testing.assert_array_equal(fold.train_classes, train_classes)
        np.testing.assert_array_equal(fold.val_classes, sorted(names.index(n) for n in read_list(shared_root / ds / f"valclasses{k}.txt")))
    assert b.labels.dtype == np.int64
    np.testing.assert_array_equal(b.labels, mine["labels"].ravel() - 1)
    assert isinstance(b.features, np.memmap) and not b.features.flags.writeable
    assert b.features.dtype == np.float32 and b.features.flags.c_contiguous
    np.testing.assert_array_equal(b.features, mine["features"].T)


def test_awa2_real_labels(pristine, shared_root):
    b = load_xlsa17(pristine, "AWA2")
    np.testing.assert_array_equal(b.labels + 1, np.load(shared_root / "AWA2" / "labels_1based.npy"))
    assert (b.n_classes, len(b.seen), len(b.unseen), b.n_images, b.attribute_dim) == (50, 40, 10, 37322, 85)


def test_train_loc_and_val_loc_are_never_read(awa2):
    # In the official release train_loc overlaps test_seen_loc; the loader must not care.
    n = 37322
    rewrite_mat(awa2 / "att_splits.mat", train_loc=np.full((5, 1), n + 100.0), val_loc=np.array([[0.5]]))
    load_xlsa17(awa2.parent, "AWA2")
    rewrite_mat(awa2 / "att_splits.mat", train_loc="not even numbers", val_loc=np.zeros((3, 3, 3)))
    load_xlsa17(awa2.parent, "AWA2")
    rewrite_mat(awa2 / "att_splits.mat", train_loc=None, val_loc=None)
    load_xlsa17(awa2.parent, "AWA2")


def test_lower_case_folder(awa2):
    awa2.rename(awa2.with_name("awa2"))
    b = load_xlsa17(awa2.parent, "AwA2")
    assert b.name == "AWA2" and b.source == str(awa2.with_name("awa2"))


def test_unknown_dataset(awa2):
    with pytest.raises(SZSLError) as exc:
        load_xlsa17(awa2.parent, "imagenet")
    assert str(exc.value) == "unknown xlsa17 dataset 'imagenet': expected one of AWA1, AWA2, CUB, SUN, APY"


def test_v73_files_load_like_v5(pristine, awa2):
    to_v73(awa2 / "res101.mat")
    to_v73(awa2 / "att_splits.mat")
    assert h5py.is_hdf5(awa2 / "res101.mat") and h5py.is_hdf5(awa2 / "att_splits.mat")
    got, expected = load_xlsa17(awa2.parent, "AWA2"), load_xlsa17(pristine, "AWA2")
    assert got.class_names == expected.class_names
    for field in ("features", "labels", "attributes", "original_attributes", "seen", "unseen", "trainval", "test_seen", "test_unseen"):
        np.testing.assert_array_equal(getattr(got, field), getattr(expected, field), err_msg=field)
    for a, b in zip(got.folds, expected.folds):
        np.testing.assert_array_equal(a.train_classes, b.train_classes)
        np.testing.assert_array_equal(a.val_classes, b.val_classes)


def test_v73_cell_strings_empty_and_non_ascii(tmp_path):
    path = tmp_path / "cells.mat"
    savemat73(path, {"names": ["", "zürich", "𝔸 bird"], "x": np.arange(6.0).reshape(2, 3)})
    data = xlsa17._mat_read(path, ["names", "x"])
    assert xlsa17._strings(path, "names", data["names"]) == ("", "zürich", "𝔸 bird")
    np.testing.assert_array_equal(data["x"], np.arange(6.0).reshape(2, 3))
    assert xlsa17._mat_variables(path) == {"names": ((3, 1), "cell", False), "x": ((2, 3), "double", True)}


# ----------------------------------------------------------------------- feature cache


def count_reads(monkeypatch) -> list:
    calls = []
    real = xlsa17._read_features

    def counting(*args, **kwargs):
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(xlsa17, "_read_features", counting)
    return calls


def entries(cache_dir: Path) -> list[Path]:
    return sorted((cache_dir / "xlsa17").iterdir())


def test_second_load_uses_the_cache(awa2, cache_dir, monkeypatch):
    first = load_xlsa17(awa2.parent, "AWA2")
    [entry] = entries(cache_dir)
    assert sorted(p.name for p in entry.iterdir()) == ["features.npy", "labels.npy", "marker.json"]

    def refuse(*args, **kwargs):
        raise AssertionError("res101.mat was read although the cache is valid")

    monkeypatch.setattr(xlsa17, "_read_features", refuse)
    second = load_xlsa17(awa2.parent, "AWA2")
    np.testing.assert_array_equal(second.features, first.features)
    np.testing.assert_array_equal(second.labels, first.labels)
    assert Path(second.features.filename) == entry / "features.npy"


def test_changed_source_rebuilds_and_drops_the_old_entry(awa2, cache_dir, monkeypatch):
    calls = count_reads(monkeypatch)
    load_xlsa17(awa2.parent, "AWA2")
    res = awa2 / "res101.mat"
    st = res.stat()
    os.utime(res, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # touch: same bytes, new mtime
    load_xlsa17(awa2.parent, "AWA2")
    assert len(calls) == 2 and len(entries(cache_dir)) == 1

    data = read_mat(res)
    rewrite_mat(res, features=data["features"] + 1)
    b = load_xlsa17(awa2.parent, "AWA2")
    assert len(calls) == 3 and len(entries(cache_dir)) == 1
    np.testing.assert_array_equal(b.features, data["features"].T + 1)


@pytest.mark.parametrize("damage", ["no marker", "stale marker", "truncated features", "junk marker"])
def test_incomplete_cache_entry_is_rebuilt(awa2, cache_dir, monkeypatch, damage):
    calls = count_reads(monkeypatch)
    expected = load_xlsa17(awa2.parent, "AWA2").features.copy()
    [entry] = entries(cache_dir)
    if damage == "no marker":  # e.g. killed between writing the arrays and the marker
        (entry / "marker.json").unlink()
    elif damage == "stale marker":
        (entry / "marker.json").write_text((entry / "marker.json").read_text().replace('"size": ', '"size": 1'))
    elif damage == "truncated features":
        raw = (entry / "features.npy").read_bytes()
        (entry / "features.npy").write_bytes(raw[: len(raw) // 2])
    else:
        (entry / "marker.json").write_text("{not json")
    b = load_xlsa17(awa2.parent, "AWA2")
    assert len(calls) == 2
    np.testing.assert_array_equal(b.features, expected)
    load_xlsa17(awa2.parent, "AWA2")
    assert len(calls) == 2


def test_a_killed_builds_temporary_file_is_removed_on_the_next_run(awa2, cache_dir, monkeypatch):
    """SIGKILL during a cache build leaves its temporary file; the next build removes it (a live writer's stays)."""
    import subprocess
    import sys

    calls = count_reads(monkeypatch)
    load_xlsa17(awa2.parent, "AWA2")
    [entry] = entries(cache_dir)
    (entry / "marker.json").unlink()  # as if killed before publishing
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    stale = entry / f".features.npy.{int(dead.stdout)}.abc123.tmp.npy"
    alive = entry / f".labels.npy.{os.getppid()}.def456.tmp.npy"
    stale.write_bytes(b"half a file")
    alive.write_bytes(b"someone is writing this")
    load_xlsa17(awa2.parent, "AWA2")
    assert len(calls) == 2
    assert not stale.exists() and alive.exists()
    assert sorted(p.name for p in entry.iterdir()) == sorted(["features.npy", "labels.npy", "marker.json", alive.name])


def test_read_only_data_folder_and_unwritable_cache(awa2, tmp_path, monkeypatch):
    before = sorted(p.name for p in awa2.iterdir())
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("SZSL_CACHE_DIR", str(blocker / "cache"))  # mkdir fails, even as root
    with pytest.warns(UserWarning, match="could not write the feature cache"):
        b = load_xlsa17(awa2.parent, "AWA2")
    assert not b.features.flags.writeable and b.n_images == 37322
    assert sorted(p.name for p in awa2.iterdir()) == before  # nothing written beside the data


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("SZSL_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert feature_cache_dir() == tmp_path / ".cache" / "szsl"
    monkeypatch.setenv("SZSL_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert feature_cache_dir() == tmp_path / "elsewhere"


def test_explicit_cache_dir_argument(awa2, tmp_path):
    b = load_xlsa17(awa2.parent, "AWA2", cache_dir=tmp_path / "mine")
    assert Path(b.features.filename).parent.parent == tmp_path / "mine" / "xlsa17"


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_message(awa2, cache_dir, case):
    expected = BAD_INPUTS[case](awa2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the one line is all: no RuntimeWarning of a cast, no ComplexWarning
        with pytest.raises(SZSLError) as exc:
            load_xlsa17(awa2.parent, "AWA2")
    message = str(exc.value)
    assert "\n" not in message
    # a dataset that fails leaves no feature cache entry (built, then refused by validation)
    assert not (cache_dir / "xlsa17").is_dir() or list((cache_dir / "xlsa17").iterdir()) == []
    if isinstance(expected, re.Pattern):
        assert expected.fullmatch(message), message
    else:
        assert message == expected


def test_a_bom_in_a_class_list_is_accepted_as_in_a_csv_table(awa2):
    """Editors on Windows save UTF-8 with a byte-order mark; the CSV tables accept it, so do the class lists."""
    plain = load_xlsa17(awa2.parent, "AWA2")
    for name in ("trainvalclasses.txt", "valclasses1.txt"):
        path = awa2 / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    with_bom = load_xlsa17(awa2.parent, "AWA2")
    np.testing.assert_array_equal(with_bom.seen, plain.seen)
    np.testing.assert_array_equal(with_bom.folds[0].val_classes, plain.folds[0].val_classes)
