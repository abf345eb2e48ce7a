"""Determinism across processes and numerical safety at the CLI level.

test_train.py already checks same-seed weights within one process (API); here: two separate
``szsl train --save`` processes give identical metrics and bit-identical tensors; a diverging
``szsl tune`` records FAILED trials, never a score; the edges of the search space through
``szsl train`` work or fail with one line.
"""

from __future__ import annotations

import hashlib
import json
import subprocess

import pytest
import torch

from szsl.cli import main
from tests.helpers.reliability import env, report, szsl

TRAIN = ["train", "--hidden", "32", "--epochs", "3", "--batch-size", "128", "--seed", "5", "--device", "cpu"]


def _tensor_digest(path) -> dict[str, str]:
    payload = torch.load(path, map_location="cpu", weights_only=True)
    out = {}
    for key, value in sorted(payload["state"].items()):
        out[f"state.{key}"] = hashlib.sha256(value.contiguous().numpy().tobytes()).hexdigest()
    for key in ("class_attributes", "seen"):
        out[key] = hashlib.sha256(payload[key].contiguous().numpy().tobytes()).hexdigest()
    return out


def test_same_seed_two_processes_identical_metrics_and_weights(tmp_path):
    runs = []
    for i in range(2):
        model, metrics = tmp_path / f"m{i}.pt", tmp_path / f"r{i}.json"
        done = subprocess.run(
            szsl(*TRAIN, "--save", str(model), "--json", str(metrics)), env=env(), capture_output=True, text=True, check=False, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        result = json.loads(metrics.read_text())
        result.pop("train_seconds", None)
        runs.append((result, _tensor_digest(model), model.read_bytes()))
    (r0, d0, b0), (r1, d1, b1) = runs
    assert r0 == r1  # U, S, H, T1 and the config, exactly
    assert d0 == d1  # every tensor, bit for bit
    report("determinism:train_two_processes", metrics_equal=True, tensors_equal=True, file_bytes_equal=b0 == b1)


def test_other_seed_differs(tmp_path):
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    assert main([*TRAIN, "--save", str(a)]) == 0
    assert main([*TRAIN, "--seed", "6", "--save", str(b)]) == 0
    assert _tensor_digest(a)["state.W1"] != _tensor_digest(b)["state.W1"]


# ------------------------------------------------------------------------------ divergence


def test_diverging_tune_fails_trials_never_scores_them(tmp_path, capsys):
    import optuna

    space = tmp_path / "space.json"
    space.write_text(json.dumps({"lr": 1e6, "optimizer": "sgd", "hidden": 16, "batch_size": 256, "epochs": 2}))
    db = tmp_path / "d.db"
    code = main(
        [
            "tune",
            "--trials",
            "2",
            "--batch",
            "5",
            "--space",
            str(space),
            "--storage",
            f"sqlite:///{db}",
            "--study",
            "d",
            "--out",
            str(tmp_path / "best.json"),
            "--device",
            "cpu",
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "trials diverged; lower the lr range" in err
    trials = optuna.load_study(study_name="d", storage=f"sqlite:///{db}").trials
    assert trials and all(t.state.name == "FAIL" and t.value is None for t in trials)
    assert all(t.user_attrs.get("diverged") and "diverged at epoch 1" in t.user_attrs["fail_reason"] for t in trials)
    assert not (tmp_path / "best.json").exists()
    report("numerics:diverging_tune", failed_trials=len(trials), complete_trials=0)


def test_diverging_train_stops_with_one_line(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert (
        main(["train", "--lr", "1e6", "--optimizer", "sgd", "--hidden", "16", "--epochs", "50", "--device", "cpu", "--json", str(out)]) == 2
    )
    err = capsys.readouterr().err
    last = err.strip().split("\n")[-1].rsplit("\r", 1)[-1]
    assert last.startswith("szsl: error: training diverged at epoch 1 (loss NaN/inf") and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize(
    "edge",
    [["--tau", "1e-3"], ["--tau", "100"], ["--q", "0"], ["--q", "1"], ["--alpha", "0"], ["--alpha", "1"], ["--batch-size", "100000"],
     ["--q", "1", "--alpha", "1", "--tau", "1e-3"], ["--soft-label", "nearest", "--q", "1"], ["--l1", "1", "--l2", "1"]],
)  # fmt: skip
def test_edges_of_the_space_through_the_cli(edge, tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["train", "--hidden", "8", "--epochs", "2", "--device", "cpu", "--json", str(out), *edge])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if code == 0:
        result = json.loads(out.read_text())
        assert all(0 <= result[k] <= 100 for k in ("U", "S", "H", "T1"))
    else:
        assert code == 2 and err.strip().split("\n")[-1].rsplit("\r", 1)[-1].startswith("szsl: error: ")
