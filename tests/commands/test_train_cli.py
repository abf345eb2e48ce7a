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
