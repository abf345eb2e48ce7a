"""ALE: attribute label embedding (Akata et al., CVPR 2013 / TPAMI 2016), on fixed features.

Bilinear compatibility F(x, c) = x^T W phi(c) (features L2-normalised per image, attributes per
class), trained with the weighted approximate ranking (WAR / WSABIE-style) objective of the
paper: for an image of class y, with the 0/1 loss Delta(y, j) = 1 for j != y, the margin
violations m_j = Delta + F(x, j) - F(x, y) over the other seen classes, and r = #{j: m_j > 0}
the rank of the true class,

    loss(x, y) = (beta_r / r) * sum_j max(0, m_j),   beta_r = sum_{k=1}^{r} 1/k   (alpha_k = 1/k),

0 when r = 0. With tens to hundreds of classes the rank is computed exactly rather than
estimated by sampling. r is a constant in the gradient, as in the paper's SGD. The paper picks
the learning rate and the number of epochs on validation classes and uses no other
regulariser; szsl's defaults (Adam lr 1e-3, 30 epochs, batch 64) are a fixed budget.
"""

from __future__ import annotations

import torch

from szsl.methods._compat import DELTA_PARAMS, margins, train_bilinear
from szsl.params import check, defaults, space

NAME = "ale"

PARAMS = DELTA_PARAMS
DEFAULTS = defaults(PARAMS)
SPACE = space(PARAMS)


def rank_weights(r: torch.Tensor, max_rank: int) -> torch.Tensor:
    """beta_r / r with beta_r = sum_{k<=r} 1/k; 0 where r = 0."""
    harmonic = torch.cat([torch.zeros(1, device=r.device), torch.cumsum(1.0 / torch.arange(1, max_rank + 1, device=r.device), 0)])
    beta = harmonic[r]
    return torch.where(r > 0, beta / r.clamp_min(1), torch.zeros_like(beta))


def warp_loss(s, target, p):
    m, mask = margins(s, target, p["delta"])
    viol = m.clamp_min(0) * mask
    r = ((m > 0) & mask).sum(dim=1)
    w = rank_weights(r, s.shape[1]).detach()
    return (w * viol.sum(dim=1)).mean()


def fit(X, y, attributes, params: dict | None = None, *, seed: int = 0, device: str = "auto"):
    p = check(NAME, PARAMS, params)
    return train_bilinear(NAME, X, y, attributes, p, warp_loss, seed=seed, device=device)
