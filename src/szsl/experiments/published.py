"""Published GZSL results shipped with szsl (package data under ``experiments/paper_data/``).

* ``table2.csv``: Table 2 of the SZSL paper (the methods it compares against, and its own rows);
* ``peers_after.csv``: later methods' published results on the same xlsa17 ResNet-101 features,
  with the training cost and a note (several pick epochs or constants on the test split).

Lines starting with ``#`` are comments. Every row comes back as a dict of strings (empty string
= not reported); ``as_float`` turns a U/S/H cell into a float or None.
"""

from __future__ import annotations

import csv
import io
from importlib import resources

from szsl.errors import SZSLError

TABLES = {"table2": "table2.csv", "peers_after": "peers_after.csv"}


def _text(filename: str) -> str:
    return resources.files("szsl.experiments").joinpath("paper_data", filename).read_text(encoding="utf-8")


def published_rows(table: str = "table2") -> list[dict[str, str]]:
    """Rows of one shipped table ("table2" or "peers_after") as dicts keyed by the CSV header."""
    if table not in TABLES:
        raise SZSLError(f"published table {table!r}: expected one of {', '.join(TABLES)}")
    lines = [line for line in _text(TABLES[table]).splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [dict(row) for row in csv.DictReader(io.StringIO("\n".join(lines)))]


def as_float(cell: str | None) -> float | None:
    """A U/S/H cell as a float, or None when the paper reports nothing there."""
    if cell is None or str(cell).strip() == "":
        return None
    return float(cell)
