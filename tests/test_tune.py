"""Hyperparameter search: space, isolation from the test split, resume, kill/resume, workers."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from szsl.cli import main
from szsl.config import TrainConfig
from szsl.data import load_benchmark
from szsl.errors import SZSLError
from szsl.methods.szsl import PAPER_SPACE
from szsl.search_space import load_space, make_space
from szsl.study_storage import sqlite_url
from szsl.tune import tune

# Small and fast: every member trains in a few ms on digits.
SMALL = {"hidden": {"choices": [16, 32]}, "batch_size": {"choices": [128, 256]}, "epochs": 2}
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def digits():
    return load_benchmark("digits")


def _study(url: str, name: str):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=name, storage=url)


def _complete(study):
    """Finished trials (COMPLETE, or PRUNED by the multi-fidelity pruner): they count toward n_trials."""
    return {t.number: (t.value, t.params) for t in study.get_trials(deepcopy=False) if t.state.name in ("COMPLETE", "PRUNED")}


# ----------------------------------------------------------------------------- space


def test_paper_space_is_selectable():
    for space in (make_space(base="paper"), load_space("paper")):
        by = {p.name: p for p in space.params}
        assert by["hidden"].choices == (128, 256, 512, 1024, 1500) and (by["alpha"].low, by["alpha"].high) == (0.0, 1.0)
    with pytest.raises(SZSLError, match="base space 'nope'"):
        make_space(base="nope")


def test_default_space_searches_the_mass_on_one_network_shape():
    space = make_space()
    by = {p.name: p for p in space.params}
    assert {p.name for p in space.searched} == {"q", "tau", "lr"}
    assert space.fixed["alpha"] == 1.0  # so the searched q is the soft-label mass m = alpha * q
    assert (space.fixed["hidden"], space.fixed["activation"], space.fixed["batch_size"]) == (512, "relu", 256)
    assert (by["tau"].low, by["tau"].high, by["tau"].log) == (0.02, 10.0, True)
    assert (by["q"].low, by["q"].high, by["q"].log) == (0.02, 1.0, True)
    assert (by["lr"].low, by["lr"].high, by["lr"].log) == (1e-4, 3e-3, True)
    # Every draw shares one network shape: a batch of trials trains as one population.
    configs = [space.config({"q": 0.5, "tau": t, "lr": 1e-3}, seed=0) for t in (0.05, 1.0)]
    assert configs[0].group_key == configs[1].group_key
    assert load_space(None).to_json() == space.to_json() == load_space("default").to_json()


def test_paper_space_values():
    space = make_space(base="paper")
    by = {p.name: p for p in space.params}
    assert (by["tau"].low, by["tau"].high, by["tau"].log) == (1e-2, 10.0, True)
    assert by["batch_size"].choices == (64, 128, 256, 512, 1024)
    assert by["hidden"].choices == (128, 256, 512, 1024, 1500)
    assert set(by["activation"].choices) == {"tanh", "sigmoid", "hard-sigmoid", "relu"}
    assert (by["q"].low, by["q"].high) == (0.0, 1.0) and (by["alpha"].low, by["alpha"].high) == (0.0, 1.0)
    assert by["epochs"].kind == "fixed" and by["epochs"].value == PAPER_SPACE["epochs"]
    assert make_space(epochs=7).fixed["epochs"] == 7


def test_search_mass_fixes_alpha(tmp_path):
    space = make_space(search_mass=True, base="paper")
    assert space.fixed["alpha"] == 1.0
    assert "q" in [p.name for p in space.searched]
    cfg = space.config(
        {"q": 0.4, "tau": 1.0, "lr": 1e-3, "l1": 0.0, "l2": 0.0, "batch_size": 64, "hidden": 128, "activation": "relu"}, seed=0
    )
    assert cfg.unseen_mass == pytest.approx(0.4)


def test_space_file(tmp_path):
    path = tmp_path / "space.json"
    path.write_text(json.dumps({"tau": {"low": 0.1, "high": 1, "log": True}, "l1": 0, "hidden": {"choices": [64]}}))
    space = load_space(path, epochs=3)
    fixed = space.fixed
    assert fixed["l1"] == 0 and fixed["hidden"] == 64 and fixed["epochs"] == 3
    tau = next(p for p in space.params if p.name == "tau")
    assert (tau.low, tau.high, tau.log) == (0.1, 1.0, True)


@pytest.mark.parametrize(
    "content, match",
    [
        ({"nope": 1}, "unknown parameter 'nope'"),
        ({"tau": {"low": 0, "high": 1, "log": True}}, "log range"),
        ({"q": {"low": 0, "high": 2}}, "q"),
        ({"hidden": [1, 2]}, "ambiguous"),
        ({"activation": {"choices": ["relu", "swish"]}}, "activation"),
        ({"lr": {"low": 1, "high": 0.1}}, "low=1 > high"),
    ],
)
def test_bad_space_files(tmp_path, content, match):
    path = tmp_path / "space.json"
    path.write_text(json.dumps(content))
    with pytest.raises(SZSLError, match=match):
        load_space(path)


# ----------------------------------------------------------------------------- isolation


def _garbage_copy(b):
    """The same benchmark with test features replaced by noise and test labels permuted."""
    rng = np.random.default_rng(123)
    feats = np.array(b.features, copy=True)
    labels = np.array(b.labels, copy=True)
    for idx in (b.test_seen, b.test_unseen):
        feats[idx] = rng.normal(size=(idx.size, feats.shape[1])).astype(np.float32) * 50
        labels[idx] = rng.permutation(labels[idx])
    return dataclasses.replace(b, features=feats, labels=labels)


@pytest.mark.parametrize("prune", ["halving", "none"])
@pytest.mark.parametrize("fold_classes", ["all", "matched", "ratio", "trainval"])
def test_tuning_is_isolated_from_the_test_split(tmp_path, digits, fold_classes, prune):
    space = make_space(SMALL, epochs=10)  # 10 epochs: the pruner scores and stops trials at epoch 5
    runs = []
    for i, bench in enumerate((digits, _garbage_copy(digits))):
        url = sqlite_url(tmp_path / f"iso{i}.db")
        result = tune(
            bench, n_trials=5, storage=url, study_name="iso", space=space, batch=3, device="cpu", progress=False, fold_classes=fold_classes,
            prune=prune,
        )
        trials = [
            (t.number, t.state.name, t.params, t.value, t.intermediate_values, t.user_attrs.get("folds"), t.user_attrs.get("gamma"))
            for t in _study(url, "iso").trials
        ]
        runs.append((result.best_params, result.best_value, trials, result.top, result.ensemble(3, 100.0)))
    assert runs[0] == runs[1]
    assert runs[0][1] > 0


# ----------------------------------------------------------------------------- resume


def test_rerun_continues_the_study(tmp_path, digits):
    space = make_space(SMALL)
    url = sqlite_url(tmp_path / "resume.db")
    kw = dict(storage=url, study_name="r", space=space, batch=2, device="cpu", progress=False)
    tune(digits, n_trials=3, **kw)
    first = _complete(_study(url, "r"))
    assert len(first) == 3
    tune(digits, n_trials=3, **kw)  # same N: nothing new
    assert _complete(_study(url, "r")) == first
    assert len(_study(url, "r").trials) == 3
    result = tune(digits, n_trials=6, **kw)  # 2N: exactly N more, old ones untouched
    after = _complete(_study(url, "r"))
    assert len(after) == 6 and len(_study(url, "r").trials) == 6
    assert {k: after[k] for k in first} == first
    assert result.n_complete == 6
    folds = _study(url, "r").trials[0].user_attrs["folds"]
    assert len(folds) == 3 and set(folds[0]) == {"U", "S", "H"}


def test_changed_space_needs_a_new_study(tmp_path, digits):
    url = sqlite_url(tmp_path / "s.db")
    tune(digits, n_trials=1, storage=url, study_name="x", space=make_space(SMALL), device="cpu", progress=False)
    with pytest.raises(SZSLError, match="different search space"):
        tune(digits, n_trials=1, storage=url, study_name="x", space=make_space(SMALL, epochs=3), device="cpu", progress=False)


def test_diverged_trials_fail_with_a_message(tmp_path, digits):
    url = sqlite_url(tmp_path / "d.db")
    space = make_space({**SMALL, "lr": 1e30})
    with pytest.raises(SZSLError, match="diverged"):
        tune(digits, n_trials=1, storage=url, study_name="d", space=space, batch=5, device="cpu", progress=False)
    trials = _study(url, "d").trials
    assert trials and all(t.state.name == "FAIL" for t in trials)
    assert all("diverged" in t.user_attrs["fail_reason"] for t in trials)
    assert all(t.value is None for t in trials)


def test_a_trial_whose_folds_measure_nothing_stops_the_study_with_its_reason(tmp_path, digits, monkeypatch):
    """A validation objective that is not a number (folds that measured nothing) was FAILed by optuna without a
    reason, taken for a trial whose worker died and asked again, forever (round 8: the subsampled SUN twin)."""
    import szsl.trial_batch as trial_batch

    calls = []

    def no_number(results, objective="calibrated"):
        calls.append(objective)
        if len(calls) > 20:
            raise RuntimeError("the study asks for the same trials again and again")
        return float("nan")

    def hung(*_):
        raise TimeoutError("tune waited on trials that will never finish")

    monkeypatch.setattr(trial_batch, "fold_value", no_number)
    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(120)  # before the fix the study asked again forever, or waited for requeued trials: fail, do not hang
    url = sqlite_url(tmp_path / "n.db")
    try:
        with pytest.raises(SZSLError, match="validation objective is not a number"):
            tune(digits, n_trials=2, storage=url, study_name="n", space=make_space(SMALL), batch=2, device="cpu", progress=False,
                 prune="none")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    trials = _study(url, "n").trials
    assert len(trials) == 2 and all(t.state.name == "FAIL" and t.user_attrs.get("invalid") for t in trials)


def test_grid_and_random_samplers(tmp_path, digits):
    space = make_space(
        {**SMALL, **{k: 0.5 for k in ("q", "alpha")}, "tau": 1.0, "lr": 1e-3, "l1": 0, "l2": 0, "activation": {"choices": ["relu", "tanh"]}}
    )
    assert space.grid_size() == 8
    url = sqlite_url(tmp_path / "g.db")
    tune(digits, n_trials=8, storage=url, study_name="g", space=space, sampler="grid", batch=8, device="cpu", progress=False)
    seen = {tuple(sorted(t.params.items())) for t in _study(url, "g").trials}
    assert len(seen) == 8  # every grid point once
    with pytest.raises(SZSLError, match="grid has only 8"):
        tune(digits, n_trials=9, storage=url, study_name="g2", space=space, sampler="grid", device="cpu", progress=False)
    tune(digits, n_trials=2, storage=url, study_name="rnd", space=make_space(SMALL), sampler="random", device="cpu", progress=False)


# ----------------------------------------------------------------------------- CLI


def test_cli_tune_writes_best_json(tmp_path, capsys):
    space = tmp_path / "space.json"
    space.write_text(json.dumps(SMALL))
    out = tmp_path / "best.json"
    assert main(["tune", "--trials", "2", "--space", str(space), "--out", str(out), "--device", "cpu", "--quiet"]) == 0
    best = json.loads(out.read_text())
    assert best["n_complete"] == 2 and best["dataset"] == "digits"
    assert set(best["best_params"]) <= set(best["best_config"])
    assert (tmp_path / "szsl-tune.db").is_file()
    assert "best mean validation H" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, match",
    [
        (["tune", "--trials", "0"], "--trials"),
        (["tune", "--trials", "x"], "--trials"),
        (["tune", "--batch", "-1"], "--batch"),
        (["tune", "--timeout", "0"], "--timeout"),
        (["tune", "--sampler", "cmaes"], "--sampler"),
        (["tune", "--space", "/nonexistent/space.json"], "cannot read"),
        (["tune", "--dataset", "MNIST"], "unknown dataset"),
        (["tune", "--storage", "nosuchdb://x", "--trials", "1"], "--storage"),
        (["tune", "--storage", "sqlite:////proc/x/x.db", "--trials", "1"], "cannot create the folder /proc/x"),
        (["reproduce", "--datasets", "AWA2"], "needs --root"),
        (["reproduce", "--seeds", "-3"], "--seeds"),
        (["sweep", "q", "--values", "2", "--epochs", "1"], "q=2.0"),
        (["sweep", "kappa"], "invalid choice"),
    ],
)
def test_bad_cli_values_exit_2_with_one_line(argv, match, capsys, tmp_path):
    argv = argv + (["--out", str(tmp_path / ("o.json" if argv[0] == "tune" else "o"))] if argv[0] != "sweep" or "--values" in argv else [])
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert match in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


# ----------------------------------------------------------------------------- processes


def _cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "szsl", "tune", "--device", "cpu", "--quiet", *args]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "1")
    return env


def test_killed_tune_loses_no_finished_trial(tmp_path):
    space = tmp_path / "space.json"
    space.write_text(json.dumps({**SMALL, "epochs": 12, "batch_size": 64}))
    url = sqlite_url(tmp_path / "kill.db")
    args = _cmd(
        "--trials", "10", "--batch", "1", "--space", str(space), "--storage", url, "--study", "k", "--out", str(tmp_path / "best.json")
    )
    proc = subprocess.Popen(args, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        done: dict = {}
        while time.monotonic() < deadline:
            if (tmp_path / "kill.db").exists():
                try:
                    done = _complete(_study(url, "k"))
                except Exception:  # the study is not created yet
                    done = {}
            if len(done) >= 2 or proc.poll() is not None:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    before = _complete(_study(url, "k"))
    assert 2 <= len(before) < 10, "the worker should be killed mid-run"
    subprocess.run(args, env=_env(), check=True, stdout=subprocess.DEVNULL, timeout=120)
    study = _study(url, "k")
    after = _complete(study)
    assert len(after) == 10
    assert {k: after[k] for k in before} == before  # nothing finished was lost or recomputed
    assert not [t for t in study.trials if t.state.name == "RUNNING"]
    stale = [t for t in study.trials if t.state.name == "FAIL"]
    names = set().union(*(set(r.params) for r in study.trials if r.state.name == "COMPLETE"))
    for t in stale:  # the trial that was running when killed is failed and its parameters re-run
        assert "died" in t.user_attrs["fail_reason"]
        if set(t.params) >= names:  # it held all its parameters: exactly they are re-queued
            assert any(r.user_attrs.get("retry_of") == t.number and r.params == t.params for r in study.trials)
        else:  # killed half-way through its suggestions: proposed afresh, agreeing on what it had drawn
            later = [r for r in study.trials if r.number > t.number and r.state.name in ("COMPLETE", "PRUNED")]
            assert any({k: r.params.get(k) for k in t.params} == t.params for r in later)
    best = json.loads((tmp_path / "best.json").read_text())
    assert best["n_complete"] + best["n_pruned"] == 10


def _two_workers(url: str, tmp_path: Path, n_trials: int = 8) -> None:
    study = "w-" + uuid.uuid4().hex[:8]
    space = tmp_path / "space.json"
    space.write_text(json.dumps({**SMALL, "epochs": 15, "batch_size": 64}))
    procs = [
        subprocess.Popen(
            _cmd(
                "--trials",
                str(n_trials),
                "--batch",
                "1",
                "--space",
                str(space),
                "--storage",
                url,
                "--study",
                study,
                "--out",
                str(tmp_path / f"best{i}.json"),
            ),
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for i in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=240)
        assert p.returncode == 0, err.decode()[-2000:]
    trials = _study(url, study).trials
    complete = [t for t in trials if t.state.name in ("COMPLETE", "PRUNED")]
    assert len(complete) == n_trials
    numbers = [t.number for t in trials]
    assert len(set(numbers)) == len(numbers) == len({t._trial_id for t in trials})
    assert not [t for t in trials if t.state.name in ("RUNNING", "WAITING")]
    assert len({t.user_attrs["worker"]["pid"] for t in complete}) == 2, "both workers should contribute"
    for i in range(2):  # each worker reports the whole study
        best = json.loads((tmp_path / f"best{i}.json").read_text())
        assert best["n_complete"] + best["n_pruned"] == n_trials


def test_two_workers_sqlite(tmp_path):
    _two_workers(sqlite_url(tmp_path / "w.db"), tmp_path)


@pytest.mark.postgres
def test_two_workers_postgres(tmp_path):
    url = os.environ.get("SZSL_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("SZSL_TEST_POSTGRES_URL is not set (.ci/start_postgres.sh starts a server and prints one)")
    _two_workers(url, tmp_path)


def _two_tune_workers(tmp_path, **popen) -> tuple[subprocess.Popen, set]:
    """``szsl tune --workers 2`` on a long study, started and run until both processes have asked for trials: the
    command's process and the two workers' pids (the parent's among them)."""
    url, study = sqlite_url(tmp_path / "w.db"), "workers"
    space = tmp_path / "space.json"
    space.write_text(json.dumps({**SMALL, "epochs": 30, "batch_size": 64}))
    args = ("--trials", "200", "--batch", "1", "--space", str(space), "--storage", url, "--study", study)
    args += ("--workers", "2", "--out", str(tmp_path / "b.json"))
    proc = subprocess.Popen(_cmd(*args), env=_env(), stdout=subprocess.DEVNULL, **popen)
    pids: set = set()
    deadline = time.monotonic() + 180
    while len(pids) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.5)
        if (tmp_path / "w.db").exists():
            try:
                pids = {t.user_attrs["worker"]["pid"] for t in _study(url, study).trials if "worker" in t.user_attrs}
            except Exception:  # noqa: BLE001 - the study is still being created
                pass
    assert len(pids) == 2 and proc.pid in pids, "both workers should have asked for trials"
    return proc, pids


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has exited (a zombie nobody reaped yet counts as exited)."""
    from szsl.atomic import pid_alive

    if not pid_alive(pid):
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return not pid_alive(pid)


def test_workers_argument_runs_extra_processes_and_forwards_sigterm(tmp_path):
    """``tune(workers=2)`` (``szsl tune --workers 2``): both processes work on one study; SIGTERM to the
    parent reaches the extra worker too, and every process is gone afterwards."""
    import signal

    from szsl.atomic import pid_alive

    proc, pids = _two_tune_workers(tmp_path, stderr=subprocess.PIPE, text=True)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert "terminated" in err and "Traceback" not in err
    deadline = time.monotonic() + 30
    while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(pid_alive(p) for p in pids)


def test_an_extra_worker_stops_when_its_parent_is_killed_outright(tmp_path):
    """A parent killed by SIGKILL cannot pass its signal on: the extra worker sees its parent gone and stops by itself
    (as on SIGTERM), instead of going on with the study alone."""
    proc, pids = _two_tune_workers(tmp_path, stderr=subprocess.DEVNULL)
    proc.kill()
    proc.wait(timeout=30)
    (worker,) = pids - {proc.pid}
    deadline = time.monotonic() + 60
    while not _gone(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _gone(worker), "the orphaned worker should have stopped"


# ----------------------------------------------------------------------------- multi-fidelity


def test_prune_rungs_double_from_five_below_the_budget():
    from szsl.pruning import prune_rungs

    assert prune_rungs(20, "halving") == [5, 10]
    assert prune_rungs(30, "halving") == [5, 10, 20]
    assert prune_rungs(5, "halving") == [] and prune_rungs(20, "none") == []


def test_halving_prunes_the_losers_and_keeps_the_survivors_exact(tmp_path, digits):
    """The first batch of a pruned study: the bottom half at epoch 5 is PRUNED (with its fold scores and
    intermediate value); every survivor scores exactly what the same trial scores without pruning."""
    space = make_space({**SMALL, "hidden": 16, "batch_size": 128}, epochs=10)
    url = sqlite_url(tmp_path / "prune.db")
    kw = dict(storage=url, space=space, batch=4, device="cpu", progress=False)
    pruned = tune(digits, n_trials=4, study_name="p", prune="halving", **kw)
    full = tune(digits, n_trials=4, study_name="f", prune="none", **kw)
    trials = {t.number: t for t in _study(url, "p").trials}
    states = sorted(t.state.name for t in trials.values())
    assert states == ["COMPLETE", "COMPLETE", "PRUNED", "PRUNED"]
    assert pruned.n_complete == 2 and pruned.n_pruned == 2 and full.n_complete == 4 and full.n_pruned == 0
    at5 = {n: t.intermediate_values[5] for n, t in trials.items()}
    kept = sorted(at5, key=at5.get, reverse=True)[:2]
    assert {n for n, t in trials.items() if t.state.name == "COMPLETE"} == set(kept)
    reference = {t.number: t for t in _study(url, "f").trials}
    for n, t in trials.items():
        assert t.params == reference[n].params
        if t.state.name == "PRUNED":
            assert t.user_attrs["pruned_at_epoch"] == 5 and len(t.user_attrs["folds"]) == 3
        else:
            assert t.value == pytest.approx(reference[n].value, abs=1e-9)
    assert pruned.best_trial in kept


def test_prune_must_be_known(tmp_path, digits):
    with pytest.raises(SZSLError, match="prune='sometimes'"):
        tune(digits, n_trials=1, storage=sqlite_url(tmp_path / "x.db"), space=make_space(SMALL), prune="sometimes", progress=False)


def test_every_complete_trial_records_the_calibration_gamma_of_its_folds(tmp_path, digits):
    from szsl.evaluation import evaluate
    from szsl.methods.calibration import choose_gamma
    from szsl.protocol import split_data, validation_splits

    space = make_space(SMALL)
    url = sqlite_url(tmp_path / "gamma.db")
    tune(digits, n_trials=3, storage=url, study_name="g", space=space, batch=3, device="cpu", progress=False, prune="none")
    folds = [split_data(digits, s) for s in validation_splits(digits, 0, fold_classes="ratio")]
    complete = [t for t in _study(url, "g").trials if t.state.name == "COMPLETE"]
    assert complete
    for t in complete:
        config = space.config(t.params, 0)
        # The same trial trained again on the same folds gives the same gamma: the exact optimum of the mean fold H.
        runs = [evaluate("szsl", d, [config], device="cpu", with_t1=False, keep_scores=True)[0] for d in folds]
        gamma, h = choose_gamma([r.curve() for r in runs])
        assert t.user_attrs["gamma"] == pytest.approx(gamma) and t.user_attrs["H_cs"] == pytest.approx(h, abs=1e-3)
        assert t.user_attrs["H_cs"] >= t.value - 1e-3  # gamma = 0 (the plain model) is one of the candidates


def test_the_top_trials_and_the_ensemble_rule(tmp_path, digits):
    from szsl.final_model import TOP_KEPT

    space = make_space(SMALL)
    storage = sqlite_url(tmp_path / "top.db")
    result = tune(digits, n_trials=6, storage=storage, space=space, batch=3, device="cpu", progress=False, prune="none")
    values = [t["value"] for t in result.top]
    assert len(result.top) == min(TOP_KEPT, result.n_complete) and values == sorted(values, reverse=True)
    assert result.top[0]["trial"] == result.best_trial and result.top[0]["value"] == result.best_value
    assert TrainConfig.from_dict(result.top[0]["config"]) == result.best_config
    assert result.ensemble(1) == [result.best_config]
    assert result.ensemble(1, anchor=True) == [result.best_config, TrainConfig(seed=result.best_config.seed)]  # the untuned anchor
    everyone = result.ensemble(3, margin=1e9)
    assert everyone == [TrainConfig.from_dict(t["config"]) for t in result.top[:3]]
    gap = result.best_value - result.top[1]["value"]
    if gap > 0:  # a margin below the runner-up's gap leaves the best alone
        assert result.ensemble(3, margin=gap / 2) == [result.best_config]
    assert len(result.ensemble(3, margin=gap + 1e-9)) >= 2
    with pytest.raises(SZSLError, match="ensemble=0"):
        result.ensemble(0)
    with pytest.raises(SZSLError, match="margin"):
        result.ensemble(2, margin=-1)


# ----------------------------------------------------------------------------- a locked study database


def _locked(db: Path):
    """A second connection holding an exclusive lock on the study file (as another process would)."""
    import sqlite3

    from szsl.study_storage import open_storage

    open_storage(sqlite_url(db))  # the schema exists, as in a study file in use
    con = sqlite3.connect(db, isolation_level=None, check_same_thread=False)  # released from a timer thread below
    con.execute("BEGIN EXCLUSIVE")
    return con


def test_locked_study_database_says_so_and_the_bound_ends_it_with_one_line(tmp_path, capsys, monkeypatch):
    from tests.helpers.timing import alarm_after

    db = tmp_path / "study.db"
    con = _locked(db)
    monkeypatch.setenv("SZSL_LOCK_TIMEOUT", "2")
    out = tmp_path / "best.json"
    try:
        with alarm_after(60):
            start = time.monotonic()
            code = main(["tune", "--dataset", "digits", "--trials", "1", "--storage", sqlite_url(db), "--out", str(out), "--quiet"])
            took = time.monotonic() - start
    finally:
        con.close()
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and took < 30, (code, took, err)
    assert len(err) == 2 and "Traceback" not in "\n".join(err), err
    assert err[0].startswith(f"szsl: waiting for the study database {db}: locked by another process") and "SZSL_LOCK_TIMEOUT" in err[0]
    assert err[1].startswith("szsl: error: --storage ") and "still locked by another process after 2 s" in err[1]
    assert not out.exists()


def test_a_lock_released_while_waiting_lets_the_study_open(tmp_path, capsys, monkeypatch):
    import threading

    from szsl.study_storage import open_storage
    from tests.helpers.timing import alarm_after

    db = tmp_path / "study.db"
    con = _locked(db)
    monkeypatch.delenv("SZSL_LOCK_TIMEOUT", raising=False)
    threading.Timer(2.0, con.close).start()
    with alarm_after(60):
        open_storage(sqlite_url(db))
    assert "waiting for the study database" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["abc", "-1", "inf", "nan"])
def test_bad_lock_timeout_is_one_line(tmp_path, capsys, monkeypatch, value):
    monkeypatch.setenv("SZSL_LOCK_TIMEOUT", value)
    url = sqlite_url(tmp_path / "s.db")
    code = main(["tune", "--dataset", "digits", "--trials", "1", "--storage", url, "--out", str(tmp_path / "b.json")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("szsl: error: SZSL_LOCK_TIMEOUT=") and "\n" not in err, err


def test_a_sqlite_storage_url_with_a_query_string_is_refused_in_one_line(tmp_path, capsys):
    """SQLAlchemy would drop '?foo=bar' (pysqlite knows no such option) and szsl's own lock probe made it part of a file
    name: refused, naming the query, before any file is created."""
    url = f"sqlite:///{tmp_path}/study.db?foo=bar"
    code = main(["tune", "--storage", url, "--trials", "1", "--out", str(tmp_path / "o.json")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("szsl: error: --storage ")
    assert "query string '?foo=bar' is not supported for a SQLite study database" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_study_spec_is_built_and_checked_once_and_passed_whole(tmp_path, digits):
    """tune(benchmark, spec) runs the study the spec describes; the keyword form builds the same spec; bad values are
    one line before any training; a spec and loose options together are refused."""
    from szsl.errors import SZSLError
    from szsl.study_spec import StudySpec

    space = make_space({"epochs": 2, "hidden": 16, "q": {"low": 0.1, "high": 0.9}})
    url = sqlite_url(tmp_path / "spec.db")
    spec = StudySpec.build(digits, n_trials=2, storage=url, space=space, batch=2)
    assert spec == StudySpec.build(digits, n_trials=2, storage=url, space=space, batch=2)  # same options, same study
    assert spec.study_name.startswith("digits-tpe-s0-") and spec.study_name.endswith("-ratio-calibrated")
    plain = StudySpec.build(digits, n_trials=2, storage=url, space=space, batch=2, objective="plain")
    assert plain.study_name == spec.study_name.removesuffix("-calibrated")  # szsl 0.3's name: its studies continue
    result = tune(digits, spec, device="cpu", progress=False)
    assert result.study_name == spec.study_name and result.n_complete + result.n_pruned == 2
    with pytest.raises(SZSLError, match=r"^trials=0: expected an integer >= 1$"):
        StudySpec.build(digits, n_trials=0, storage=url, space=space)
    with pytest.raises(SZSLError, match=r"^objective='best': expected one of calibrated, plain$"):
        StudySpec.build(digits, n_trials=2, storage=url, space=space, objective="best")
    with pytest.raises(SZSLError, match="not both"):
        tune(digits, spec, n_trials=3)


@pytest.mark.parametrize("objective", ["calibrated", "plain"])
def test_trials_are_ranked_by_the_objective(tmp_path, digits, objective):
    """objective "calibrated" (the default): a complete trial's value is its best mean fold H over gammas >= 0, so at
    least its plain H (gamma 0) and at most the unconstrained optimum H_cs; "plain": the plain mean fold H itself."""
    import optuna

    from szsl.study_spec import StudySpec

    space = make_space({"epochs": 6, "hidden": 16, "q": {"low": 0.1, "high": 0.9}})
    spec = StudySpec.build(digits, n_trials=4, storage=sqlite_url(tmp_path / "o.db"), space=space, batch=4, prune="none",
                           objective=objective)
    tune(digits, spec, device="cpu", progress=False)
    trials = [t for t in optuna.load_study(study_name=spec.study_name, storage=spec.storage).trials if t.value is not None]
    assert len(trials) == 4
    for t in trials:
        plain, best = t.user_attrs["H_plain"], t.user_attrs["H_cs"]
        if objective == "plain":
            assert t.value == pytest.approx(plain, abs=1e-3)
        else:
            assert plain - 1e-3 <= t.value <= best + 1e-3
    if objective == "calibrated":  # the calibration matters on some trial of this space (q from 0.1 to 0.9)
        assert any(t.value > t.user_attrs["H_plain"] + 0.5 for t in trials)
