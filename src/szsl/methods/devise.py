"""DeViSE: a deep visual-semantic embedding model (Frome et al., NIPS 2013), on fixed features.

A linear map M (here W^T, A x D) takes an image's features into the class-embedding space
(attributes, L2-normalised per class, standing in for the paper's unit-norm word vectors),
trained with the paper's hinge rank loss

    loss(x, y) = sum_{j != y} max(0, margin - t_y^T M x + t_j^T M x),   margin = 0.1,

summed over the seen classes j (the paper sums over all training labels), averaged over the
minibatch. Test: the class whose embedding is nearest to M x by cosine, among all classes.
The paper trains with SGD from a pre-trained network; on fixed features szsl defaults to Adam
(lr 1e-3, 30 epochs, batch 64) -- the paper gives no learning rate for this setting; ``SPACE``
searches it with the margin.
"""

from __future__ import annotations

from szsl.methods._compat import COMMON_PARAMS, margins, train_bilinear
from szsl.params import POSITIVE, Param, check, defaults, space

NAME = "devise"

PARAMS = (*COMMON_PARAMS, Param("margin", 0.1, POSITIVE, {"low": 0.01, "high": 1.0, "log": True}, "margin of the hinge rank loss"))
DEFAULTS = defaults(PARAMS)
SPACE = space(PARAMS)


def hinge_rank_loss(s, target, p):
    m, mask = margins(s, target, p["margin"])
    return (m.clamp_min(0) * mask).sum(dim=1).mean()


def fit(X, y, attributes, params: dict | None = None, *, seed: int = 0, device: str = "auto"):
    p = check(NAME, PARAMS, params)
    return train_bilinear(NAME, X, y, attributes, p, hinge_rank_loss, seed=seed, device=device, cosine_scores=True)
