"""``szsl predict`` with a tampered model file: one line, exit 2, no predictions written."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from szsl import SZSLClassifier
from szsl.cli import main
from tests.helpers.train import toy_problem


@pytest.fixture(scope="module")
def payload():
    X, y, A = toy_problem()
    clf = SZSLClassifier(hidden=8, epochs=2, batch_size=64, device="cpu").fit(X, y, class_attributes=A)
    return clf._payload(), X


def _nan_attribute(p):
    p["class_attributes"][0, 0] = float("nan")


def _no_classes(p):
    p["class_attributes"], p["seen"] = p["class_attributes"][:0], p["seen"][:0]


@pytest.mark.parametrize(
    "change, message",
    [(_nan_attribute, "class_attributes contains NaN or inf"), (_no_classes, "expected at least 2 classes")],
)
def test_predict_refuses_a_model_with_bad_class_attributes(payload, tmp_path, capsys, change, message):
    import copy

    p, X = copy.deepcopy(payload[0]), payload[1]
    change(p)
    torch.save(p, tmp_path / "m.pt")
    np.save(tmp_path / "x.npy", X[:5].astype(np.float32))
    out = tmp_path / "pred.csv"
    code = main(["predict", "--model", str(tmp_path / "m.pt"), "--features", str(tmp_path / "x.npy"), "--out", str(out), "--device", "cpu"])
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 2 and captured.out == ""
    assert err.startswith("szsl: error: ") and "\n" not in err and "m.pt: not a valid szsl model file" in err and message in err
    assert not out.exists() and {q.name for q in tmp_path.iterdir()} == {"m.pt", "x.npy"}  # nothing written, no temporary left


@pytest.mark.parametrize("kind", ["pickle", "torch_numpy"])
def test_a_non_model_file_never_shows_torchs_weights_only_advice(tmp_path, capsys, kind):
    """torch's UnpicklingError text advises weights_only=False (running the file's code): the message must not pass that on."""
    import pickle

    model = tmp_path / "m.pt"
    if kind == "pickle":
        model.write_bytes(pickle.dumps({"a": 1}, protocol=4))
    else:
        torch.save({"x": np.arange(3)}, model)  # a numpy array: refused by the weights-only loader
    np.save(tmp_path / "x.npy", np.zeros((3, 4), dtype=np.float32))
    out = tmp_path / "pred.csv"
    code = main(["predict", "--model", str(model), "--features", str(tmp_path / "x.npy"), "--out", str(out), "--device", "cpu"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("szsl: error: ") and "\n" not in err, err
    assert "m.pt: not a valid szsl model file" in err and "weights_only" not in err and "Weights only" not in err, err
    assert not out.exists()
