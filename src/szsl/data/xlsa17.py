"""Read and validate the xlsa17 release ("Proposed Split", Xian et al. 2017).

Layout, per dataset folder ``<root>/<DS>/`` (DS one of AWA1 AWA2 CUB SUN APY):

- ``res101.mat``: ``features`` (D x N ResNet-101 features), ``labels`` (N x 1, 1-based class
  numbers), ``image_files`` (not read).
- ``att_splits.mat``: ``att`` (A x C, L2-normalised columns), ``original_att``,
  ``allclasses_names`` (C x 1 cell of strings), ``trainval_loc`` / ``test_seen_loc`` /
  ``test_unseen_loc`` (1-based image indices). ``train_loc`` / ``val_loc`` are never read:
  in the official release ``train_loc`` overlaps ``test_seen_loc``, so validation comes
  from the class-list folds instead.
- ``trainvalclasses.txt``, ``testclasses.txt``, ``trainclasses{1,2,3}.txt``,
  ``valclasses{1,2,3}.txt``: one class name per line.

MAT files may be v4/v5 (scipy.io) or v7.3 (HDF5, h5py). Every problem is an ``SZSLError``
naming the file and the key. The features are converted once into a cache of ``.npy`` files
(see ``feature_cache_dir``) and memory-mapped from there on.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from szsl.atomic import atomic_path, remove_stale_temps, write_json
from szsl.data import XLSA17_DATASETS
from szsl.data.benchmark import Benchmark, Fold, validate_benchmark
from szsl.data.matfile import (  # the MAT readers this loader uses
    _GET_DATA,
    _integers,
    _mat_read,
    _mat_variables,
    _matrix_shape,
    _need,
    _strings,
    _vector_length,
    real,
)
from szsl.data.tables import is_present, regular_file
from szsl.errors import SZSLError

FEATURES_FILE = "res101.mat"
SPLITS_FILE = "att_splits.mat"
SEEN_LIST = "trainvalclasses.txt"
UNSEEN_LIST = "testclasses.txt"
N_FOLDS = 3
SPLIT_KEYS = ("trainval_loc", "test_seen_loc", "test_unseen_loc")


CACHE_FORMAT = 1


# ------------------------------------------------------------------------ feature cache


def feature_cache_dir() -> Path:
    """Where converted features live: ``$SZSL_CACHE_DIR`` or ``~/.cache/szsl`` (never the data folder, which may be read-only)."""
    env = os.environ.get("SZSL_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "szsl"


def _cache_entry(source: Path, cache_dir: Path, dataset: str) -> tuple[Path, dict]:
    """The entry folder for ``source`` as it is now, and the marker that proves it complete."""
    resolved = source.resolve()
    st = resolved.stat()
    marker = {"format": CACHE_FORMAT, "source": str(resolved), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    path_key = hashlib.sha256(str(resolved).encode()).hexdigest()[:16]
    state_key = hashlib.sha256(f"{resolved}\0{st.st_size}\0{st.st_mtime_ns}".encode()).hexdigest()[:16]
    # The path part of the name lets a rebuild find and drop the entries of older versions.
    return cache_dir / "xlsa17" / f"{dataset}-{path_key}-{state_key}", marker


def _open_cache(entry: Path, marker: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached (features memmap, labels) if ``entry`` is complete and matches ``marker``, else None."""
    try:
        stored = json.loads((entry / "marker.json").read_text(encoding="utf-8"))
        if not isinstance(stored, dict) or any(stored.get(k) != v for k, v in marker.items()):
            return None
        features = np.load(entry / "features.npy", mmap_mode="r")
        labels = np.load(entry / "labels.npy")
    except (OSError, ValueError):  # missing, unreadable or truncated: rebuild
        return None
    n, d = stored.get("n_images"), stored.get("feature_dim")
    if features.shape != (n, d) or features.dtype != np.float32 or labels.shape != (n,) or labels.dtype != np.int64:
        return None
    return features, labels


