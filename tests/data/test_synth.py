"""Synthetic xlsa17 features: format, labels, determinism, difficulty, errors."""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import scipy.io

from szsl.cli import main
from szsl.data.synth import ridge_check, synthesize_xlsa17
from szsl.errors import SZSLError

DATASETS = ("AWA1", "AWA2", "CUB", "SUN", "APY")


def _meta(root: Path, ds: str):
    m = scipy.io.loadmat(str(root / ds / "att_splits.mat"))
    names = [str(x[0][0]).strip() for x in m["allclasses_names"]]
    idx = {n: i + 1 for i, n in enumerate(names)}
    lists = {
        f: [idx[line.strip()] for line in (root / ds / f).read_text().splitlines() if line.strip()]
        for f in ("trainvalclasses.txt", "testclasses.txt")
    }
    locs = {k: m[k].ravel().astype(np.int64) for k in ("trainval_loc", "test_seen_loc", "test_unseen_loc")}
    return m, names, lists["trainvalclasses.txt"], lists["testclasses.txt"], locs


def _read_v5(folder: Path):
    m = scipy.io.loadmat(str(folder / "res101.mat"))
    return m["features"], m["labels"], m["image_files"]


@pytest.mark.parametrize("ds", DATASETS)
def test_format_labels_and_values(shared_root, tmp_path, ds):
    folder = synthesize_xlsa17(shared_root, ds, tmp_path, seed=3, feature_dim=64)
    assert folder == tmp_path / ds
    # metadata copied byte for byte, nothing half-written left behind
    for src in (shared_root / ds).iterdir():
        if src.name == "att_splits.mat" or src.suffix == ".txt":
            assert (folder / src.name).read_bytes() == src.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == [ds]
    m, names, seen, unseen, locs = _meta(shared_root, ds)
    n = int(max(v.max() for v in locs.values()))
    feats, labels, files = _read_v5(folder)
    assert feats.shape == (64, n) and feats.dtype == np.float32
    assert labels.shape == (n, 1) and files.shape == (n, 1)
    assert np.isfinite(feats).all() and feats.min() >= 0.0
    zeros = float(np.mean(feats == 0))
    assert 0.15 < zeros < 0.6
    lab = labels.ravel().astype(np.int64)
    assert np.array_equal(lab, labels.ravel()) and lab.min() >= 1 and lab.max() <= len(names)
    for key, allowed in (("trainval_loc", seen), ("test_seen_loc", seen), ("test_unseen_loc", unseen)):
        assert np.isin(lab[locs[key] - 1], allowed).all(), key
    # every seen class has images in trainval and test_seen; every unseen class in test_unseen
    assert set(lab[locs["trainval_loc"] - 1]) == set(seen)
    assert set(lab[locs["test_seen_loc"] - 1]) == set(seen)
    assert set(lab[locs["test_unseen_loc"] - 1]) == set(unseen)
    first = str(files[0, 0].ravel()[0])
    assert first == f"synthetic/{names[lab[0] - 1]}/1.jpg"
    if ds == "AWA2":
        real = np.load(shared_root / ds / "labels_1based.npy")
        assert np.array_equal(lab, real)
    else:  # mild imbalance, not degenerate
        counts = np.bincount(lab[locs["trainval_loc"] - 1])[seen]
        assert counts.min() >= 1 and counts.max() / counts.min() < 6


def test_deterministic_and_seed_dependent(shared_root, tmp_path):
    def digest(seed, out):
        feats, labels, _ = _read_v5(synthesize_xlsa17(shared_root, "APY", out, seed=seed, feature_dim=32))
        return hashlib.sha256(feats.tobytes()).hexdigest(), hashlib.sha256(labels.tobytes()).hexdigest()

    a, b, c = digest(7, tmp_path / "a"), digest(7, tmp_path / "b"), digest(8, tmp_path / "c")
    assert a == b
    assert a[0] != c[0] and a[1] != c[1]


def test_overwrite_replaces_whole_folder(shared_root, tmp_path):
    synthesize_xlsa17(shared_root, "APY", tmp_path, seed=0, feature_dim=8)
    (tmp_path / "APY" / "stale.txt").write_text("x")
    synthesize_xlsa17(shared_root, "APY", tmp_path, seed=1, feature_dim=16)
    assert not (tmp_path / "APY" / "stale.txt").exists()
    assert _read_v5(tmp_path / "APY")[0].shape[0] == 16
    assert sorted(p.name for p in tmp_path.iterdir()) == ["APY"]


def test_write_beside_metadata(shared_root, tmp_path):
    root = tmp_path / "root"
    shutil.copytree(shared_root / "APY", root / "APY")
    synthesize_xlsa17(root, "APY", root, feature_dim=8)
    assert (root / "APY" / "res101.mat").is_file() and (root / "APY" / "trainclasses1.txt").is_file()
    assert sorted(p.name for p in root.iterdir()) == ["APY"]


def test_v73_matches_v5(shared_root, tmp_path):
    synthesize_xlsa17(shared_root, "APY", tmp_path / "v5", seed=2, feature_dim=16)
    synthesize_xlsa17(shared_root, "APY", tmp_path / "v73", seed=2, feature_dim=16, mat_format="v73")
    feats, labels, files = _read_v5(tmp_path / "v5" / "APY")
    path = tmp_path / "v73" / "APY" / "res101.mat"
    assert path.read_bytes()[:19] == b"MATLAB 7.3 MAT-file"
    assert h5py.is_hdf5(path)
    with h5py.File(path, "r") as f:
        assert f["features"].attrs["MATLAB_class"] == b"single"
        assert f["features"].shape == (feats.shape[1], feats.shape[0])  # stored transposed
        np.testing.assert_array_equal(f["features"][()].T, feats)
        np.testing.assert_array_equal(f["labels"][()].T, labels)
        ref = f["image_files"][0, 5]
        name = "".join(chr(c) for c in f[ref][()].ravel())
        assert name == str(files[5, 0].ravel()[0])
    with pytest.raises(NotImplementedError, match="v7.3"):
        scipy.io.loadmat(str(path))  # scipy sees the v7.3 header and refuses, as with real v7.3 files


