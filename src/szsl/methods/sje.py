"""SJE: structured joint embedding (Akata et al., CVPR 2015), on fixed features, attributes as the output embedding.

Bilinear compatibility F(x, c) = x^T W phi(c) (features L2-normalised per image, attributes per
class), trained with the structured SVM hinge against the most violating class:

    loss(x, y) = max_j [ Delta(y, j) + F(x, j) ] - F(x, y),   Delta(y, j) = 1 if j != y else 0,

over the seen classes j (>= 0, as j = y is included). The paper uses SGD with the learning rate
and epochs chosen on validation classes and no other regulariser; szsl's defaults (Adam lr 1e-3,
30 epochs, batch 64) are a fixed budget and ``SPACE`` searches them.
"""

from __future__ import annotations

from szsl.methods._compat import DELTA_PARAMS, train_bilinear
from szsl.params import check, defaults, space

NAME = "sje"

PARAMS = DELTA_PARAMS
DEFAULTS = defaults(PARAMS)
SPACE = space(PARAMS)


def structured_hinge(s, target, p):
    delta = torch_full_delta(s, target, p["delta"])
    return ((s + delta).max(dim=1).values - s.gather(1, target.unsqueeze(1)).squeeze(1)).mean()


def torch_full_delta(s, target, delta: float):
    """Delta(y, j): ``delta`` everywhere except 0 at the true class."""
    d = s.new_full(s.shape, delta)
    return d.scatter_(1, target.unsqueeze(1), 0.0)


def fit(X, y, attributes, params: dict | None = None, *, seed: int = 0, device: str = "auto"):
    p = check(NAME, PARAMS, params)
    return train_bilinear(NAME, X, y, attributes, p, structured_hinge, seed=seed, device=device)
