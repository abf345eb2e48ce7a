"""``szsl data check|synth|download``."""

from __future__ import annotations

import importlib

SUBCOMMANDS = ["data_check", "data_synth", "data_download"]


def add_parser(sub) -> None:
    parser = sub.add_parser("data", help="check, synthesise or download benchmark data")
    data_sub = parser.add_subparsers(dest="data_command", metavar="ACTION", parser_class=type(parser))
    data_sub.required = True
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"szsl.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"szsl.commands.{name}":
                continue
            raise
        module.add_parser(data_sub)
