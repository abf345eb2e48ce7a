"""CRnet: Co-Representation Network for generalized zero-shot learning (Zhang & Shi, ICML 2019).

(The paper's title; Table 2 row "CRnet".) Two modules trained end to end:

* **cooperation module**: K experts, expert k = ReLU(W_k a + b_k) mapping a class's attribute vector a
  (A) to the visual feature space (D). A class's representation is the weighted sum of its experts'
  outputs, r_c = sum_k w_ck ReLU(W_k a_c + b_k), with w_c the class's assignment to K cluster centres of
  the attribute space: k-means over the seen classes' attribute vectors (k-means++ start from the fit's
  seed, Lloyd iterations, float64), then ``assignment`` "soft" (default): w_ck = softmax_k(-||a_c - mu_k||^2
  / (temperature * s)), s the mean squared class-centre distance over the seen classes (scale-free), or
  "hard": the one-hot nearest centre (the k-means assignment itself for seen classes). Unseen classes get
  their weights by the same rule, from their attribute vectors; the centres and weights stay fixed while
  the experts train.
* **relation module** (as Sung et al.'s relation network): rel(x, c) = sigmoid(w2^T ReLU(W1 [x, r_c] + b1) + b2),
  hidden ``hidden`` units; trained with the mean squared error against 1 for the image's class and 0 for
  every other class of the step's episode, Adam with weight decay, seeded minibatches. An episode is a minibatch
  and the classes of its images (``episode_classes`` "batch", as in Sung et al.'s released ZSL training, which
  CRnet builds on); "all" scores every image against every seen class. With all of CUB's 150 seen classes a
  step, the MSE's 149 zero targets an image win at once: every relation collapses to 0 and every image is given
  the same class (a CUB twin, 5 trials at 10 epochs: validation and test H 0); with the batch's classes it learns.

GZSL scores: for every image and every class (seen and unseen) the relation logit w2^T ReLU(...) + b2;
the sigmoid is monotone, so the argmax is the paper's (logits keep the ranking of saturated scores
distinct for calibrated stacking and the seen / unseen curve). W1 [x, r] = W1x x + W1r r is computed
once per image and once per class, then broadcast: the same numbers as the concatenation, cheaper.

Published: the model (experts mapping attributes to features, combined by the attribute clustering; the
relation module on the concatenation; MSE to 0/1 targets), relation hidden 1200 -> 1, Adam lr 1e-4.
szsl's choices (not sure of / not given in the paper): K = 5 experts, one linear + ReLU layer per expert,
the soft assignment and its temperature 0.1, k-means over the seen classes only, weight decay 1e-5 (Sung
et al.'s code), 30 epochs of minibatch 32 (the paper trains episodes on a GPU), features min-max scaled
per dimension with the training statistics (``_gan_common.MinMax``: nonnegative, as the ReLU experts'
outputs), PyTorch's default Linear init. ``SPACE``: lr, weight decay (log) and K.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from szsl.methods._gan_common import MinMax
from szsl.methods._peer_common import begin_fit, linear_init, train_epochs
from szsl.params import BOOLEAN, NON_NEGATIVE, POSITIVE, Interval, Options, Param, defaults, space

NAME = "crnet"
DESCRIPTION = "CRnet (Zhang & Shi 2019) co-representation network: K attribute-cluster experts + relation module"

# Declared once (szsl.params): the published relation module and szsl's choices as defaults; the searched ones
# first, in the order the sampler draws them.
PARAMS = (
    Param("lr", 1e-4, POSITIVE, {"low": 1e-5, "high": 1e-3, "log": True}, "Adam learning rate (published)"),
    Param("weight_decay", 1e-5, NON_NEGATIVE, {"low": 1e-7, "high": 1e-3, "log": True}, "Adam weight decay"),
    Param("experts", 5, Interval(int, 1, 1000), {"choices": [1, 3, 5, 10]}, "K: experts (attribute clusters)"),
    Param("assignment", "soft", Options(("soft", "hard")), None,
          "a class's weights over the experts: soft (softmax of centre distances) or hard (nearest centre)"),
    Param("temperature", 0.1, POSITIVE, None,
          "temperature of the soft assignment, relative to the mean squared class-centre distance"),
    Param("hidden", 1200, Interval(int, 1, None), None, "hidden units of the relation module (published)"),
    Param("epochs", 30, Interval(int, 1, 100000), None, "epochs"),
    Param("batch_size", 32, Interval(int, 1, None), None, "minibatch"),
    Param("minmax", True, BOOLEAN, None, "min-max scale the features"),
    Param("episode_classes", "batch", Options(("batch", "all")), None,
          "the classes a step scores each image against: those of its minibatch (relation networks' episodes) or every seen class"),
)
DEFAULTS = defaults(PARAMS)
SPACE = space(PARAMS)

_KMEANS_ITERS = 100
_SCORE_CELLS = 1 << 24  # images x classes x hidden per scoring chunk


def kmeans(points: np.ndarray, k: int, g: torch.Generator, iters: int = _KMEANS_ITERS) -> np.ndarray:
    """(k, A) centres of ``points`` (n, A) by k-means (k-means++ start drawn from ``g``, Lloyd iterations), float64."""
    P = np.asarray(points, dtype=np.float64)
    k = min(k, P.shape[0])
    centres = [P[int(torch.randint(P.shape[0], (1,), generator=g))]]
    for _ in range(1, k):
        d2 = ((P[:, None] - np.asarray(centres)[None]) ** 2).sum(-1).min(1)
        if d2.sum() <= 0:  # fewer distinct points than k: repeat one
            centres.append(P[0])
            continue
        cum = np.cumsum(d2 / d2.sum())
        u = float(torch.rand((), generator=g, dtype=torch.float64))
        centres.append(P[min(int(np.searchsorted(cum, u)), P.shape[0] - 1)])
    C = np.asarray(centres)
    for _ in range(iters):
        label = ((P[:, None] - C[None]) ** 2).sum(-1).argmin(1)
        new = np.array([P[label == j].mean(0) if (label == j).any() else C[j] for j in range(k)])
        if np.array_equal(new, C):
            break
        C = new
    return C


def assignments(A: np.ndarray, centres: np.ndarray, *, kind: str, temperature: float, scale: float) -> np.ndarray:
    """(C, K) weights of each class over the centres: softmax(-d^2 / (temperature * scale)) or the one-hot nearest."""
    d2 = ((np.asarray(A, dtype=np.float64)[:, None] - centres[None]) ** 2).sum(-1)
    if kind == "hard":
        return np.eye(centres.shape[0])[d2.argmin(1)]
    logits = -d2 / (temperature * max(scale, 1e-12))
    logits -= logits.max(1, keepdims=True)
    w = np.exp(logits)
    return w / w.sum(1, keepdims=True)


def class_representations(A: torch.Tensor, w: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(C, D): r_c = sum_k w_ck ReLU(W_k a_c + b_k), W (K, D, A), b (K, D)."""
    experts = F.relu(torch.einsum("ca,kda->ckd", A, W) + b[None])
    return torch.einsum("ck,ckd->cd", w, experts)


