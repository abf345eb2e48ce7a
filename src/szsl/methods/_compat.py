"""The bilinear compatibility trainer shared by devise, ale and sje.

F(x, c) = theta(x)^T W phi(c), W (D x A, the ``Bilinear`` module): theta(x) the image features (L2-normalised per image
when ``normalize_features``), phi(c) the class attributes (L2-normalised per class). Training sees
all C classes' attributes but ranks only the SEEN classes (those with training images): the
unseen ones never enter the loss, as in the inductive protocol of Xian et al. (2017). Scores at
test time cover all C classes. Each method supplies its loss on a minibatch of (scores over the
seen classes, target column). Minibatch SGD or Adam, seeded shuffling, a fixed epoch budget.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from szsl.methods._peer_common import Fitted, begin_fit, l2_rows, train_epochs
from szsl.params import BOOLEAN, NON_NEGATIVE, POSITIVE, Interval, Options, Param

# The settings devise, ale and sje share, declared once (szsl.params): default, constraint, search entry, help.
COMMON_PARAMS: tuple[Param, ...] = (
    Param("lr", 1e-3, POSITIVE, {"low": 1e-4, "high": 1e-2, "log": True}, "learning rate"),
    Param("optimizer", "adam", Options(("adam", "sgd")), None, "adam or sgd"),
    Param("momentum", 0.9, Interval(float, 0.0, 1.0, "left"), None, "SGD momentum (SGD only)"),
    Param("weight_decay", 0.0, NON_NEGATIVE, {"low": 1e-7, "high": 1e-3, "log": True}, "L2 weight decay of W"),
    Param("epochs", 30, Interval(int, 1, 100000), {"choices": [10, 30, 60]}, "passes over the training images"),
    Param("batch_size", 64, Interval(int, 1, None), None, "images per minibatch"),
    Param("normalize_features", True, BOOLEAN, None, "L2-normalise each image's features"),
)

# ale and sje: the common settings plus ``delta``, the margin of the 0/1 loss Delta(y, j)
DELTA_PARAMS: tuple[Param, ...] = (*COMMON_PARAMS, Param("delta", 1.0, POSITIVE, None, "margin of the 0/1 loss Delta(y, j)"))


class Bilinear(nn.Module):
    """The compatibility matrix W (D x A), drawn N(0, 1/D) from the fit's generator; ``forward`` maps an image's
    features into the attribute space, theta(x)^T W, so that F(x, c) = forward(x) @ phi(c)."""

    def __init__(self, in_dim: int, attr_dim: int, g: torch.Generator):
        super().__init__()
        self.W = nn.Parameter(torch.randn((in_dim, attr_dim), generator=g) / math.sqrt(in_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.W


def train_bilinear(name: str, X, y, attributes, p: dict, loss_fn, *, seed: int, device, cosine_scores: bool = False) -> Fitted:
    """``loss_fn(scores (b, S) over the seen classes, target (b,) seen-column index, p) -> scalar``."""
    run = begin_fit(name, X, y, attributes, seed=seed, device=device, params=p)
    X, A, seen, g, dev = run.X, run.A, run.seen, run.g, run.dev
    normalize = p["normalize_features"]
    Xt = torch.as_tensor(l2_rows(X).astype(np.float32) if normalize else X, device=dev)
    Phi = torch.as_tensor(l2_rows(A).astype(np.float32), device=dev)  # (C, A)
    Phi_seen = Phi[torch.as_tensor(seen, device=dev)]
    target = torch.as_tensor(np.searchsorted(seen, run.y), device=dev)
    model = Bilinear(X.shape[1], A.shape[1], g).to(dev)
    if p["optimizer"] == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=p["lr"], weight_decay=p["weight_decay"])
    else:
        opt = torch.optim.SGD(model.parameters(), lr=p["lr"], momentum=p["momentum"], weight_decay=p["weight_decay"])

    def step_loss(idx: torch.Tensor) -> torch.Tensor:
        return loss_fn(model(Xt[idx]) @ Phi_seen.T, target[idx], p)

    history = train_epochs(step_loss, opt, n=X.shape[0], epochs=p["epochs"], batch_size=p["batch_size"], g=g, device=dev)
    model.requires_grad_(False)

    def score(xb: torch.Tensor) -> torch.Tensor:
        emb = model(l2_rows(xb) if normalize else xb)  # (b, A): the image mapped to the attribute space
        if cosine_scores:
            emb = l2_rows(emb)
        return emb @ Phi.T

    fitted = run.fitted(score, history)
    fitted.W_ = model.W.detach().cpu().numpy()
    return fitted


def margins(s: torch.Tensor, target: torch.Tensor, delta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(m, mask): m[i, j] = delta + s[i, j] - s[i, y_i] and mask[i, j] = (j != y_i)."""
    true = s.gather(1, target.unsqueeze(1))
    mask = torch.ones_like(s, dtype=torch.bool).scatter_(1, target.unsqueeze(1), False)
    return delta + s - true, mask
