"""Semantic-similarity soft labels (paper eq. 1) and the variants the paper discusses.

A seen sample of class i keeps ``1 - q`` on i and spreads ``q`` over the unseen classes as
``q * softmax_k(<a_i, a_k> / tau)``. The softmax is computed with log-sum-exp, so it is
exact and stable for any tau > 0 (1e-3 .. 100 and beyond).
"""

from __future__ import annotations

import numpy as np
import torch

from szsl.config import SOFT_LABEL_VARIANTS
from szsl.errors import SZSLError


def unseen_distribution(
    seen_attributes: torch.Tensor, unseen_attributes: torch.Tensor, tau: float | torch.Tensor, variant: str = "similarity"
) -> torch.Tensor:
    """Rows of the soft label restricted to the unseen classes, each summing to 1.

    seen_attributes: (..., n, A) the attribute vectors of the samples' true classes;
    unseen_attributes: (U, A); tau: a float or a tensor broadcastable to (..., 1, 1).
    Returns (..., n, U). This is the one implementation: training builds the targets of each
    mini-batch with it (never the full seen x C matrix), and ``soft_labels`` uses it too.
    """
    similarity = seen_attributes @ unseen_attributes.T  # (..., n, U)
    if variant == "similarity":
        return torch.softmax(similarity / tau, dim=-1)
    if variant == "nearest":
        # Ties go to the first class in ``unseen`` order (argmax's rule), so the result is deterministic.
        nearest = similarity.argmax(dim=-1, keepdim=True)
        return torch.zeros_like(similarity).scatter_(-1, nearest, 1.0)
    if variant == "uniform":
        return torch.full_like(similarity, 1.0 / similarity.shape[-1])
    raise SZSLError(f"soft_label variant {variant!r}: expected one of {', '.join(SOFT_LABEL_VARIANTS)}")


def smallest_usable_tau(attributes: torch.Tensor, unseen) -> float:
    """The smallest tau for which ``<a_i, a_k> / tau`` stays finite in float32 (training's precision).

    Below it the similarity softmax overflows and every soft label is NaN: training diverges at its
    first epoch, whatever the learning rate (``szsl.train`` names tau then).
    """
    A = torch.as_tensor(attributes, dtype=torch.float64)
    similarity = float((A @ A[torch.as_tensor(unseen, dtype=torch.long)].T).abs().max()) if len(unseen) else 0.0
    return max(similarity / (_FLOAT32_MAX / 2), _FLOAT32_TINY)


_FLOAT32_MAX = float(np.finfo(np.float32).max)
_FLOAT32_TINY = float(np.finfo(np.float32).tiny)


def soft_labels(
    attributes: np.ndarray, seen, unseen, q: float, tau: float, variant: str = "similarity"
) -> np.ndarray:
    """The (len(seen) x C) soft-label matrix of paper eq. 1, in float64.

    attributes: (C, A) class attributes as given (xlsa17's L2-normalised ``att``); similarity is
    their dot product. Row r is the label of seen class ``seen[r]``: ``1 - q`` at that class,
    ``q * softmax_k(<a_i, a_k> / tau)`` at the unseen columns, 0 elsewhere. Rows sum to 1.
    ``variant``: "similarity" (eq. 1), "nearest" (all of q on the most similar unseen class)
    or "uniform" (q spread evenly).
    """
    att = np.asarray(attributes, dtype=np.float64)
    if att.ndim != 2:
        raise SZSLError(f"attributes: expected a 2-D (classes x attributes) array, got shape {att.shape}")
    if not np.isfinite(att).all():
        raise SZSLError("attributes: contains NaN or inf")
    n_classes = att.shape[0]
    seen = _class_index(seen, n_classes, "seen")
    unseen = _class_index(unseen, n_classes, "unseen")
    if np.intersect1d(seen, unseen).size:
        raise SZSLError(f"seen and unseen share classes {np.intersect1d(seen, unseen).tolist()}")
    if not (0.0 <= float(q) <= 1.0):
        raise SZSLError(f"q={q!r}: expected a number in [0, 1]")
    if not (np.isfinite(tau) and tau > 0):
        raise SZSLError(f"tau={tau!r}: expected a number > 0")

    labels = np.zeros((seen.size, n_classes), dtype=np.float64)
    labels[np.arange(seen.size), seen] = 1.0 - q
    if unseen.size:
        t = torch.from_numpy(att)
        spread = unseen_distribution(t[seen], t[unseen], float(tau), variant).numpy()
        labels[:, unseen] = q * spread
    else:
        labels[np.arange(seen.size), seen] = 1.0  # nothing to spread onto
    return labels


def _class_index(values, n_classes: int, name: str) -> np.ndarray:
    idx = np.asarray(values)
    if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
        raise SZSLError(f"{name}: expected a 1-D array of integer class indices")
    idx = idx.astype(np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= n_classes):
        raise SZSLError(f"{name}: class index {int(idx.max() if idx.max() >= n_classes else idx.min())} outside 0..{n_classes - 1}")
    if np.unique(idx).size != idx.size:
        raise SZSLError(f"{name}: repeated class indices")
    return idx
