"""Small xlsa17 datasets written from the real metadata, MAT-file helpers, and the catalogue of
broken inputs (``BAD_INPUTS``) that tests/data/test_xlsa17.py and tests/commands/test_data_check_cli.py run."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import h5py
import numpy as np
import scipy.io

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


def _v73_res101(d: Path, make_features) -> Path:
    """Rewrite ``d/res101.mat`` as v7.3 with real labels and 'features' made by ``make_features(h5file, shape)``."""
    path = d / "res101.mat"
    labels = read_mat(path)["labels"].astype(np.float64)
    path.unlink()
    with h5py.File(path, "w", userblock_size=512) as f:
        ds = make_features(f, (labels.size, DIM))  # h5py's axes are MATLAB's reversed
        ds.attrs["MATLAB_class"] = np.bytes_("single")
        lab = f.create_dataset("labels", data=labels.T)
        lab.attrs["MATLAB_class"] = np.bytes_("double")
    return path


@bad_input
def features_in_hdf5_external_storage(d):
    """An HDF5 dataset may read its bytes from any file (here one beside it): refused, never read."""
    other = d.parent / "elsewhere.bin"
    np.ones((37322, DIM), np.float32).tofile(other)
    path = _v73_res101(
        d, lambda f, shape: f.create_dataset("features", shape=shape, dtype="f4", external=[(str(other), 0, h5py.h5f.UNLIMITED)])
    )
    return (f"{path}: 'features' uses HDF5 external storage (its data would be read from {other}); expected data stored in the MAT "
            "file itself")


@bad_input
def features_in_hdf5_virtual_dataset(d):
    other = d.parent / "elsewhere.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.ones((37322, DIM), np.float32)

    def virtual(f, shape):
        layout = h5py.VirtualLayout(shape, "f4")
        layout[:] = h5py.VirtualSource(str(other), "x", shape)
        return f.create_virtual_dataset("features", layout)

    path = _v73_res101(d, virtual)
    return f"{path}: 'features' is an HDF5 virtual dataset whose data live in {other}; expected data stored in the MAT file itself"


@bad_input
def hdf5_chunks_far_larger_than_the_data(d):
    """A small v7.3 file declaring gzip chunks of 120 MB for 1.2 MB of features: refused before a chunk is inflated."""
    path = _v73_res101(
        d,
        lambda f, shape: f.create_dataset(
            "features", shape=shape, maxshape=(None, None), chunks=(shape[0] * 10, shape[1] * 10), dtype="f4", compression="gzip"
        ),
    )
    return (f"{path}: 'features' declares HDF5 chunks of {373220 * DIM * 10 * 4:,} bytes for {37322 * DIM * 4:,} bytes of data (shape "
            f"({DIM}, 37322)); the file is corrupt")


@bad_input
def complex_features(d):
    features = read_mat(d / "res101.mat")["features"]
    rewrite_mat(d / "res101.mat", features=features + 1j * features)
    return f"{d}/res101.mat: 'features' holds complex numbers; expected real numbers (MATLAB: save real(x))"


@bad_input
def complex_attributes(d):
    att = read_mat(d / "att_splits.mat")["att"]
    rewrite_mat(d / "att_splits.mat", att=att + 0.5j)
    return f"{d}/att_splits.mat: 'att' holds complex numbers; expected real numbers (MATLAB: save real(x))"


@bad_input
def label_beyond_any_integer(d):
    """1e30 is an integer-valued float no int64 holds: the message gives it exactly (no wrapped-around number, no warning)."""
    labels = read_mat(d / "res101.mat")["labels"]
    labels[2, 0] = 1e30
    rewrite_mat(d / "res101.mat", labels=labels)
    return f"{d}/res101.mat: 'labels' must hold integer class numbers 1..50, found 1e+30 at position 3"


@bad_input
def class_name_listed_twice(d):
    """A repeated allclasses_names entry is blamed on allclasses_names, not on the class list that names the lost class."""
    mat = read_mat(d / "att_splits.mat")
    names = mat["allclasses_names"]
    first, lost = str(names[0, 0][0]), str(names[1, 0][0])
    names[1, 0] = names[0, 0]
    assert lost != first
    rewrite_mat(d / "att_splits.mat", allclasses_names=names)
    return f"{d}/att_splits.mat: 'allclasses_names' lists class {first!r} twice (entries 1 and 2); expected C distinct class names"
