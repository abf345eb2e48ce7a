import json

import numpy as np
import pytest
import torch
from scipy.special import log_softmax

from szsl.cli import main
from szsl.errors import SZSLError
from szsl.methods import duet, get_method, method_names

# a small budget for both parts on the tiny problem
FAST = {"members": [{"hidden": 32, "epochs": 10, "lr": 1e-2}], "cn": {"epochs": 5, "hidden": 32}}


def test_registered_with_its_declarations():
    assert "duet" in method_names()
    m = get_method("duet")
    assert m.defaults == {"weight": None, "gamma": None, "members": None, "member_gammas": None, "cn": None, "folds": 3}
    assert m.space == {"weight": {"choices": [0.5, 1.0]}} and duet.WEIGHTS == (0.5, 1.0)
    assert duet.cn_setting(None)["epochs"] == 25 and duet.cn_setting(None, "CUB")["seen_scale"] == 1.0


def test_blend_is_the_weighted_log_probabilities_minus_the_seen_shift():
    rng = np.random.default_rng(0)
    a = log_softmax(rng.normal(size=(4, 5)), axis=1)
    a[0, 3] = -np.inf  # a class an szsl ensemble gives probability 0
    b = rng.normal(size=(4, 5)) * 3
    seen = np.array([0, 2, 4])
    np.testing.assert_array_equal(duet.blend(a, b, 1.0, 0.0, seen), a)
    np.testing.assert_allclose(duet.blend(a, b, 0.0, 0.0, seen), log_softmax(b, axis=1))
    mixed = duet.blend(a, b, 0.25, 0.7, seen)
    expected = 0.25 * a + 0.75 * log_softmax(b, axis=1)
    expected[:, seen] -= 0.7
    np.testing.assert_allclose(mixed, expected)
    assert np.isnan(mixed).sum() == 0


def _fold(rng, good: str):
    """One fold where the 'good' part predicts every image right and the other part guesses at random."""
    y = np.repeat(np.arange(6), 20)
    right = np.full((y.size, 6), -5.0)
    right[np.arange(y.size), y] = 5.0
    noise = rng.normal(size=(y.size, 6))
    a, b = (right, noise) if good == "szsl" else (noise, right)
    return log_softmax(a, axis=1), b, y, np.arange(4), np.array([4, 5])


def test_choose_blend_trusts_the_part_that_is_right_on_the_folds():
    rng = np.random.default_rng(1)
    grid = (0.0, 0.5, 1.0)
    w, gamma, table = duet.choose_blend([_fold(rng, "szsl") for _ in range(3)], grid)
    assert table[1.0] == pytest.approx(100.0) and table[0.0] < 60 and w >= 0.5
    w0, _, table0 = duet.choose_blend([_fold(rng, "cn") for _ in range(3)], grid)
    assert table0[0.0] == pytest.approx(100.0) and table0[1.0] < 60 and w0 <= 0.5
    # szsl alone (weight 1) is taken as calibrated: no shift of its own
    assert duet.choose_blend([_fold(rng, "cn") for _ in range(3)], [1.0])[1] == 0.0
    # ties go to the weight nearest 0.5: here every weight is perfect
    y = np.repeat(np.arange(4), 5)
    perfect = np.where(np.arange(4)[None, :] == y[:, None], 0.0, -9.0)
    w_tie, g_tie, _ = duet.choose_blend([(perfect, perfect, y, np.arange(2), np.array([2, 3]))])
    assert (w_tie, g_tie) == (0.5, 0.0)


def test_class_folds_are_seeded_ratio_folds_of_the_training_classes():
    y = np.repeat(np.arange(8), 10)  # 8 seen classes; with 12 classes, 4 unseen: 8 * 4 / 12 -> 3 pseudo-unseen
    a = duet.class_folds(y, 12, 3, torch.Generator().manual_seed(0))
    b = duet.class_folds(y, 12, 3, torch.Generator().manual_seed(0))
    assert len(a) == 3
    for (tr, ev, classes, pu), (tr2, ev2, _, pu2) in zip(a, b):
        np.testing.assert_array_equal(tr, tr2), np.testing.assert_array_equal(pu, pu2)
        assert pu.size == 3 and np.array_equal(classes, np.arange(8))
        assert np.intersect1d(tr, ev).size == 0 and not np.isin(y[tr], pu).any()
        assert set(y[ev]) == set(range(8)) and (np.isin(y[ev], pu).sum() == 30)
        assert tr.size + ev.size == y.size
    assert len({tuple(f[3]) for f in a}) == 3  # the folds hold out different classes
    with pytest.raises(SZSLError, match="at least 3 classes"):
        duet.class_folds(np.repeat([0, 1], 5), 4, 3, torch.Generator())


