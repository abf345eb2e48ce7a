"""The ``szsl`` command: parse, call the Python API, print.

Each sub-command lives in ``szsl.commands.<name>`` and exposes ``add_parser(subparsers)``
(which registers its arguments and sets ``func``). No logic here that the API lacks.
Errors the user can fix (``SZSLError``, bad option values) become one line on stderr and
exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from szsl.errors import SZSLError

COMMANDS = ["data", "train", "tune", "reproduce", "sweep", "compare", "features", "predict"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, no usage dump
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="szsl", description="Generalized zero-shot learning with semantic-similarity soft labels.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"szsl.commands.{name}")
        except ModuleNotFoundError as exc:  # a command not written yet; anything else is a bug
            if exc.name == f"szsl.commands.{name}":
                continue
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except SZSLError as exc:
        print(f"szsl: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("szsl: interrupted; finished work is saved, re-run the same command to continue", file=sys.stderr)
        return 130
    return int(result or 0)
