"""Training data at the boundary: validation of (X, y, A) and the features as the device sees them.

X may be a memory-mapped array: it is validated in chunks and used in place on the CPU (no
copy), copied once to a CUDA device when it fits there, and streamed per mini-batch otherwise.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from szsl.config import INPUT_SCALINGS
from szsl.errors import SZSLError

# Rows per chunk when X is validated or copied to a device: bounded temporaries whatever N.
_CHUNK_BYTES = 64 << 20
# On CUDA, X is copied to the device when it takes at most this share of the free device memory.
_DEVICE_DATA_SHARE = 0.5
# Input scaling (TrainConfig.input_scaling = "auto"): features whose mean L2 norm lies within a factor BAND of
# REF_NORM (a ResNet-101 feature of xlsa17: about 43 on the twins) are used as they are; others are scaled to
# REF_NORM. At a given learning rate the first layer learns in proportion to the input scale: the digits' pixel
# vectors (norm 3.9) trained ten times slower than the features the defaults were chosen on (docs/robustness.md).
REF_NORM = 40.0
BAND = 4.0


def _chunk_rows(X: np.ndarray) -> int:
    row_bytes = max(1, int(np.prod(X.shape[1:], dtype=np.int64)) * X.dtype.itemsize)
    return max(1, _CHUNK_BYTES // row_bytes)


def _all_finite(X: np.ndarray) -> bool:
    """np.isfinite(X).all() in row chunks: no N x D temporary, one pass over a memmap.

    A chunk whose sum is finite holds no NaN/inf (they propagate through a sum); only a chunk
    whose sum is not finite (NaN/inf, or float overflow of large finite values) is checked exactly.
    """
    step = _chunk_rows(X)
    for start in range(0, X.shape[0], step):
        chunk = X[start : start + step]
        if not np.isfinite(chunk.sum(dtype=np.float64)) and not np.isfinite(chunk).all():
            return False
    return True


def as_training_data(X, y, class_attributes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate (X, y, A) at the boundary; returns float32 X (no copy when already float32), int64 y, float32 A.

    A float32 ``np.memmap`` (or ``np.load(..., mmap_mode="r")``) stays a memmap: it is checked in
    chunks and never read into process memory as a whole.
    """
    if isinstance(X, torch.Tensor):
        X = X.detach().cpu().numpy()
    if not isinstance(X, np.ndarray):  # np.memmap is an ndarray: keep it as it is
        X = np.asarray(X)
    if X.ndim != 2:
        raise SZSLError(f"X: expected a 2-D (samples x features) array, got shape {X.shape}")
    if X.shape[0] == 0:
        raise SZSLError("X: no training samples")
    if X.shape[1] == 0:
        raise SZSLError(f"X: no features (shape {X.shape}); expected at least one feature column")
    if not np.issubdtype(X.dtype, np.number) or np.issubdtype(X.dtype, np.complexfloating):
        raise SZSLError(f"X: expected real numbers, got dtype {X.dtype}")
    if X.dtype != np.float32:
        X = X.astype(np.float32)  # a copy: pass float32 to train in place (memmaps included)
    if not _all_finite(X):
        raise SZSLError("X: contains NaN or inf")
    y = np.asarray(y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise SZSLError(f"y: expected shape ({X.shape[0]},) to match X, got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        if np.issubdtype(y.dtype, np.floating) and np.isfinite(y).all() and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise SZSLError(f"y: expected integer class indices, got dtype {y.dtype}")
    A = np.asarray(class_attributes.detach().cpu().numpy() if isinstance(class_attributes, torch.Tensor) else class_attributes)
    if A.ndim != 2 or A.shape[0] < 2:
        raise SZSLError(f"class_attributes: expected a 2-D (classes x attributes) array with >= 2 classes, got shape {A.shape}")
    if not np.issubdtype(A.dtype, np.number) or not np.isfinite(A).all():
        raise SZSLError("class_attributes: expected finite numbers (found NaN, inf or non-numeric values)")
    y = y.astype(np.int64, copy=False)
    if y.min() < 0 or y.max() >= A.shape[0]:
        bad = int(y.min() if y.min() < 0 else y.max())
        raise SZSLError(f"y: label {bad} outside 0..{A.shape[0] - 1} (the rows of class_attributes)")
    return X, y, A.astype(np.float32)


def mean_norm(X: np.ndarray) -> float:
    """The mean L2 norm of the rows of X, in row chunks (one pass over a memmap)."""
    step, total = _chunk_rows(X), 0.0
    for start in range(0, X.shape[0], step):
        total += float(np.linalg.norm(np.asarray(X[start : start + step], dtype=np.float64), axis=1).sum())
    return total / max(1, X.shape[0])


def input_scale(X: np.ndarray, mode: str = "auto") -> float:
    """The factor the training features are multiplied by: 1 with mode "none" or a mean row norm within a factor
    BAND of REF_NORM (every xlsa17 benchmark), else REF_NORM / mean norm. The trained first layer takes it in,
    so the model applies to the features as given."""
    if mode not in INPUT_SCALINGS:
        raise SZSLError(f"input_scaling={mode!r}: expected one of {', '.join(INPUT_SCALINGS)}")
    norm = mean_norm(X) if mode == "auto" else 0.0
    if norm == 0.0 or REF_NORM / BAND <= norm <= REF_NORM * BAND:
        return 1.0
    return REF_NORM / norm


def _host_tensor(X: np.ndarray) -> torch.Tensor:
    """A CPU tensor sharing X's memory (a read-only memmap included: training never writes to X)."""
    X = np.ascontiguousarray(X) if not X.flags.c_contiguous else X
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(X)


class TrainingRows:
    """The training features as the device sees them; ``rows(idx)`` gathers a mini-batch.

    CPU: X itself (no copy; a memmap is read through the OS page cache). CUDA: one chunked copy
    to the device when X fits in a share of its free memory (data stays there for the whole run),
    else X stays on the host and each mini-batch is gathered there and copied over pinned memory.
    """

    def __init__(self, X: np.ndarray, dev: torch.device):
        host = _host_tensor(X)
        self.device = dev
        self.resident = True
        if dev.type == "cpu":
            self.X = host
            return
        free = torch.cuda.mem_get_info(dev)[0] if dev.type == "cuda" else float("inf")
        if X.nbytes <= _DEVICE_DATA_SHARE * free:
            self.X = torch.empty(X.shape, dtype=torch.float32, device=dev)
            step = _chunk_rows(X)
            for start in range(0, X.shape[0], step):
                self.X[start : start + step].copy_(host[start : start + step])
        else:
            self.X, self.resident = host, False

    def rows(self, idx: torch.Tensor) -> torch.Tensor:
        """idx: (K, B) row indices on the device -> (B, D) when K == 1, else (K, B, D)."""
        k, b = idx.shape
        flat = idx.reshape(-1)
        if self.resident:
            out = self.X.index_select(0, flat)
        else:
            out = self.X.index_select(0, flat.cpu()).pin_memory().to(self.device, non_blocking=True)
        return out if k == 1 else out.view(k, b, -1)
