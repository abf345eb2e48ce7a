import json

import pytest

from szsl.cli import main


def test_train_on_embedded_digits_prints_and_writes_json(tmp_path, capsys):
    out = tmp_path / "r.json"
    assert main(["train", "--hidden", "64", "--epochs", "3", "--device", "cpu", "--json", str(out), "--save", str(tmp_path / "m.pt")]) == 0
    line = capsys.readouterr().out
    assert line.startswith("digits: U=") and " H=" in line and " T1=" in line
    result = json.loads(out.read_text())
    assert set(result) >= {"U", "S", "H", "T1", "train_seconds", "config"} and result["config"]["hidden"] == 64
    assert 0 <= result["H"] <= 100
    from szsl import SZSLClassifier

    assert SZSLClassifier.load(tmp_path / "m.pt").hidden == 64


def test_param_sets_any_method_s_hyperparameter_over_its_option_and_save_needs_a_saveable_method(tmp_path, capsys):
    out = tmp_path / "r.json"
    argv = ["train", "--hidden", "64", "--epochs", "1", "--param", "hidden=16", "--param", "q=0.25", "--device", "cpu"]
    assert main([*argv, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["method"] == "szsl" and result["config"]["hidden"] == 16 and result["config"]["q"] == 0.25
    assert result["params"] == result["config"] and "szsl, train " in capsys.readouterr().out
    assert main(["train", "--method", "eszsl", "--save", str(tmp_path / "m.pt")]) == 2
    assert "--save: not supported for --method eszsl" in capsys.readouterr().err
    assert main(["train", "--param", "hidden=1.5"]) == 2
    assert "hidden=1.5: expected an integer >= 1" in capsys.readouterr().err


def test_the_untuned_reference_setting_says_so_and_a_chosen_one_does_not(capsys, monkeypatch):
    from szsl.commands import train as train_cmd
    from szsl.config import TrainConfig

    monkeypatch.setattr(train_cmd, "TrainConfig", lambda: TrainConfig(hidden=16, epochs=1))  # the reference, made tiny
    assert main(["train", "--hidden", "16", "--epochs", "1", "--device", "cpu"]) == 0
    assert "untuned reference setting" in capsys.readouterr().err
    assert main(["train", "--hidden", "16", "--epochs", "1", "--q", "0.3", "--device", "cpu"]) == 0
    assert "untuned" not in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--q", "2"], "szsl: error: q=2.0: expected a number in [0, 1]"),
        (["--tau", "-1"], "szsl: error: tau=-1.0: expected a number > 0"),
        (["--epochs", "x"], "szsl train: error: argument --epochs: invalid int value: 'x'"),
        (["--activation", "gelu"], "szsl train: error: argument --activation: invalid choice: 'gelu'"),
        (["--dataset", "mnist"], "szsl: error: unknown dataset 'mnist': expected one of digits, AWA1, AWA2, CUB, SUN, APY"),
        (["--dataset", "AWA2"], "szsl: error: --root is required for dataset AWA2"),
        (["--device", "tpu"], "szsl: error: device='tpu': expected auto, cpu, cuda or cuda:N"),
    ],
)
def test_bad_values_give_one_line_and_exit_2(argv, message, tmp_path, capsys):
    json_out = tmp_path / "r.json"
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(["train", "--epochs", "1", "--hidden", "8", "--json", str(json_out)] + argv))
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(message) and "\n" not in err and "Traceback" not in err
    assert not json_out.exists()


def test_train_from_a_tuning_result_trains_the_reproduce_ensemble_and_predict_loads_it(tmp_path, capsys):
    best = tmp_path / "best.json"
    common = ["--device", "cpu", "--epochs", "2"]
    assert main(["tune", "--trials", "3", "--batch", "3", "--prune", "none", "--out", str(best), *common]) == 0
    tuned = json.loads(best.read_text())
    assert all(isinstance(t["gamma"], float) for t in tuned["top"])
    capsys.readouterr()
    model, out = tmp_path / "ens.pt", tmp_path / "r.json"
    argv = ["train", "--from-tune", str(best), "--ensemble", "2", "--ensemble-margin", "100", "--calibrate", "full", "--device", "cpu"]
    assert main([*argv, "--save", str(model), "--json", str(out)]) == 0
    line = capsys.readouterr().out
    # the 2 trials and the untuned anchor (--anchor auto: the digits' trainval has at most 4000 images)
    assert line.startswith("digits: U=") and "(3 member(s), calibrate full" in line
    result = json.loads(out.read_text())
    assert result["gammas"] == [t["gamma"] for t in tuned["top"][:2]] + [0.0]
    from szsl.config import TrainConfig

    anchor = {**TrainConfig().to_dict(), "seed": 0}
    assert [{**c, "seed": 0} for c in result["ensemble"]] == [{**t["config"], "seed": 0} for t in tuned["top"][:2]] + [anchor]
    assert result["weights"] == pytest.approx([1 / 6, 1 / 6, 2 / 3])  # as reproduce weighs it: the digits' folds are small
    from szsl import SZSLEnsemble, load_model

    assert isinstance(load_model(model), SZSLEnsemble) and load_model(model).weights == pytest.approx(result["weights"])
    import numpy as np

    feats = tmp_path / "f.npy"
    np.save(feats, np.random.default_rng(0).random((4, load_model(model).n_features_in_), dtype=np.float32))
    assert main(["predict", "--model", str(model), "--features", str(feats), "--top-k", "2", "--out", str(tmp_path / "p.csv")]) == 0
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 1 + 4 * 2
    capsys.readouterr()
    assert main([*argv, "--anchor", "off"]) == 0 and "(2 member(s), calibrate full" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--ensemble", "2"], "szsl: error: --ensemble: only with --from-tune"),
        (["--anchor", "on"], "szsl: error: --anchor: only with --from-tune"),
        (["--from-tune", "missing.json"], "szsl: error: --from-tune missing.json: file not found"),
        (["--from-tune", "{}"], "szsl: error: --from-tune {}: field 'top' missing or empty"),
    ],
)
def test_bad_from_tune_gives_one_line_and_exit_2(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if argv[-1] == "{}":
        (tmp_path / "{}").write_text("{}")
    with pytest.raises(SystemExit) as exc:
        raise SystemExit(main(["train", "--device", "cpu", "--save", "m.pt", *argv]))
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(message) and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "m.pt").exists()
