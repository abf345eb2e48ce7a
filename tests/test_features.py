"""ResNet-101 feature extraction: shape, preprocessing, resume, weights handling (CPU, offline)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torchvision")
PIL = pytest.importorskip("PIL")

from PIL import Image  # noqa: E402

import szsl.features as F  # noqa: E402
from szsl.cli import main  # noqa: E402
from szsl.errors import SZSLError  # noqa: E402


def make_images(folder, n=6, size=(20, 14)):
    rng = np.random.default_rng(0)
    for i in range(n):
        sub = folder / ("a" if i % 2 else "b")
        sub.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 255, size=(size[1], size[0], 3), dtype=np.uint8)).save(sub / f"{i:02d}.png")
    (folder / "notes.txt").write_text("not an image")
    return F.list_images(folder)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("imgs")
    return folder, make_images(folder)


@pytest.fixture(scope="module")
def reference(images, tmp_path_factory):
    folder, names = images
    out = tmp_path_factory.mktemp("ref") / "feats.npy"
    feats = F.extract_features([folder / n for n in names], out, names=names, batch_size=4, device="cpu", random_init=True, progress=False)
    return out, np.array(feats)


def test_list_images_is_sorted_relative_and_skips_other_files(images):
    _, names = images
    assert names == sorted(names) and len(names) == 6 and all(n.endswith(".png") and "/" in n for n in names)


def test_preprocessing_is_the_xlsa17_one():
    t = F.preprocess_transform()
    x = t(Image.new("RGB", (300, 500), (124, 116, 104)))
    assert tuple(x.shape) == (3, 224, 224)
    assert float(x.abs().max()) < 0.01  # the ImageNet mean maps to ~0
    assert F.RESIZE == 256 and F.CROP == 224 and F.IMAGENET_MEAN == (0.485, 0.456, 0.406) and F.IMAGENET_STD == (0.229, 0.224, 0.225)


def test_features_shape_files_list_and_determinism(images, reference, capsys):
    folder, names = images
    out, feats = reference
    assert feats.shape == (6, F.FEATURE_DIM) and feats.dtype == np.float32 and np.isfinite(feats).all()
    assert (out.parent / "feats.files.txt").read_text().split() == names
    assert not (out.parent / ".feats.npy.parts").exists()
    # batch size does not change the result; a single image equals its row
    one = F.extract_features([folder / names[3]], out.parent / "one.npy", batch_size=1, device="cpu", random_init=True, progress=False)
    np.testing.assert_allclose(one[0], feats[3], rtol=1e-4, atol=1e-5)
    assert "RANDOM weights" in capsys.readouterr().err


def test_interrupted_extraction_resumes_and_skips_done_chunks(images, reference, tmp_path, monkeypatch):
    folder, names = images
    _, ref = reference
    out = tmp_path / "f.npy"
    real = F._load_image
    calls = []

    def failing(path, transform):
        calls.append(path)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(path, transform)

    monkeypatch.setattr(F, "_load_image", failing)
    with pytest.raises(KeyboardInterrupt):
        F.extract_features(
            [folder / n for n in names], out, names=names, batch_size=2, chunk_images=4, device="cpu", random_init=True, progress=False
        )
    assert not out.exists()
    parts = tmp_path / ".f.npy.parts"
    assert sorted(p.name for p in parts.iterdir()) == ["chunk-00000.npy", "progress.json"]

    calls.clear()
    monkeypatch.setattr(F, "_load_image", lambda p, t: (calls.append(p), real(p, t))[1])
    feats = F.extract_features(
        [folder / n for n in names], out, names=names, batch_size=2, chunk_images=4, device="cpu", random_init=True, progress=False
    )
    assert len(calls) == 2  # the first chunk of 4 was skipped
    np.testing.assert_allclose(feats, ref, rtol=1e-4, atol=1e-5)
    assert not parts.exists()
    # Done: a third run reads nothing
    calls.clear()
    F.extract_features(
        [folder / n for n in names], out, names=names, batch_size=2, chunk_images=4, device="cpu", random_init=True, progress=False
    )
    assert calls == []


def test_weights_file_and_missing_weights_message(images, reference, tmp_path, monkeypatch):
    import torch

    folder, names = images
    _, ref = reference
    net = F.load_resnet101(random_init=True)
    net.fc = torch.nn.Linear(2048, 1000)  # a full torchvision state dict, fc included
    torch.save(net.state_dict(), tmp_path / "w.pth")
    del net
    feats = F.extract_features(
        [folder / n for n in names[:2]], tmp_path / "w.npy", names=names[:2], device="cpu", weights=tmp_path / "w.pth", progress=False
    )
    np.testing.assert_allclose(feats, ref[:2], rtol=1e-4, atol=1e-5)

    torch.save({"conv1.weight": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(SZSLError, match="not a torchvision resnet101 state dict"):
        F.load_resnet101(weights=tmp_path / "bad.pth")
    (tmp_path / "junk.pth").write_bytes(b"junk")
    with pytest.raises(SZSLError, match="junk.pth: cannot be read as a PyTorch state dict"):
        F.load_resnet101(weights=tmp_path / "junk.pth")

    # No weights in the (empty) hub cache: one line saying how to provide them, never a download.
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(SZSLError) as exc:
        F.load_resnet101()
    msg = str(exc.value)
    assert (
        "never downloads" in msg
        and str(tmp_path / "hub" / "checkpoints" / "resnet101-63fe2227.pth") in msg
        and "--weights PATH" in msg
        and "\n" not in msg
    )


def test_cli_errors_are_one_line(tmp_path, capsys):
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    assert main(["features", "--images", str(folder), "--out", str(tmp_path / "f.npy"), "--random-init", "--quiet", "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("szsl: error: ") and "broken.jpg: cannot be read as an image" in err
    assert main(["features", "--images", str(tmp_path / "none"), "--out", str(tmp_path / "f.npy"), "--random-init"]) == 2
    assert "image folder not found" in capsys.readouterr().err
    assert main(["features", "--images", str(folder), "--out", str(tmp_path / "f.csv"), "--random-init"]) == 2
    assert "name the output file *.npy" in capsys.readouterr().err


def test_generic_dataset_extracts_missing_features_on_load(images, reference, tmp_path):
    import csv
    import json
    import shutil

    from szsl.data import load_benchmark

    folder, names = images
    _, ref = reference
    ds = tmp_path / "ds"
    shutil.copytree(folder, ds / "pics")
    with open(ds / "classes.csv", "w", newline="") as fh:
        csv.writer(fh).writerows([["name", "split", "x", "y"], ["a", "seen", 1, 0], ["b", "unseen", 0, 1]])
    with open(ds / "images.csv", "w", newline="") as fh:  # reverse order: rows are matched by file name
        csv.writer(fh).writerows([["file", "class"], *[[n, n.split("/")[0]] for n in reversed(names)]])
    (ds / "dataset.json").write_text(json.dumps({"image_dir": "pics", "random_init": True, "batch_size": 4, "device": "cpu"}))
    b = load_benchmark(str(ds / "dataset.json"))
    assert (ds / "features.npy").is_file() and (ds / "features.files.txt").read_text().split() == list(reversed(names))
    np.testing.assert_allclose(b.features, ref[::-1], rtol=1e-4, atol=1e-5)
    assert [b.class_names[label] for label in b.labels] == [n.split("/")[0] for n in reversed(names)]
