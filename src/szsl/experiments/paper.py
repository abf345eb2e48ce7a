"""Numbers reported in the paper (Table 2, the SZSL row), for side-by-side comparison.

One source: the SZSL row of the shipped ``paper_data/table2.csv`` (``published.published_rows``), the
same row ``szsl compare``'s Table 2 prints. Accuracies in percent.
"""

from __future__ import annotations

from szsl.experiments.published import as_float, published_rows

_DATASETS = ("AWA1", "AWA2", "CUB", "SUN", "APY")
_ROW = next(r for r in published_rows("table2") if r["method"] == "SZSL")
# dataset key (xlsa17 folder name) -> {"U": value, "S": value, "H": value}
PAPER_SZSL: dict[str, dict[str, float | None]] = {
    ds: {m: as_float(_ROW[f"{ds}_{m}"]) for m in ("U", "S", "H")} for ds in _DATASETS
}

DISPLAY_NAMES = {"AWA1": "AwA1", "AWA2": "AwA2", "CUB": "CUB", "SUN": "SUN", "APY": "aPY", "digits": "digits"}

PAPER_NOTE = (
    "Paper row: the SZSL row of the paper's Table 2 (U, S, H as published, on the real xlsa17 features; never compare it with a twin)."
)


def display_name(dataset: str) -> str:
    return DISPLAY_NAMES.get(dataset, DISPLAY_NAMES.get(dataset.upper(), dataset))
