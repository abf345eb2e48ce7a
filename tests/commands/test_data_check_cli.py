"""``szsl data check``: the summary on good data, one line + exit 2 on every bad input."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
import scipy.io

import szsl.data
from szsl.cli import main
from szsl.commands.data_check import feature_stats, summary_lines
from szsl.data.digits import load_digits_benchmark
from tests.helpers.xlsa17 import BAD_INPUTS

pytestmark = pytest.mark.usefixtures("cache_dir")  # every test gets its own feature cache


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["data", "check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_awa2(pristine, capsys):
    code, out, err = run(capsys, "--root", str(pristine), "--dataset", "awa2")
    assert (code, err) == (0, "")
    features = scipy.io.loadmat(pristine / "AWA2" / "res101.mat")["features"].astype(np.float64)
    lines = out.splitlines()
    assert len(lines) <= 24  # one screen
    assert lines[:5] == [
        "dataset     AWA2",
        f"source      {pristine / 'AWA2'}",
        "classes     50 total: 40 seen, 10 unseen",
        "images      37,322 total: trainval 23,527, test_seen 5,882, test_unseen 7,913",
        "attributes  85 per class",
    ]
    assert lines[5] == (
        f"features    {features.shape[0]} per image: min {features.min():.4g}, mean {features.mean():.4g}, "
        f"max {features.max():.4g}, zeros {100 * np.mean(features == 0):.2f}%"
    )
    assert [re.sub(r"\(.*?\)", "()", line) for line in lines[6:9]] == [
        f"fold {k}      27 train classes (), 13 val classes ()" for k in (1, 2, 3)
    ]
    assert lines[9:] == ["check       ok"]


def test_summary_digits_is_the_default(capsys):
    code, out, err = run(capsys)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "dataset     digits"
    assert "classes     10 total: 7 seen, 3 unseen" in out


def test_fold_image_counts():
    b = load_digits_benchmark()
    fold_lines = [line for line in summary_lines(b) if line.startswith("fold")]
    tv = b.labels[b.trainval]
    for line, fold in zip(fold_lines, b.folds, strict=True):
        n_train, n_val = np.isin(tv, fold.train_classes).sum(), np.isin(tv, fold.val_classes).sum()
        assert f"({n_train:,} trainval images)" in line and f"({n_val:,} trainval images)" in line


def test_feature_stats_in_blocks(monkeypatch):
    monkeypatch.setattr("szsl.commands.data_check._BLOCK_BYTES", 64)  # many tiny blocks
    x = np.random.default_rng(0).normal(size=(101, 7)).astype(np.float32)
    x[x < 0.3] = 0
    stats = feature_stats(x)
    assert stats["min"] == x.min() and stats["max"] == x.max()
    assert stats["mean"] == pytest.approx(x.astype(np.float64).mean())
    assert stats["zero_fraction"] == pytest.approx(np.mean(x == 0))


def test_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["data", "check", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "--root" in out and "--dataset" in out


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line(awa2, capsys, case):  # noqa: F811
    expected = BAD_INPUTS[case](awa2)
    code, out, err = run(capsys, "--root", str(awa2.parent), "--dataset", "AWA2")
    assert code == 2 and out == ""
    assert "Traceback" not in err and err.endswith("\n") and err.count("\n") == 1
    message = err[len("szsl: error: ") :].rstrip("\n")
    assert err.startswith("szsl: error: ")
    if isinstance(expected, re.Pattern):
        assert expected.fullmatch(message), message
    else:
        assert message == expected


def test_missing_root_option(capsys):
    code, out, err = run(capsys, "--dataset", "CUB")
    assert code == 2
    assert err == "szsl: error: --root is required for dataset CUB: the folder holding CUB/res101.mat (see 'szsl data download')\n"


def test_unknown_dataset(capsys, tmp_path):
    code, out, err = run(capsys, "--root", str(tmp_path), "--dataset", "imagenet")
    assert code == 2
    assert err == "szsl: error: unknown dataset 'imagenet': expected one of digits, AWA1, AWA2, CUB, SUN, APY\n"


# A benchmark from any loader is validated by the check command with generic names.
GENERIC_DAMAGE = {
    "label out of range": (
        lambda b: {"labels": np.where(np.arange(b.n_images) == 4, 10, b.labels)},
        "digits: 'labels' has label 10 for image 4, outside 0..9 (10 classes)",
    ),
    "nan attribute": (
        lambda b: {"attributes": np.where(np.arange(b.n_classes)[:, None] == 3, np.float32(np.nan), b.attributes)},
        "digits: 'attributes' has 13 non-finite values (NaN or inf), the first for class '3'",
    ),
    "split overlap": (
        lambda b: {"test_seen": np.concatenate([b.test_seen, b.trainval[:2]])},
        None,  # built below: depends on the indices
    ),
    "empty fold": (
        lambda b: {"folds": (dataclasses.replace(b.folds[0], val_classes=np.array([], np.int64)),) + b.folds[1:]},
        "digits: 'folds[0].val_classes' is empty",
    ),
}


@pytest.mark.parametrize("damage", sorted(GENERIC_DAMAGE))
def test_generic_validation_of_any_benchmark(capsys, monkeypatch, damage):
    good = load_digits_benchmark()
    change, expected = GENERIC_DAMAGE[damage]
    bad = dataclasses.replace(good, **change(good))
    if expected is None:
        expected = f"digits: image {int(np.sort(good.trainval[:2])[0])} is in both 'trainval' and 'test_seen' (2 in common)"
    monkeypatch.setattr(szsl.data, "load_benchmark", lambda dataset, root: bad)
    code, out, err = run(capsys)
    assert (code, out) == (2, "")
    assert err == f"szsl: error: {expected}\n"
