"""``szsl data check``: load a benchmark, validate it, print a one-screen summary."""

from __future__ import annotations

import numpy as np

import szsl.data
from szsl.commands._common import add_dataset_args
from szsl.data.benchmark import Benchmark, validate_benchmark

# Features may be a multi-GB memory map: summarise it in blocks of about this many bytes.
_BLOCK_BYTES = 1 << 26


def feature_stats(features: np.ndarray) -> dict[str, float]:
    """min, mean, max and fraction of exact zeros over all feature values, in bounded memory."""
    rows = max(1, _BLOCK_BYTES // max(1, features.shape[1] * features.dtype.itemsize))
    lo, hi, total, zeros = np.inf, -np.inf, 0.0, 0
    for start in range(0, features.shape[0], rows):
        block = np.asarray(features[start : start + rows], dtype=np.float64)
        lo, hi = min(lo, float(block.min())), max(hi, float(block.max()))
        total += float(block.sum())
        zeros += int(np.count_nonzero(block == 0))
    size = features.shape[0] * features.shape[1]
    return {"min": lo, "mean": total / size, "max": hi, "zero_fraction": zeros / size}


def summary_lines(b: Benchmark) -> list[str]:
    """The summary ``szsl data check`` prints, one string per line."""
    stats = feature_stats(b.features)
    lines = [
        ("dataset", b.name),
        ("source", b.source or "-"),
        ("classes", f"{b.n_classes} total: {len(b.seen)} seen, {len(b.unseen)} unseen"),
        (
            "images",
            f"{b.n_images:,} total: trainval {len(b.trainval):,}, test_seen {len(b.test_seen):,}, test_unseen {len(b.test_unseen):,}",
        ),
        ("attributes", f"{b.attribute_dim} per class"),
        (
            "features",
            f"{b.feature_dim} per image: min {stats['min']:.4g}, mean {stats['mean']:.4g}, max {stats['max']:.4g}, "
            f"zeros {100 * stats['zero_fraction']:.2f}%",
        ),
    ]
    trainval_labels = b.labels[b.trainval]
    for k, fold in enumerate(b.folds, start=1):
        n_train = int(np.isin(trainval_labels, fold.train_classes).sum())
        n_val = int(np.isin(trainval_labels, fold.val_classes).sum())
        lines.append(
            (
                f"fold {k}",
                f"{len(fold.train_classes)} train classes ({n_train:,} trainval images), {len(fold.val_classes)} val classes ({n_val:,} "
                "trainval images)",
            )
        )
    if not b.folds:
        lines.append(("folds", "none"))
    lines.append(("check", "ok"))
    return [f"{key:<11} {value}" for key, value in lines]


def run(args) -> int:
    b = szsl.data.load_benchmark(args.dataset, args.root)
    # Loaders may or may not validate; a check command always does.
    validate_benchmark(b)
    print("\n".join(summary_lines(b)))
    return 0


def add_parser(data_sub) -> None:
    parser = data_sub.add_parser(
        "check",
        help="validate a benchmark and print a summary",
        description="Load a benchmark, validate every file and field, and print classes, splits, dimensions, "
        "feature statistics and fold sizes. Any problem is one line naming the file and field, exit code 2.",
    )
    add_dataset_args(parser)
    parser.set_defaults(func=run)
