"""``szsl reproduce`` / ``szsl sweep``: table, figures, caching, kill and resume."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from szsl.cli import main
from szsl.config import TrainConfig
from szsl.errors import SZSLError
from szsl.experiments.paper import PAPER_SZSL
from szsl.experiments.reproduce import find_datasets

REPO = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n"
FAST = ["--trials", "3", "--epochs", "2", "--batch", "3", "--device", "cpu", "--quiet"]
SMALL_SPACE = {"hidden": {"choices": [32, 64]}, "batch_size": {"choices": [128, 256]}}


@pytest.fixture
def small_space(tmp_path) -> list[str]:
    path = tmp_path / "small_space.json"
    path.write_text(json.dumps(SMALL_SPACE))
    return ["--space", str(path)]


def _study(url: str):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    (summary,) = optuna.get_all_study_summaries(url)
    return optuna.load_study(study_name=summary.study_name, storage=url)


def _complete(study):
    return {t.number: (t.value, t.params) for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"}


def test_reproduce_digits_writes_table_figures_and_resumes(tmp_path, capsys, small_space):
    out = tmp_path / "results"
    assert main(["reproduce", "--out", str(out), "--seeds", "0", "1", *small_space, *FAST]) == 0
    printed = capsys.readouterr().out
    assert "SZSL (ours" in printed and "digits U" in printed
    assert re.search(r"the final model averages \d trials? and the untuned anchor \(weight 0.67\) \(the best trial alone: H ", printed)
    for name in ("results.md", "results.json", "results.csv", "figure2_q.png", "figure3_tau_digits.png"):
        assert (out / name).is_file(), name
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == PNG
    md = (out / "results.md").read_text()
    assert "| SZSL (paper, Table 2) |" in md and "SZSL (ours, mean ± std, 2 seeds)" in md
    results = json.loads((out / "results.json").read_text())
    final = results["datasets"]["digits"]["final"]
    assert len(final["seeds"]) == 2 and set(final["mean"]) == {"U", "S", "H", "T1"}
    # The final model: the best trials within 3 points of validation H (at most 3), in the tune stage's order, then the
    # anchor: szsl's untuned setting, uncalibrated (--anchor auto: the digits have at most 4000 training images).
    tuned = results["datasets"]["digits"]["tune"]
    within = [t["config"] for t in tuned["top"][:3] if t["value"] >= tuned["best_value"] - 3.0]
    anchor = TrainConfig().to_dict()
    assert [{**m, "seed": 0} for m in final["ensemble"]] == [{**c, "seed": 0} for c in within] + [{**anchor, "seed": 0}]
    assert final["anchored"] is True and results["options"]["anchor"] == "auto"
    # The digits' folds validate on 2 classes without training images each: the anchor has 2/3 of the average.
    n = len(within)
    assert final["weights"] == pytest.approx([1 / (3 * n)] * n + [2 / 3])
    assert f"| {n} trial{'s' if n > 1 else ''} + the untuned setting (weight 0.67), calibrated" in md
    assert set(final["single"]) == {"seeds", "mean", "std"}
    assert f"{final['mean']['H']:.1f} ± {final['std']['H']:.1f}" in md
    # Both models from the same trainings: the headline calibrates each member by its trial's fold gamma, clipped at 0
    # (--calibrate seen, the default); plain is kept beside it.
    chosen = tuned["top"][: len(within)]
    gammas = final["calibrated"]["gammas"]
    assert gammas == [max(t["gamma"], 0.0) for t in chosen] + [0.0] and all(isinstance(g, float) for g in gammas)
    assert final["calibrated"]["mean"] == final["mean"] and set(final["calibrated"]) == {"seeds", "mean", "std", "gammas"}
    assert set(final["plain"]) == {"seeds", "mean", "std"}
    assert "calibrated (seen; gammas" in md and f"| {final['plain']['mean']['H']:.1f} ± {final['plain']['std']['H']:.1f} |" in md
    assert results["options"]["calibrate"] == "seen" and results["options"]["ensemble"] == 3
    sweep_q = results["datasets"]["digits"]["sweep_q"]
    assert [p["q"] for p in sweep_q["points"]] == [round(0.1 * i, 2) for i in range(11)]
    assert sweep_q["source"] == "test split, not used for selection"
    assert results["datasets"]["digits"]["sweep_tau"]["soft_labels"]["class"] == "8"
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [r["method"] for r in rows[-2:]] == ["SZSL (ours)", "duet (ours)"] and rows[-1]["dataset"] == "digits"
    # duet beside it: the same final model's members and gammas, blended with cn by a weight chosen on the folds
    duet = results["datasets"]["digits"]["duet"]
    assert duet["weight"] in (0.5, 1.0) and set(duet["fold_H"]) == {"0.5", "1.0"}
    assert duet["fold_H"][str(duet["weight"])] == max(duet["fold_H"].values()) and duet["cn"]["epochs"] == 25
    assert [r["seed"] for r in duet["seeds"]] == [0, 1] and float(rows[-1]["H"]) == round(duet["mean"]["H"], 2)
    assert "duet: SZSL + CN blended" in md and f"w={duet['weight']:g}" in md

    # Re-running finds every stage finished: nothing is retrained, the study is unchanged.
    url = "sqlite:///" + str(out / "szsl-tune.db")
    before = _complete(_study(url))
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "digits").glob("*.json")}
    assert set(stamps) == {"tune.json", "final.json", "duet.json", "sweep_q.json", "sweep_tau.json"}
    assert main(["reproduce", "--out", str(out), "--seeds", "0", "1", *small_space, *FAST]) == 0
    assert {p.name: p.stat().st_mtime_ns for p in (out / "digits").glob("*.json")} == stamps
    assert _complete(_study(url)) == before

    # --ensemble 1 --anchor off: the best trial alone (szsl 0.2's final model), the same numbers as the ensemble's "single".
    argv = ["reproduce", "--out", str(out), "--seeds", "0", "1", "--no-sweeps", "--ensemble", "1", "--anchor", "off", *small_space, *FAST]
    assert main(argv) == 0
    alone = json.loads((out / "results.json").read_text())["datasets"]["digits"]["final"]
    assert len(alone["ensemble"]) == 1 and alone["plain"]["mean"] == pytest.approx(final["single"]["mean"])
    # --calibrate none: the plain model alone, the same numbers as "plain" above (same trainings); full: the fold gammas as chosen.
    assert main(["reproduce", "--out", str(out), "--seeds", "0", "1", "--no-sweeps", "--calibrate", "none", *small_space, *FAST]) == 0
    plain = json.loads((out / "results.json").read_text())["datasets"]["digits"]["final"]
    assert "calibrated" not in plain and plain["mean"] == pytest.approx(final["plain"]["mean"])
    assert main(["reproduce", "--out", str(out), "--seeds", "0", "1", "--no-sweeps", "--calibrate", "full", *small_space, *FAST]) == 0
    full = json.loads((out / "results.json").read_text())["datasets"]["digits"]["final"]
    assert full["calibrated"]["gammas"] == [t["gamma"] for t in chosen] + [0.0]  # the anchor: never calibrated
    assert full["plain"]["mean"] == pytest.approx(final["plain"]["mean"])

    # More trials continue the same study: exactly one more trial, old ones kept.
    assert main(["reproduce", "--out", str(out), "--seeds", "0", "1", "--no-sweeps", *small_space, "--trials", "4", *FAST[2:]]) == 0
    after = _complete(_study(url))
    assert len(after) == 4 and {k: after[k] for k in before} == before


@pytest.fixture(scope="module")
def synthetic_apy(tmp_path_factory):
    from tests.helpers.shared_data import shared_xlsa17_root

    root = shared_xlsa17_root()
    if root is None:
        pytest.skip("real xlsa17 metadata not found (../shared/xlsa17 or $SZSL_SHARED_XLSA17)")
    from szsl.data.synth import synthesize_xlsa17

    out = tmp_path_factory.mktemp("synth")
    synthesize_xlsa17(root, "APY", out, seed=0, feature_dim=16)
    return out


def test_reproduce_xlsa17_table_has_the_papers_h(synthetic_apy, tmp_path, small_space):
    out = tmp_path / "r"
    assert (
        main(
            [
                "reproduce",
                "--root",
                str(synthetic_apy),
                "--out",
                str(out),
                "--seeds",
                "0",
                "--no-sweeps",
                *small_space,
                "--trials",
                "2",
                "--epochs",
                "1",
                "--batch",
                "2",
                "--device",
                "cpu",
                "--quiet",
            ]
        )
        == 0
    )
    md = (out / "results.md").read_text()
    header, _, paper, ours = md.split("\n\n")[2].splitlines()[:4]
    assert "aPY U" in header and "aPY H" in header
    assert paper.startswith("| SZSL (paper, Table 2) |") and f"{PAPER_SZSL['APY']['H']:.1f}" in paper
    assert ours.startswith("| SZSL (ours")
    assert find_datasets(str(synthetic_apy), None) == ["APY"]  # only what is present
    with pytest.raises(SZSLError, match="no AWA2"):
        find_datasets(str(synthetic_apy), ["AWA2"])


def test_paper_table_holds_only_what_the_paper_reports():
    assert {k: v["H"] for k, v in PAPER_SZSL.items()} == {"AWA1": 65.2, "AWA2": 64.7, "CUB": 49.6, "SUN": 38.6, "APY": 48.7}
    # the paper reports U and S too (table2.csv's SZSL row): shown, not '-'
    assert {k: (v["U"], v["S"]) for k, v in PAPER_SZSL.items()} == {
        "AWA1": (57.2, 75.8), "AWA2": (55.1, 78.6), "CUB": (47.1, 52.5), "SUN": (47.2, 32.6), "APY": (42.7, 57.2),
    }


def test_killed_reproduce_loses_no_finished_trial(tmp_path):
    out = tmp_path / "results"
    TRIALS = 24  # enough that the kill lands while tuning (the trials take well under a second each)
    env = dict(os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("OMP_NUM_THREADS", "1")
    args = [
        sys.executable,
        "-m",
        "szsl",
        "reproduce",
        "--out",
        str(out),
        "--trials",
        str(TRIALS),
        "--batch",
        "1",
        "--epochs",
        "2",
        "--space",
        str(_space(tmp_path)),
        "--seeds",
        "0",
        "--no-sweeps",
        "--device",
        "cpu",
        "--quiet",
    ]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = "sqlite:///" + str(out / "szsl-tune.db")
    done: dict = {}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                done = _complete(_study(url))
            except Exception:  # no database / study yet
                done = {}
            if len(done) >= 2:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    before = _complete(_study(url))
    assert 2 <= len(before) < TRIALS, "reproduce should be killed while tuning"
    assert not (out / "results.md").exists()
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL, timeout=120)
    after = _complete(_study(url))
    assert len(after) == TRIALS and {k: after[k] for k in before} == before
    assert (out / "results.md").is_file()


def _space(tmp_path: Path) -> Path:
    path = tmp_path / "space.json"
    # Enough work per trial that a kill lands while tuning (the default space has no l1/l2 work to slow it).
    path.write_text(json.dumps({"hidden": {"choices": [64, 128]}, "batch_size": 64, "epochs": 40}))
    return path


def test_sweep_command_writes_one_figure(tmp_path, capsys):
    params = tmp_path / "p.json"
    params.write_text(json.dumps({"best_config": {"hidden": 32, "epochs": 2, "batch_size": 256, "q": 0.5}}))
    assert main(["sweep", "tau", "--values", "0.05", "1", "5", "--params", str(params), "--out", str(tmp_path), "--device", "cpu"]) == 0
    data = json.loads((tmp_path / "sweep_tau_digits.json").read_text())
    assert [p["tau"] for p in data["points"]] == [0.05, 1.0, 5.0] and data["base"]["q"] == 0.5
    assert (tmp_path / "sweep_tau_digits.png").read_bytes()[:8] == PNG
    assert (tmp_path / "sweep_tau_digits.csv").read_text().splitlines()[0].startswith("tau,U,S,H")
    assert main(["sweep", "q", "--values", "0", "0.5", "--epochs", "1", "--out", str(tmp_path), "--device", "cpu"]) == 0
    assert (tmp_path / "sweep_q_digits.png").read_bytes()[:8] == PNG
    assert "not used for selection" in capsys.readouterr().out


def test_find_datasets_without_root():
    assert find_datasets(None, None) == ["digits"]
    with pytest.raises(SZSLError, match="needs --root"):
        find_datasets(None, ["CUB"])


def test_reproduce_accepts_own_data_folders_like_train_and_tune(tmp_path, capsys, small_space):
    """One dataset resolver (szsl.data.find_datasets): an own-data folder works with and without --root."""
    from tests.helpers.generic import digits_as_generic

    own = tmp_path / "mydigits"
    digits_as_generic(own)
    assert find_datasets(None, [str(own)]) == [str(own)]
    assert find_datasets(str(tmp_path), ["mydigits", "digits"]) == ["mydigits", "digits"]
    out = tmp_path / "results"
    assert (
        main(
            [
                "reproduce",
                "--root",
                str(tmp_path),
                "--datasets",
                "mydigits",
                "--out",
                str(out),
                "--no-sweeps",
                *FAST,
                *small_space,
                "--seeds",
                "0",
            ]
        )
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    assert list(results["datasets"]) == ["mydigits"] and (out / "mydigits" / "final.json").is_file()
    assert 0 <= results["datasets"]["mydigits"]["final"]["mean"]["H"] <= 100


def test_the_paper_row_is_table2_csvs_szsl_row():
    from szsl.experiments.published import as_float, published_rows

    (row,) = [r for r in published_rows("table2") if r["method"] == "SZSL"]
    assert PAPER_SZSL["APY"] == {"U": 42.7, "S": 57.2, "H": 48.7}
    for ds, values in PAPER_SZSL.items():
        assert values == {m: as_float(row[f"{ds}_{m}"]) for m in ("U", "S", "H")}