def test_loads_with_xlsa17_reader(shared_root, tmp_path):
    xlsa17 = pytest.importorskip("szsl.data.xlsa17")
    real = np.load(shared_root / "AWA2" / "labels_1based.npy")
    synthesize_xlsa17(shared_root, "AWA2", tmp_path / "v5", feature_dim=16)
    b = xlsa17.load_xlsa17(tmp_path / "v5", "AWA2", cache_dir=tmp_path / "cache")
    assert b.features.shape == (len(real), 16)
    np.testing.assert_array_equal(np.asarray(b.labels), real - 1)
    # the v7.3 (HDF5) output reads the same as the v5 one
    synthesize_xlsa17(shared_root, "APY", tmp_path / "v5", seed=4, feature_dim=8)
    synthesize_xlsa17(shared_root, "APY", tmp_path / "v73", seed=4, feature_dim=8, mat_format="v73")
    b5 = xlsa17.load_xlsa17(tmp_path / "v5", "APY", cache_dir=tmp_path / "cache")
    b73 = xlsa17.load_xlsa17(tmp_path / "v73", "APY", cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(np.asarray(b5.features), np.asarray(b73.features))
    np.testing.assert_array_equal(b5.labels, b73.labels)


def _difficulty(shared_root, tmp_path, ds, dim, folder=None):
    feats, labels, _ = _read_v5(folder or synthesize_xlsa17(shared_root, ds, tmp_path, feature_dim=dim))
    m, names, seen, unseen, locs = _meta(shared_root, ds)
    att = np.asarray(m["att"], dtype=np.float64)
    att = (att / np.linalg.norm(att, axis=0)).T
    return ridge_check(
        feats.T,
        labels.ravel().astype(np.int64) - 1,
        att,
        locs["trainval_loc"] - 1,
        locs["test_seen_loc"] - 1,
        locs["test_unseen_loc"] - 1,
        np.array(seen) - 1,
        np.array(unseen) - 1,
    )


@pytest.mark.parametrize("ds", ["AWA2", "CUB"])
def test_difficulty_learnable_but_seen_biased(shared_root, tmp_path, ds):
    r = _difficulty(shared_root, tmp_path, ds, 256)
    chance = {"AWA2": 0.1, "CUB": 0.02}[ds]
    assert 2.5 * chance < r["zsl"] < 0.8  # learnable from attributes, far from perfect
    assert r["U"] < 0.5 * r["S"]  # GZSL strongly seen-biased
    assert r["unseen_as_seen"] > 0.5  # most unseen images predicted as a seen class


@pytest.mark.slow
def test_real_scale_awa2(shared_root, tmp_path):
    start = time.perf_counter()
    folder = synthesize_xlsa17(shared_root, "AWA2", tmp_path, seed=0)
    elapsed = time.perf_counter() - start
    assert elapsed < 60, elapsed
    r = _difficulty(shared_root, tmp_path, "AWA2", 2048, folder=folder)
    assert 0.3 < r["zsl"] < 0.7 and r["U"] < 0.5 * r["S"]


def test_errors(shared_root, tmp_path):
    with pytest.raises(SZSLError, match="unknown xlsa17 dataset .NOPE.: expected one of AWA1"):
        synthesize_xlsa17(shared_root, "NOPE", tmp_path)
    with pytest.raises(SZSLError, match=r"data root .*missing is not a folder"):
        synthesize_xlsa17(tmp_path / "missing", "AWA2", tmp_path)
    with pytest.raises(SZSLError, match="feature-dim"):
        synthesize_xlsa17(shared_root, "AWA2", tmp_path, feature_dim=0)
    with pytest.raises(SZSLError, match="mat_format"):
        synthesize_xlsa17(shared_root, "AWA2", tmp_path, mat_format="v7")
    # broken metadata: a class list naming an unknown class, overlapping splits
    bad = tmp_path / "bad"
    shutil.copytree(shared_root / "APY", bad / "APY")
    (bad / "APY" / "testclasses.txt").write_text("no_such_class\n")
    with pytest.raises(SZSLError, match="testclasses.txt"):
        synthesize_xlsa17(bad, "APY", tmp_path / "o")
    m = scipy.io.loadmat(str(shared_root / "APY" / "att_splits.mat"))
    m["test_seen_loc"] = np.vstack([m["test_seen_loc"], m["trainval_loc"][:1]])
    scipy.io.savemat(str(bad / "APY" / "att_splits.mat"), {k: v for k, v in m.items() if not k.startswith("__")})
    shutil.copyfile(shared_root / "APY" / "testclasses.txt", bad / "APY" / "testclasses.txt")
    with pytest.raises(SZSLError, match="exactly once"):
        synthesize_xlsa17(bad, "APY", tmp_path / "o")
    assert not (tmp_path / "o" / "APY").exists()


def test_cli(shared_root, tmp_path, capsys):
    assert (
        main(["data", "synth", "--root", str(shared_root), "--dataset", "apy", "--out", str(tmp_path), "--feature-dim", "8", "--seed", "1"])
        == 0
    )
    assert (tmp_path / "APY" / "res101.mat").is_file()
    assert "wrote" in capsys.readouterr().out
    assert main(["data", "synth", "--root", str(tmp_path / "nope"), "--dataset", "apy", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("szsl: error:") and err.count("\n") == 1
