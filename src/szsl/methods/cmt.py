"""CMT: cross-modal transfer (Socher, Ganjoo, Manning & Ng, NeurIPS 2013), Gaussian novelty variant.

1. A two-layer tanh network f(x) = W2 tanh(W1 x) (no biases, as in the paper's objective) maps
   image features to the semantic space, trained on the seen images by
   mean ||a_y - f(x)||^2 + l2 (||W1||^2 + ||W2||^2)   (Adam, seeded minibatches).
2. Novelty detection: per seen class y an isotropic Gaussian N(mu_y, sigma_y^2 I) is fitted (maximum
   likelihood) to the mapped training points of y; an image is "unseen" when its log-likelihood under
   every seen class, L(x) = max_y log N(f(x) | mu_y, sigma_y^2 I), is below a threshold T. T is the
   ``quantile`` of L over the training points themselves (the paper sets it by the fraction of
   outliers it accepts among seen images: that fraction is ``quantile``).
3. Seen-routed images: a softmax classifier over the seen classes (linear, on the features);
   unseen-routed images: an isotropic Gaussian around each unseen class's attribute vector in the
   semantic space, log p_u(c | x) = log softmax_c(-||f(x) - a_c||^2 / (2 sigma_u^2)).

GZSL scores (every class, every image) with a soft gate, g(x) = (L(x) - T) / ``temperature``:

    seen c:    log p_s(c | x) + log sigmoid(g(x))      unseen c:  log p_u(c | x) + log sigmoid(-g(x))

so the argmax is the paper's hard routing as the temperature goes to 0 (and already at 1 whenever
|L - T| is many nats; calibrated stacking then moves T).

Published: the model, its loss, the Gaussian novelty detector, the isotropic Gaussian unseen
classifier, 100 hidden units. szsl's choices: attributes L2-normalised (the paper uses word
vectors), features standardised with the training statistics, the optimiser (Adam lr 1e-3, 30 epochs,
batch 256, l2 1e-4; the paper gives none for these features), the quantile 0.05, the soft gate and its
temperature 1, sigma_u^2 = the mean of the seen classes' sigma_y^2, the seen softmax trained like
conse's (weight decay 1e-4). Left out: the LoOP novelty detector (optional in the paper).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from szsl.methods._peer_common import begin_fit, l2_rows, seeded_linear, train_epochs, train_softmax_classifier
from szsl.params import NON_NEGATIVE, POSITIVE, Interval, Param, defaults, space

NAME = "cmt"
DESCRIPTION = "CMT (Socher et al. 2013) cross-modal transfer, Gaussian novelty detector, soft gate"

# Declared once (szsl.params): the paper's hidden units and szsl's choices as defaults.
PARAMS = (
    Param("hidden", 100, Interval(int, 1, None), None, "hidden tanh units of the mapping f (the paper's 100)"),
    Param("quantile", 0.05, Interval(float, 0.0, 1.0, "neither"), {"low": 0.01, "high": 0.5, "log": True},
          "fraction of the seen training images the novelty detector calls unseen (sets the threshold T)"),
    Param("temperature", 1.0, POSITIVE, None, "temperature of the soft seen / unseen gate (-> 0: hard routing)"),
    Param("l2", 1e-4, NON_NEGATIVE, {"low": 1e-6, "high": 1e-1, "log": True}, "weight of the mapping's squared weights"),
    Param("lr", 1e-3, POSITIVE, None, "Adam learning rate of the mapping"),
    Param("epochs", 30, Interval(int, 1, 100000), None, "epochs of the mapping"),
    Param("batch_size", 256, Interval(int, 1, None), None, "minibatch of the mapping"),
    Param("cls_weight_decay", 1e-4, NON_NEGATIVE, None, "weight decay of the seen-class softmax"),
)
DEFAULTS = defaults(PARAMS)
SPACE = space(PARAMS)


class Mapping(nn.Module):
    """f(x) = W2 tanh(W1 x): the two-layer map from (standardised) features to attribute space, no biases (the
    default-init biases are drawn and dropped, ``seeded_linear``)."""

    def __init__(self, in_dim: int, hidden: int, out_dim: int, g: torch.Generator):
        super().__init__()
        self.fc1 = seeded_linear(in_dim, hidden, g, bias=False)
        self.fc2 = seeded_linear(hidden, out_dim, g, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(torch.tanh(self.fc1(x)))

    def l2(self) -> torch.Tensor:
        """Sum of the squared weights."""
        return self.fc1.weight.pow(2).sum() + self.fc2.weight.pow(2).sum()


def class_gaussians(Z: torch.Tensor, col: torch.Tensor, n_seen: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Maximum-likelihood isotropic Gaussians of the mapped points Z (n, A) per class ``col``: mu (C_s, A), var (C_s,)."""
    onehot = F.one_hot(col, n_seen).to(Z.dtype).T  # (C_s, n): sums by matrix products, deterministic on CUDA too
    count = onehot.sum(1).clamp_min(1.0)
    mu = onehot @ Z / count[:, None]
    sq = onehot @ (Z - mu[col]).pow(2).sum(1)
    return mu, (sq / (count * Z.shape[1])).clamp_min(1e-8)


