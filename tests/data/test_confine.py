"""An own-data folder reads only files inside itself (docs/own-data.md, "Files outside the folder"):
'..', absolute paths and symlinks that leave the folder are refused with one line naming the file and
the field, unless --allow-outside-paths (``allow_outside_paths=True``) is given. The same for every
file a folder names: dataset.json keys, the tables, the features, their row list, the images."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from szsl.data import load_benchmark
from szsl.data.confine import outside_paths_allowed
from szsl.data.generic import load_generic
from szsl.errors import SZSLError
from tests.helpers.generic import small_dataset, write_csv

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _outside_features(tmp_path) -> tuple[Path, Path]:
    """A dataset whose features live outside it; returns (dataset folder, outside features file)."""
    ds = tmp_path / "ds"
    small_dataset(ds)
    secret = tmp_path / "elsewhere" / "secret.npy"
    secret.parent.mkdir()
    os.replace(ds / "features.npy", secret)
    return ds, secret


def _manifest_relative(ds, tmp_path):
    (ds / "dataset.json").write_text(json.dumps({"features": "../elsewhere/secret.npy"}))


def _manifest_absolute(ds, tmp_path):
    (ds / "dataset.json").write_text(json.dumps({"features": str(tmp_path / "elsewhere" / "secret.npy")}))


def _symlinked_features(ds, tmp_path):
    os.symlink(tmp_path / "elsewhere" / "secret.npy", ds / "features.npy")


def _symlinked_classes(ds, tmp_path):
    os.replace(ds / "classes.csv", tmp_path / "elsewhere" / "classes.csv")
    os.symlink(tmp_path / "elsewhere" / "classes.csv", ds / "classes.csv")
    os.symlink(tmp_path / "elsewhere" / "secret.npy", ds / "features.npy")


def _manifest_images_table(ds, tmp_path):
    os.replace(ds / "images.csv", tmp_path / "elsewhere" / "images.csv")
    os.symlink(tmp_path / "elsewhere" / "secret.npy", ds / "features.npy")
    (ds / "dataset.json").write_text(json.dumps({"images": "../elsewhere/images.csv"}))


def _symlinked_manifest(ds, tmp_path):
    (tmp_path / "elsewhere" / "dataset.json").write_text(json.dumps({"features": "features.npy"}))
    os.symlink(tmp_path / "elsewhere" / "dataset.json", ds / "dataset.json")


CASES = {  # name: (how the folder points outside, the field the message names)
    "manifest ..": (_manifest_relative, "dataset.json 'features'"),
    "manifest absolute": (_manifest_absolute, "dataset.json 'features'"),
    "symlinked features": (_symlinked_features, "features file is a symlink to"),
    "symlinked classes.csv": (_symlinked_classes, "class table is a symlink to"),
    "manifest images ..": (_manifest_images_table, "dataset.json 'images'"),
    "symlinked dataset.json": (_symlinked_manifest, "dataset manifest is a symlink to"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_file_outside_the_folder_is_refused_unless_allowed(tmp_path, case):
    ds, _ = _outside_features(tmp_path)
    make, field = CASES[case]
    make(ds, tmp_path)
    with pytest.raises(SZSLError) as err:
        load_generic(ds, progress=False)
    message = str(err.value)
    assert field in message and "outside the dataset folder" in message and "--allow-outside-paths" in message, message
    assert "\n" not in message
    if case == "symlinked dataset.json":
        return  # the manifest names features.npy of the folder, which is not there: allowing it says so
    b = load_generic(ds, progress=False, allow_outside_paths=True)  # the explicit option reads it
    assert b.n_images == 30
    with outside_paths_allowed():  # ... as the CLI's --allow-outside-paths does for the whole run
        assert load_benchmark(str(ds)).n_images == 30


def test_paths_inside_the_folder_and_symlinks_within_it_are_read(tmp_path):
    ds = tmp_path / "ds"
    small_dataset(ds)
    (ds / "sub").mkdir()
    os.replace(ds / "features.npy", ds / "sub" / "f.npy")
    os.symlink("sub/f.npy", ds / "features.npy")  # a link that stays inside
    assert load_generic(ds, progress=False).n_images == 30
    (ds / "dataset.json").write_text(json.dumps({"features": "sub/../sub/f.npy"}))
    assert load_generic(ds, progress=False).n_images == 30


def test_the_folder_itself_may_be_reached_through_a_symlink(tmp_path):
    real = tmp_path / "real"
    small_dataset(real)
    os.symlink(real, tmp_path / "link")
    assert load_generic(tmp_path / "link", progress=False).n_images == 30


@pytest.mark.parametrize("entry", ["../../outside.png", "ABSOLUTE", "link.png"])
def test_an_image_outside_the_folder_is_never_opened(tmp_path, entry):
    """images.csv `file` with '..', an absolute path or a symlink out: refused before any image is read."""
    ds = tmp_path / "ds"
    (ds / "images").mkdir(parents=True)
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"not read")
    (ds / "images" / "ok.png").write_bytes(b"not read either")
    os.symlink(outside, ds / "images" / "link.png")
    entry = str(outside) if entry == "ABSOLUTE" else entry
    write_csv(ds / "classes.csv", ["name", "split", "x", "y"], [["a", "seen", 1, 0], ["b", "unseen", 0, 1]])
    write_csv(ds / "images.csv", ["file", "class"], [["ok.png", "a"], [entry, "a"], ["ok.png", "b"]])
    (ds / "dataset.json").write_text(json.dumps({"random_init": True, "device": "cpu"}))
    with pytest.raises(SZSLError, match=r"images.csv line 3 column 'file'.*outside the dataset folder"):
        load_generic(ds, progress=False)
    assert sorted(p.name for p in ds.iterdir()) == ["classes.csv", "dataset.json", "images", "images.csv"]  # nothing written


def test_the_cli_refuses_in_one_line_and_the_option_allows(tmp_path):
    ds, _ = _outside_features(tmp_path)
    _manifest_relative(ds, tmp_path)
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "szsl", "data", "check", "--dataset", str(ds)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("szsl: error: "), proc.stderr
    assert "dataset.json 'features'" in lines[0] and "secret.npy" in lines[0] and proc.stdout == ""
    proc = subprocess.run(cmd + ["--allow-outside-paths"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0 and "check       ok" in proc.stdout, proc.stderr


@pytest.mark.parametrize("command", ["train", "tune", "sweep", "compare", "reproduce", "data check"])
def test_every_command_that_reads_own_data_has_the_one_option(command):
    from szsl.cli import build_parser

    parser = build_parser()
    args = parser.parse_args([*command.split(), *(["q"] if command == "sweep" else []), "--allow-outside-paths"])
    assert args.allow_outside_paths is True


@pytest.mark.parametrize("allow", [False, True])
def test_a_nul_character_in_a_named_path_is_one_line_not_a_valueerror(tmp_path, allow):
    ds = tmp_path / "ds"
    small_dataset(ds)
    for key in ("features", "weights"):
        (ds / "dataset.json").write_text(json.dumps({key: "a\u0000b"}))
        with pytest.raises(SZSLError, match=f"dataset.json: '{key}' is .*a path with a NUL character"):
            load_generic(ds, progress=False, allow_outside_paths=allow)
    (ds / "dataset.json").unlink()
    (ds / "features.npy").unlink()
    write_csv(ds / "images.csv", ["file", "class"], [["o\x00k.png", "cat"], ["ok.png", "zebra"]])
    with pytest.raises(SZSLError, match=r"image of .*images.csv line 2 column 'file' is not a usable path"):
        load_generic(ds, progress=False, allow_outside_paths=allow)
