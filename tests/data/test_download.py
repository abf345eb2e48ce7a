"""download_xlsa17 end to end against a real HTTP server on 127.0.0.1 (thread)."""

from __future__ import annotations

import hashlib
import http.server
import io
import re
import socket
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from szsl.cli import main
from szsl.data.download import download_xlsa17
from szsl.errors import SZSLError

DATASETS = ("AWA1", "AWA2", "CUB", "SUN", "APY")
FILES = ("res101.mat", "att_splits.mat", "trainvalclasses.txt", "testclasses.txt", "valclasses1.txt")


def _content(ds: str, name: str) -> bytes:
    # incompressible-ish bytes so the archive is big enough to interrupt mid-way
    seed = hashlib.sha256(f"{ds}/{name}".encode()).digest()
    n = 40_000 if name == "res101.mat" else 200
    return (
        (seed * (n // 32 + 1))[:n]
        if name != "res101.mat"
        else b"".join(hashlib.sha256(seed + i.to_bytes(4, "big")).digest() for i in range(n // 32))
    )


def build_zip(datasets=DATASETS, drop: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xlsa17/", b"")
        zf.writestr("xlsa17/README.txt", b"xlsa17")
        for ds in datasets:
            for name in FILES:
                if f"{ds}/{name}" != drop:
                    zf.writestr(f"xlsa17/data/{ds}/{name}", _content(ds, name))
    return buf.getvalue()


class Server:
    """Serves /xlsa17.zip; options: honour Range, drop the connection on the first N requests."""

    def __init__(self, data: bytes, *, ranges: bool = True, drop_first: int = 0, drop_after: int = 50_000, status: int = 200):
        self.data, self.ranges, self.drop_first, self.drop_after, self.status = data, ranges, drop_first, drop_after, status
        self.requests: list[dict] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.requests.append({"path": self.path, "range": self.headers.get("Range")})
                if self.path != "/xlsa17.zip" or outer.status != 200:
                    code = 404 if self.path != "/xlsa17.zip" else outer.status
                    self.send_response(code)
                    self.send_header("Content-Length", "0")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    return
                data, start = outer.data, 0
                rng = self.headers.get("Range")
                if rng and outer.ranges:
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                if len(outer.requests) <= outer.drop_first:
                    self.wfile.write(body[: outer.drop_after])
                    self.wfile.flush()
                    self.close_connection = True
                    return  # connection closes short of Content-Length
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/xlsa17.zip"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def _check_unpacked(root: Path, datasets):
    for ds in datasets:
        for name in FILES:
            assert (root / ds / name).read_bytes() == _content(ds, name)
    leftovers = [p.name for p in root.iterdir() if p.name.startswith(".")]
    assert leftovers == [], leftovers


def test_full_download_all(tmp_path):
    data = build_zip()
    with Server(data) as srv:
        folders = download_xlsa17(tmp_path, url=srv.url, sha256=hashlib.sha256(data).hexdigest(), timeout=10, progress=False)
        assert folders == [tmp_path / ds for ds in DATASETS]
        _check_unpacked(tmp_path, DATASETS)
        assert len(srv.requests) == 1 and srv.requests[0]["range"] is None
        # everything present: no request at all
        download_xlsa17(tmp_path, url=srv.url, timeout=10, progress=False)
        assert len(srv.requests) == 1


def test_interrupted_then_resumed_with_range(tmp_path):
    data = build_zip()
    assert len(data) > 100_000
    with Server(data, drop_first=1, drop_after=60_000) as srv:
        with pytest.raises(SZSLError, match="re-run the same command to resume"):
            download_xlsa17(tmp_path, "AWA2", url=srv.url, timeout=10, retries=0, progress=False)
        part = tmp_path / ".xlsa17.zip.part"
        assert part.stat().st_size == 60_000
        assert not (tmp_path / "AWA2").exists()
        download_xlsa17(tmp_path, "awa2", url=srv.url, timeout=10, retries=0, progress=False)
        assert [r["range"] for r in srv.requests] == [None, "bytes=60000-"]
    _check_unpacked(tmp_path, ["AWA2"])
    assert not (tmp_path / "CUB").exists()


def test_interrupted_resumes_automatically(tmp_path):
    data = build_zip()
    with Server(data, drop_first=2, drop_after=30_000) as srv:
        download_xlsa17(tmp_path, "CUB", url=srv.url, timeout=10, retries=3, progress=False)
        assert [r["range"] for r in srv.requests] == [None, "bytes=30000-", "bytes=60000-"]
    _check_unpacked(tmp_path, ["CUB"])


def test_server_ignoring_range_restarts(tmp_path):
    data = build_zip()
    with Server(data, ranges=False, drop_first=1, drop_after=60_000) as srv:
        download_xlsa17(tmp_path, "APY", url=srv.url, timeout=10, progress=False)
        assert [r["range"] for r in srv.requests] == [None, "bytes=60000-"]  # asked, got 200: restarted
    _check_unpacked(tmp_path, ["APY"])


def test_stale_part_larger_than_file(tmp_path):
    data = build_zip(["SUN"])
    (tmp_path / ".xlsa17.zip.part").write_bytes(b"x" * (len(data) + 10))
    with Server(data) as srv:
        download_xlsa17(tmp_path, "SUN", url=srv.url, timeout=10, progress=False)
    _check_unpacked(tmp_path, ["SUN"])


def test_corrupted_archive(tmp_path):
    data = bytearray(build_zip())
    data[len(data) // 2 : len(data) // 2 + 64] = b"\0" * 64  # damages a member's compressed bytes
    with Server(bytes(data)) as srv:
        with pytest.raises(SZSLError, match="corrupt zip archive"):
            download_xlsa17(tmp_path, url=srv.url, timeout=10, progress=False)
    assert not any(p.is_dir() for p in tmp_path.iterdir())
    assert not (tmp_path / ".xlsa17.zip").exists()


def test_not_a_zip_and_bad_sha(tmp_path):
    with Server(b"<html>not a zip</html>") as srv:
        with pytest.raises(SZSLError, match="corrupt zip archive"):
            download_xlsa17(tmp_path, url=srv.url, timeout=10, progress=False)
    data = build_zip()
    with Server(data) as srv:
        with pytest.raises(SZSLError, match="sha256"):
            download_xlsa17(tmp_path, url=srv.url, sha256="0" * 64, timeout=10, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_missing_member(tmp_path):
    with Server(build_zip(drop="AWA1/res101.mat")) as srv:
        with pytest.raises(SZSLError, match="member xlsa17/data/AWA1/res101.mat missing") as info:
            download_xlsa17(tmp_path, "AWA1", url=srv.url, timeout=10, progress=False)
        assert "corrupt" not in str(info.value)
        download_xlsa17(tmp_path, "AWA2", url=srv.url, timeout=10, progress=False)  # other datasets fine
    _check_unpacked(tmp_path, ["AWA2"])


def test_http_404_and_refused(tmp_path):
    with Server(b"", status=404) as srv:
        with pytest.raises(SZSLError, match="HTTP 404"):
            download_xlsa17(tmp_path, url=srv.url, timeout=10, progress=False)
        port = srv.httpd.server_address[1]
    with pytest.raises(SZSLError, match="cannot reach"):
        download_xlsa17(tmp_path, url=f"http://127.0.0.1:{port}/xlsa17.zip", timeout=5, progress=False)


def test_silent_server_times_out(tmp_path):
    with socket.socket() as sock:  # accepts connections (backlog) but never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/xlsa17.zip"
        start = time.monotonic()
        with pytest.raises(SZSLError, match="timed out|cannot reach"):
            download_xlsa17(tmp_path, "APY", url=url, timeout=0.5, progress=False)
        assert time.monotonic() - start < 5


def test_existing_metadata_folder_is_completed(tmp_path):
    (tmp_path / "AWA2").mkdir()
    (tmp_path / "AWA2" / "labels_1based.npy").write_bytes(b"keep me")
    with Server(build_zip(["AWA2"])) as srv:
        download_xlsa17(tmp_path, "AWA2", url=srv.url, timeout=10, progress=False)
    _check_unpacked(tmp_path, ["AWA2"])
    assert (tmp_path / "AWA2" / "labels_1based.npy").read_bytes() == b"keep me"


def test_cli_env_url_and_errors(tmp_path, monkeypatch, capsys):
    with Server(build_zip(["APY"])) as srv:
        monkeypatch.setenv("SZSL_XLSA17_URL", srv.url)
        assert main(["data", "download", "--root", str(tmp_path), "--dataset", "apy", "--no-progress", "--timeout", "10"]) == 0
    assert "ready:" in capsys.readouterr().out
    _check_unpacked(tmp_path, ["APY"])
    assert main(["data", "download", "--root", str(tmp_path), "--dataset", "nope"]) == 2
    assert main(["data", "download", "--root", str(tmp_path), "--dataset", "CUB", "--url", "ftp://x/y.zip"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("szsl: error:") for line in err)


def _patch_member(data: bytes, member: str, *, flags: int = 0, method: int | None = None) -> bytes:
    """``data`` with ``member``'s general-purpose flags OR-ed with ``flags`` and/or its compression method set,
    in both its local header and its central-directory entry (zipfile can write neither an encrypted nor an
    unknown-method member)."""
    out = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        local = zf.getinfo(member).header_offset
    name = member.encode()
    central = out.find(b"PK\x01\x02")  # the first central-directory entry; scan on from there
    while central != -1:
        n = int.from_bytes(out[central + 28 : central + 30], "little")
        if bytes(out[central + 46 : central + 46 + n]) == name:
            break
        central = out.find(b"PK\x01\x02", central + 4)
    assert out[local : local + 4] == b"PK\x03\x04" and central != -1
    for flag_at, method_at in ((local + 6, local + 8), (central + 8, central + 10)):
        out[flag_at] |= flags
        if method is not None:
            out[method_at : method_at + 2] = method.to_bytes(2, "little")
    return bytes(out)


@pytest.mark.parametrize(
    "patch, message",
    [
        ({"flags": 0x1}, "member xlsa17/data/AWA2/res101.mat is encrypted"),
        ({"method": 99}, "member xlsa17/data/AWA2/res101.mat uses compression method 99"),
    ],
)
def test_unreadable_member_is_one_line_and_a_rerun_downloads_again(tmp_path, capsys, patch, message):
    good = build_zip(["AWA2"])
    bad = _patch_member(good, "xlsa17/data/AWA2/res101.mat", **patch)
    argv = ["data", "download", "--root", str(tmp_path), "--dataset", "AWA2", "--no-progress", "--timeout", "10"]
    with Server(bad) as srv:
        assert main([*argv, "--url", srv.url]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("szsl: error: ") and "\n" not in err and message in err and "re-run to download again" in err
    assert list(tmp_path.iterdir()) == []  # the bad archive is gone, no half dataset
    with Server(good) as srv:
        assert main([*argv, "--url", srv.url]) == 0
        assert len(srv.requests) == 1
    _check_unpacked(tmp_path, ["AWA2"])


def test_a_local_copy_by_file_url_or_path(tmp_path, capsys):
    data = build_zip(["CUB", "APY"])
    copy = tmp_path / "downloads" / "xlsa17.zip"
    copy.parent.mkdir()
    copy.write_bytes(data)
    sha = hashlib.sha256(data).hexdigest()
    root1, root2 = tmp_path / "r1", tmp_path / "r2"
    download_xlsa17(root1, "CUB", url=copy.as_uri(), sha256=sha, progress=False)
    _check_unpacked(root1, ["CUB"])
    assert main(["data", "download", "--root", str(root2), "--dataset", "apy", "--url", str(copy), "--no-progress"]) == 0
    _check_unpacked(root2, ["APY"])
    assert copy.read_bytes() == data  # the user's copy is left alone
    capsys.readouterr()
    # a wrong sha256 removes the copied archive, never the user's file
    with pytest.raises(SZSLError, match="sha256"):
        download_xlsa17(tmp_path / "r3", "CUB", url=str(copy), sha256="0" * 64, progress=False)
    assert copy.read_bytes() == data and list((tmp_path / "r3").iterdir()) == []
    for url, expected in [
        (str(tmp_path / "nope.zip"), "nope.zip: local copy of the archive not found"),
        ((tmp_path / "nope.zip").as_uri(), "nope.zip: local copy of the archive not found"),
        (str(tmp_path), "local copy of the archive is a folder, expected a regular file"),
        ("file://otherhost/x.zip", "file:// URL must name a local path"),
    ]:
        with pytest.raises(SZSLError, match=expected):
            download_xlsa17(tmp_path / "r4", "CUB", url=url, progress=False)


def test_the_release_digest_is_checked_by_default_and_no_verify_skips_it(tmp_path, monkeypatch, capsys):
    """A known release digest (download.XLSA17_SHA256) is checked without --sha256; --no-verify skips it (a mirror that
    repackages); --sha256 and --no-verify together are refused. While the digest is unknown only --sha256 is checked."""
    from szsl.data import download

    data = build_zip(["CUB"])
    assert download.XLSA17_SHA256 is None or re.fullmatch(r"[0-9a-f]{64}", download.XLSA17_SHA256)
    monkeypatch.setattr(download, "XLSA17_SHA256", "0" * 64)  # the release's digest; this archive is a repackaged one
    with Server(data) as srv:
        with pytest.raises(SZSLError, match=f"sha256 {hashlib.sha256(data).hexdigest()} does not match the expected {'0' * 64}"):
            download_xlsa17(tmp_path / "a", "CUB", url=srv.url, timeout=10, progress=False)
        assert not (tmp_path / "a" / "CUB").exists() and not list((tmp_path / "a").glob(".xlsa17*"))
        args = ["data", "download", "--root", str(tmp_path / "b"), "--dataset", "CUB", "--url", srv.url, "--quiet"]
        assert main(args) == 2
        assert "does not match" in capsys.readouterr().err
        assert main(args + ["--no-verify"]) == 0
        _check_unpacked(tmp_path / "b", ["CUB"])
        assert main(args + ["--no-verify", "--sha256", "0" * 64]) == 2
        assert capsys.readouterr().err.endswith("szsl: error: --sha256 and --no-verify contradict each other: give one of them\n")
        # an explicit --sha256 is the one checked
        download_xlsa17(tmp_path / "c", "CUB", url=srv.url, sha256=hashlib.sha256(data).hexdigest(), timeout=10, progress=False)
        _check_unpacked(tmp_path / "c", ["CUB"])


def _zip_with_splits(att_splits: dict[str, bytes]) -> bytes:
    """build_zip's archive with the given att_splits.mat bytes for some datasets."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for ds, splits in att_splits.items():
            for name in FILES:
                zf.writestr(f"xlsa17/data/{ds}/{name}", splits if name == "att_splits.mat" else _content(ds, name))
    return buf.getvalue()


def test_the_shipped_split_digests_are_those_of_the_real_release_files():
    from szsl.data.release import PROPOSED_SPLIT, SPLIT_KEYS, split_digest
    from szsl.data.xlsa17 import _read_splits
    from tests.helpers.shared_data import DATASETS as REAL
    from tests.helpers.shared_data import shared_xlsa17_root

    root = shared_xlsa17_root()
    if root is None:
        pytest.skip("the real xlsa17 metadata (../shared/xlsa17) is not on this machine")
    assert sorted(PROPOSED_SPLIT) == sorted(REAL)
    for ds in REAL:
        splits = _read_splits(root / ds / "att_splits.mat")
        digest, sizes, n_classes = PROPOSED_SPLIT[ds]
        assert (split_digest(splits), tuple(len(splits[k]) for k in SPLIT_KEYS), len(splits["class_names"])) == (digest, sizes, n_classes)


def test_an_archive_whose_split_is_not_the_releases_is_refused_before_unpacking(tmp_path, capsys):
    """A readable att_splits.mat with another Proposed Split (here: one test-unseen image moved to test-seen)
    stops the download with one line, removes the archive and unpacks nothing;
    --no-verify accepts it. The real file itself passes."""
    import scipy.io

    from tests.helpers.shared_data import shared_xlsa17_root

    root = shared_xlsa17_root()
    if root is None:
        pytest.skip("the real xlsa17 metadata (../shared/xlsa17) is not on this machine")
    real = (root / "APY" / "att_splits.mat").read_bytes()
    data = {k: v for k, v in scipy.io.loadmat(root / "APY" / "att_splits.mat").items() if not k.startswith("__")}
    moved = dict(data, test_seen_loc=np.vstack([data["test_seen_loc"], data["test_unseen_loc"][:1]]),
                 test_unseen_loc=data["test_unseen_loc"][1:])
    out = io.BytesIO()
    scipy.io.savemat(out, moved)
    copy = tmp_path / "xlsa17.zip"
    copy.write_bytes(_zip_with_splits({"APY": out.getvalue()}))
    with pytest.raises(SZSLError, match=r"not the xlsa17 release's Proposed Split \(trainval / test_seen / test_unseen images "
                       r"5932/1484/7923, 32 classes; the release has 5932/1483/7924, 32 classes\)"):
        download_xlsa17(tmp_path / "r1", "APY", url=str(copy), progress=False)
    assert list((tmp_path / "r1").iterdir()) == []  # no archive, no dataset folder, no temporary copy
    assert main(["data", "download", "--root", str(tmp_path / "r2"), "--dataset", "APY", "--url", str(copy), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--no-verify keeps a mirror's own split" in err
    download_xlsa17(tmp_path / "r3", "APY", url=str(copy), verify=False, progress=False)
    assert (tmp_path / "r3" / "APY" / "att_splits.mat").read_bytes() == out.getvalue()

    copy.write_bytes(_zip_with_splits({"APY": real}))
    download_xlsa17(tmp_path / "r4", "APY", url=str(copy), progress=False)
    assert (tmp_path / "r4" / "APY" / "att_splits.mat").read_bytes() == real
