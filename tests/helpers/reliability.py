"""Helpers of the reliability suites: the counts log, the environment and command line of ``szsl``
subprocesses, the tiny search space of the kill tests, and the check that every output parses."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TINY_SPACE = {"hidden": {"choices": [16, 32]}, "batch_size": 64, "epochs": 6}


def report(target: str, **counts) -> None:
    """Print (pytest -s) and, with $SZSL_RELIABILITY_LOG, append one JSON line of measured counts."""
    line = json.dumps({"target": target, **counts}, sort_keys=True)
    print(f"\n[reliability] {line}")
    path = os.environ.get("SZSL_RELIABILITY_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def env(**extra) -> dict:
    e = dict(os.environ, PYTHONPATH=str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""), **extra)
    e.setdefault("OMP_NUM_THREADS", "1")
    return e


def szsl(*args: str) -> list[str]:
    return [sys.executable, "-m", "szsl", *args]


def parse_outputs(folder: Path) -> None:
    for p in folder.rglob("*"):
        if not p.is_file() or ".tmp" in p.name:
            continue
        if p.suffix == ".json":
            content = json.loads(p.read_text())
            if p.parent != folder or p.name not in ("results.json", "compare.json"):
                continue
            assert content  # a published result is complete
        elif p.suffix == ".png":
            assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", p
        elif p.suffix in (".md", ".csv"):
            assert p.read_text().strip(), p
