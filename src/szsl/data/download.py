"""Fetch, verify and unpack the official xlsa17 archive (urllib only), resumably.

``download_xlsa17(root)`` downloads ``xlsa17.zip`` into ``<root>/.xlsa17.zip.part``, resuming
an interrupted transfer with an HTTP Range request (a server that ignores Range answers 200
and the download restarts from zero), renames it to ``<root>/.xlsa17.zip`` when complete,
checks it (sha256: ``--sha256`` or the release's ``XLSA17_SHA256``, by default; ``zipfile.testzip``;
expected members; each dataset's Proposed Split against the release's, ``szsl.data.release``), and unpacks
``xlsa17/data/<DS>/*`` into ``<root>/<DS>/``: a new dataset folder is built in a temporary
folder and renamed into place, so a half-written dataset never exists. Datasets already
present (``<DS>/res101.mat`` and ``<DS>/att_splits.mat``) are skipped. The archive is removed
once everything requested is unpacked (``keep_archive=True`` keeps it).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from szsl.atomic import atomic_directory, atomic_path
from szsl.errors import SZSLError

DEFAULT_URL = "http://datasets.d2.mpi-inf.mpg.de/xian/xlsa17.zip"
# The SHA-256 of the official xlsa17.zip, checked by default (whatever the URL: a faithful mirror serves
# the same bytes; --no-verify for one that repackages). It must be filled in from the release itself
# (its published digest, or one computed from a copy known to be the original): none was available when
# this was written, and an invented one would refuse every genuine download. While it is None, only an
# explicit --sha256 is checked.
XLSA17_SHA256: str | None = None
URL_ENV = "SZSL_XLSA17_URL"
ARCHIVE_NAME = ".xlsa17.zip"
PART_NAME = ".xlsa17.zip.part"
REQUIRED_FILES = ("res101.mat", "att_splits.mat")
_CHUNK = 1 << 20


def _datasets(dataset) -> list[str]:
    from szsl.data import XLSA17_DATASETS

    if dataset is None:
        return list(XLSA17_DATASETS)
    names = [dataset] if isinstance(dataset, str) else list(dataset)
    out = []
    for n in names:
        name = str(n).strip().upper()
        if name not in XLSA17_DATASETS:
            raise SZSLError(f"unknown dataset {n!r}: expected one of {', '.join(XLSA17_DATASETS)}")
        if name not in out:
            out.append(name)
    return out


def is_present(root: str | os.PathLike, dataset: str) -> bool:
    folder = Path(root) / dataset
    return all((folder / f).is_file() for f in REQUIRED_FILES)


# --------------------------------------------------------------------------- transfer


class _Interrupted(Exception):
    pass


def _open(url: str, start: int, timeout: float):
    req = urllib.request.Request(url, headers={"User-Agent": "szsl", "Accept-Encoding": "identity"})
    if start > 0:
        req.add_header("Range", f"bytes={start}-")
    try:
        return urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and start > 0:
            return exc  # caller inspects Content-Range
        raise SZSLError(f"downloading {url}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise SZSLError(f"cannot reach {url}: {exc.reason}") from exc
    except (socket.timeout, TimeoutError) as exc:
        raise SZSLError(f"cannot reach {url}: timed out after {timeout:g} s") from exc
    except (http.client.HTTPException, OSError) as exc:
        raise SZSLError(f"cannot reach {url}: {exc}") from exc
    except ValueError as exc:
        raise SZSLError(f"bad download URL {url!r}: {exc}") from exc


def _fetch_once(url: str, part: Path, timeout: float, progress: bool) -> None:
    """One request: append to ``part`` (or restart it). Raises _Interrupted on a short read."""
    start = part.stat().st_size if part.exists() else 0
    resp = _open(url, start, timeout)
    with resp:
        status = getattr(resp, "status", None) or resp.getcode()
        if status == 416:  # range not satisfiable: already complete, or the file changed
            m = re.match(r"bytes \*/(\d+)", resp.headers.get("Content-Range", "") or "")
            if m and int(m.group(1)) == start:
                return
            part.unlink()
            raise _Interrupted("server rejected the resume range; restarting")
        if status == 206:
            m = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", resp.headers.get("Content-Range", "") or "")
            if not m or int(m.group(1)) != start:
                part.unlink()
                raise _Interrupted("server resumed at the wrong offset; restarting")
            total = None if m.group(3) == "*" else int(m.group(3))
            mode = "ab"
        elif status == 200:  # fresh download, or a server that ignores Range: restart from zero
            start = 0
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            mode = "wb"
        else:
            raise SZSLError(f"downloading {url}: unexpected HTTP status {status}")
        from szsl.progress import progress_bar

        done = start
        with (
            open(part, mode) as fh,
            progress_bar(total, "xlsa17.zip", "B", initial=start, unit_scale=True, enabled=progress, every=5.0, leave=False) as bar,
        ):
            while True:
                try:
                    chunk = resp.read(_CHUNK)
                except (http.client.IncompleteRead, ConnectionError, socket.timeout, TimeoutError, OSError) as exc:
                    raise _Interrupted(f"connection lost after {done} bytes: {exc.__class__.__name__}") from exc
                if not chunk:
                    break
                fh.write(chunk)
                done += len(chunk)
                bar.update(len(chunk))
            fh.flush()
            os.fsync(fh.fileno())
        if total is not None and done < total:
            raise _Interrupted(f"connection lost after {done} of {total} bytes")
        if total is not None and done > total:
            part.unlink()
            raise _Interrupted(f"server sent {done} bytes, more than the announced {total}; restarting")


def local_source(url: str) -> Path | None:
    """The local file a ``file://`` URL or a plain path names; None for http(s) URLs."""
    if re.match(r"^https?://", url, re.IGNORECASE):
        return None
    if url.lower().startswith("file://"):
        parsed = urllib.parse.urlsplit(url)
        if parsed.netloc not in ("", "localhost"):
            raise SZSLError(f"bad download URL {url!r}: a file:// URL must name a local path (file:///path/to/xlsa17.zip)")
        return Path(urllib.request.url2pathname(parsed.path))
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+://", url):
        raise SZSLError(f"bad download URL {url!r}: expected http://, https://, file:// or the path of a local copy of xlsa17.zip")
    return Path(url)


