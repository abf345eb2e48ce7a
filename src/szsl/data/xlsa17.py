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

from szsl.atomic import atomic_path, write_json
from szsl.data import XLSA17_DATASETS
from szsl.data.benchmark import Benchmark, Fold, validate_benchmark
from szsl.errors import SZSLError

FEATURES_FILE = "res101.mat"
SPLITS_FILE = "att_splits.mat"
SEEN_LIST = "trainvalclasses.txt"
UNSEEN_LIST = "testclasses.txt"
N_FOLDS = 3
SPLIT_KEYS = ("trainval_loc", "test_seen_loc", "test_unseen_loc")

_GET_DATA = "get the release with 'szsl data download' or generate synthetic data with 'szsl data synth'"

# Bytes per element of each numeric MATLAB class; anything else (char, cell, struct,
# sparse, function handles ...) is not a numeric matrix.
_NUMERIC = {
    "double": 8, "single": 4, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2,
    "int32": 4, "uint32": 4, "int64": 8, "uint64": 8, "logical": 1,
}  # fmt: skip
# zlib cannot compress by more than about 1032:1, so a compressed variable that declares
# more than this many bytes per byte of file is corrupt; refuse it before allocating.
_MAX_COMPRESSION = 1100

CACHE_FORMAT = 1


# ---------------------------------------------------------------------------- MAT files


def _is_hdf5(path: Path) -> bool:
    import h5py

    return bool(h5py.is_hdf5(path))


def _unreadable(path: Path, exc: BaseException) -> SZSLError:
    if isinstance(exc, MemoryError):
        return SZSLError(f"{path}: not enough memory to read it")
    return SZSLError(f"{path}: cannot be read as a MAT file ({type(exc).__name__}: {exc}); it is truncated or not a MAT file, {_GET_DATA}")


def _mat_variables(path: Path) -> dict[str, tuple[tuple[int, ...], str, bool]]:
    """name -> (MATLAB shape, MATLAB class, maybe compressed), read from the headers only."""
    try:
        if _is_hdf5(path):
            import h5py

            with h5py.File(path, "r") as f:
                out = {}
                for name, obj in f.items():
                    if name.startswith("#"):  # '#refs#' and '#subsystem#' hold cell contents
                        continue
                    cls = obj.attrs.get("MATLAB_class", b"")
                    cls = cls.decode() if isinstance(cls, bytes) else str(cls)
                    if not isinstance(obj, h5py.Dataset):  # structs, sparse matrices
                        out[name] = ((), cls or "struct", False)
                    elif obj.attrs.get("MATLAB_empty", 0):  # stored as its dimensions, not data
                        out[name] = ((0, 0), cls, False)
                    else:
                        # h5py sees MATLAB's column-major arrays with the axes reversed.
                        out[name] = (tuple(obj.shape[::-1]), cls, obj.compression is not None)
                return out
        import scipy.io

        _check_v5_complete(path)
        # whosmat cannot tell a compressed (v7) variable from a plain (v6) one: assume compressed.
        return {name: (tuple(shape), cls, True) for name, shape, cls in scipy.io.whosmat(path)}
    except SZSLError:
        raise
    except Exception as exc:  # any failure inside the parsers means a broken file
        raise _unreadable(path, exc) from exc


