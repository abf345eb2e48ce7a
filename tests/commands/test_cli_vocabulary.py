"""One option vocabulary across the sub-commands (docs/cli.md): no abbreviations, --help of every command,
--dataset (one) vs --datasets (several), --quiet, --seeds as a list, --trial-batch."""

import argparse

import pytest

from szsl.cli import build_parser, main


def _subparsers(parser: argparse.ArgumentParser, path=()):
    """(command path, parser) of every parser under ``parser``, itself included."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _subparsers(sub, (*path, name))


PARSERS = dict(_subparsers(build_parser()))
COMMANDS = [path for path in PARSERS if path]


def test_every_parser_refuses_abbreviations():
    assert {"train", "tune", "reproduce", "sweep", "compare", "features", "predict", "data"} <= {p[0] for p in COMMANDS}
    assert ("data", "download") in PARSERS and ("data", "check") in PARSERS
    assert all(p.allow_abbrev is False for p in PARSERS.values())


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_help_parses(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([*command, "--help"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("usage: szsl " + " ".join(command))


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--hidd", "32"], "szsl train: error: unrecognized arguments: --hidd 32 (options are never abbreviated: did you mean"),
        (["train", "--hidd=32"], "szsl train: error: unrecognized arguments: --hidd=32 (options are never abbreviated"),
        (["tune", "--tri", "3"], "szsl tune: error: unrecognized arguments: --tri 3 (options are never abbreviated: did you mean"),
        (["data", "check", "--data", "digits"], "szsl data check: error: unrecognized arguments: --data digits (options are never"),
        (["train", "--datasets", "digits"], "szsl train: error: unrecognized arguments: --datasets digits (this command takes one"),
        (["reproduce", "--dataset", "CUB"], "szsl reproduce: error: unrecognized arguments: --dataset CUB (this command takes several"),
    ],
)
def test_an_abbreviated_or_misnamed_option_is_refused_in_one_line_with_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(message) and "\n" not in err


@pytest.mark.parametrize("command", [["compare"], ["reproduce"], ["sweep", "q"]], ids=" ".join)
def test_seeds_is_a_list_of_seeds_everywhere(command):
    parser = PARSERS[(command[0],)]
    assert parser.parse_args([*command[1:], "--seeds", "0", "1"]).seeds == [0, 1]
    assert parser.parse_args([*command[1:], "--seeds", "7"]).seeds == [7]  # one value: the one seed 7, never a count


def test_compare_defaults_to_seeds_0_to_4_and_its_api_refuses_a_count():
    from szsl.commands.compare import DEFAULT_SEEDS
    from szsl.data import load_benchmark
    from szsl.errors import SZSLError
    from szsl.experiments import compare

    assert PARSERS[("compare",)].parse_args([]).seeds == [0, 1, 2, 3, 4] == list(DEFAULT_SEEDS) == list(compare.DEFAULT_SEEDS)
    with pytest.raises(SZSLError, match=r"seeds=5: expected a non-empty list of seeds, e.g. \[0, 1, 2\] \(not a count\)"):
        compare.compare(load_benchmark("digits"), "eszsl", seeds=5)


PROGRESS_COMMANDS = [
    ["train"], ["tune"], ["reproduce"], ["sweep", "q"], ["compare"], ["features", "--images", "d", "--out", "f.npy"],
    ["predict", "--model", "m", "--images", "d"], ["data", "download", "--root", "r"],
]


@pytest.mark.parametrize("argv", PROGRESS_COMMANDS, ids=lambda a: a[0] if a[0] != "data" else "data download")
def test_every_command_with_progress_bars_takes_quiet(argv):
    parser = build_parser()
    assert parser.parse_args([*argv, "--quiet"]).quiet is True
    assert parser.parse_args(argv).quiet is False


def test_data_download_still_takes_the_hidden_deprecated_no_progress(capsys):
    assert build_parser().parse_args(["data", "download", "--root", "r", "--no-progress"]).quiet is True
    with pytest.raises(SystemExit):
        main(["data", "download", "--help"])
    text = capsys.readouterr().out
    assert "--quiet" in text and "--no-progress" not in text


def test_train_quiet_shows_no_progress_bar(capsys, monkeypatch):
    import szsl.progress

    argv = ["train", "--epochs", "2", "--hidden", "8", "--device", "cpu"]
    assert main(argv) == 0
    assert capsys.readouterr().err == ""  # not a terminal: the per-epoch bar prints a line only after 10 s (szsl.progress)
    monkeypatch.setattr(szsl.progress, "stderr_is_terminal", lambda: True)
    assert main(argv) == 0
    assert "train K=" in capsys.readouterr().err
    assert main([*argv, "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "digits: U=" in captured.out


@pytest.mark.parametrize("command", ["tune", "reproduce"])
def test_trial_batch_and_its_old_name_batch_set_the_trials_trained_together(command, capsys):
    parser = PARSERS[(command,)]
    assert parser.parse_args(["--trial-batch", "3"]).batch == 3
    assert parser.parse_args(["--batch", "4"]).batch == 4
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert "--trial-batch B, --batch B" in capsys.readouterr().out


def test_docs_cli_lists_every_option_shared_by_several_commands():
    from collections import Counter
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    counts = Counter(
        option
        for path, parser in PARSERS.items()
        if path and not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions)
        for a in parser._actions
        if a.help != argparse.SUPPRESS
        for option in a.option_strings
        if option.startswith("--") and option != "--help"
    )
    shared = sorted(option for option, n in counts.items() if n > 1)
    assert "--seeds" in shared and "--quiet" in shared
    assert [option for option in shared if f"`{option}" not in text] == []
