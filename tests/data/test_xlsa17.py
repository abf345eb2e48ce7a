"""szsl.data.xlsa17: loading the real xlsa17 metadata, v7.3 files, the feature cache, and
one exact error message per kind of bad input.

The real att_splits.mat and class lists come from ../shared/xlsa17 (the ``shared_root``
fixture); res101.mat is not available anywhere, so ``make_dataset`` writes a small one with
labels consistent with the real splits (the real labels for AWA2).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io

from szsl.data import xlsa17
from szsl.data.xlsa17 import feature_cache_dir, load_xlsa17
from szsl.errors import SZSLError

DATASETS = ("AWA1", "AWA2", "CUB", "SUN", "APY")
DIM = 8  # the real features have 2048 dimensions; nothing in the loader depends on it
GET = "get the release with 'szsl data download' or generate synthetic data with 'szsl data synth'"
LISTS = ["trainvalclasses.txt", "testclasses.txt"] + [f"{k}classes{i}.txt" for i in (1, 2, 3) for k in ("train", "val")]
SPLIT_KEYS = ("trainval_loc", "test_seen_loc", "test_unseen_loc")


# --------------------------------------------------------------------------- helpers


def read_mat(path: Path) -> dict:
    return {k: v for k, v in scipy.io.loadmat(path).items() if not k.startswith("__")}


def rewrite_mat(path: Path, **changes) -> None:
    """Rewrite a v5 MAT file with some variables replaced (or removed, when given None)."""
    data = read_mat(path)
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    scipy.io.savemat(path, data)


def class_names(folder: Path) -> list[str]:
    return [str(x[0]) for x in read_mat(folder / "att_splits.mat")["allclasses_names"].ravel()]


def read_list(path: Path) -> list[str]:
    return path.read_text().split()


def synthetic_labels(folder: Path) -> np.ndarray:
    """1-based labels consistent with the real splits: seen classes cycle over trainval and
    test_seen images, unseen classes over test_unseen images."""
    splits = read_mat(folder / "att_splits.mat")
    names = class_names(folder)
    seen = [names.index(n) + 1 for n in read_list(folder / "trainvalclasses.txt")]
    unseen = [names.index(n) + 1 for n in read_list(folder / "testclasses.txt")]
    n = max(int(splits[k].max()) for k in SPLIT_KEYS)
    labels = np.full(n, seen[0], dtype=np.float64)
    for key, classes in (("trainval_loc", seen), ("test_seen_loc", seen), ("test_unseen_loc", unseen)):
        idx = splits[key].ravel().astype(np.int64) - 1
        labels[idx] = np.resize(classes, idx.size)
    return labels


def make_dataset(shared: Path, root: Path, ds: str, seed: int = 0) -> Path:
    """``root/ds`` with the real metadata from ``shared`` and a small synthetic res101.mat."""
    folder = root / ds
    folder.mkdir(parents=True)
    for name in ["att_splits.mat"] + LISTS:
        shutil.copyfile(shared / ds / name, folder / name)  # copyfile: not the read-only mode
    if ds == "AWA2":
        labels = np.load(shared / ds / "labels_1based.npy").astype(np.float64)
    else:
        labels = synthetic_labels(folder)
    rng = np.random.default_rng(seed)
    # Non-negative with exact zeros, like ReLU-ed ResNet features.
    features = np.maximum(rng.normal(size=(DIM, labels.size)), 0).astype(np.float32)
    scipy.io.savemat(folder / "res101.mat", {"features": features, "labels": labels.reshape(-1, 1)})
    return folder


def savemat73(path: Path, variables: dict) -> None:
    """Write a MATLAB v7.3 (HDF5) MAT file the way MATLAB lays it out: a 512-byte text
    userblock, arrays stored with reversed axes, cell arrays of strings as object
    references into '#refs#' pointing at uint16 'char' datasets."""
    with h5py.File(path, "w", userblock_size=512) as f:
        refs = f.create_group("#refs#")
        for name, value in variables.items():
            if isinstance(value, list):  # a C x 1 cell of strings
                out = np.empty((1, len(value)), dtype=h5py.ref_dtype)
                for i, s in enumerate(value):
                    if s:
                        chars = refs.create_dataset(f"{name}_{i}", data=np.frombuffer(s.encode("utf-16-le"), "<u2").reshape(-1, 1))
                    else:  # MATLAB stores an empty array as its dimensions
                        chars = refs.create_dataset(f"{name}_{i}", data=np.zeros(2, np.uint64))
                        chars.attrs["MATLAB_empty"] = np.uint8(1)
                    chars.attrs["MATLAB_class"] = np.bytes_("char")
                    chars.attrs["MATLAB_int_decode"] = np.int32(2)
                    out[0, i] = chars.ref
                ds = f.create_dataset(name, data=out)
                ds.attrs["MATLAB_class"] = np.bytes_("cell")
            else:
                value = np.asarray(value)
                ds = f.create_dataset(name, data=value.T, compression="gzip", chunks=True)
                ds.attrs["MATLAB_class"] = np.bytes_({"f8": "double", "f4": "single", "u2": "uint16"}[value.dtype.str[1:]])
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Thu Jan  1 00:00:00 2026 HDF5 schema 1.00 ."
    with open(path, "r+b") as fh:
        fh.write(header.ljust(116) + b"\x00" * 8 + b"\x00\x02IM")


def to_v73(path: Path) -> None:
    data = read_mat(path)
    if "allclasses_names" in data:
        data["allclasses_names"] = [str(x[0]) for x in data["allclasses_names"].ravel()]
    path.unlink()
    savemat73(path, data)


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch) -> Path:
    """Every test gets its own feature cache (and never touches ~/.cache)."""
    path = tmp_path / "cache"
    monkeypatch.setenv("SZSL_CACHE_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def pristine(shared_root, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("xlsa17")
    for ds in DATASETS:
        make_dataset(shared_root, root, ds)
    return root


@pytest.fixture
def awa2(pristine, tmp_path) -> Path:
    """A private, writable copy of the AWA2 folder (returned), under tmp_path/data."""
    folder = tmp_path / "data" / "AWA2"
    shutil.copytree(pristine / "AWA2", folder, copy_function=shutil.copyfile)
    return folder


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


# ----------------------------------------------------------------------- bad inputs
# Each function breaks the AWA2 copy in folder ``d`` and returns the exact message (str)
# or a pattern (re.Pattern) the loader must raise. test_data_check_cli.py runs them too.

BAD_INPUTS = {}


def bad_input(fn):
    BAD_INPUTS[fn.__name__] = fn
    return fn


def unreadable(path: Path) -> re.Pattern:
    return re.compile(
        re.escape(f"{path}: cannot be read as a MAT file (") + r"\w+: .*" + re.escape(f"); it is truncated or not a MAT file, {GET}")
    )


def splits_of(d: Path) -> dict:
    return {k: v.ravel().astype(np.int64) for k, v in read_mat(d / "att_splits.mat").items() if k in SPLIT_KEYS}


def labels_of(d: Path) -> np.ndarray:
    return read_mat(d / "res101.mat")["labels"].ravel().astype(np.int64)


def move_first_name(d: Path, source: str, target: str) -> str:
    names = read_list(d / source)
    (d / source).write_text("\n".join(names[1:]) + "\n")
    (d / target).write_text("\n".join(read_list(d / target) + names[:1]) + "\n")
    return names[0]


@bad_input
def missing_root(d):
    shutil.rmtree(d.parent)
    return f"data root {d.parent} is not a folder; {GET}"


@bad_input
def missing_dataset_folder(d):
    shutil.rmtree(d)
    return f"{d}: dataset folder not found in {d.parent}; {GET}"


@bad_input
def missing_res101(d):
    (d / "res101.mat").unlink()
    return f"{d}/res101.mat: file not found; {GET}"


@bad_input
def missing_att_splits(d):
    (d / "att_splits.mat").unlink()
    return f"{d}/att_splits.mat: file not found; {GET}"


@bad_input
def missing_class_list(d):
    (d / "valclasses2.txt").unlink()
    return f"{d}/valclasses2.txt: file not found; {GET}"


@bad_input
def missing_key_labels(d):
    rewrite_mat(d / "res101.mat", labels=None)
    return f"{d}/res101.mat: missing key 'labels' (found: features)"


@bad_input
def missing_key_att(d):
    rewrite_mat(d / "att_splits.mat", att=None)
    found = "allclasses_names, original_att, test_seen_loc, test_unseen_loc, train_loc, trainval_loc, val_loc"
    return f"{d}/att_splits.mat: missing key 'att' (found: {found})"


@bad_input
def features_3d(d):
    rewrite_mat(d / "res101.mat", features=np.zeros((DIM, 37322, 2), np.float32))
    return f"{d}/res101.mat: 'features' must be a non-empty 2-D matrix (feature dim x images), got shape ({DIM}, 37322, 2)"


@bad_input
def features_not_numeric(d):
    rewrite_mat(d / "res101.mat", features="resnet")
    return f"{d}/res101.mat: 'features' must be a numeric matrix, got MATLAB class 'char'"


@bad_input
def features_transposed(d):
    rewrite_mat(d / "res101.mat", features=read_mat(d / "res101.mat")["features"].T)
    return f"{d}/res101.mat: 'labels' has 37322 entries but 'features' has {DIM} columns (images); expected features D x N and labels N x 1"


@bad_input
def labels_count_mismatch(d):
    rewrite_mat(d / "res101.mat", labels=read_mat(d / "res101.mat")["labels"][:-1])
    return f"{d}/res101.mat: 'labels' has 37321 entries but 'features' has 37322 columns (images); expected features D x N and labels N x 1"


@bad_input
def labels_not_a_vector(d):
    rewrite_mat(d / "res101.mat", labels=read_mat(d / "res101.mat")["labels"].reshape(2, -1))
    return f"{d}/res101.mat: 'labels' must be an N x 1 (one class number per image) vector, got shape (2, 18661)"


@bad_input
def labels_out_of_range(d):
    labels = read_mat(d / "res101.mat")["labels"]
    labels[0, 0] = 51
    rewrite_mat(d / "res101.mat", labels=labels)
    return f"{d}: res101.mat 'labels' has label 51 for image 1, outside 1..50 (50 classes)"


@bad_input
def labels_not_integer(d):
    labels = read_mat(d / "res101.mat")["labels"]
    labels[2, 0] = 2.5
    rewrite_mat(d / "res101.mat", labels=labels)
    return f"{d}/res101.mat: 'labels' must hold integer class numbers 1..50, found 2.5 at position 3"


@bad_input
def att_columns_mismatch(d):
    rewrite_mat(d / "att_splits.mat", att=read_mat(d / "att_splits.mat")["att"][:, :-1])
    return f"{d}/att_splits.mat: 'att' has 49 columns but 'allclasses_names' has 50 names; expected att A x C with one column per class"


@bad_input
def original_att_columns_mismatch(d):
    rewrite_mat(d / "att_splits.mat", original_att=read_mat(d / "att_splits.mat")["original_att"][:, 1:])
    return f"{d}/att_splits.mat: 'original_att' has 49 columns but 'allclasses_names' has 50 names; expected one column per class"


@bad_input
def class_names_not_a_cell(d):
    rewrite_mat(d / "att_splits.mat", allclasses_names=np.arange(50.0).reshape(-1, 1))
    return f"{d}/att_splits.mat: 'allclasses_names' must be a C x 1 cell array of class names, got MATLAB class 'double' of shape (50, 1)"


@bad_input
def split_not_a_vector(d):
    rewrite_mat(d / "att_splits.mat", test_seen_loc=read_mat(d / "att_splits.mat")["test_seen_loc"].reshape(2, -1))
    return f"{d}/att_splits.mat: 'test_seen_loc' must be an n x 1 (1-based image indices) vector, got shape (2, 2941)"


@bad_input
def split_not_integer(d):
    loc = read_mat(d / "att_splits.mat")["trainval_loc"].astype(np.float64)
    loc[0, 0] = 1.5
    rewrite_mat(d / "att_splits.mat", trainval_loc=loc)
    return f"{d}/att_splits.mat: 'trainval_loc' must hold integer image indices, found 1.5 at position 1"


@bad_input
def split_index_out_of_range(d):
    loc = read_mat(d / "att_splits.mat")["test_seen_loc"]
    loc[0, 0] = 40000
    rewrite_mat(d / "att_splits.mat", test_seen_loc=loc)
    return f"{d}: att_splits.mat 'test_seen_loc' has index 40000 outside 1..37322"


@bad_input
def split_index_zero(d):
    loc = read_mat(d / "att_splits.mat")["trainval_loc"]
    loc[5, 0] = 0
    rewrite_mat(d / "att_splits.mat", trainval_loc=loc)
    return f"{d}: att_splits.mat 'trainval_loc' has index 0 outside 1..37322"


@bad_input
def split_repeats_an_image(d):
    loc = read_mat(d / "att_splits.mat")["test_unseen_loc"]
    loc[1, 0] = loc[0, 0]
    rewrite_mat(d / "att_splits.mat", test_unseen_loc=loc)
    return f"{d}: att_splits.mat 'test_unseen_loc' lists image {int(loc[0, 0])} 2 times"


@bad_input
def splits_overlap(d):
    mat = read_mat(d / "att_splits.mat")
    loc = mat["test_seen_loc"]
    loc[0, 0] = mat["trainval_loc"][0, 0]
    rewrite_mat(d / "att_splits.mat", test_seen_loc=loc)
    return f"{d}: image {int(loc[0, 0])} is in both att_splits.mat 'trainval_loc' and att_splits.mat 'test_seen_loc' (1 in common)"


@bad_input
def unseen_class_has_trainval_images(d):
    s, names = splits_of(d), class_names(d)
    labels = read_mat(d / "res101.mat")["labels"]
    unseen_class = names.index(read_list(d / "testclasses.txt")[0]) + 1
    labels[s["trainval_loc"][0] - 1, 0] = unseen_class
    rewrite_mat(d / "res101.mat", labels=labels)
    first_unseen = s["test_unseen_loc"][labels.ravel()[s["test_unseen_loc"] - 1] == unseen_class][0]
    return (
        f"{d}: class {names[unseen_class - 1]!r} has images in both att_splits.mat 'test_unseen_loc' (image {first_unseen}) "
        f"and att_splits.mat 'trainval_loc' (image {s['trainval_loc'][0]}): a test_unseen class must have no trainval image"
    )


@bad_input
def unseen_split_image_of_a_seen_class(d):
    moved = move_first_name(d, "testclasses.txt", "trainvalclasses.txt")
    s, labels, names = splits_of(d), labels_of(d), class_names(d)
    image = s["test_unseen_loc"][labels[s["test_unseen_loc"] - 1] == names.index(moved) + 1][0]
    return (f"{d}: att_splits.mat 'test_unseen_loc' holds image {image} of class {moved!r}, which is seen; expected only unseen classes "
            "(listed in testclasses.txt)")


@bad_input
def trainval_image_of_an_unseen_class(d):
    moved = move_first_name(d, "trainvalclasses.txt", "testclasses.txt")
    s, labels, names = splits_of(d), labels_of(d), class_names(d)
    image = s["trainval_loc"][labels[s["trainval_loc"] - 1] == names.index(moved) + 1][0]
    return (f"{d}: att_splits.mat 'trainval_loc' holds image {image} of class {moved!r}, which is unseen; expected only seen classes "
            "(listed in trainvalclasses.txt)")


@bad_input
def seen_class_without_trainval_images(d):
    s, names = splits_of(d), class_names(d)
    labels = read_mat(d / "res101.mat")["labels"]
    seen = read_list(d / "trainvalclasses.txt")
    gone, other = names.index(seen[0]) + 1, names.index(seen[1]) + 1
    tv = s["trainval_loc"] - 1
    labels[tv[labels[tv, 0] == gone], 0] = other
    rewrite_mat(d / "res101.mat", labels=labels)
    return f"{d}: seen class {seen[0]!r} (listed in trainvalclasses.txt) has no image in att_splits.mat 'trainval_loc'"


@bad_input
def class_both_seen_and_unseen(d):
    unseen = read_list(d / "testclasses.txt")
    (d / "trainvalclasses.txt").write_text("\n".join(read_list(d / "trainvalclasses.txt") + unseen[:1]) + "\n")
    return f"{d}: class {unseen[0]!r} is both seen (trainvalclasses.txt) and unseen (testclasses.txt)"


@bad_input
def nan_in_features(d):
    features = read_mat(d / "res101.mat")["features"]
    features[3, 10] = np.nan
    features[0, 20] = np.inf
    rewrite_mat(d / "res101.mat", features=features)
    return f"{d}: res101.mat 'features' has 2 non-finite values (NaN or inf), the first in image 11"


@bad_input
def inf_in_attributes(d):
    att = read_mat(d / "att_splits.mat")["att"]
    att[0, 5] = np.inf
    rewrite_mat(d / "att_splits.mat", att=att)
    return f"{d}: att_splits.mat 'att' has 1 non-finite values (NaN or inf), the first for class {class_names(d)[5]!r}"


@bad_input
def unknown_name_in_class_list(d):
    (d / "valclasses1.txt").write_text((d / "valclasses1.txt").read_text() + "unicorn\n")
    return f"{d}/valclasses1.txt: line 14: class 'unicorn' is not in 'allclasses_names' of {d}/att_splits.mat"


@bad_input
def empty_class_list(d):
    (d / "testclasses.txt").write_text("\n")
    return f"{d}/testclasses.txt: empty; expected one class name per line"


@bad_input
def repeated_name_in_class_list(d):
    names = read_list(d / "trainclasses3.txt")
    (d / "trainclasses3.txt").write_text("\n".join(names + names[1:2]) + "\n")
    return f"{d}/trainclasses3.txt: line 28: class {names[1]!r} repeats line 2"


@bad_input
def fold_val_class_not_seen(d):
    unseen = read_list(d / "testclasses.txt")
    (d / "valclasses1.txt").write_text("\n".join(read_list(d / "valclasses1.txt") + unseen[:1]) + "\n")
    return f"{d}: valclasses1.txt lists class {unseen[0]!r}, which is not a seen class (trainvalclasses.txt)"


@bad_input
def fold_train_and_val_overlap(d):
    train = read_list(d / "trainclasses2.txt")
    (d / "valclasses2.txt").write_text("\n".join(read_list(d / "valclasses2.txt") + train[:1]) + "\n")
    return f"{d}: class {train[0]!r} is in both trainclasses2.txt and valclasses2.txt"


@bad_input
def garbage_res101(d):
    (d / "res101.mat").write_bytes(np.random.default_rng(0).bytes(4096))
    return unreadable(d / "res101.mat")


@bad_input
def empty_res101(d):
    (d / "res101.mat").write_bytes(b"")
    return unreadable(d / "res101.mat")


@bad_input
def truncated_res101(d):
    # scipy alone would list 'features' and report 'labels' missing: name the truncation.
    raw = (d / "res101.mat").read_bytes()
    (d / "res101.mat").write_bytes(raw[: len(raw) // 2])
    end = 128 + 8 + int(np.frombuffer(raw[132:136], "<u4")[0])
    return f"{d}/res101.mat: truncated: variable 1 ends at byte {end:,} but the file has {len(raw) // 2:,} bytes; {GET}"


@bad_input
def truncated_compressed_att_splits(d):
    path = d / "att_splits.mat"
    scipy.io.savemat(path, read_mat(path), do_compression=True)
    raw = path.read_bytes()
    path.write_bytes(raw[:-100])
    return re.compile(
        re.escape(f"{path}: truncated: variable ")
        + r"\d+"
        + re.escape(f" ends at byte {len(raw):,} but the file has {len(raw) - 100:,} bytes; {GET}")
    )


@bad_input
def text_file_as_att_splits(d):
    (d / "att_splits.mat").write_text("<html>404 Not Found</html>\n")
    return unreadable(d / "att_splits.mat")


@bad_input
def truncated_v73_att_splits(d):
    to_v73(d / "att_splits.mat")
    raw = (d / "att_splits.mat").read_bytes()
    (d / "att_splits.mat").write_bytes(raw[: len(raw) // 3])
    return unreadable(d / "att_splits.mat")


@bad_input
def absurd_declared_size_v5(d):
    path = d / "res101.mat"
    raw = bytearray(path.read_bytes())
    # Uncompressed v5: 128-byte header, matrix tag (8), array flags (16), dims tag (8), dims.
    assert np.frombuffer(raw[160:168], "<i4").tolist() == [DIM, 37322]
    raw[160:168] = np.array([DIM, 10**9], "<i4").tobytes()
    path.write_bytes(bytes(raw))
    return (f"{path}: 'features' declares shape ({DIM}, 1000000000) ({DIM * 4 * 10**9:,} bytes), more than a {len(raw):,}-byte file can "
            "hold; the file is corrupt")


@bad_input
def absurd_declared_size_v73(d):
    path = d / "res101.mat"
    path.unlink()
    with h5py.File(path, "w", userblock_size=512) as f:
        # Chunked and compressed with nothing written: a tiny file declaring 8 TB.
        ds = f.create_dataset("features", shape=(10**6, 10**6), dtype="f8", chunks=(100, 100), compression="gzip")
        ds.attrs["MATLAB_class"] = np.bytes_("double")
    size = path.stat().st_size
    return (f"{path}: 'features' declares shape (1000000, 1000000) ({8 * 10**12:,} bytes), more than a {size:,}-byte file can hold; the "
            "file is corrupt")


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_message(awa2, case):
    expected = BAD_INPUTS[case](awa2)
    with pytest.raises(SZSLError) as exc:
        load_xlsa17(awa2.parent, "AWA2")
    message = str(exc.value)
    assert "\n" not in message
    if isinstance(expected, re.Pattern):
        assert expected.fullmatch(message), message
    else:
        assert message == expected