def _check_v5_complete(path: Path) -> None:
    """Walk the top-level elements of a v5 MAT file: a truncated download cuts the last one
    short, which scipy would only report as missing variables."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        header = fh.read(128)
        if len(header) < 128 or header[126:128] not in (b"IM", b"MI"):
            return  # not v5 (v4, or garbage): whosmat / loadmat say what is wrong
        order = "<" if header[126:128] == b"IM" else ">"
        position, number = 128, 0
        while position < size:
            fh.seek(position)
            tag = np.frombuffer(fh.read(8).ljust(8, b"\0"), dtype=f"{order}u4")
            kind, nbytes = int(tag[0]), int(tag[1])
            number += 1
            end = position + 8 + nbytes
            if end > size:
                raise SZSLError(f"{path}: truncated: variable {number} ends at byte {end:,} but the file has {size:,} bytes; {_GET_DATA}")
            # miMATRIX (14) elements are padded to 8 bytes; miCOMPRESSED (15) ones are not.
            position = end + ((-nbytes) % 8 if kind == 14 else 0)


def _check_declared_size(path: Path, name: str, variable: tuple[tuple[int, ...], str, bool]) -> None:
    """Refuse a variable whose header promises more data than the file can hold, before reading it."""
    shape, cls, compressed = variable
    declared = int(np.prod(shape, dtype=np.float64)) * _NUMERIC.get(cls, 1)
    size = path.stat().st_size
    if declared > size * (_MAX_COMPRESSION if compressed else 1):
        raise SZSLError(f"{path}: '{name}' declares shape {shape} ({declared:,} bytes), more than a {size:,}-byte file can hold; the file is corrupt")


def _mat_read(path: Path, names: list[str]) -> dict[str, np.ndarray]:
    """Read ``names`` in MATLAB orientation; cell arrays of strings become object arrays of str."""
    try:
        if _is_hdf5(path):
            import h5py

            with h5py.File(path, "r") as f:
                return {name: _h5_value(f, f[name]) for name in names}
        import scipy.io

        data = scipy.io.loadmat(path, variable_names=names)
        missing = [name for name in names if name not in data]
        if missing:  # the header listed it, the body did not deliver it: truncated
            raise EOFError(f"variable {missing[0]!r} could not be read")
        return {name: data[name] for name in names}
    except Exception as exc:
        raise _unreadable(path, exc) from exc


def _h5_value(f, ds) -> np.ndarray:
    import h5py

    cls = ds.attrs.get("MATLAB_class", b"")
    is_char = cls in (b"char", "char")
    if ds.attrs.get("MATLAB_empty", 0):  # the data are the dimensions, not values
        return np.array("") if is_char else np.zeros((0, 0))
    if h5py.check_dtype(ref=ds.dtype) is not None:  # a cell array: each element is a reference
        refs = ds[()].T
        out = np.empty(refs.shape, dtype=object)
        for i, ref in np.ndenumerate(refs):
            out[i] = _h5_value(f, f[ref])
        return out
    if is_char:  # UTF-16 code units, one column per character
        return np.array(ds[()].astype("<u2").tobytes().decode("utf-16-le"))
    return ds[()].T


def _need(path: Path, variables: dict, keys: tuple[str, ...]) -> None:
    """Every key is present and of a size the file can hold (the others are never read)."""
    for key in keys:
        if key not in variables:
            found = ", ".join(sorted(variables)) or "none"
            raise SZSLError(f"{path}: missing key '{key}' (found: {found})")
        _check_declared_size(path, key, variables[key])


def _numeric(path: Path, variables: dict, key: str, ndim_hint: str) -> tuple[int, ...]:
    shape, cls, _ = variables[key]
    if cls not in _NUMERIC:
        raise SZSLError(f"{path}: '{key}' must be a numeric {ndim_hint}, got MATLAB class {cls!r}")
    return shape


def _matrix_shape(path: Path, variables: dict, key: str, expected: str) -> tuple[int, int]:
    shape = _numeric(path, variables, key, "matrix")
    if len(shape) != 2 or 0 in shape:
        raise SZSLError(f"{path}: '{key}' must be a non-empty 2-D matrix ({expected}), got shape {shape}")
    return shape


def _vector_length(path: Path, variables: dict, key: str, expected: str) -> int:
    shape = _numeric(path, variables, key, "vector")
    if len(shape) != 2 or 1 not in shape:
        raise SZSLError(f"{path}: '{key}' must be an {expected} vector, got shape {shape}")
    return int(np.prod(shape))


def _integers(path: Path, key: str, values: np.ndarray, what: str) -> np.ndarray:
    flat = np.asarray(values).ravel()
    if flat.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(flat) | (flat != np.round(flat)))
        if bad.size:
            raise SZSLError(f"{path}: '{key}' must hold integer {what}, found {flat[bad[0]].item()!r} at position {int(bad[0]) + 1}")
    return flat.astype(np.int64)


def _strings(path: Path, key: str, values: np.ndarray) -> tuple[str, ...]:
    out = []
    for i, item in enumerate(np.asarray(values, dtype=object).ravel()):
        arr = np.asarray(item)
        if arr.dtype.kind != "U" or arr.size > 1:
            raise SZSLError(f"{path}: '{key}' entry {i + 1} is not a string (got {arr.dtype} of shape {arr.shape})")
        out.append(str(arr.ravel()[0]) if arr.size else "")
    return tuple(out)


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
        raise SZSLError(f"{path}: 'labels' has {n_labels} entries but 'features' has {shape[1]} columns (images); expected features D x N and labels N x 1")
    data = _mat_read(path, ["features", "labels"])
    labels = _integers(path, "labels", data["labels"], f"class numbers 1..{n_classes}")
    features = np.ascontiguousarray(np.asarray(data["features"]).T, dtype=np.float32)
    return features, labels


def _cached_features(path: Path, dataset: str, n_classes: int, cache_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    entry, marker = _cache_entry(path, cache_dir, dataset)
    cached = _open_cache(entry, marker)
    if cached is not None:
        return cached
    features, labels = _read_features(path, n_classes)
    try:
        return _write_cache(entry, marker, features, labels), labels
    except OSError as exc:  # a read-only or full cache only costs speed
        warnings.warn(f"could not write the feature cache {entry} ({exc}); set SZSL_CACHE_DIR to a writable folder to load {path} faster next time", stacklevel=3)
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
    if not path.is_file():
        raise SZSLError(f"{path}: file not found; {_GET_DATA}")
    return path


def _read_splits(path: Path) -> dict:
    variables = _mat_variables(path)
    keys = ("att", "original_att", "allclasses_names") + SPLIT_KEYS
    _need(path, variables, keys)
    n_attributes, n_classes = _matrix_shape(path, variables, "att", "attributes x classes")
    _, n_original = _matrix_shape(path, variables, "original_att", "attributes x classes")
    names_shape, names_cls, _ = variables["allclasses_names"]
    if names_cls != "cell" or len(names_shape) != 2 or 1 not in names_shape:
        raise SZSLError(f"{path}: 'allclasses_names' must be a C x 1 cell array of class names, got MATLAB class {names_cls!r} of shape {names_shape}")
    n_names = int(np.prod(names_shape))
    if n_classes != n_names:
        raise SZSLError(f"{path}: 'att' has {n_classes} columns but 'allclasses_names' has {n_names} names; expected att A x C with one column per class")
    if n_original != n_names:
        raise SZSLError(f"{path}: 'original_att' has {n_original} columns but 'allclasses_names' has {n_names} names; expected one column per class")
    for key in SPLIT_KEYS:
        _vector_length(path, variables, key, "n x 1 (1-based image indices)")
    data = _mat_read(path, list(keys))
    out = {
        "attributes": np.ascontiguousarray(np.asarray(data["att"]).T, dtype=np.float32),
        "original_attributes": np.ascontiguousarray(np.asarray(data["original_att"]).T, dtype=np.float32),
        "class_names": _strings(path, "allclasses_names", data["allclasses_names"]),
    }
    for key in SPLIT_KEYS:
        out[key] = _integers(path, key, data[key], "image indices") - 1
    return out


def _read_class_list(path: Path, index: dict[str, int], splits_path: Path) -> np.ndarray:
    try:
        lines = _require_file(path).read_text(encoding="utf-8").splitlines()
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
    features, labels = _cached_features(features_path, name, len(index), Path(cache_dir) if cache_dir is not None else feature_cache_dir())
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
    validate_benchmark(benchmark, where=str(folder), names=names, index_base=1)
    return benchmark


__all__ = ["Xlsa17Metadata", "feature_cache_dir", "load_xlsa17", "read_metadata"]
