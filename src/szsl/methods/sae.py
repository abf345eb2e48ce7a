"""SAE: semantic autoencoder for zero-shot learning (Kodirov, Xiang & Gong, CVPR 2017).

Linear encoder W (A x D) from features to attributes whose transpose is the decoder:

    min_W ||X - W^T S||_F^2 + lambda ||W X - S||_F^2

with X (D x n) the training features (columns = images, each L2-normalised as in the authors'
code) and S (A x n) the attribute vector of each image's class. Setting the gradient to zero
gives the Sylvester equation

    (S S^T) W + W (lambda X X^T) = (1 + lambda) S X^T,

solved exactly with ``scipy.linalg.solve_sylvester`` (float64). Scores (``direction``):

* ``"F->S"`` (default, the paper's main ZSL protocol): encode the image, s = W x, and score each
  class by the cosine between s and the class's attribute vector;
* ``"S->F"``: decode each class's attributes to the feature space, W^T a_c, and score by the
  cosine between the image and that prototype.

The authors set lambda per dataset (5e5 in their AwA demo with its raw attribute scale, 0.2 in
their CUB demo). szsl's attributes are L2-normalised like its features, which is the regime of
the CUB demo, so the default is 0.2; ``SPACE`` searches lambda over eight decades.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import torch

from szsl.methods._peer_common import Fitted, begin_fit, l2_rows
from szsl.params import BOOLEAN, POSITIVE, Options, Param, defaults, space

NAME = "sae"

PARAMS = (
    Param("lambda", 0.2, POSITIVE, {"low": 1e-2, "high": 1e6, "log": True}, "weight of the encoder's reconstruction term"),
    Param("direction", "F->S", Options(("F->S", "S->F")), {"choices": ["F->S", "S->F"]},
          "F->S: score in the attribute space; S->F: in the feature space"),
    Param("normalize_features", True, BOOLEAN, None, "L2-normalise each image's features"),
)
DEFAULTS = defaults(PARAMS)
SPACE = space(PARAMS)


def solve_sae(X: np.ndarray, S: np.ndarray, lam: float) -> np.ndarray:
    """W (A x D) solving S S^T W + lam W X X^T = (1 + lam) S X^T, with X (D x n), S (A x n), float64."""
    return scipy.linalg.solve_sylvester(S @ S.T, lam * (X @ X.T), (1.0 + lam) * (S @ X.T))


def objective(W: np.ndarray, X: np.ndarray, S: np.ndarray, lam: float) -> float:
    return float(np.sum((X - W.T @ S) ** 2) + lam * np.sum((W @ X - S) ** 2))


def fit(X, y, attributes, params: dict | None = None, *, seed: int = 0, device: str = "auto") -> Fitted:
    """Closed form (deterministic; ``seed`` is accepted for the common signature and unused)."""
    run = begin_fit(NAME, X, y, attributes, seed=seed, device=device, params=params, declared=PARAMS, seeded=False)
    p, X, y, A, dev = run.p, run.X, run.y, run.A, run.dev
    Xn = l2_rows(X) if p["normalize_features"] else X.astype(np.float64)
    Xc = Xn.T  # (D, n)
    Sc = A.astype(np.float64)[y].T  # (A, n)
    lam = p["lambda"]
    W = solve_sae(Xc, Sc, lam)
    # the objective (per image) at W = 0 and at the solution, so loss_history_ shows the decrease
    history = [objective(np.zeros_like(W), Xc, Sc, lam) / X.shape[0], objective(W, Xc, Sc, lam) / X.shape[0]]
    W_t = torch.as_tensor(W, dtype=torch.float32, device=dev)
    A_t = torch.as_tensor(A, device=dev)
    normalize = p["normalize_features"]
    if p["direction"] == "F->S":
        targets = l2_rows(A_t)  # (C, A)

        def score(xb: torch.Tensor) -> torch.Tensor:
            xb = l2_rows(xb) if normalize else xb
            return l2_rows(xb @ W_t.T) @ targets.T
    else:
        protos = l2_rows(A_t @ W_t)  # (C, D): decoded class prototypes W^T a_c

        def score(xb: torch.Tensor) -> torch.Tensor:
            return l2_rows(xb) @ protos.T

    fitted = run.fitted(score, history)
    fitted.W_ = W
    return fitted
