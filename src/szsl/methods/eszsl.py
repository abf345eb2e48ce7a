"""ESZSL: "An embarrassingly simple approach to zero-shot learning" (Romera-Paredes & Torr, ICML 2015).

Paper notation (columns are samples): X in R^{d x m}, S in R^{a x z}, Y in {-1, 1}^{m x z},
V = (X X^T + gamma I)^{-1} X Y S^T (S S^T + lambda I)^{-1}, score of class k: x^T V s_k.
Here rows are samples, so with X (n x d), S = attributes of the SEEN classes (C_seen x a) and
Y (n x C_seen):

    V = (X^T X + gamma I_d)^{-1} X^T Y S (S^T S + lambda I_a)^{-1}        (d x a)
    scores = X V S_all^T                                                 (n x C, all classes)

Y is +1 at the sample's class and -1 elsewhere (the paper's {-1, 1}; ``targets="01"`` gives
the one-hot {0, 1} variant). Solved in float64 with torch on any device. The Gram matrices are
accumulated in row chunks (memory O(d^2 + C d), whatever n) and eigendecomposed once, so each
(gamma, lambda) of a search costs two small matrix products.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from szsl.errors import SZSLError
from szsl.model import resolve_device
from szsl.params import Options, Param, defaults, space

NAME = "eszsl"
DESCRIPTION = "ESZSL (Romera-Paredes & Torr 2015) closed form"
DETERMINISTIC = True  # no seed: every seed gives the same model
TARGETS = ("pm1", "01")
# gamma and lambda carry no constraint here: the solver checks them (> 0) when it solves (ESZSLSolver.V).
PARAMS = (
    Param("gamma", 1.0, None, {"low": 1e-3, "high": 1e3, "log": True},
          "regulariser of the feature side, the ESZSL paper's gamma (> 0; not the calibration shift)"),
    Param("lambda", 1.0, None, {"low": 1e-3, "high": 1e3, "log": True}, "regulariser of the attribute side (> 0)"),
    # {-1, 1} is the paper's; with uncentred non-negative (ReLU) features its constant -1 part
    # adds a class offset shared by every image, and {0, 1} can do much better: search both.
    Param("targets", "pm1", Options(TARGETS), {"choices": ["pm1", "01"]}, "Y in {-1, 1} (pm1, the paper's) or {0, 1}"),
)
DEFAULTS = defaults(PARAMS)
SPACE = space(PARAMS)
_CHUNK_ROWS = 8192


@dataclass
class ESZSLSolver:
    """The (gamma, lambda)-independent part of the closed form, for one training set."""

    Q_x: torch.Tensor  # eigenvectors of X^T X (d, d), float64
    L_x: torch.Tensor  # its eigenvalues (d,)
    Q_s: torch.Tensor  # eigenvectors of S^T S (a, a)
    L_s: torch.Tensor  # (a,)
    B: torch.Tensor  # X^T Y S (d, a)

    @classmethod
    def fit(cls, X, y, class_attributes, *, targets: str = "pm1", device="auto") -> "ESZSLSolver":
        """X (n, d), y (n,) labels in [0, C), class_attributes (C, a) of all classes; seen = classes in y."""
        if targets not in TARGETS:
            raise SZSLError(f"targets={targets!r}: expected one of {', '.join(TARGETS)}")
        dev = resolve_device(device)
        y = np.asarray(y, dtype=np.int64)
        A = torch.as_tensor(np.asarray(class_attributes, dtype=np.float64), device=dev)
        seen = np.unique(y)
        col = torch.as_tensor(np.searchsorted(seen, y), device=dev)
        S = A[torch.as_tensor(seen, device=dev)]  # (C_seen, a)
        d = X.shape[1]
        G = torch.zeros((d, d), dtype=torch.float64, device=dev)
        class_sums = torch.zeros((seen.size, d), dtype=torch.float64, device=dev)  # X^T onehot, transposed
        for start in range(0, X.shape[0], _CHUNK_ROWS):
            xc = torch.as_tensor(np.asarray(X[start : start + _CHUNK_ROWS], dtype=np.float64), device=dev)
            G += xc.T @ xc
            class_sums.index_add_(0, col[start : start + xc.shape[0]], xc)
        XtY = class_sums.T  # (d, C_seen): X^T Y for one-hot Y
        if targets == "pm1":  # Y = 2 onehot - 1  ->  X^T Y = 2 X^T onehot - (X^T 1) 1^T
            XtY = 2 * XtY - class_sums.sum(0).unsqueeze(1)
        L_x, Q_x = torch.linalg.eigh(G)
        L_s, Q_s = torch.linalg.eigh(S.T @ S)
        return cls(Q_x, L_x.clamp_min(0), Q_s, L_s.clamp_min(0), XtY @ S)

    def V(self, gamma: float, lam: float) -> torch.Tensor:
        """(X^T X + gamma I)^{-1} B (S^T S + lambda I)^{-1}, (d, a) float64."""
        if not (np.isfinite(gamma) and gamma > 0 and np.isfinite(lam) and lam > 0):
            raise SZSLError(f"eszsl gamma={gamma!r}, lambda={lam!r}: expected numbers > 0")
        left = self.Q_x @ ((self.Q_x.T @ self.B) / (self.L_x + gamma).unsqueeze(1))
        return ((left @ self.Q_s) / (self.L_s + lam).unsqueeze(0)) @ self.Q_s.T


@torch.no_grad()
def eszsl_scores(V: torch.Tensor, X, class_attributes, *, chunk_size: int = 8192) -> np.ndarray:
    """X V S_all^T: scores over all C classes, (n, C) float32 (computed in float64)."""
    dev = V.device
    W = V @ torch.as_tensor(np.asarray(class_attributes, dtype=np.float64), device=dev).T  # (d, C)
    out = np.empty((X.shape[0], W.shape[1]), dtype=np.float32)
    for start in range(0, X.shape[0], chunk_size):
        xc = torch.as_tensor(np.asarray(X[start : start + chunk_size], dtype=np.float64), device=dev)
        out[start : start + xc.shape[0]] = (xc @ W).cpu().numpy()
    return out


@dataclass
class ESZSLFit:
    """A solved V: ``.scores(X)`` over all classes."""

    V: torch.Tensor
    attributes: np.ndarray
    train_seconds: float = 0.0

    def scores(self, X) -> np.ndarray:
        return eszsl_scores(self.V, X, self.attributes)


def fit_population(X, y, attributes, params_list, *, seeds=None, device="auto", progress: bool = False) -> list[ESZSLFit]:
    """One V per {"gamma", "lambda", "targets"}; one shared decomposition per targets value."""
    start = time.perf_counter()
    by_targets: dict[str, ESZSLSolver] = {}
    fits = []
    for p in params_list:
        t0 = time.perf_counter()
        targets = p.get("targets", "pm1")
        if targets not in by_targets:
            by_targets[targets] = ESZSLSolver.fit(X, y, attributes, targets=targets, device=device)
        fits.append(ESZSLFit(by_targets[targets].V(float(p["gamma"]), float(p["lambda"])), attributes, time.perf_counter() - t0))
    # The shared decomposition counts toward the first solve.
    if fits:
        fits[0].train_seconds = max(fits[0].train_seconds, time.perf_counter() - start - sum(f.train_seconds for f in fits[1:]))
    return fits


def fit(X, y, attributes, params: dict, *, seed: int = 0, device: str = "auto") -> ESZSLFit:
    return fit_population(X, y, attributes, [params], device=device)[0]