def relation_logits(x_part: torch.Tensor, r_part: torch.Tensor, w2: torch.Tensor, b2: torch.Tensor) -> torch.Tensor:
    """(n, C): w2^T ReLU(W1x x + W1r r_c + b1) + b2 from x_part (n, H) = W1x x + b1 and r_part (C, H) = W1r r_c."""
    return F.relu(x_part[:, None, :] + r_part[None]) @ w2 + b2


class CRNet(nn.Module):
    """The K experts (weight (K, D, A), bias (K, D)) and the relation module: its first Linear(2 D, hidden) split into
    the halves that act on x (``W1x``, with the bias ``b1``) and on r_c (``W1r``), then w2 (hidden,), b2 (). Every
    layer has PyTorch's default Linear init drawn from ``g`` (``linear_init``): the experts in turn, then the relation
    module's two layers."""

    def __init__(self, K: int, attr_dim: int, D: int, hidden: int, g: torch.Generator):
        super().__init__()
        experts = [linear_init(attr_dim, D, g) for _ in range(K)]
        self.W = nn.Parameter(torch.stack([e[0] for e in experts]))
        self.b = nn.Parameter(torch.stack([e[1] for e in experts]))
        W1, b1 = linear_init(2 * D, hidden, g)
        self.W1x = nn.Parameter(W1[:, :D].contiguous())
        self.W1r = nn.Parameter(W1[:, D:].contiguous())
        self.b1 = nn.Parameter(b1)
        W2, b2 = linear_init(hidden, 1, g)
        self.w2, self.b2 = nn.Parameter(W2[0].clone()), nn.Parameter(b2[0].clone())

    def representations(self, A: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """(C, D): ``class_representations`` of the classes with attributes A and centre weights w."""
        return class_representations(A, w, self.W, self.b)

    def x_part(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.W1x, self.b1)

    def r_part(self, r: torch.Tensor) -> torch.Tensor:
        return r @ self.W1r.T

    def logits(self, x_part: torch.Tensor, r_part: torch.Tensor) -> torch.Tensor:
        return relation_logits(x_part, r_part, self.w2, self.b2)


def fit(X, y, attributes, params: dict | None = None, *, seed: int = 0, device: str = "auto"):
    """Train CRnet on (X, y); classes of ``attributes`` without training images are the unseen ones."""
    run = begin_fit(NAME, X, y, attributes, seed=seed, device=device, params=params, declared=PARAMS)
    p, seen, g, dev = run.p, run.seen, run.g, run.dev
    Xt = torch.as_tensor(run.X, device=dev)
    scaler = MinMax(Xt) if p["minmax"] else None
    Xs = scaler(Xt) if scaler else Xt
    D, Adim = Xs.shape[1], run.A.shape[1]

    centres = kmeans(run.A[seen], p["experts"], g)
    K = centres.shape[0]
    scale = float((((run.A[seen].astype(np.float64)[:, None] - centres[None]) ** 2).sum(-1)).mean())
    w_all = assignments(run.A, centres, kind=p["assignment"], temperature=p["temperature"], scale=scale)
    A_t = torch.as_tensor(run.A, device=dev)
    w_t = torch.as_tensor(w_all, dtype=torch.float32, device=dev)
    seen_t = torch.as_tensor(seen, device=dev)
    col = torch.as_tensor(np.searchsorted(seen, run.y), device=dev)

    net = CRNet(K, Adim, D, p["hidden"], g).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=p["lr"], weight_decay=p["weight_decay"])
    A_seen, w_seen = A_t[seen_t], w_t[seen_t]

    def step_loss(idx: torch.Tensor) -> torch.Tensor:
        labels = col[idx]
        if p["episode_classes"] == "batch":  # the minibatch's own classes (sorted), its labels re-indexed into them
            classes, labels = torch.unique(labels, return_inverse=True)
            A_step, w_step = A_seen[classes], w_seen[classes]
        else:
            A_step, w_step = A_seen, w_seen
        logits = net.logits(net.x_part(Xs[idx]), net.r_part(net.representations(A_step, w_step)))
        target = F.one_hot(labels, A_step.shape[0]).to(logits.dtype)
        return (torch.sigmoid(logits) - target).pow(2).mean()

    history = train_epochs(step_loss, opt, n=Xs.shape[0], epochs=p["epochs"], batch_size=p["batch_size"], g=g, device=dev)

    net.requires_grad_(False)
    with torch.no_grad():
        R = net.representations(A_t, w_t)
        r_part = net.r_part(R)
    chunk = max(1, _SCORE_CELLS // (r_part.shape[0] * r_part.shape[1]))

    def score(xb: torch.Tensor) -> torch.Tensor:
        xb = scaler(xb) if scaler else xb
        x_part = net.x_part(xb)
        return torch.cat([net.logits(x_part[i : i + chunk], r_part) for i in range(0, xb.shape[0], chunk)])

    fitted = run.fitted(score, history)
    fitted.centres_, fitted.assignments_ = centres, w_all
    fitted.representations_ = R.cpu().numpy()
    return fitted
