"""MATLAB files of the xlsa17 release: v4/v5 (scipy.io) or v7.3 (HDF5, h5py), checked before
anything large is allocated. Every problem is an ``SZSLError`` naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from szsl.errors import SZSLError

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
# An HDF5 chunk may exceed the data it holds by at most this (MATLAB's chunks never do).
_MAX_SPARE_CHUNK = 1 << 24


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
                        continue
                    _h5_check_layout(path, name, obj)
                    if obj.attrs.get("MATLAB_empty", 0):  # stored as its dimensions, not data
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
        raise SZSLError(
            f"{path}: '{name}' declares shape {shape} ({declared:,} bytes), more than a {size:,}-byte file can hold; the file is corrupt"
        )


def _mat_read(path: Path, names: list[str]) -> dict[str, np.ndarray]:
    """Read ``names`` in MATLAB orientation; cell arrays of strings become object arrays of str."""
    try:
        if _is_hdf5(path):
            import h5py

            with h5py.File(path, "r") as f:
                return {name: _h5_value(f, f[name], path) for name in names}
        import scipy.io

        data = scipy.io.loadmat(path, variable_names=names)
        missing = [name for name in names if name not in data]
        if missing:  # the header listed it, the body did not deliver it: truncated
            raise EOFError(f"variable {missing[0]!r} could not be read")
        return {name: data[name] for name in names}
    except SZSLError:
        raise
    except Exception as exc:
        raise _unreadable(path, exc) from exc


def _h5_check_layout(path: Path, name: str, ds) -> None:
    """An SZSLError unless the data of HDF5 dataset ``ds`` are stored in the file itself, in chunks no larger than needed.

    HDF5 lets a dataset keep its bytes in other files (external storage: any file on the machine,
    read as raw numbers; a virtual dataset: slices of other HDF5 files). A MAT file never does.
    A chunk is decompressed whole: a tiny file declaring chunks far larger than its data would take
    GBs of memory to read a few numbers.
    """
    if ds.chunks is not None:
        itemsize = ds.dtype.itemsize
        chunk_bytes = int(np.prod(ds.chunks, dtype=np.float64)) * itemsize
        data_bytes = int(np.prod(ds.shape, dtype=np.float64)) * itemsize
        if chunk_bytes > max(data_bytes, _MAX_SPARE_CHUNK):
            raise SZSLError(
                f"{path}: '{name}' declares HDF5 chunks of {chunk_bytes:,} bytes for {data_bytes:,} bytes of data (shape "
                f"{tuple(ds.shape[::-1])}); the file is corrupt"
            )
    if ds.is_virtual:
        sources = sorted({vds.file_name for vds in ds.virtual_sources()})
        raise SZSLError(
            f"{path}: '{name}' is an HDF5 virtual dataset whose data live in {', '.join(sources)[:200]}; expected data stored in the MAT "
            "file itself"
        )
    if ds.external:
        files = sorted({str(entry[0]) for entry in ds.external})
        raise SZSLError(
            f"{path}: '{name}' uses HDF5 external storage (its data would be read from {', '.join(files)[:200]}); expected data stored "
            "in the MAT file itself"
        )


def _h5_value(f, ds, path: Path) -> np.ndarray:
    import h5py

    _h5_check_layout(path, ds.name.lstrip("/"), ds)
    cls = ds.attrs.get("MATLAB_class", b"")
    is_char = cls in (b"char", "char")
    if ds.attrs.get("MATLAB_empty", 0):  # the data are the dimensions, not values
        return np.array("") if is_char else np.zeros((0, 0))
    if h5py.check_dtype(ref=ds.dtype) is not None:  # a cell array: each element is a reference
        refs = ds[()].T
        out = np.empty(refs.shape, dtype=object)
        for i, ref in np.ndenumerate(refs):
            out[i] = _h5_value(f, f[ref], path)
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


def real(path: Path, key: str, values: np.ndarray) -> np.ndarray:
    """``values`` if they are real numbers; complex ones are refused, never cut to their real part."""
    arr = np.asarray(values)
    if arr.dtype.kind == "c" or (arr.dtype.names is not None and {"real", "imag"} <= set(arr.dtype.names)):  # v7.3: a compound
        raise SZSLError(f"{path}: '{key}' holds complex numbers; expected real numbers (MATLAB: save real(x))")
    return arr


# Integers beyond this are no image index or class number; checking before the cast keeps the value exact
# (a float of 1e30 cast to int64 is a different number, with a RuntimeWarning).
_MAX_INTEGER = 2.0**53


def _integers(path: Path, key: str, values: np.ndarray, what: str) -> np.ndarray:
    flat = real(path, key, values).ravel()
    if flat.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(flat) | (flat != np.round(flat)) | (np.abs(flat) > _MAX_INTEGER))
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
