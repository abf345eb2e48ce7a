"""COSMO: adaptive confidence smoothing (Atzmon & Chechik, CVPR 2019), a combinator of two experts and a gate.

(Table 2 row "COSMO".) Three modules, combined probabilistically:

* **seen expert**: a linear softmax over the seen classes on the features (multinomial logistic regression,
  features standardised with the training statistics, L2 ``l2`` as Adam's weight decay, seeded minibatches);
* **zero-shot expert**: ANY registered method (``zs_method``, default ``"szsl"``) fitted through the registry
  (``get_method(zs_method).fit_population``, as ``evaluation.evaluate`` fits a method) on the same training
  data; its scores renormalised over the unseen classes, p_U(c | x) = softmax over the unseen columns.
  ``zs_params``: its hyperparameters (None: its defaults; the network methods ``szsl``, its ablations and
  ``dcn`` get a small CPU budget then, hidden 256 and 10 epochs, ``ZS_NETWORK_BUDGET``);
* **gate** p(seen | x): a logistic regression on the top-``top_k`` sorted probabilities of the seen expert
  concatenated with the top-``top_k`` sorted probabilities of the zero-shot expert (zero-padded when an expert
  has fewer classes; the paper's K = 3 pooling, invariant to class identity). It is trained on a GZSL
  validation split made from the training data only, inside ``fit``: a seeded ``holdout_classes`` fraction
  of the seen classes become pseudo-unseen (all their images are validation "unseen" examples; at least 1
  class, at least 2 classes stay seen), a seeded ``holdout_images`` fraction of each remaining class's images
  are validation "seen" examples; both experts are fitted on the rest (restricted to the seen classes'
  attributes, so the zero-shot expert's unseen classes are the pseudo-unseen ones), the gate on their
  outputs (the two validation groups weighted equally, L2 ``gate_l2``, L-BFGS, float64). Then both experts
  are refitted on all the training data; the gate is kept.

Adaptive confidence smoothing (szsl's exact formula; the paper smooths each expert toward a uniform prior
by an amount set by the gate, "LAGO-style"): with g = p(seen | x) and beta = ``smoothing``,

    p~_S(c | x) = g^beta p_S(c | x) + (1 - g^beta) / |S|            (lambda_S = 1 - g^beta)
    p~_U(c | x) = (1 - g)^beta p_U(c | x) + (1 - (1 - g)^beta) / |U|  (lambda_U = 1 - (1 - g)^beta)

so an expert is flattened as far as the gate believes x is outside its domain (beta = 1: lambda_S =
p(unseen | x)); beta = 0 switches smoothing off, a large beta flattens more. GZSL scores, every image, every
class: log[g p~_S(c | x)] for a seen c and log[(1 - g) p~_U(c | x)] for an unseen c (computed in log space,
float64, finite). Without unseen classes the scores are the seen expert's log-probabilities.

szsl's choices: the seen expert's optimiser (Adam lr 1e-3, 30 epochs, batch 64, l2 1e-4), the split
fractions 0.25 / 0.2, gate_l2 1e-3, the balanced gate loss, the zero-shot expert's budget, the smoothing
formula above with beta 1. Left out: the paper's tuning of the gate's softmax temperature and of K.
``loss_history_``: the final seen expert's per-epoch loss. ``SPACE``: l2 and smoothing.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F

from szsl.errors import SZSLError
from szsl.methods._peer_common import begin_fit, train_softmax_classifier
from szsl.params import NON_NEGATIVE, POSITIVE, Interval, Param, defaults, space

NAME = "cosmo"
DESCRIPTION = "COSMO (Atzmon & Chechik 2019) adaptive confidence smoothing: seen expert + any zero-shot method, gated"

# Declared once (szsl.params); the searched ones in the order the sampler draws them.
PARAMS = (
    Param("zs_method", "szsl", None, None, "the zero-shot expert: any other registered method"),
    Param("zs_params", None, None, None, "its hyperparameters (None: its defaults; network methods: ZS_NETWORK_BUDGET)"),
    Param("l2", 1e-4, NON_NEGATIVE, {"low": 1e-6, "high": 1e-1, "log": True}, "L2 of the seen expert"),
    Param("lr", 1e-3, POSITIVE, None, "Adam learning rate of the seen expert"),
    Param("epochs", 30, Interval(int, 1, 100000), None, "epochs of the seen expert"),
    Param("batch_size", 64, Interval(int, 1, None), None, "its minibatch"),
    Param("top_k", 3, Interval(int, 1, 1000), None, "sorted top-K probabilities of each expert fed to the gate (the paper's K)"),
    Param("smoothing", 1.0, NON_NEGATIVE, {"low": 0.1, "high": 10.0, "log": True}, "beta, the smoothing temperature"),
    Param("holdout_classes", 0.25, Interval(float, 0.0, 1.0, "neither"), None, "seen classes held out as unseen to train the gate"),
    Param("holdout_images", 0.2, Interval(float, 0.0, 1.0, "neither"), None, "images of the other seen classes held out for it"),
    Param("gate_l2", 1e-3, NON_NEGATIVE, None, "L2 of the gate's logistic regression"),
)
DEFAULTS = defaults(PARAMS)
SPACE = space(PARAMS)

ZS_NETWORK_BUDGET = {"hidden": 256, "epochs": 10}  # zs_params None and a network zero-shot method (szsl, dcn, ...)


def _zs_setting(p: dict, seed: int):
    """(Method, its full setting) of the zero-shot expert; one-line SZSLError on a bad name or bad params."""
    from szsl.methods import get_method

    name = p["zs_method"]
    if not isinstance(name, str) or name.strip().lower() == NAME:
        raise SZSLError(f"{NAME}: zs_method={name!r}: expected the name of another registered method")
    try:
        m = get_method(name)
    except SZSLError as err:
        raise SZSLError(f"{NAME}: zs_method={name!r}: {err}") from None
    given = p["zs_params"]
    if given is not None and not isinstance(given, Mapping):
        raise SZSLError(f"{NAME}: zs_params={given!r}: expected a mapping of hyperparameter -> value, or null")
    values = dict(given) if given is not None else m.budget_values(**ZS_NETWORK_BUDGET)
    try:
        return m, m.seeded({**values, "seed": seed}, seed)[0]
    except (SZSLError, TypeError, ValueError) as err:
        raise SZSLError(f"{NAME}: zs_params: {' '.join(str(err).split())}") from None


def fit_zero_shot(m, setting, X, y, A, *, seed: int, device):
    """The zero-shot expert fitted on (X, y, A): (X numpy -> (n, C) numpy scores, diverged, message)."""
    try:
        (fitted,) = m.fit_population(X, y, A, [setting], seeds=[seed], device=device)
    except SZSLError as err:  # e.g. a value the method checks only when it fits
        raise SZSLError(f"{NAME}: zs_method {m.name}: {' '.join(str(err).split())}") from None
    score_all = m.scorer([fitted]) if m.scorer is not None else (lambda Z: [fitted.scores(Z)])
    return (lambda Z: np.asarray(score_all(Z)[0], dtype=np.float64)), bool(getattr(fitted, "diverged", False)), \
        getattr(fitted, "message", "")


def holdout_split(y: np.ndarray, seen: np.ndarray, *, classes: float, images: float, g: torch.Generator):
    """(train rows, validation-seen rows, validation-unseen rows, pseudo-seen classes, pseudo-unseen classes)."""
    S = seen.size
    if S < 3:
        raise SZSLError(f"{NAME}: the gate's validation split needs images of at least 3 seen classes, got {S}")
    n_u = min(max(1, int(round(classes * S))), S - 2)
    perm = torch.randperm(S, generator=g).numpy()
    p_unseen, p_seen = np.sort(seen[perm[:n_u]]), np.sort(seen[perm[n_u:]])
    train, val_seen = [], []
    for c in p_seen:
        rows = np.flatnonzero(y == c)
        k = 0 if rows.size < 2 else min(max(1, int(round(images * rows.size))), rows.size - 1)
        rows = rows[torch.randperm(rows.size, generator=g).numpy()]
        val_seen.append(rows[:k])
        train.append(rows[k:])
    val_unseen = np.flatnonzero(np.isin(y, p_unseen))
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val_seen)), val_unseen, p_seen, p_unseen


def top_k(probs: torch.Tensor, k: int) -> torch.Tensor:
    """(n, k): each row's k largest probabilities, descending, zero-padded when there are fewer than k columns."""
    top = probs.topk(min(k, probs.shape[1]), dim=1).values
    return F.pad(top, (0, k - top.shape[1]))


