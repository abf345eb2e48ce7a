"""Shared fixtures. Real xlsa17 metadata is read from ../shared/xlsa17 (never committed);
tests that need it skip cleanly when it is absent."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# tests/ mirrors src/szsl/ (data/, methods/, experiments/, commands/) plus the cross-cutting
# reliability suites; test modules share helpers across folders (``from test_xlsa17 import ...``).
for _folder in ("", "data", "methods", "experiments", "commands", "reliability"):
    sys.path.insert(0, str(REPO / "tests" / _folder))
from shared_data import DATASETS, shared_xlsa17_root  # noqa: E402,F401 - a plain module: "conftest" names several files


@pytest.fixture(scope="session")
def shared_root() -> Path:
    root = shared_xlsa17_root()
    if root is None:
        pytest.skip("real xlsa17 metadata not found (../shared/xlsa17 or $SZSL_SHARED_XLSA17)")
    return root