def test_fits_chooses_on_the_folds_and_is_deterministic(checks):
    fitted = duet.fit(checks.X, checks.y, checks.A, FAST, seed=0, device="cpu")
    s = fitted.scores(checks.X_test)
    assert s.shape == (checks.X_test.shape[0], checks.A.shape[0]) and np.isfinite(s).all()
    assert fitted.weight_ in duet.WEIGHTS and set(fitted.fold_h_) == set(duet.WEIGHTS)
    assert fitted.fold_h_[fitted.weight_] == max(fitted.fold_h_.values())
    seen_mask = checks.y_test < 8
    assert (s[seen_mask][:, :8].argmax(1) == checks.y_test[seen_mask]).mean() > 0.25  # twice chance (1/8) at this budget
    again = duet.fit(checks.X, checks.y, checks.A, FAST, seed=0, device="cpu").scores(checks.X_test)
    np.testing.assert_array_equal(s, again)


def test_a_given_weight_and_gamma_skip_the_folds_and_are_the_blend_of_the_parts(checks):
    params = {**FAST, "weight": 1.0, "gamma": 0.0}
    fitted = duet.fit(checks.X, checks.y, checks.A, params, seed=0, device="cpu")
    assert fitted.fold_h_ is None and (fitted.weight_, fitted.gamma_) == (1.0, 0.0)
    # weight 1: szsl's member alone (the log of its softmax)
    szsl = get_method("szsl")
    (member,) = szsl.fit_population(checks.X, checks.y, checks.A, [szsl.params({**FAST["members"][0], "seed": 0})], seeds=[0],
                                    device="cpu")
    expected = log_softmax(np.asarray(member.scores(checks.X_test), dtype=np.float64), axis=1)
    np.testing.assert_allclose(fitted.scores(checks.X_test), expected, atol=1e-5)


def test_bad_params_are_one_line(checks):
    checks.bad_params(duet, {"weight": 1.5, "gamma": float("nan"), "members": 3, "cn": 3, "folds": 0})
    for bad in ({"members": [{"q": -1}]}, {"member_gammas": [0.1, 0.2]}, {"cn": {"nope": 1}}):
        with pytest.raises(SZSLError) as info:
            duet.fit(checks.X, checks.y, checks.A, {**FAST, **bad}, seed=0, device="cpu")
        assert "\n" not in str(info.value)


def test_cli_train_on_digits(tmp_path, capsys):
    out = tmp_path / "train.json"
    assert main(["train", "--method", "duet", "--param", 'members=[{"hidden": 16, "epochs": 2}]', "--param",
                 'cn={"epochs": 2, "hidden": 16}', "--json", str(out), "--device", "cpu"]) == 0
    res = json.loads(out.read_text())
    assert res["method"] == "duet" and 0 <= res["H"] <= 100
    assert "digits: U=" in capsys.readouterr().out


def test_reproduces_final_model_blend_equals_the_method_fitted_with_the_same_weight_and_shift():
    """final_evaluation(duet=...) blends the members it trained; szsl train --method duet trains its own: same numbers."""
    from szsl.config import TrainConfig
    from szsl.data import load_benchmark
    from szsl.evaluation import evaluate
    from szsl.experiments.final import final_evaluation
    from szsl.protocol import final_split, split_data

    bench = load_benchmark("digits", None)
    members = [TrainConfig(hidden=16, epochs=3, lr=3e-3), TrainConfig(hidden=24, epochs=3, lr=1e-3, q=0.2)]
    cn_values = dict(duet.cn_setting({"epochs": 2, "hidden": 16}))
    choice = {"weight": 0.5, "gamma": 0.3, "fold_H": {"0.5": 1.0, "1.0": 0.0}, "cn": cn_values}
    out = final_evaluation(bench, members[0], seeds=[0, 1], ensemble=members, gammas=[0.2, 0.0], calibrate=True, device="cpu",
                           duet=choice)
    d = out["duet"]
    assert (d["weight"], d["gamma"]) == (0.5, 0.3) and [r["seed"] for r in d["seeds"]] == [0, 1]
    data = split_data(bench, final_split(bench))
    setting = {"weight": 0.5, "gamma": 0.3, "members": [m.to_dict() for m in members], "member_gammas": [0.2, 0.0], "cn": cn_values}
    runs = evaluate("duet", data, [dict(setting, seed=s) for s in (0, 1)], device="cpu")
    for row, run in zip(d["seeds"], runs):
        assert {k: row[k] for k in ("U", "S", "H", "T1")} == pytest.approx(run.metrics)
