"""Shared fixtures. Real xlsa17 metadata is read from ../shared/xlsa17 (never committed);
tests that need it skip cleanly when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATASETS = ("AWA1", "AWA2", "CUB", "SUN", "APY")


def shared_xlsa17_root() -> Path | None:
    env = os.environ.get("SZSL_SHARED_XLSA17")
    root = Path(env) if env else REPO.parent / "shared" / "xlsa17"
    return root if (root / "AWA2" / "att_splits.mat").is_file() else None


@pytest.fixture(scope="session")
def shared_root() -> Path:
    root = shared_xlsa17_root()
    if root is None:
        pytest.skip("real xlsa17 metadata not found (../shared/xlsa17 or $SZSL_SHARED_XLSA17)")
    return root
