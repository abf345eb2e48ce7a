"""Arguments and helpers shared by several sub-commands."""

from __future__ import annotations

import argparse

from szsl.atomic import check_output_path  # noqa: F401 - the output-path check every command runs first


def add_quiet_arg(parser: argparse.ArgumentParser, *, no_progress_alias: bool = False) -> None:
    """``--quiet``: no progress bars (every command that shows any; results and messages are still printed).

    ``no_progress_alias``: also accept the deprecated ``--no-progress`` (hidden from --help), the same switch.
    """
    parser.add_argument("--quiet", action="store_true", help="no progress bars (results are still printed)")
    if no_progress_alias:
        parser.add_argument("--no-progress", dest="quiet", action="store_true", help=argparse.SUPPRESS)


def add_outside_paths_arg(parser: argparse.ArgumentParser) -> None:
    """``--allow-outside-paths``: the one switch, on every command that reads own data, that lets a dataset folder name files
    outside itself (``szsl.data.confine``; ``szsl.cli`` applies it to the whole run)."""
    from szsl.data.confine import OPTION

    parser.add_argument(
        OPTION, dest="allow_outside_paths", action="store_true",
        help="let an own-data folder (docs/own-data.md) name files outside itself: paths with '..', absolute paths, symlinks "
        "that leave the folder (refused by default)",
    )


def add_dataset_args(parser: argparse.ArgumentParser, *, required_root: bool = False) -> None:
    parser.add_argument("--root", default=None, help="folder holding <DS>/res101.mat and <DS>/att_splits.mat (xlsa17 layout)")
    parser.add_argument(
        "--dataset",
        default="digits" if not required_root else None,
        required=required_root,
        help="AWA1, AWA2, CUB, SUN, APY (case-insensitive; needs --root), 'digits' (the embedded benchmark, default), or a folder / "
             "dataset.json in the own-data format (docs/own-data.md)",
    )
    add_outside_paths_arg(parser)


def add_anchor_arg(parser: argparse.ArgumentParser, default: str | None) -> None:
    """``--anchor auto|on|off``: szsl's untuned setting as one more member of the final model (``final_model.anchor_for``)."""
    parser.add_argument(
        "--anchor", choices=("auto", "on", "off"), default=default,
        help="szsl's untuned setting (what szsl train trains with no hyperparameters) joins the chosen trials as one more "
        "member, uncalibrated: auto (default) where the training set has at most 4000 images (it costs about two "
        "trainings of the fixed setting per seed on a large one), on, off",
    )
