"""Arguments and helpers shared by several sub-commands."""

from __future__ import annotations

import argparse

from szsl.atomic import check_output_path  # noqa: F401 - the output-path check every command runs first


def add_dataset_args(parser: argparse.ArgumentParser, *, required_root: bool = False) -> None:
    parser.add_argument("--root", default=None, help="folder holding <DS>/res101.mat and <DS>/att_splits.mat (xlsa17 layout)")
    parser.add_argument(
        "--dataset",
        default="digits" if not required_root else None,
        required=required_root,
        help="AWA1, AWA2, CUB, SUN, APY (case-insensitive; needs --root), 'digits' (the embedded benchmark, default), or a folder / "
             "dataset.json in the own-data format (docs/own-data.md)",
    )
