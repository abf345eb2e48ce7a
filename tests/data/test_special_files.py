"""Own-data files that are not regular files (a FIFO, a folder) fail at once with one line.

Opening a FIFO for reading blocks until a writer appears, i.e. forever: every reader must check
the file type first. Each case runs under a timeout, so a regression fails instead of hanging.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from szsl.data.generic import load_generic
from szsl.errors import SZSLError
from tests.helpers.generic import small_dataset, write_csv
from tests.helpers.timing import alarm_after

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs os.mkfifo")

SRC = str(Path(__file__).resolve().parents[2] / "src")


def deadline(seconds: int = 30):
    """Raise TimeoutError if the block blocks for ``seconds`` (an open() of a FIFO is interrupted)."""
    return alarm_after(seconds)


def test_fifo_image_fails_at_once_and_leaves_nothing(tmp_path):
    """The hardening issue's case: a FIFO named in images.csv `file`, features to be extracted."""
    pytest.importorskip("torchvision")
    from PIL import Image

    ds = tmp_path / "ds"
    (ds / "images").mkdir(parents=True)
    write_csv(ds / "classes.csv", ["name", "split", "x", "y"], [["a", "seen", 1, 0], ["b", "unseen", 0, 1]])
    Image.new("RGB", (16, 16), (10, 20, 30)).save(ds / "images" / "ok.png")
    os.mkfifo(ds / "images" / "pipe.png")
    write_csv(ds / "images.csv", ["file", "class"], [["ok.png", "a"], ["pipe.png", "a"], ["ok.png", "b"]])
    (ds / "dataset.json").write_text(json.dumps({"random_init": True, "device": "cpu"}))
    before = sorted(p.name for p in ds.iterdir())
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "szsl", "data", "check", "--dataset", str(ds)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and lines[0].startswith("szsl: error: "), proc.stderr
    assert "pipe.png" in lines[0] and "FIFO" in lines[0] and "regular file" in lines[0]
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert sorted(p.name for p in ds.iterdir()) == before  # no .features.npy.parts/, no features.npy


@pytest.mark.parametrize("name", ["classes.csv", "images.csv", "features.npy", "features.files.txt", "dataset.json"])
def test_fifo_dataset_files_are_one_line(tmp_path, name):
    ds = tmp_path / "ds"
    small_dataset(ds)
    if name == "features.files.txt":  # read when images.csv has `file`
        write_csv(ds / "images.csv", ["class", "file"], [[c, f"{i}.png"] for i, c in enumerate(["cat"] * 6 + ["dog"] * 6 + ["cow"] * 6)])
        np.save(ds / "features.npy", np.random.default_rng(0).normal(size=(18, 8)).astype(np.float32))
    target = ds / name
    target.unlink(missing_ok=True)
    os.mkfifo(target)
    with deadline(), pytest.raises(SZSLError) as err:
        load_generic(ds)
    message = str(err.value)
    assert str(target) in message and "FIFO" in message and "expected a regular file" in message
    assert target.exists() and not target.is_file()  # the FIFO was neither read nor replaced


def test_folder_in_place_of_features_file(tmp_path):
    ds = tmp_path / "ds"
    small_dataset(ds)
    (ds / "features.npy").unlink()
    (ds / "features.npy").mkdir()
    with deadline(), pytest.raises(SZSLError, match=r"features.npy: .*is a folder, expected a regular file"):
        load_generic(ds)


def test_fifo_manifest_named_directly(tmp_path):
    ds = tmp_path / "ds"
    small_dataset(ds)
    os.mkfifo(ds / "my.json")
    with deadline(), pytest.raises(SZSLError, match=r"my.json: .*FIFO.*expected a regular file"):
        load_generic(ds / "my.json")


@pytest.mark.parametrize("name", ["trainvalclasses.txt", "att_splits.mat", "res101.mat"])
def test_fifo_in_an_xlsa17_folder(awa2, cache_dir, name):
    from szsl.data.xlsa17 import load_xlsa17

    (awa2 / name).unlink(missing_ok=True)
    os.mkfifo(awa2 / name)
    with deadline(), pytest.raises(SZSLError, match=rf"{name}: .*FIFO.*expected a regular file"):
        load_xlsa17(awa2.parent, "AWA2")


def _png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG that declares width x height pixels (signature + IHDR + empty IDAT + IEND): a few dozen bytes."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def test_decompression_bomb_image_is_one_line_and_leaves_nothing(tmp_path, capsys):
    """A PNG declaring 30000x30000 pixels: pillow's DecompressionBombError becomes one line, exit 2."""
    pytest.importorskip("torchvision")
    from PIL import Image

    from szsl.cli import main

    ds = tmp_path / "ds"
    (ds / "images").mkdir(parents=True)
    write_csv(ds / "classes.csv", ["name", "split", "x", "y"], [["a", "seen", 1, 0], ["b", "unseen", 0, 1]])
    Image.new("RGB", (16, 16), (10, 20, 30)).save(ds / "images" / "ok.png")
    _png_header_only(ds / "images" / "bomb.png", 30000, 30000)
    write_csv(ds / "images.csv", ["file", "class"], [["ok.png", "a"], ["bomb.png", "a"], ["ok.png", "b"]])
    (ds / "dataset.json").write_text(json.dumps({"random_init": True, "device": "cpu"}))
    before = sorted(p.name for p in ds.iterdir())
    with deadline(120):
        assert main(["data", "check", "--dataset", str(ds)]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("szsl: error: ")]
    assert len(errors) == 1 and "bomb.png" in errors[0] and "too large" in errors[0] and "900000000 pixels" in errors[0], err
    assert "Traceback" not in err
    assert sorted(p.name for p in ds.iterdir()) == before  # no .features.npy.parts/, no features.npy
