"""Where the real xlsa17 metadata lives (../shared/xlsa17, never committed)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATASETS = ("AWA1", "AWA2", "CUB", "SUN", "APY")


def shared_xlsa17_root() -> Path | None:
    env = os.environ.get("SZSL_SHARED_XLSA17")
    root = Path(env) if env else REPO.parent / "shared" / "xlsa17"
    return root if (root / "AWA2" / "att_splits.mat").is_file() else None
