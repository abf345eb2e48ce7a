"""Datasets: the Benchmark container and the readers/generators that build one."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from szsl.data.benchmark import Benchmark, Fold
from szsl.errors import SZSLError

XLSA17_DATASETS = ("AWA1", "AWA2", "CUB", "SUN", "APY")


def load_benchmark(dataset: str = "digits", root: str | None = None, *, allow_outside_paths: bool | None = None) -> Benchmark:
    """Load a benchmark by name: 'digits' (embedded, no download), an xlsa17 dataset under ``root``,
    or your own dataset: a folder (``root/dataset`` or ``dataset``) holding classes.csv, or a
    dataset.json (see ``szsl.data.generic`` and docs/own-data.md). ``allow_outside_paths``: let your
    own dataset name files outside its folder (``szsl.data.confine``; None: as the CLI's
    ``--allow-outside-paths`` says, default refused)."""
    name = str(dataset).strip()
    if name.lower() == "digits":
        from szsl.data.digits import load_digits_benchmark

        return load_digits_benchmark()
    if name.upper() in XLSA17_DATASETS:
        if root is None:
            raise SZSLError(
                f"--root is required for dataset {name.upper()}: the folder holding {name.upper()}/res101.mat (see 'szsl data download')"
            )
        from szsl.data.xlsa17 import load_xlsa17

        return load_xlsa17(root, name)
    from szsl.data.generic import load_generic, looks_like_generic

    generic = looks_like_generic(name, root)
    if generic is not None:
        return load_generic(generic, allow_outside_paths=allow_outside_paths)
    # (The message stays as before: tests and users match it. Paths to your own data are routed above.)
    raise SZSLError(f"unknown dataset {dataset!r}: expected one of digits, {', '.join(XLSA17_DATASETS)}")


def find_datasets(root: str | None, requested: Sequence[str] | None) -> list[str]:
    """The datasets a command runs, as ``load_benchmark`` specs: ``digits`` without a root; else
    those of ``requested`` (default all five xlsa17 ones) that exist under ``root``. Own-data
    folders / dataset.json files (docs/own-data.md) are accepted with or without a root, as
    ``load_benchmark`` accepts them. An explicitly requested dataset that is missing is an error."""
    from szsl.data.generic import looks_like_generic

    if root is None:
        wanted = [d for d in (requested or ["digits"])]
        bad = [d for d in wanted if d.lower() != "digits" and looks_like_generic(d) is None]
        if bad:
            raise SZSLError(
                f"--datasets {' '.join(bad)} needs --root (the folder holding {bad[0].upper()}/att_splits.mat); without --root only "
                "'digits' runs"
            )
        return list(dict.fromkeys("digits" if d.lower() == "digits" else d for d in wanted))
    base = Path(root)
    if not base.is_dir():
        raise SZSLError(f"--root {root}: not a folder")
    names = []
    for d in requested or XLSA17_DATASETS:
        if d.lower() == "digits":
            names.append("digits")
            continue
        if d.upper() not in XLSA17_DATASETS:
            if looks_like_generic(d, root) is not None:  # your own data, as train and tune accept it
                names.append(d)
                continue
            raise SZSLError(f"--datasets {d}: expected some of {', '.join(XLSA17_DATASETS)} or digits")
        present = (base / d.upper() / "att_splits.mat").is_file()
        if present:
            names.append(d.upper())
        elif requested:
            raise SZSLError(f"--root {root}: no {d.upper()}/att_splits.mat (requested with --datasets)")
    if not names:
        raise SZSLError(f"--root {root}: none of {', '.join(XLSA17_DATASETS)} found (expected <root>/<DS>/att_splits.mat and res101.mat)")
    return list(dict.fromkeys(names))


__all__ = ["Benchmark", "Fold", "XLSA17_DATASETS", "find_datasets", "load_benchmark"]