def fit_gate(feats: torch.Tensor, is_seen: torch.Tensor, l2: float, iters: int = 200) -> tuple[torch.Tensor, torch.Tensor]:
    """Logistic regression p(seen | f) = sigmoid(f w + b), the two groups weighted equally; L-BFGS, float64, CPU."""
    feats, target = feats.double().cpu(), is_seen.double().cpu()
    n_seen = target.sum().clamp_min(1.0)
    weight = torch.where(target > 0, 0.5 / n_seen, 0.5 / (target.numel() - n_seen).clamp_min(1.0))
    w = torch.zeros(feats.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=iters, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = (weight * F.binary_cross_entropy_with_logits(feats @ w + b, target, reduction="none")).sum() + l2 * w.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach(), b.detach()


def smoothed_log(log_p: torch.Tensor, log_keep: torch.Tensor) -> torch.Tensor:
    """log[(keep) p + (1 - keep) / n] per row, keep = exp(log_keep) (n, ) in [0, 1], in log space."""
    n = log_p.shape[1]
    flat = torch.log(-torch.expm1(log_keep)).clamp_min(-1e300) - np.log(n)  # log((1 - keep) / n); -inf when keep = 1
    return torch.logaddexp(log_p + log_keep[:, None], flat[:, None].expand_as(log_p))


def combine(log_ps: torch.Tensor, log_pu: torch.Tensor, gate_logit: torch.Tensor, beta: float,
            seen: torch.Tensor, unseen: torch.Tensor, n_classes: int) -> torch.Tensor:
    """(n, C) GZSL scores: log[g p~_S] on the seen columns, log[(1 - g) p~_U] on the unseen ones (module docstring)."""
    log_g, log_1g = F.logsigmoid(gate_logit), F.logsigmoid(-gate_logit)
    out = torch.empty((log_ps.shape[0], n_classes), dtype=torch.float64, device=log_ps.device)
    out[:, seen] = log_g[:, None] + smoothed_log(log_ps, beta * log_g)
    out[:, unseen] = log_1g[:, None] + smoothed_log(log_pu, beta * log_1g)
    return out


def _seen_expert(X: torch.Tensor, col: torch.Tensor, n_cls: int, p: dict, g: torch.Generator, dev):
    """(the layer, per-epoch losses) of the linear softmax on the (already standardised) features X."""
    return train_softmax_classifier(X, col, n_cls, lr=p["lr"], weight_decay=p["l2"], epochs=p["epochs"],
                                    batch_size=p["batch_size"], g=g, device=dev)


def fit(X, y, attributes, params: dict | None = None, *, seed: int = 0, device: str = "auto"):
    """Fit COSMO's two experts and its gate on (X, y); classes of ``attributes`` without training images are unseen."""
    params = {} if params is None else params
    run = begin_fit(NAME, X, y, attributes, seed=seed, device=device, params=params, declared=PARAMS)
    p, seen, unseen, g, dev = run.p, run.seen, run.unseen, run.g, run.dev
    zs, zs_setting = _zs_setting(p, seed)
    Xt = torch.as_tensor(run.X, device=dev)
    mu, sd = Xt.mean(dim=0), Xt.std(dim=0).clamp_min(1e-6)
    Xs = (Xt - mu) / sd
    K, beta = p["top_k"], p["smoothing"]
    extra: dict = {}
    gate_w = gate_b = None
    if unseen.size:
        # the gate, on a validation split of the training data (pseudo-unseen classes + held-out seen images)
        tr, v_seen, v_unseen, p_seen, _ = holdout_split(run.y, seen, classes=p["holdout_classes"],
                                                        images=p["holdout_images"], g=g)
        col_v = torch.as_tensor(np.searchsorted(p_seen, run.y[tr]), device=dev)
        expert_v, _ = _seen_expert(Xs[torch.as_tensor(tr, device=dev)], col_v, p_seen.size, p, g, dev)
        zs_v, diverged, message = fit_zero_shot(zs, zs_setting, run.X[tr], np.searchsorted(seen, run.y[tr]),
                                                run.A[seen], seed=seed, device=device)
        if diverged:
            raise SZSLError(f"{NAME}: the zero-shot expert {zs.name} diverged on the gate's validation split: {message}")
        val = np.concatenate([v_seen, v_unseen])
        u_cols = torch.as_tensor(np.flatnonzero(~np.isin(seen, p_seen)))
        with torch.no_grad():
            ps_v = torch.softmax(expert_v(Xs[torch.as_tensor(val, device=dev)]).double(), dim=1).cpu()
            pu_v = torch.softmax(torch.as_tensor(zs_v(run.X[val]))[:, u_cols], dim=1)
        feats = torch.cat([top_k(ps_v, K), top_k(pu_v, K)], dim=1)
        is_seen = torch.cat([torch.ones(v_seen.size), torch.zeros(v_unseen.size)])
        gate_w, gate_b = fit_gate(feats, is_seen, p["gate_l2"])
        with torch.no_grad():
            extra["val_gate_accuracy_"] = float((((feats @ gate_w + gate_b) > 0).double() == is_seen.double()).double().mean())
        extra["pseudo_unseen_"] = np.setdiff1d(seen, p_seen)

    col = torch.as_tensor(np.searchsorted(seen, run.y), device=dev)
    expert, history = _seen_expert(Xs, col, seen.size, p, g, dev)
    zs_score, diverged, message = (fit_zero_shot(zs, zs_setting, run.X, run.y, run.A, seed=seed, device=device)
                                   if unseen.size else (None, False, ""))
    seen_t, unseen_t = torch.as_tensor(seen, device=dev), torch.as_tensor(unseen, device=dev)
    n_classes = run.A.shape[0]

    def score(xb: torch.Tensor) -> torch.Tensor:
        log_ps = torch.log_softmax(expert((xb - mu) / sd).double(), dim=1)
        if not unseen.size:
            return torch.full((xb.shape[0], n_classes), -np.inf, dtype=torch.float64, device=xb.device) \
                .index_copy_(1, seen_t, log_ps)
        log_pu = torch.log_softmax(torch.as_tensor(zs_score(xb.cpu().numpy()), device=xb.device)[:, unseen_t], dim=1)
        feats = torch.cat([top_k(log_ps.exp(), K), top_k(log_pu.exp(), K)], dim=1)
        gate_logit = feats @ gate_w.to(xb.device) + gate_b.to(xb.device)
        return combine(log_ps, log_pu, gate_logit, beta, seen_t, unseen_t, n_classes)

    fitted = run.fitted(score, history)
    fitted.diverged, fitted.message = diverged, (f"{NAME}: the zero-shot expert {zs.name} diverged: {message}" if diverged else "")
    fitted.zs_method_, fitted.zs_params_ = zs.name, zs_setting
    fitted.gate_w_, fitted.gate_b_ = gate_w, gate_b
    for k, v in extra.items():
        setattr(fitted, k, v)
    return fitted
