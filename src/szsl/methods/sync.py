"""SYNC: synthesized classifiers (Changpinyo, Chao, Gong & Sha, CVPR 2016), one-versus-other variant.

R phantom classes, each a point b_r in attribute space and a weight vector v_r in feature space.
Every real class c (seen or unseen) gets the synthesized classifier

    w_c = sum_r s_cr v_r,   s_cr = exp(-||a_c - b_r||^2 / sigma2) / sum_r' exp(-||a_c - b_r'||^2 / sigma2)

(the paper's Gaussian kernel on the Euclidean distance, normalised over r). As in the paper's
default, the phantom points are fixed to the seen classes' attributes (R = number of seen classes).
V is learnt from the seen images with the one-versus-other squared hinge loss (the paper's
"o-vs-o"; its Crammer-Singer "struct" variant and the learning of b_r are left out):

    min_V  sum_n sum_{c seen} max(0, 1 - y_nc w_c^T x_n)^2 + lambda/2 sum_{c seen} ||w_c||^2,

y_nc = +1 if image n is of class c else -1. The objective depends on V only through the seen
classifiers W_s = S_s V (S_s: seen rows of s, R x R), so it is solved exactly as a strictly convex
problem in W_s (full-batch L-BFGS, float64, from zero: deterministic) and V = S_s^+ W_s
(least squares; the unique solution whenever S_s is invertible). ``loss_history_`` is the
objective divided by the number of images, at W = 0 and after each block of L-BFGS iterations.
Scores: w_c^T x for every class.

Published: the model, the loss, the phantom points, the Gaussian similarity normalised to sum 1.
szsl's choices (the paper tunes sigma and lambda on class folds): attributes L2-normalised per
class, features L2-normalised per image, sigma2 = 1, lambda = 2^-10 (central values of the
grids); ``SPACE`` searches both on a log scale.
"""

from __future__ import annotations

import numpy as np
import torch

from szsl.methods._peer_common import begin_fit, l2_rows
from szsl.params import BOOLEAN, POSITIVE, Interval, Param, defaults, space

NAME = "sync"
DESCRIPTION = "SYNC (Changpinyo et al. 2016) synthesized classifiers, one-versus-other squared hinge"
DETERMINISTIC = True  # zero start, full-batch L-BFGS: the seed is not used

# Declared once (szsl.params): szsl's choices (the central values of the paper's grids) as defaults.
PARAMS = (
    Param("sigma2", 1.0, POSITIVE, {"low": 2.0**-5, "high": 2.0**5, "log": True},
          "sigma^2: width of the Gaussian similarity between class and phantom attributes"),
    Param("lambda", 2.0**-10, POSITIVE, {"low": 2.0**-24, "high": 2.0**-4, "log": True},
          "weight of the seen classifiers' squared norm"),
    Param("iters", 500, Interval(int, 1, 100000), None, "L-BFGS iterations"),
    Param("normalize_features", True, BOOLEAN, None, "L2-normalise each image's features"),
)
DEFAULTS = defaults(PARAMS)
SPACE = space(PARAMS)

_BLOCK = 25  # L-BFGS iterations between two entries of loss_history_


def similarities(A: torch.Tensor, B: torch.Tensor, sigma2: float) -> torch.Tensor:
    """s (C, R): softmax over r of -||a_c - b_r||^2 / sigma2 (rows sum to 1)."""
    return torch.softmax(-torch.cdist(A, B).pow(2) / sigma2, dim=1)


def objective(W: torch.Tensor, X: torch.Tensor, Y: torch.Tensor, lam: float) -> torch.Tensor:
    """(sum of squared hinges + lam/2 ||W||^2) / n, with W (C_s, D), X (n, D), Y (n, C_s) in {-1, +1}."""
    hinge = (1.0 - Y * (X @ W.T)).clamp_min(0)
    return (hinge.pow(2).sum() + 0.5 * lam * W.pow(2).sum()) / X.shape[0]


def solve_seen(X: torch.Tensor, Y: torch.Tensor, lam: float, iters: int) -> tuple[torch.Tensor, list[float]]:
    """The seen classifiers W_s minimising ``objective`` (L-BFGS from zero) and the objective's history."""
    W = torch.zeros((Y.shape[1], X.shape[1]), dtype=X.dtype, device=X.device, requires_grad=True)
    opt = torch.optim.LBFGS([W], lr=1.0, max_iter=_BLOCK, history_size=20, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-10, tolerance_change=1e-14)

    def closure():
        opt.zero_grad()
        loss = objective(W, X, Y, lam)
        loss.backward()
        return loss

    history = [float(objective(W.detach(), X, Y, lam))]
    done = 0
    while done < iters:
        opt.param_groups[0]["max_iter"] = min(_BLOCK, iters - done)
        opt.step(closure)
        done += opt.param_groups[0]["max_iter"]
        history.append(float(objective(W.detach(), X, Y, lam)))
        if abs(history[-2] - history[-1]) <= 1e-12 * max(1.0, abs(history[-1])):
            break
    return W.detach(), history


def fit(X, y, attributes, params: dict | None = None, *, seed: int = 0, device: str = "auto"):
    """Deterministic (``seed`` is accepted for the common signature and unused)."""
    run = begin_fit(NAME, X, y, attributes, seed=seed, device=device, params=params, declared=PARAMS, seeded=False)
    p, seen, dev = run.p, run.seen, run.dev
    normalize = p["normalize_features"]
    Xt = torch.as_tensor(run.X, dtype=torch.float64, device=dev)
    Xt = l2_rows(Xt) if normalize else Xt
    A = l2_rows(torch.as_tensor(run.A, dtype=torch.float64, device=dev))  # (C, a)
    B = A[torch.as_tensor(seen, device=dev)]  # phantom points = the seen classes' attributes (R = C_s)
    col = torch.as_tensor(np.searchsorted(seen, run.y), device=dev)
    Y = -torch.ones((Xt.shape[0], seen.size), dtype=torch.float64, device=dev)
    Y[torch.arange(Xt.shape[0], device=dev), col] = 1.0
    W_s, history = solve_seen(Xt, Y, p["lambda"], p["iters"])
    S = similarities(A, B, p["sigma2"])  # (C, R)
    V = torch.linalg.lstsq(S[torch.as_tensor(seen, device=dev)].cpu(), W_s.cpu()).solution.to(dev)  # (R, D)
    W_all = (S @ V).float()  # (C, D): the synthesized classifiers of every class

    def score(xb: torch.Tensor) -> torch.Tensor:
        return (l2_rows(xb) if normalize else xb) @ W_all.T

    fitted = run.fitted(score, history)
    fitted.V_, fitted.S_, fitted.W_ = V.cpu().numpy(), S.cpu().numpy(), W_all.cpu().numpy()
    return fitted
