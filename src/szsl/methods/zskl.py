"""ZSKL: zero-shot kernel learning (Zhang & Koniusz, CVPR 2018), the regularised closed-form variant.

Preprocessing as in the paper: features centred (training mean) and L2-normalised per image;
attributes centred (mean over the classes) and L2-normalised per class. Features enter through an
RBF kernel of width sigma, phi(x) = [exp(-||x - l_j||^2 / (2 sigma^2))]_j, against landmarks l_j:
every training image when there are at most ``landmarks`` of them (the paper's full kernel), else a
seeded random subset of that size (szsl's choice, to keep the m x m system small). The projection V
(m x a) from kernel space to attribute space is the regularised least-squares closed form of ESZSL
in that space,

    min_V ||Phi V S^T - Y||^2 + gamma ||V S^T||^2 + lambda ||Phi V||^2 + gamma lambda ||V||^2
    V = (Phi^T Phi + gamma I)^{-1} Phi^T Y S (S^T S + lambda I)^{-1},

S the seen classes' attributes, Y the image-class targets (``targets``: "pm1" the {-1, +1} of
ESZSL, "01" one-hot), solved exactly in float64 (``eszsl.ESZSLSolver``); score of class c: phi(x)^T V a_c,
over all classes. ``loss_history_`` = the objective per image at V = 0 and at the solution.
Hyperparameters are chosen on class folds by the harness (``szsl tune`` / ``compare``), never on test.

Published: the centring and L2 normalisation, the RBF kernel on features, the regularised closed form.
szsl's choices: sigma 1, gamma 1, lambda 1 (the paper selects them on class folds), ESZSL's {-1, +1}
targets, at most 2000 landmarks; ``SPACE`` searches sigma, gamma, lambda (log) and the targets.
Left out: the orthogonality-constrained least-squares variant of the projection (it needs an
iterative solver, not a closed form) and kernels other than the RBF.
"""

from __future__ import annotations

import numpy as np
import torch

from szsl.methods._peer_common import begin_fit, l2_rows
from szsl.methods.eszsl import ESZSLSolver
from szsl.params import POSITIVE, Interval, Options, Param, defaults, space

NAME = "zskl"
DESCRIPTION = "ZSKL (Zhang & Koniusz 2018) RBF kernel on features, regularised closed-form projection"

# Declared once (szsl.params): szsl's choices as defaults (the paper selects sigma, gamma, lambda on class folds).
PARAMS = (
    Param("sigma", 1.0, POSITIVE, {"low": 0.1, "high": 10.0, "log": True}, "width of the RBF kernel on features"),
    Param("gamma", 1.0, POSITIVE, {"low": 1e-3, "high": 1e3, "log": True}, "regulariser of the kernel-space side"),
    Param("lambda", 1.0, POSITIVE, {"low": 1e-3, "high": 1e3, "log": True}, "regulariser of the attribute side"),
    Param("targets", "pm1", Options(("pm1", "01")), {"choices": ["pm1", "01"]},
          "image-class targets: pm1 ESZSL's {-1, +1}, 01 one-hot"),
    Param("landmarks", 2000, Interval(int, 2, None), None,
          "most kernel landmarks (more training images: a seeded random subset of this size)"),
)
DEFAULTS = defaults(PARAMS)
SPACE = space(PARAMS)

_CHUNK = 4096


def rbf(X: torch.Tensor, L: torch.Tensor, sigma: float) -> torch.Tensor:
    """(n, m): exp(-||x_i - l_j||^2 / (2 sigma^2)), in row chunks."""
    return torch.cat([torch.exp(-torch.cdist(X[i : i + _CHUNK], L).pow(2) / (2 * sigma**2)) for i in range(0, X.shape[0], _CHUNK)])


def objective(V: torch.Tensor, Phi: torch.Tensor, Y: torch.Tensor, S: torch.Tensor, gamma: float, lam: float) -> torch.Tensor:
    """The ESZSL objective in kernel space, divided by the number of images."""
    VS = V @ S.T
    PV = Phi @ V
    value = (Phi @ VS - Y).pow(2).sum() + gamma * VS.pow(2).sum() + lam * PV.pow(2).sum() + gamma * lam * V.pow(2).sum()
    return value / Phi.shape[0]


def fit(X, y, attributes, params: dict | None = None, *, seed: int = 0, device: str = "auto"):
    run = begin_fit(NAME, X, y, attributes, seed=seed, device=device, params=params, declared=PARAMS)
    p, seen, g, dev = run.p, run.seen, run.g, run.dev
    Xt = torch.as_tensor(run.X, dtype=torch.float64, device=dev)
    mu = Xt.mean(dim=0)
    Xn = l2_rows(Xt - mu)
    A = torch.as_tensor(run.A, dtype=torch.float64, device=dev)
    An = l2_rows(A - A.mean(dim=0))
    n = Xn.shape[0]
    if n > p["landmarks"]:
        pick = torch.randperm(n, generator=g)[: p["landmarks"]].sort().values.to(dev)
        L = Xn[pick]
    else:
        L = Xn
    sigma = p["sigma"]
    Phi = rbf(Xn, L, sigma)
    solver = ESZSLSolver.fit(Phi.cpu().numpy(), run.y, An.cpu().numpy(), targets=p["targets"], device=dev)
    V = solver.V(p["gamma"], p["lambda"])  # (m, a) float64 on dev
    S = An[torch.as_tensor(seen, device=dev)]
    col = torch.as_tensor(np.searchsorted(seen, run.y), device=dev)
    Y = torch.zeros((n, seen.size), dtype=torch.float64, device=dev)
    Y[torch.arange(n, device=dev), col] = 1.0
    if p["targets"] == "pm1":
        Y = 2 * Y - 1
    history = [float(objective(torch.zeros_like(V), Phi, Y, S, p["gamma"], p["lambda"])),
               float(objective(V, Phi, Y, S, p["gamma"], p["lambda"]))]
    W = V @ An.T  # (m, C)

    def score(xb: torch.Tensor) -> torch.Tensor:
        return rbf(l2_rows(xb.double() - mu), L, sigma) @ W

    fitted = run.fitted(score, history)
    fitted.V_, fitted.landmarks_ = V.cpu().numpy(), L.shape[0]
    return fitted
