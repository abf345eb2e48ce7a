"""ConSE: convex combination of semantic embeddings (Norouzi et al., ICLR 2014 / arXiv 2013).

1. A softmax classifier over the SEEN classes is trained on the image features (here a linear
   multinomial logistic regression: Adam, cross-entropy, weight decay; the paper reuses the
   softmax layer of a CNN trained on the seen classes).
2. An image is embedded as the convex combination of its top-T seen classes' embeddings,
   weighted by their probabilities:  f(x) = (1/Z) sum_{t=1..T} p(y_t | x) s(y_t),
   Z = sum_{t=1..T} p(y_t | x), with s(c) the class attributes (L2-normalised) and T = 10.
3. Class score = cosine(f(x), s(c)) for every class c (seen and unseen: the GZSL setting).

T = 10 is the paper's. The classifier's optimiser settings are szsl's (the paper has none for
this step on fixed features).
"""

from __future__ import annotations

import numpy as np
import torch

from szsl.methods._peer_common import Fitted, begin_fit, l2_rows, train_softmax_classifier
from szsl.params import BOOLEAN, NON_NEGATIVE, POSITIVE, Interval, Param, defaults, space

NAME = "conse"

PARAMS = (
    Param("T", 10, Interval(int, 1, None), {"choices": [1, 3, 5, 10, 20]}, "seen classes combined per image"),
    Param("lr", 1e-3, POSITIVE, {"low": 1e-4, "high": 1e-2, "log": True}, "learning rate of the seen-class classifier"),
    Param("weight_decay", 1e-4, NON_NEGATIVE, {"low": 1e-6, "high": 1e-2, "log": True}, "its L2 weight decay"),
    Param("epochs", 30, Interval(int, 1, 100000), None, "its passes over the training images"),
    Param("batch_size", 256, Interval(int, 1, None), None, "its images per minibatch"),
    Param("normalize_features", False, BOOLEAN, None, "L2-normalise each image's features"),
)
DEFAULTS = defaults(PARAMS)
SPACE = space(PARAMS)


def conse_embedding(probs: torch.Tensor, seen_attributes: torch.Tensor, T: int) -> torch.Tensor:
    """(b, A): probability-weighted mean of the top-T seen classes' attributes (T capped at the seen count)."""
    k = min(T, probs.shape[1])
    top_p, top_i = probs.topk(k, dim=1)
    weights = top_p / top_p.sum(dim=1, keepdim=True).clamp_min(1e-30)
    return torch.einsum("bk,bka->ba", weights, seen_attributes[top_i])


def fit(X, y, attributes, params: dict | None = None, *, seed: int = 0, device: str = "auto") -> Fitted:
    run = begin_fit(NAME, X, y, attributes, seed=seed, device=device, params=params, declared=PARAMS)
    p, X, seen, g, dev = run.p, run.X, run.seen, run.g, run.dev
    normalize = p["normalize_features"]
    Xt = torch.as_tensor(l2_rows(X).astype(np.float32) if normalize else X, device=dev)
    # standardise the inputs of the classifier with the training statistics (part of the model)
    mu = Xt.mean(dim=0)
    sd = Xt.std(dim=0).clamp_min(1e-6)
    Phi = torch.as_tensor(l2_rows(run.A).astype(np.float32), device=dev)
    Phi_seen = Phi[torch.as_tensor(seen, device=dev)]
    target = torch.as_tensor(np.searchsorted(seen, run.y), device=dev)
    clf, history = train_softmax_classifier(Xt, target, seen.size, lr=p["lr"], weight_decay=p["weight_decay"],
                                            epochs=p["epochs"], batch_size=p["batch_size"], g=g, device=dev,
                                            inputs=lambda x: (x - mu) / sd)
    T = p["T"]

    def score(xb: torch.Tensor) -> torch.Tensor:
        xb = l2_rows(xb) if normalize else xb
        probs = torch.softmax(clf((xb - mu) / sd), dim=1)
        return l2_rows(conse_embedding(probs, Phi_seen, T)) @ Phi.T

    fitted = run.fitted(score, history)
    fitted.classifier_ = (clf.weight.cpu().numpy(), clf.bias.cpu().numpy())
    return fitted