def _copy_local(source: Path, part: Path) -> None:
    """Copy a local archive to ``part``; only a regular file (a FIFO would block the copy forever)."""
    from szsl.data.tables import regular_file

    regular_file(source, "local copy of the archive")
    try:
        shutil.copyfile(source, part)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise SZSLError(f"{source}: cannot copy the archive to {part}: {exc.strerror or exc}") from None


def fetch_archive(url: str, root: Path, *, timeout: float = 60.0, retries: int = 3, progress: bool = True) -> Path:
    """Download ``url`` (or copy the local file a ``file://`` URL or path names) to ``<root>/.xlsa17.zip``
    (resuming ``.xlsa17.zip.part``); return its path."""
    archive, part = root / ARCHIVE_NAME, root / PART_NAME
    if archive.is_file():
        return archive
    source = local_source(url)
    if source is not None:
        _copy_local(source, part)
        os.replace(part, archive)
        return archive
    attempts = max(0, int(retries)) + 1
    last = ""
    for _ in range(attempts):
        try:
            _fetch_once(url, part, timeout, progress)
        except _Interrupted as exc:
            last = str(exc)
            continue
        os.replace(part, archive)
        return archive
    have = part.stat().st_size if part.exists() else 0
    raise SZSLError(f"downloading {url}: {last}; {have} bytes kept in {part}, re-run the same command to resume")


