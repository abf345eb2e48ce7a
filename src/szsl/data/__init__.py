"""Datasets: the Benchmark container and the readers/generators that build one."""

from __future__ import annotations

from szsl.data.benchmark import Benchmark, Fold
from szsl.errors import SZSLError

XLSA17_DATASETS = ("AWA1", "AWA2", "CUB", "SUN", "APY")


def load_benchmark(dataset: str = "digits", root: str | None = None) -> Benchmark:
    """Load a benchmark by name: 'digits' (embedded, no download), an xlsa17 dataset under ``root``,
    or your own dataset: a folder (``root/dataset`` or ``dataset``) holding classes.csv, or a
    dataset.json (see ``szsl.data.generic`` and docs/own-data.md)."""
    name = str(dataset).strip()
    if name.lower() == "digits":
        from szsl.data.digits import load_digits_benchmark

        return load_digits_benchmark()
    if name.upper() in XLSA17_DATASETS:
        if root is None:
            raise SZSLError(f"--root is required for dataset {name.upper()}: the folder holding {name.upper()}/res101.mat (see 'szsl data download')")
        from szsl.data.xlsa17 import load_xlsa17

        return load_xlsa17(root, name)
    from szsl.data.generic import load_generic, looks_like_generic

    generic = looks_like_generic(name, root)
    if generic is not None:
        return load_generic(generic)
    # (The message stays as before: tests and users match it. Paths to your own data are routed above.)
    raise SZSLError(f"unknown dataset {dataset!r}: expected one of digits, {', '.join(XLSA17_DATASETS)}")


__all__ = ["Benchmark", "Fold", "XLSA17_DATASETS", "load_benchmark"]