def log_likelihoods(Z: torch.Tensor, mu: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """(n, C_s): log N(z | mu_y, var_y I) for every point and class."""
    d2 = torch.cdist(Z, mu).pow(2)
    return -d2 / (2 * var) - 0.5 * Z.shape[1] * torch.log(2 * math.pi * var)


def gzsl_scores(log_ps: torch.Tensor, log_pu: torch.Tensor, gate: torch.Tensor, seen: torch.Tensor,
                unseen: torch.Tensor, n_classes: int) -> torch.Tensor:
    """(n, C): seen columns log p_s + log sigmoid(gate), unseen columns log p_u + log sigmoid(-gate)."""
    out = torch.empty((log_ps.shape[0], n_classes), dtype=log_ps.dtype, device=log_ps.device)
    out[:, seen] = log_ps + F.logsigmoid(gate)[:, None]
    if unseen.numel():
        out[:, unseen] = log_pu + F.logsigmoid(-gate)[:, None]
    return out


def fit(X, y, attributes, params: dict | None = None, *, seed: int = 0, device: str = "auto"):
    run = begin_fit(NAME, X, y, attributes, seed=seed, device=device, params=params, declared=PARAMS)
    p, seen, unseen, g, dev = run.p, run.seen, run.unseen, run.g, run.dev
    Xt = torch.as_tensor(run.X, device=dev)
    mu_x, sd_x = Xt.mean(dim=0), Xt.std(dim=0).clamp_min(1e-6)
    Xs = (Xt - mu_x) / sd_x
    A = l2_rows(torch.as_tensor(run.A, device=dev))
    seen_t, unseen_t = torch.as_tensor(seen, device=dev), torch.as_tensor(unseen, device=dev)
    col = torch.as_tensor(np.searchsorted(seen, run.y), device=dev)
    targets = A[torch.as_tensor(run.y, device=dev)]
    n, D, H = Xs.shape[0], Xs.shape[1], p["hidden"]
    embed = Mapping(D, H, A.shape[1], g).to(dev)

    def map_loss(idx: torch.Tensor) -> torch.Tensor:
        fit_term = (targets[idx] - embed(Xs[idx])).pow(2).sum(1).mean()
        return fit_term + p["l2"] * embed.l2()

    opt = torch.optim.Adam(embed.parameters(), lr=p["lr"])
    history = train_epochs(map_loss, opt, n=n, epochs=p["epochs"], batch_size=p["batch_size"], g=g, device=dev)
    embed.requires_grad_(False)
    # the seen-class softmax, drawn after the mapping's training
    clf, cls_history = train_softmax_classifier(Xs, col, seen.size, lr=p["lr"], weight_decay=p["cls_weight_decay"],
                                                epochs=p["epochs"], batch_size=p["batch_size"], g=g, device=dev)

    with torch.no_grad():
        Z = torch.cat([embed(Xs[i : i + 8192]) for i in range(0, n, 8192)])
        mu, var = class_gaussians(Z.double(), col, seen.size)
        own = log_likelihoods(Z.double(), mu, var).max(dim=1).values
    threshold = float(np.quantile(own.cpu().numpy(), p["quantile"]))
    var_u = float(var.mean())
    protos = A[unseen_t].double()
    temperature = p["temperature"]

    def score(xb: torch.Tensor) -> torch.Tensor:
        xs = (xb - mu_x) / sd_x
        z = embed(xs).double()
        gate = (log_likelihoods(z, mu, var).max(dim=1).values - threshold) / temperature
        log_ps = torch.log_softmax(clf(xs).double(), dim=1)
        log_pu = torch.log_softmax(-torch.cdist(z, protos).pow(2) / (2 * var_u), dim=1) if unseen.size else None
        return gzsl_scores(log_ps, log_pu, gate, seen_t, unseen_t, run.A.shape[0])

    fitted = run.fitted(score, history)
    fitted.cls_history_ = cls_history
    fitted.threshold_, fitted.mu_, fitted.var_ = threshold, mu.cpu().numpy(), var.cpu().numpy()
    fitted.train_outlier_fraction_ = float((own < threshold).double().mean())
    return fitted
