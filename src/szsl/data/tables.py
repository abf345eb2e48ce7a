"""File readers of the own-data format: CSV tables, feature matrices (.npy/.npz/.csv/.parquet)
and the ``features.files.txt`` list that ``szsl features`` writes next to them."""

from __future__ import annotations

import csv
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from szsl.errors import SZSLError

FEATURE_SUFFIXES = (".npy", ".npz", ".csv", ".parquet")


# ------------------------------------------------------------------------------ regular files only

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


def _not_regular(path, mode: int, what: str) -> SZSLError:
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return SZSLError(f"{path}: {what} is {kind}, expected a regular file")


def regular_file(path: str | os.PathLike, what: str = "file") -> Path:
    """``path`` if it is a regular file (symlinks followed), else an SZSLError; never opens it.

    Opening a FIFO for reading blocks until a writer appears (forever); a device may never end.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise SZSLError(f"{path}: {what} not found") from None
    except OSError as exc:
        raise SZSLError(f"{path}: {what} cannot be read ({exc.strerror or type(exc).__name__})") from None
    if not stat.S_ISREG(st.st_mode):
        raise _not_regular(path, st.st_mode, what)
    return Path(path)


def is_present(path: str | os.PathLike) -> bool:
    """Whether anything (a file, a folder, a FIFO, ...) is at ``path``; a dangling symlink counts as absent."""
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError:
        return True  # there, but unreadable: the reader says so
    return True


def open_regular(path: str | os.PathLike, mode: str = "r", what: str = "file", **kwargs):
    """``open(path, mode, **kwargs)`` for reading, refusing anything but a regular file without blocking.

    The file is opened non-blocking (a FIFO opens at once), checked with fstat, then set blocking
    again; so a FIFO put in place between a check and the open can not hang the reader either.
    """
    if any(c in mode for c in "wax+"):
        raise ValueError("open_regular only reads")
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise SZSLError(f"{path}: {what} not found") from None
    except OSError as exc:
        raise SZSLError(f"{path}: {what} cannot be read ({exc.strerror or type(exc).__name__})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _not_regular(path, st.st_mode, what)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        fh = open(fd, mode, **kwargs)
    except BaseException:
        os.close(fd)
        raise
    raw = getattr(getattr(fh, "buffer", fh), "raw", None)
    if raw is not None:
        raw.name = os.fspath(path)  # messages (PIL's, csv's) name the file, not the descriptor
    return fh


# ------------------------------------------------------------------------------ CSV tables


@dataclass
class Table:
    path: Path
    columns: list[str]
    rows: list[list[str]]  # stripped cells; rows[i] is on file line i + 2

    def has(self, column: str) -> bool:
        return column in self.columns

    def column(self, column: str) -> list[str]:
        j = self.columns.index(column)
        return [row[j] for row in self.rows]

    def where(self, i: int, column: str | None = None) -> str:
        return f"{self.path} line {i + 2}" + (f" column '{column}'" if column else "")


def read_table(path: Path, required: Sequence[str] = ()) -> Table:
    try:
        with open_regular(path, newline="", encoding="utf-8-sig") as fh:
            lines = list(csv.reader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SZSLError(f"{path}: cannot be read as a UTF-8 CSV file ({type(exc).__name__}: {exc})") from None
    lines = [line for line in lines if any(cell.strip() for cell in line)]
    if not lines:
        raise SZSLError(f"{path}: empty file, expected a header line with columns {', '.join(required) or '...'}")
    columns = [c.strip() for c in lines[0]]
    seen: set[str] = set()
    for c in columns:
        if not c:
            raise SZSLError(f"{path}: the header has an empty column name")
        if c in seen:
            raise SZSLError(f"{path}: column '{c}' appears twice in the header")
        seen.add(c)
    for c in required:
        if c not in columns:
            raise SZSLError(f"{path}: missing column '{c}' (header has {', '.join(columns)})")
    rows = []
    for i, line in enumerate(lines[1:]):
        if len(line) != len(columns):
            raise SZSLError(f"{path} line {i + 2}: {len(line)} fields, expected {len(columns)} (one per header column)")
        rows.append([cell.strip() for cell in line])
    if not rows:
        raise SZSLError(f"{path}: no data lines after the header")
    return Table(path, columns, rows)


# ------------------------------------------------------------------------------ features


def read_features(path: str | os.PathLike) -> np.ndarray:
    """(N, D) float32 features from .npy (memory-mapped when float32), .npz, .csv or .parquet."""
    path = regular_file(path, "features file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
        elif suffix == ".npz":
            with open_regular(path, "rb", what="features file") as fh, np.load(fh, allow_pickle=False) as z:
                keys = list(z.keys())
                if "features" in keys:
                    arr = z["features"]
                elif len(keys) == 1:
                    arr = z[keys[0]]
                else:
                    raise SZSLError(f"{path}: expected an array named 'features' (or a single array), found {', '.join(keys) or 'none'}")
        elif suffix == ".csv":
            arr = _read_csv_matrix(path)
        elif suffix == ".parquet":
            arr = _read_parquet(path)
        else:
            raise SZSLError(f"{path}: unknown features format {suffix or '(no extension)'}: expected {', '.join(FEATURE_SUFFIXES)}")
    except SZSLError:
        raise
    except MemoryError:
        raise SZSLError(f"{path}: not enough memory to read it") from None
    except Exception as exc:  # corrupt / truncated file of any kind
        raise SZSLError(
            f"{path}: cannot be read as {suffix} features ({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''})"
        ) from None
    if arr.ndim != 2:
        raise SZSLError(f"{path}: features must be a 2-D (images x features) array, got shape {arr.shape}")
    if arr.dtype.kind not in "fiu":
        raise SZSLError(f"{path}: features must be numbers, got dtype {arr.dtype}")
    if 0 in arr.shape:
        raise SZSLError(f"{path}: features are empty (shape {arr.shape})")
    if arr.dtype != np.float32:
        arr = np.ascontiguousarray(arr, dtype=np.float32)
    return arr


def _read_csv_matrix(path: Path) -> np.ndarray:
    with open_regular(path, newline="", encoding="utf-8-sig") as fh:
        lines = [line for line in csv.reader(fh) if any(c.strip() for c in line)]
    if not lines:
        raise SZSLError(f"{path}: empty file")

    def numeric(line):
        try:
            [float(c) for c in line]
            return True
        except ValueError:
            return False

    start = 0 if numeric(lines[0]) else 1  # an optional header line
    width = len(lines[0])
    out = np.empty((len(lines) - start, width), dtype=np.float32)
    for i, line in enumerate(lines[start:]):
        if len(line) != width:
            raise SZSLError(f"{path} line {i + start + 1}: {len(line)} values, expected {width}")
        for j, cell in enumerate(line):
            try:
                out[i, j] = float(cell)
            except ValueError:
                raise SZSLError(f"{path} line {i + start + 1} column {j + 1}: {cell.strip()!r} is not a number") from None
    return out


def _read_parquet(path: Path) -> np.ndarray:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise SZSLError(f"{path}: reading parquet needs pyarrow (pip install pyarrow), or save the features as .npy") from None
    table = pq.read_table(path)
    columns = []
    for name, col in zip(table.column_names, table.columns):
        values = col.to_numpy(zero_copy_only=False)
        if values.dtype == object:  # a list column holding one vector per row
            try:
                return np.stack([np.asarray(v, dtype=np.float32) for v in values])
            except (TypeError, ValueError):
                raise SZSLError(f"{path}: column '{name}' is neither numeric nor a list of numbers") from None
        if values.dtype.kind not in "fiub":
            raise SZSLError(f"{path}: column '{name}' is not numeric (dtype {values.dtype})")
        columns.append(values.astype(np.float32))
    return np.stack(columns, axis=1)


def files_list_path(features_path: str | os.PathLike) -> Path:
    """Where ``szsl features`` records the image file of each feature row: FEATS.files.txt."""
    p = Path(features_path)
    return p.with_name(p.stem + ".files.txt")


def read_files_list(features_path: str | os.PathLike) -> list[str] | None:
    path = files_list_path(features_path)
    if not is_present(path):
        return None
    try:
        with open_regular(path, encoding="utf-8-sig") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise SZSLError(f"{path}: not a UTF-8 text file ({exc.reason} at byte {exc.start})") from None
    return [line.rstrip("\n") for line in text.splitlines() if line.strip()]
