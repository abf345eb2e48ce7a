"""cn-soft: CN's prototype network (``szsl.methods.cn``) trained with szsl's similarity soft labels.

Everything of CN's recipe is kept (attribute scaling, the MLP with class standardisation, the
initialisation, cosine scores with scale 5, Adam / StepLR / 50 epochs / batch 256) except the
loss: the prototypes of ALL classes (seen and unseen, computed by the same MLP; class
standardisation over all of them) enter a cross-entropy against the soft target of paper eq. 1,

    t(i) = (1 - q) at the true (seen) class i,  q * softmax_k(<a_i, a_k> / tau) over the unseen k,

with a the class attributes L2-normalised (as xlsa17's ``att``). With no unseen class the target
is the hard label. Defaults: CN's (including ``seen_scale`` 0.95, and 1.0 on CUB: cn's
``PER_DATASET``) plus q = 0.3, tau = 0.2 (szsl's choice, not tuned on any test split). ``SPACE``
searches ``seen_scale`` as cn's does.

Note: with q = 0 this is NOT cn: the unseen prototypes then sit in the softmax as negatives, and
the model calls nearly every unseen image seen (aPY twin, validation fold 1: U 0.0). The soft
mass q is what keeps them alive; CN avoids the problem by leaving them out of the loss.
"""

from __future__ import annotations

import numpy as np
import torch

from szsl.methods import cn
from szsl.methods._peer_common import check_inputs, l2_rows
from szsl.model import resolve_device
from szsl.params import POSITIVE, Interval, Param, check, defaults, space

NAME = "cn-soft"

PARAMS = (
    *cn.PARAMS,
    Param("q", 0.3, Interval(float, 0.0, 1.0), {"low": 0.0, "high": 0.9}, "soft-label mass moved to the unseen classes"),
    Param("tau", 0.2, POSITIVE, {"low": 0.02, "high": 1.0, "log": True}, "similarity temperature"),
)
DEFAULTS = defaults(PARAMS)
SPACE = space(PARAMS)
PER_DATASET = {ds: dict(values) for ds, values in cn.PER_DATASET.items()}  # CN's authors' seen_scale 1.0 on CUB


def soft_targets(attributes: np.ndarray, seen: np.ndarray, unseen: np.ndarray, q: float, tau: float) -> np.ndarray:
    """(C, C) float32: row c is the soft label of a training image of class c (rows of unseen classes unused)."""
    C = attributes.shape[0]
    T = np.eye(C, dtype=np.float64)
    if unseen.size == 0 or q == 0.0:
        return T.astype(np.float32)
    a = l2_rows(attributes)
    sim = a[seen] @ a[unseen].T / tau  # (S, U)
    sim -= sim.max(axis=1, keepdims=True)
    soft = np.exp(sim)
    soft /= soft.sum(axis=1, keepdims=True)
    T[seen] *= 1.0 - q
    T[np.ix_(seen, unseen)] = q * soft
    return T.astype(np.float32)


def fit(X, y, attributes, params: dict | None = None, *, seed: int = 0, device: str = "auto"):
    p = check(NAME, PARAMS, params)
    _, _, A, seen, unseen = check_inputs(NAME, X, y, attributes)
    dev = resolve_device(device)
    T = torch.as_tensor(soft_targets(A, seen, unseen, p["q"], p["tau"]), device=dev)
    cn_params = {k: p[k] for k in cn.DEFAULTS}
    fitted = cn.train_cn(X, y, attributes, cn_params, seed=seed, device=dev, name=NAME,
                         target_fn=lambda yb: T[yb], train_classes="all")
    fitted.params_ = p
    return fitted
