"""An own-data folder reads only its own files: the one check every own-data reader goes through.

A dataset folder (docs/own-data.md) names other files: ``dataset.json`` names the class and image
tables, the features, the image folder and the weights; ``images.csv`` names image files. Each of
them must resolve (symlinks followed, ``..`` applied) to a path inside the dataset folder, so that a
folder copied from elsewhere can not make szsl read ``/etc/passwd`` or ``~/.ssh`` as features or
images. ``--allow-outside-paths`` (every command that reads own data; ``allow_outside_paths=True``
in the API) lifts the rule for one run.
"""

from __future__ import annotations

import contextlib
import os
from contextvars import ContextVar
from pathlib import Path
from typing import Iterator

from szsl.errors import SZSLError

OPTION = "--allow-outside-paths"

_allowed: ContextVar[bool] = ContextVar("szsl_allow_outside_paths", default=False)


@contextlib.contextmanager
def outside_paths_allowed(allowed: bool = True) -> Iterator[None]:
    """Within the block, own-data loaders called without ``allow_outside_paths`` follow ``allowed`` (the CLI's option)."""
    token = _allowed.set(bool(allowed))
    try:
        yield
    finally:
        _allowed.reset(token)


def outside_allowed(allow: bool | None = None) -> bool:
    """``allow`` if given, else the setting of the enclosing ``outside_paths_allowed`` block (default: refused)."""
    return _allowed.get() if allow is None else bool(allow)


def _resolve(path: Path, what: str) -> Path:
    try:
        return path.resolve()  # not strict: a missing file resolves too, and its reader says it is missing
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        raise SZSLError(f"{path}: {what} cannot be resolved ({exc})") from None
    except ValueError as exc:  # a NUL character: no file has such a name
        raise SZSLError(f"{str(path)!r}: {what} is not a usable path ({exc})") from None


class Confinement:
    """The dataset folder and whether files outside it may be read; ``check`` is the test."""

    def __init__(self, folder: str | os.PathLike, allow: bool | None = None):
        self.folder = Path(folder)
        self.allow = outside_allowed(allow)
        self.base = _resolve(self.folder, "dataset folder")

    def check(self, path: str | os.PathLike, what: str) -> Path:
        """``path`` unchanged when it resolves inside the folder (or outside files are allowed), else an SZSLError."""
        path = Path(path)
        if "\0" in str(path):
            _resolve(path, what)  # the one-line refusal of a NUL character, allowed outside or not
        if self.allow:
            return path
        target = _resolve(path, what)
        if target != self.base and self.base not in target.parents:
            how = "is a symlink to" if path.is_symlink() else "resolves to"
            raise SZSLError(
                f"{path}: {what} {how} {target}, outside the dataset folder {self.base}; a dataset may only name files inside its "
                f"folder (pass {OPTION} to read it anyway)"
            )
        return path


__all__ = ["OPTION", "Confinement", "outside_allowed", "outside_paths_allowed"]