# --------------------------------------------------------------------------- verify + unpack


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _dataset_members(zf: zipfile.ZipFile, dataset: str, archive: Path) -> tuple[str, list[zipfile.ZipInfo]]:
    """The folder holding ``<DS>/att_splits.mat`` in the archive and its file members."""
    prefixes = sorted(
        str(PurePosixPath(i.filename).parent) + "/"
        for i in zf.infolist()
        if PurePosixPath(i.filename).name == "att_splits.mat" and PurePosixPath(i.filename).parent.name.upper() == dataset
    )
    if not prefixes:
        raise SZSLError(f"{archive}: member xlsa17/data/{dataset}/att_splits.mat missing (not the xlsa17 archive?)")
    prefix = min(prefixes, key=len)
    members = []
    for info in zf.infolist():
        if info.is_dir() or not info.filename.startswith(prefix):
            continue
        rel = info.filename[len(prefix) :]
        if not rel or "/" in rel or rel in (".", "..") or "\\" in rel:
            continue  # only the flat files of the dataset folder
        members.append(info)
    names = {PurePosixPath(i.filename).name for i in members}
    for f in REQUIRED_FILES:
        if f not in names:
            raise SZSLError(f"{archive}: member {prefix}{f} missing (expected {', '.join(REQUIRED_FILES)} for {dataset})")
    return prefix, members


class _Unreadable(Exception):
    pass


def _check_readable(zf: zipfile.ZipFile) -> None:
    """Every member can be read without a password and with a compression method this Python has."""
    methods = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
    for method, module in ((zipfile.ZIP_BZIP2, "bz2"), (zipfile.ZIP_LZMA, "lzma")):
        try:
            __import__(module)
            methods.add(method)
        except ImportError:
            pass
    for info in zf.infolist():
        if info.flag_bits & 0x1:
            raise _Unreadable(f"member {info.filename} is encrypted (password protected)")
        if info.compress_type not in methods:
            raise _Unreadable(
                f"member {info.filename} uses compression method {info.compress_type}, which Python's zipfile cannot read "
                f"(supported: {', '.join(str(m) for m in sorted(methods))})"
            )


def _verify(archive: Path, datasets: list[str], sha256: str | None) -> dict:
    if sha256:
        got = _sha256(archive)
        if got.lower() != sha256.strip().lower():
            archive.unlink()
            raise SZSLError(
                f"{archive}: sha256 {got} does not match the expected {sha256.strip().lower()}; removed it, re-run to download again"
            )
    try:
        with zipfile.ZipFile(archive) as zf:
            _check_readable(zf)
            bad = zf.testzip()
            if bad is not None:
                raise zipfile.BadZipFile(f"member {bad} fails its CRC check")
            return {ds: _dataset_members(zf, ds, archive) for ds in datasets}
    except SZSLError:
        raise  # a missing member: the archive itself is sound
    except _Unreadable as exc:
        archive.unlink(missing_ok=True)
        raise SZSLError(f"{archive}: {exc} (not the xlsa17 archive?); removed it, re-run to download again") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, RuntimeError, NotImplementedError) as exc:
        # RuntimeError: an encrypted member; NotImplementedError: a compression method zipfile lacks
        archive.unlink(missing_ok=True)
        raise SZSLError(f"{archive}: corrupt zip archive ({exc}); removed it, re-run to download again") from None


def _check_splits(archive: Path, root: Path, found: dict) -> None:
    """Each dataset's Proposed Split against the release's (``release.check_proposed_split``), read from a temporary
    copy of its att_splits.mat; a different one removes the archive (it is not the release) and stops before unpacking."""
    from szsl.data.release import check_proposed_split

    with zipfile.ZipFile(archive) as zf, tempfile.TemporaryDirectory(prefix=".szsl-split-check.", dir=root) as tmp:
        for ds, (_prefix, members) in found.items():
            info = next(i for i in members if PurePosixPath(i.filename).name == "att_splits.mat")
            copy = Path(tmp) / f"{ds}.att_splits.mat"
            _extract(zf, info, copy)
            try:
                check_proposed_split(copy, ds)
            except SZSLError as exc:
                archive.unlink(missing_ok=True)
                raise SZSLError(f"{archive}: {exc}; removed it (--no-verify keeps a mirror's own split)") from None


