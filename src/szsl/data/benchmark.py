"""Benchmark: one GZSL dataset in memory. Pure data, no I/O.

All indices are 0-based. ``features`` may be a read-only memory map.
Who may see which images is decided by ``szsl.protocol``, not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Fold:
    """One validation fold: pseudo-seen (train) and pseudo-unseen (val) classes, 0-based."""

    train_classes: np.ndarray
    val_classes: np.ndarray


@dataclass(frozen=True, eq=False)
class Benchmark:
    name: str
    features: np.ndarray  # (N, D) float32
    labels: np.ndarray  # (N,) int64, 0-based class index
    attributes: np.ndarray  # (C, A) float32, the L2-normalised class attributes ("att")
    original_attributes: np.ndarray  # (C, A') as released (may be the same as attributes)
    class_names: tuple[str, ...]
    seen: np.ndarray  # (S,) int64 sorted class indices of the trainval classes
    unseen: np.ndarray  # (U,) int64 sorted class indices of the test classes
    trainval: np.ndarray  # (n,) int64 image indices
    test_seen: np.ndarray
    test_unseen: np.ndarray
    folds: tuple[Fold, ...] = field(default=())
    source: str = ""  # where it came from (a path or "embedded"), for messages

    @property
    def n_classes(self) -> int:
        return int(self.attributes.shape[0])

    @property
    def n_images(self) -> int:
        return int(self.features.shape[0])

    @property
    def feature_dim(self) -> int:
        return int(self.features.shape[1])

    @property
    def attribute_dim(self) -> int:
        return int(self.attributes.shape[1])