def _write_cache(entry: Path, marker: dict, features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Publish the entry (arrays first, marker last) and return the features memory-mapped from it."""
    (entry / "marker.json").unlink(missing_ok=True)
    for name, arr in (("features.npy", features), ("labels.npy", labels)):
        with atomic_path(entry / name, suffix=".npy") as tmp:
            np.save(tmp, arr)
    write_json(entry / "marker.json", {**marker, "n_images": int(features.shape[0]), "feature_dim": int(features.shape[1])})
    prefix = entry.name.rsplit("-", 1)[0] + "-"
    for old in entry.parent.glob(prefix + "*"):
        if old != entry:
            shutil.rmtree(old, ignore_errors=True)
    return np.load(entry / "features.npy", mmap_mode="r")


def _read_features(path: Path, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Read and check res101.mat: features (N, D) float32, labels (N,) int64 as stored (1-based)."""
    variables = _mat_variables(path)
    _need(path, variables, ("features", "labels"))
    shape = _matrix_shape(path, variables, "features", "feature dim x images")
    n_labels = _vector_length(path, variables, "labels", "N x 1 (one class number per image)")
    if n_labels != shape[1]:
        raise SZSLError(
            f"{path}: 'labels' has {n_labels} entries but 'features' has {shape[1]} columns (images); expected features D x N and labels "
            "N x 1"
        )
    data = _mat_read(path, ["features", "labels"])
    labels = _integers(path, "labels", data["labels"], f"class numbers 1..{n_classes}")
    features = np.ascontiguousarray(real(path, "features", data["features"]).T, dtype=np.float32)
    return features, labels


def _cached_features(path: Path, dataset: str, n_classes: int, cache_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    entry, marker = _cache_entry(path, cache_dir, dataset)
    cached = _open_cache(entry, marker)
    if cached is not None:
        return cached
    if entry.is_dir():  # a build that was SIGKILLed left its temporary file: nobody will finish it
        remove_stale_temps(entry)
    features, labels = _read_features(path, n_classes)
    try:
        return _write_cache(entry, marker, features, labels), labels
    except OSError as exc:  # a read-only or full cache only costs speed
        warnings.warn(
            f"could not write the feature cache {entry} ({exc}); set SZSL_CACHE_DIR to a writable folder to load {path} faster next time",
            stacklevel=3,
        )
        features.setflags(write=False)
        return features, labels


# ------------------------------------------------------------------------------- loader


def _dataset_folder(root: str | os.PathLike, dataset: str) -> tuple[Path, str]:
    name = str(dataset).strip().upper()
    if name not in XLSA17_DATASETS:
        raise SZSLError(f"unknown xlsa17 dataset {dataset!r}: expected one of {', '.join(XLSA17_DATASETS)}")
    root = Path(root)
    if not root.is_dir():
        raise SZSLError(f"data root {root} is not a folder; {_GET_DATA}")
    folder = root / name
    if not folder.is_dir():
        # The release uses upper-case folder names; accept any case the user unpacked to.
        folder = next((p for p in sorted(root.iterdir()) if p.is_dir() and p.name.upper() == name), folder)
    if not folder.is_dir():
        raise SZSLError(f"{root / name}: dataset folder not found in {root}; {_GET_DATA}")
    return folder, name


def _require_file(path: Path) -> Path:
    if not is_present(path):
        raise SZSLError(f"{path}: file not found; {_GET_DATA}")
    return regular_file(path)  # a FIFO or device would block the reader forever


def _read_splits(path: Path) -> dict:
    variables = _mat_variables(path)
    keys = ("att", "original_att", "allclasses_names") + SPLIT_KEYS
    _need(path, variables, keys)
    n_attributes, n_classes = _matrix_shape(path, variables, "att", "attributes x classes")
    _, n_original = _matrix_shape(path, variables, "original_att", "attributes x classes")
    names_shape, names_cls, _ = variables["allclasses_names"]
    if names_cls != "cell" or len(names_shape) != 2 or 1 not in names_shape:
        raise SZSLError(
            f"{path}: 'allclasses_names' must be a C x 1 cell array of class names, got MATLAB class {names_cls!r} of shape {names_shape}"
        )
    n_names = int(np.prod(names_shape))
    if n_classes != n_names:
        raise SZSLError(
            f"{path}: 'att' has {n_classes} columns but 'allclasses_names' has {n_names} names; expected att A x C with one column per "
            "class"
        )
    if n_original != n_names:
        raise SZSLError(
            f"{path}: 'original_att' has {n_original} columns but 'allclasses_names' has {n_names} names; expected one column per class"
        )
    for key in SPLIT_KEYS:
        _vector_length(path, variables, key, "n x 1 (1-based image indices)")
    data = _mat_read(path, list(keys))
    out = {
        "attributes": np.ascontiguousarray(real(path, "att", data["att"]).T, dtype=np.float32),
        "original_attributes": np.ascontiguousarray(real(path, "original_att", data["original_att"]).T, dtype=np.float32),
        "class_names": _strings(path, "allclasses_names", data["allclasses_names"]),
    }
    first: dict[str, int] = {}
    for i, class_name in enumerate(out["class_names"], start=1):
        if class_name in first:
            raise SZSLError(
                f"{path}: 'allclasses_names' lists class {class_name!r} twice (entries {first[class_name]} and {i}); expected C distinct "
                "class names"
            )
        first[class_name] = i
    for key in SPLIT_KEYS:
        out[key] = _integers(path, key, data[key], "image indices") - 1
    return out


def _read_class_list(path: Path, index: dict[str, int], splits_path: Path) -> np.ndarray:
    try:
        lines = _require_file(path).read_text(encoding="utf-8-sig").splitlines()  # a BOM is accepted, as in the CSV tables
    except UnicodeDecodeError as exc:
        raise SZSLError(f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from exc
    seen_at: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        name = line.strip()
        if not name:
            continue
        if name not in index:
            raise SZSLError(f"{path}: line {number}: class {name!r} is not in 'allclasses_names' of {splits_path}")
        if name in seen_at:
            raise SZSLError(f"{path}: line {number}: class {name!r} repeats line {seen_at[name]}")
        seen_at[name] = number
    if not seen_at:
        raise SZSLError(f"{path}: empty; expected one class name per line")
    return np.array(sorted(index[name] for name in seen_at), dtype=np.int64)


@dataclass(frozen=True, eq=False)
class Xlsa17Metadata:
    """Everything of one dataset folder except the features: att_splits.mat and the class lists."""

    folder: Path
    name: str
    splits: dict  # attributes (C, A), original_attributes, class_names, *_loc (0-based)
    class_lists: dict[str, np.ndarray]  # file name -> sorted 0-based class indices

    @property
    def seen(self) -> np.ndarray:
        return self.class_lists[SEEN_LIST]

    @property
    def unseen(self) -> np.ndarray:
        return self.class_lists[UNSEEN_LIST]


def read_metadata(root: str | os.PathLike, dataset: str) -> Xlsa17Metadata:
    """Read and check ``att_splits.mat`` and the class lists of ``<root>/<dataset>/`` (no features)."""
    folder, name = _dataset_folder(root, dataset)
    splits_path = _require_file(folder / SPLITS_FILE)
    splits = _read_splits(splits_path)
    index = {class_name: c for c, class_name in enumerate(splits["class_names"])}
    lists = {}
    for list_name in [SEEN_LIST, UNSEEN_LIST] + [f"{kind}classes{k}.txt" for k in range(1, N_FOLDS + 1) for kind in ("train", "val")]:
        lists[list_name] = _read_class_list(folder / list_name, index, splits_path)
    return Xlsa17Metadata(folder, name, splits, lists)


def load_xlsa17(root: str | os.PathLike, dataset: str, *, cache_dir: str | os.PathLike | None = None) -> Benchmark:
    """Load and validate ``<root>/<dataset>/`` of the xlsa17 release as a 0-based ``Benchmark``.

    ``dataset`` is AWA1, AWA2, CUB, SUN or APY (any case). ``features`` is a read-only memory
    map into the feature cache under ``cache_dir`` (default ``feature_cache_dir()``), built on
    first use and rebuilt whenever ``res101.mat`` changes (path, size or mtime). Raises
    ``SZSLError`` naming the file and key of the first problem found.
    """
    folder, _ = _dataset_folder(root, dataset)
    features_path = _require_file(folder / FEATURES_FILE)
    # The small files first: most mistakes show up there without touching the features.
    meta = read_metadata(root, dataset)
    splits, lists, name = meta.splits, meta.class_lists, meta.name
    index = splits["class_names"]
    cache_dir = Path(cache_dir) if cache_dir is not None else feature_cache_dir()
    features, labels = _cached_features(features_path, name, len(index), cache_dir)
    benchmark = Benchmark(
        name=name,
        features=features,
        labels=labels - 1,
        attributes=splits["attributes"],
        original_attributes=splits["original_attributes"],
        class_names=splits["class_names"],
        seen=lists[SEEN_LIST],
        unseen=lists[UNSEEN_LIST],
        trainval=splits["trainval_loc"],
        test_seen=splits["test_seen_loc"],
        test_unseen=splits["test_unseen_loc"],
        folds=tuple(Fold(lists[f"trainclasses{k}.txt"], lists[f"valclasses{k}.txt"]) for k in range(1, N_FOLDS + 1)),
        source=str(folder),
    )
    names = {
        "features": f"{FEATURES_FILE} 'features'",
        "labels": f"{FEATURES_FILE} 'labels'",
        "attributes": f"{SPLITS_FILE} 'att'",
        "original_attributes": f"{SPLITS_FILE} 'original_att'",
        "class_names": f"{SPLITS_FILE} 'allclasses_names'",
        "seen": SEEN_LIST,
        "unseen": UNSEEN_LIST,
        "trainval": f"{SPLITS_FILE} 'trainval_loc'",
        "test_seen": f"{SPLITS_FILE} 'test_seen_loc'",
        "test_unseen": f"{SPLITS_FILE} 'test_unseen_loc'",
    }
    for k in range(N_FOLDS):
        names[f"folds[{k}].train_classes"] = f"trainclasses{k + 1}.txt"
        names[f"folds[{k}].val_classes"] = f"valclasses{k + 1}.txt"
    try:
        validate_benchmark(benchmark, where=str(folder), names=names, index_base=1)
    except SZSLError:  # a dataset that fails validation leaves nothing behind in the cache
        shutil.rmtree(_cache_entry(features_path, cache_dir, name)[0], ignore_errors=True)
        raise
    return benchmark


__all__ = ["Xlsa17Metadata", "feature_cache_dir", "load_xlsa17", "read_metadata"]