def _extract(zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path) -> None:
    with zf.open(info) as src, open(dest, "wb") as dst:
        shutil.copyfileobj(src, dst, _CHUNK)


def _unpack(archive: Path, root: Path, dataset: str, members: list[zipfile.ZipInfo]) -> Path:
    final = root / dataset
    # res101.mat last: once it exists the dataset is complete ("present")
    members = sorted(members, key=lambda i: (PurePosixPath(i.filename).name == "res101.mat", i.filename))
    try:
        with zipfile.ZipFile(archive) as zf:
            if final.is_dir():  # metadata already there (e.g. a partial copy): add files one by one, atomically
                for info in members:
                    with atomic_path(final / PurePosixPath(info.filename).name) as tmp:
                        _extract(zf, info, tmp)
                return final
            with atomic_directory(final) as tmp_dir:
                for info in members:
                    _extract(zf, info, tmp_dir / PurePosixPath(info.filename).name)
    except (zipfile.BadZipFile, EOFError, RuntimeError, NotImplementedError) as exc:
        archive.unlink(missing_ok=True)
        raise SZSLError(f"{archive}: corrupt zip archive while unpacking {dataset} ({exc}); removed it, re-run to download again") from None
    except OSError as exc:
        raise SZSLError(f"{final}: cannot unpack {dataset}: {exc}") from exc
    return final


def download_xlsa17(
    root: str | os.PathLike,
    dataset: str | list[str] | None = None,
    url: str | None = None,
    *,
    sha256: str | None = None,
    verify: bool = True,
    timeout: float = 60.0,
    retries: int = 3,
    progress: bool = True,
    keep_archive: bool = False,
) -> list[Path]:
    """Download + verify + unpack xlsa17 into ``<root>/<DS>/``; return the dataset folders.

    ``dataset``: one name, a list, or None for all five. ``url``: default ``$SZSL_XLSA17_URL``
    or DEFAULT_URL; a ``file://`` URL or a plain path names a local copy of the archive, which is
    copied and verified the same way. ``timeout`` bounds every network operation (seconds); an interrupted
    transfer is resumed up to ``retries`` times, and on the next call. The archive's SHA-256 must be
    ``sha256`` if given, else the release's ``XLSA17_SHA256`` when known, unless ``verify=False``
    (a mirror that repackages the archive); unless ``verify=False``, each dataset's Proposed Split must be the
    release's too (``szsl.data.release``), checked before anything is unpacked.
    """
    datasets = _datasets(dataset)
    url = url or os.environ.get(URL_ENV) or DEFAULT_URL
    if not url.strip():
        raise SZSLError("bad download URL '': expected http://, https://, file:// or the path of a local copy of xlsa17.zip")
    local_source(url)  # a malformed URL fails before anything is created
    if sha256 is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", sha256.strip()):
        raise SZSLError(f"--sha256 must be 64 hexadecimal digits, got {sha256!r}")
    if sha256 is not None and not verify:
        raise SZSLError("--sha256 and --no-verify contradict each other: give one of them")
    expected = sha256 if sha256 is not None else (XLSA17_SHA256 if verify else None)
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise SZSLError(f"timeout must be a positive number of seconds, got {timeout!r}")
    root = Path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SZSLError(f"{root}: cannot create download folder: {exc}") from exc
    todo = [ds for ds in datasets if not is_present(root, ds)]
    if todo:
        archive = fetch_archive(url, root, timeout=float(timeout), retries=retries, progress=progress)
        found = _verify(archive, todo, expected)
        if verify:
            _check_splits(archive, root, found)
        for ds in todo:
            _unpack(archive, root, ds, found[ds][1])
        if not keep_archive:
            archive.unlink(missing_ok=True)
    return [root / ds for ds in datasets]


__all__ = ["download_xlsa17", "fetch_archive", "is_present", "DEFAULT_URL", "URL_ENV", "XLSA17_SHA256"]
