"""Numbers reported in the paper (Table 2, the SZSL row), for side-by-side comparison.

Only the harmonic means H are recorded here. The paper's per-dataset U and S of the SZSL row
are not transcribed in this repository, so they are shown as missing rather than guessed.
Accuracies in percent.
"""

from __future__ import annotations

# dataset key (xlsa17 folder name) -> {"U": None, "S": None, "H": value}
PAPER_SZSL: dict[str, dict[str, float | None]] = {
    "AWA1": {"U": None, "S": None, "H": 65.2},
    "AWA2": {"U": None, "S": None, "H": 64.7},
    "CUB": {"U": None, "S": None, "H": 49.6},
    "SUN": {"U": None, "S": None, "H": 38.6},
    "APY": {"U": None, "S": None, "H": 48.7},
}

DISPLAY_NAMES = {"AWA1": "AwA1", "AWA2": "AwA2", "CUB": "CUB", "SUN": "SUN", "APY": "aPY", "digits": "digits"}

PAPER_NOTE = "Paper row: only the H values of Table 2 are recorded here; its U and S are shown as '-'."


def display_name(dataset: str) -> str:
    return DISPLAY_NAMES.get(dataset, DISPLAY_NAMES.get(dataset.upper(), dataset))
