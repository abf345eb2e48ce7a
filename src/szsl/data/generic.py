"""Your own data as a ``Benchmark``: a folder with a class table, an image table and features.

Layout (docs/own-data.md)::

    my_dataset/
      classes.csv      name, split (seen|unseen), [fold], then attribute columns or `description`
      images.csv       class (name) or label (0-based row of classes.csv), [file | row], [split]
      features.npy     (N, D) float; or features.npz / .csv / .parquet (parquet needs pyarrow)
      features.files.txt   written by `szsl features`: the image file of each feature row
      images/          optional: image files (images.csv `file` is relative to this folder)
      dataset.json     optional: {"name", "classes", "images", "features", "image_dir",
                        "semantics": "auto|attributes|text", "weights", "random_init", "batch_size"}

* ``images.csv`` may be left out when ``images/`` holds one sub-folder per class
  (``images/<class name>/*.jpg``).
* Feature rows: images.csv ``row`` (0-based) if present; else, when images.csv has ``file`` and
  ``features.files.txt`` exists, the row of that file; else row i is line i of images.csv.
  With ``file`` and no features file, ResNet-101 features are extracted on first load into
  ``features.npy`` (``szsl.features``; weights from dataset.json or torchvision's cache).
* Split: images.csv ``split`` (trainval|test); without it a fixed 80 % of every seen class's
  images is trainval, the rest test_seen; unseen images are always test_unseen.
* Folds: classes.csv ``fold`` (1..3 for seen classes: the fold in which the class is
  pseudo-unseen); without it 3 folds over the seen classes from a fixed permutation.
* Class semantics: attribute columns when every class has all of them, else the L2-normalised
  sentence embedding of ``description`` for every class (``szsl.semantics``).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from szsl.data.benchmark import Benchmark, validate_benchmark
from szsl.data.confine import Confinement
from szsl.data.manifest import CLASSES_FILE, MANIFEST_FILE, read_manifest
from szsl.data.splits import class_folds, image_splits
from szsl.data.tables import (  # noqa: F401 - re-exported
    FEATURE_SUFFIXES,
    Table,
    files_list_path,
    is_present,
    open_regular,
    read_features,
    read_files_list,
    read_table,
    regular_file,
)
from szsl.errors import SZSLError

IMAGES_FILE = "images.csv"
IMAGE_DIR = "images"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
RESERVED_CLASS_COLUMNS = ("name", "split", "fold", "description")


# ------------------------------------------------------------------------------ discovery


def looks_like_generic(spec: str, root: str | os.PathLike | None = None) -> Path | None:
    """The dataset folder or manifest ``spec`` names (under ``root`` if given), or None."""
    candidates = [Path(root) / spec] if root is not None else []
    candidates.append(Path(spec))
    for path in candidates:
        if path.is_file() and path.suffix.lower() == ".json":
            return path
        if path.is_dir() and ((path / CLASSES_FILE).is_file() or (path / MANIFEST_FILE).is_file()):
            return path
    if spec.lower().endswith(".json") or os.sep in spec or "/" in spec:
        return candidates[0]  # a path: let the loader say what is missing
    return None


# ------------------------------------------------------------------------------ the loader


def _find_features(folder: Path, manifest: dict) -> Path | None:
    if manifest.get("features"):
        return folder / manifest["features"]
    for suffix in FEATURE_SUFFIXES:
        if is_present(folder / f"features{suffix}"):  # a FIFO or folder there is reported, not passed over
            return folder / f"features{suffix}"
    return None


def _class_semantics(classes: Table, mode: str, cache_dir: Path | None) -> tuple[np.ndarray, np.ndarray, str]:
    """(original (C, A), L2-normalised float32 (C, A), 'attributes'|'text')."""
    attr_columns = [c for c in classes.columns if c not in RESERVED_CLASS_COLUMNS]
    names = classes.column("name")
    descriptions = classes.column("description") if classes.has("description") else None
    missing_attr = None  # (class row, column) of the first empty attribute cell
    values = np.full((len(classes.rows), len(attr_columns)), np.nan, dtype=np.float64)
    for i, row in enumerate(classes.rows):
        for j, col in enumerate(attr_columns):
            cell = row[classes.columns.index(col)]
            if cell == "":
                missing_attr = missing_attr or (i, col)
                continue
            try:
                v = float(cell)
            except ValueError:
                raise SZSLError(
                    f"{classes.where(i, col)}: {cell!r} is not a number (attribute columns are every column except "
                    f"{', '.join(RESERVED_CLASS_COLUMNS)})"
                ) from None
            if not math.isfinite(v):
                raise SZSLError(
                    f"{classes.where(i, col)}: attribute of class {names[i]!r} is {cell} (NaN/inf); leave the cell empty to use the "
                    "description instead"
                )
            values[i, j] = v

    if mode == "auto":
        mode = "attributes" if attr_columns and missing_attr is None else "text"
    if mode == "attributes":
        if not attr_columns:
            raise SZSLError(
                f"{classes.path}: no attribute columns (every column except {', '.join(RESERVED_CLASS_COLUMNS)} is an attribute)"
            )
        if missing_attr is not None:
            i, col = missing_attr
            raise SZSLError(f"{classes.where(i, col)}: class {names[i]!r} has no value for attribute '{col}'")
        norms = np.linalg.norm(values, axis=1)
        zero = np.flatnonzero(norms == 0)
        if zero.size:
            raise SZSLError(
                f"{classes.where(int(zero[0]))}: class {names[zero[0]]!r} has all attributes 0; a class needs a non-zero attribute vector"
            )
        return values.astype(np.float32), (values / norms[:, None]).astype(np.float32), "attributes"

    # text
    if descriptions is None:
        if missing_attr is not None:
            i, col = missing_attr
            raise SZSLError(
                f"{classes.where(i, col)}: class {names[i]!r} has no value for attribute '{col}' and {classes.path} has no 'description' "
                "column to fall back on"
            )
        raise SZSLError(f"{classes.path}: missing column 'description' (needed for text semantics) and no attribute columns")
    empty = [i for i, d in enumerate(descriptions) if not d]
    if empty:
        i = empty[0]
        why = (
            f" (class {names[missing_attr[0]]!r} lacks attribute '{missing_attr[1]}', so every class is described by text)"
            if missing_attr
            else ""
        )
        raise SZSLError(f"{classes.where(i, 'description')}: class {names[i]!r} has an empty description{why}")
    from szsl.semantics import embed_descriptions

    emb = embed_descriptions(descriptions, cache_dir=cache_dir)
    return emb, emb.copy(), "text"


def _image_table(folder: Path, manifest: dict, image_dir: Path, confinement: Confinement) -> Table:
    path = folder / manifest.get("images", IMAGES_FILE)
    if is_present(path) or manifest.get("images"):
        table = read_table(confinement.check(path, "image table"))
        if not (table.has("class") or table.has("label")):
            raise SZSLError(f"{path}: missing column 'class' (class name per image) or 'label' (0-based row of {CLASSES_FILE})")
        return table
    if image_dir.is_dir():
        rows = []
        for sub in sorted(p for p in image_dir.iterdir() if p.is_dir()):
            for f in sorted(q for q in sub.rglob("*") if q.is_file() and q.suffix.lower() in IMAGE_SUFFIXES):
                rows.append([sub.name, f.relative_to(image_dir).as_posix()])
        if rows:
            return Table(image_dir, ["class", "file"], rows)
        raise SZSLError(f"{image_dir}: no images in class sub-folders ({image_dir}/<class name>/*.jpg) and no {path}")
    raise SZSLError(f"{path}: file not found (and no {image_dir}/<class name>/ image folders)")


def load_generic(
    spec: str | os.PathLike, *, validate: bool = True, progress: bool = True, allow_outside_paths: bool | None = None
) -> Benchmark:
    """Load a dataset folder (or its dataset.json) in the generic layout as a 0-based Benchmark.

    Every file the folder names must resolve inside it (``szsl.data.confine``) unless
    ``allow_outside_paths`` (None: as the enclosing ``outside_paths_allowed`` block says; default refused).
    """
    spec = Path(spec)
    if not spec.exists():
        raise SZSLError(
            f"{spec}: dataset not found (expected a folder with {CLASSES_FILE} and {IMAGES_FILE}, or a {MANIFEST_FILE}; see "
            "docs/own-data.md)"
        )
    confinement = Confinement(spec if spec.is_dir() else spec.parent, allow_outside_paths)
    folder, manifest = read_manifest(spec, confinement)
    name = str(manifest.get("name") or folder.resolve().name)
    image_dir = folder / manifest.get("image_dir", IMAGE_DIR)

    # ---- classes
    classes = read_table(confinement.check(folder / manifest.get("classes", CLASSES_FILE), "class table"), required=("name", "split"))
    class_names = classes.column("name")
    index: dict[str, int] = {}
    for i, n in enumerate(class_names):
        if not n:
            raise SZSLError(f"{classes.where(i, 'name')}: empty class name")
        if n in index:
            raise SZSLError(f"{classes.where(i, 'name')}: class {n!r} is listed twice (first on line {index[n] + 2})")
        index[n] = i
    is_seen = np.zeros(len(class_names), dtype=bool)
    for i, s in enumerate(classes.column("split")):
        if s.lower() not in ("seen", "unseen"):
            raise SZSLError(f"{classes.where(i, 'split')}: {s!r} for class {class_names[i]!r}, expected seen or unseen")
        is_seen[i] = s.lower() == "seen"
    seen, unseen = np.flatnonzero(is_seen), np.flatnonzero(~is_seen)
    if seen.size == 0 or unseen.size == 0:
        raise SZSLError(
            f"{classes.path} column 'split': needs at least one seen and one unseen class, got {seen.size} seen and {unseen.size} unseen"
        )
    folds = class_folds(classes, seen, is_seen)
    original, attributes, semantics = _class_semantics(classes, manifest.get("semantics", "auto"), folder / ".szsl-cache")

    # ---- images and labels
    images = _image_table(folder, manifest, image_dir, confinement)
    labels = np.empty(len(images.rows), dtype=np.int64)
    if images.has("class"):
        for i, c in enumerate(images.column("class")):
            if c not in index:
                raise SZSLError(f"{images.where(i, 'class')}: unknown class {c!r} (not a 'name' in {classes.path})")
            labels[i] = index[c]
    else:
        for i, c in enumerate(images.column("label")):
            try:
                value = int(c)
            except ValueError:
                raise SZSLError(f"{images.where(i, 'label')}: {c!r} is not an integer class index") from None
            if not 0 <= value < len(class_names):  # checked before storing: a huge value does not fit int64
                raise SZSLError(f"{images.where(i, 'label')}: class index {c} outside 0..{len(class_names) - 1} (rows of {classes.path})")
            labels[i] = value

    # ---- features
    features_path = confinement.check(_find_features(folder, manifest) or folder / "features.npy", "features file")
    files = images.column("file") if images.has("file") else None
    if not is_present(features_path):
        if files is None:
            raise SZSLError(
                f"{features_path}: features file not found (features.npy, .npz, .csv or .parquet), and {images.path} has no 'file' column "
                "to extract features from images"
            )
        if features_path.suffix.lower() != ".npy":
            raise SZSLError(f"{features_path}: features file not found; features extracted from images are written as .npy")
        confinement.check(image_dir, "image folder")
        for i, f in enumerate(files):  # every image is read: each must be inside the folder
            confinement.check(image_dir / f, f"image of {images.where(i, 'file')}")
        if manifest.get("weights"):
            confinement.check(features_path.parent / manifest["weights"], "weights file")
        _extract(image_dir, files, features_path, manifest, progress)
    features = read_features(features_path)
    if files is not None and is_present(files_list_path(features_path)):
        confinement.check(files_list_path(features_path), "list of feature rows")
    rows = _feature_rows(images, files, features_path, features.shape[0])
    if not np.array_equal(rows, np.arange(features.shape[0])):
        features = np.ascontiguousarray(features[rows], dtype=np.float32)

    empty = np.setdiff1d(seen, labels)
    if empty.size:
        i = int(empty[0])
        raise SZSLError(
            f"{classes.where(i, 'split')}: seen class {class_names[i]!r} has no image in {images.path}; a seen class needs training images"
        )

    # ---- image splits
    trainval, test_seen, test_unseen = image_splits(images, labels, is_seen, class_names)

    benchmark = Benchmark(
        name=name,
        features=features,
        labels=labels,
        attributes=attributes,
        original_attributes=original,
        class_names=tuple(class_names),
        seen=seen.astype(np.int64),
        unseen=unseen.astype(np.int64),
        trainval=trainval,
        test_seen=test_seen,
        test_unseen=test_unseen,
        folds=folds,
        source=f"{folder} ({semantics} semantics)",
    )
    if validate:

        def rel(p: Path) -> str:
            try:
                return str(Path(p).relative_to(folder))
            except ValueError:
                return str(p)

        cls, img = rel(classes.path), rel(images.path)
        fold_source = f"{cls} 'fold'" if classes.has("fold") else "generated folds"
        names = {
            "features": rel(features_path),
            "labels": f"{img} '{'class' if images.has('class') else 'label'}'",
            "attributes": f"{cls} attributes" if semantics == "attributes" else f"{cls} 'description' embeddings",
            "original_attributes": f"{cls} attributes",
            "class_names": f"{cls} 'name'",
            "seen": f"{cls} 'split' (seen)",
            "unseen": f"{cls} 'split' (unseen)",
            "trainval": f"{img} 'split' (trainval)",
            "test_seen": f"{img} 'split' (test, seen classes)",
            "test_unseen": f"{img} 'split' (test, unseen classes)",
        }
        for k in range(len(folds)):
            names[f"folds[{k}].train_classes"] = f"{fold_source} (fold {k + 1} train)"
            names[f"folds[{k}].val_classes"] = f"{fold_source} (fold {k + 1} val)"
        validate_benchmark(benchmark, where=str(folder), names=names)
    return benchmark


def _extract(image_dir: Path, files: list[str], out: Path, manifest: dict, progress: bool) -> None:
    from szsl.features import extract_features

    extract_features(
        [image_dir / f for f in files],
        out,
        names=files,
        batch_size=int(manifest.get("batch_size", 32)),
        device=str(manifest.get("device", "auto")),
        weights=(str(Path(out).parent / manifest["weights"]) if manifest.get("weights") else None),
        random_init=bool(manifest.get("random_init", False)),
        progress=progress,
    )


def _feature_rows(images: Table, files: list[str] | None, features_path: Path, n_rows: int) -> np.ndarray:
    n = len(images.rows)
    if images.has("row"):
        rows = np.empty(n, dtype=np.int64)
        for i, r in enumerate(images.column("row")):
            try:
                value = int(r)
            except ValueError:
                raise SZSLError(f"{images.where(i, 'row')}: {r!r} is not an integer row index") from None
            if not 0 <= value < n_rows:  # checked before storing: a huge value does not fit int64
                raise SZSLError(f"{images.where(i, 'row')}: row {r} outside 0..{n_rows - 1} ({features_path} has {n_rows} rows)")
            rows[i] = value
        return rows
    listed = read_files_list(features_path) if files is not None else None
    if listed is not None:
        if len(listed) != n_rows:
            raise SZSLError(
                f"{files_list_path(features_path)}: lists {len(listed)} files but {features_path} has {n_rows} rows; re-run szsl features"
            )
        where = {f: j for j, f in enumerate(listed)}
        rows = np.empty(n, dtype=np.int64)
        for i, f in enumerate(files):
            key = Path(f).as_posix()
            if key not in where:
                raise SZSLError(
                    f"{images.where(i, 'file')}: {f!r} has no features in {features_path} (not listed in {files_list_path(features_path)})"
                )
            rows[i] = where[key]
        return rows
    if n_rows != n:
        raise SZSLError(
            f"{features_path}: {n_rows} feature rows but {images.path} lists {n} images (add a 'row' column to map images to rows)"
        )
    return np.arange(n, dtype=np.int64)


__all__ = ["load_generic", "looks_like_generic", "read_features", "read_files_list", "files_list_path", "read_table"]
