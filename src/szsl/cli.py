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
from szsl.signals import Terminated, forget_signals, install_signal_handlers, raise_if_terminated, restore_signal_handlers

COMMANDS = ["data", "train", "tune", "reproduce", "sweep", "compare", "features", "predict"]


class _Parser(argparse.ArgumentParser):
    """Every szsl parser (the main one and each sub-command's): errors are one line and exit 2; an option is
    only ever recognised by its full name (``allow_abbrev=False``: ``--hidd`` is refused, never taken for ``--hidden``)."""

    def __init__(self, *args, **kwargs):
        kwargs["allow_abbrev"] = False
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # one line, exit 2, no usage dump
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(2)

    def parse_known_args(self, args=None, namespace=None):
        parsed, extras = super().parse_known_args(args, namespace)
        for extra in extras:  # an unknown option close to a known one: name the one meant, in this parser's own message
            if extra.startswith("--"):
                hint = _did_you_mean(extra.split("=", 1)[0], [o for o in self._option_string_actions if o.startswith("--")])
                if hint:
                    self.error(f"unrecognized arguments: {' '.join(extras)} ({hint})")
        return parsed, extras


def _did_you_mean(option: str, known: list[str]) -> str:
    """A hint for an unknown ``--option``: the abbreviated option (abbreviations are refused) or the closest name."""
    import difflib

    if option == "--datasets" and "--dataset" in known:
        return "this command takes one data set: --dataset"
    if option == "--dataset" and "--datasets" in known:
        return "this command takes several data sets: --datasets"
    longer = sorted(o for o in known if o.startswith(option))
    if longer:
        return f"options are never abbreviated: did you mean {' or '.join(longer)}?"
    close = difflib.get_close_matches(option, known, n=1, cutoff=0.8)
    return f"did you mean {close[0]}?" if close else ""


def build_parser() -> argparse.ArgumentParser:
    from szsl import __version__

    parser = _Parser(prog="szsl", description="Generalized zero-shot learning with semantic-similarity soft labels.")
    parser.add_argument("--version", action="version", version=f"szsl {__version__}")
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


def _out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, MemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and ("can't allocate memory" in text or "out of memory" in text.lower())


def _quiet_secondary_database_errors() -> None:
    """SQLAlchemy logs "Error closing cursor" with a traceback when a Ctrl-C lands inside a database read (the cursor's
    database is closed by then); the interrupt itself is reported in one line, so that echo is not printed."""
    import logging

    pool = logging.getLogger("sqlalchemy.pool")
    if not any(isinstance(h, logging.NullHandler) for h in pool.handlers):
        pool.addHandler(logging.NullHandler())


def main(argv: list[str] | None = None) -> int:
    forget_signals()
    _quiet_secondary_database_errors()
    previous = install_signal_handlers()
    try:
        return _main(argv)
    finally:
        restore_signal_handlers(previous)
        forget_signals()


# Commands that keep finished work when stopped and continue from it when re-run (a study, stages, chunks, a download).
RESUMABLE = ("tune", "reproduce", "compare", "features", "data download")


def _stopped_message(how: str, args) -> str:
    command = " ".join(filter(None, (getattr(args, "command", None), getattr(args, "data_command", None))))
    if command in RESUMABLE:
        return f"szsl: {how}; finished work is saved, re-run the same command to continue"
    return f"szsl: {how}; this command saves nothing until it finishes and does not resume: re-run it to start again"


def _main(argv: list[str] | None) -> int:
    args = None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        from szsl.data.confine import outside_paths_allowed

        with outside_paths_allowed(getattr(args, "allow_outside_paths", False)):  # --allow-outside-paths, for the whole run
            result = args.func(args)
        raise_if_terminated()  # a signal whose Terminated a finalizer swallowed: report it, do not exit 0
    except SZSLError as exc:
        print(f"szsl: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        how = "terminated" if isinstance(exc, Terminated) else "interrupted"
        print(_stopped_message(how, args), file=sys.stderr)
        return 128 + exc.signum if isinstance(exc, Terminated) else 130
    except (MemoryError, RuntimeError) as exc:
        if not _out_of_memory(exc):
            raise
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        first = first.split("DefaultCPUAllocator: ", 1)[-1][:200]
        print(
            f"szsl: error: out of memory ({first}); lower --hidden, --batch-size or the number of trials trained together (--trial-batch)",
            file=sys.stderr,
        )
        return 2
    return int(result or 0)
