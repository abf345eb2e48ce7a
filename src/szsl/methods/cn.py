"""CN: class normalization for zero-shot learning (Skorokhodov & Elhoseiny, ICLR 2021).

The recipe of the authors' released notebook, re-written from the paper's description:

* attributes L2-normalised per class, then multiplied by sqrt(attribute count);
* prototypes P = MLP(a): Linear(A, 1024) - ReLU - Linear(1024, 1024) - CS - ReLU - CS -
  Linear(1024, D) - ReLU, with D the feature dimension (2048 for ResNet-101);
* CS ("class standardization") standardises each unit over the classes of the batch (all the
  classes whose prototypes are computed in that step: the seen classes during training) and
  divides by (variance + 1e-5) -- the variance, not the standard deviation, as the authors'
  code does; running mean / variance (momentum 0.1, unbiased batch variance) are used in eval;
* the last Linear's weight is drawn uniform in +-sqrt(3 / (hidden * D)); everything else has
  PyTorch's default Linear initialisation;
* score(x, c) = <s x/|x|, s P_c/|P_c|> with s = 5;
* Adam (lr 5e-4, weight decay 1e-4 as L2 in the gradient), StepLR x0.1 every 25 epochs,
  50 epochs, batches of 256 images, cross-entropy over the SEEN classes only;
* test time: scores of seen classes multiplied by ``seen_scale`` (0.95; the authors use 1.0 on
  CUB: ``PER_DATASET``, applied by the registry wherever cn runs on CUB -- ``szsl train``, a
  tuning space's fixed values, ``szsl compare`` -- unless the user sets ``seen_scale``).

The authors used no validation split; ``SPACE`` is szsl's, for its class-fold validation. It
searches ``seen_scale`` (0.8 to 1.0), so under tuning / compare the search, not ``PER_DATASET``,
sets it; a space that fixes it or leaves it out gets 1.0 on CUB.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F

from szsl.errors import SZSLError
from szsl.methods._peer_common import (
    Fitted,
    batches,
    begin_fit,
    check_inputs,
    generator,
    linear_init,
    train_epochs,
    uniform_,
)
from szsl.model import resolve_device
from szsl.params import NON_NEGATIVE, POSITIVE, Interval, Param, check, defaults, space

NAME = "cn"

# Declared once (szsl.params); SPACE is szsl's, for its class-fold validation (the searched ones first: the order
# the sampler draws them in).
PARAMS = (
    Param("lr", 5e-4, POSITIVE, {"low": 1e-4, "high": 2e-3, "log": True}, "Adam learning rate"),
    Param("weight_decay", 1e-4, NON_NEGATIVE, {"low": 1e-6, "high": 1e-3, "log": True}, "Adam weight decay"),
    Param("seen_scale", 0.95, POSITIVE, {"low": 0.8, "high": 1.0},
          "test-time factor on seen-class scores (authors: 1.0 on CUB, PER_DATASET)"),
    Param("epochs", 50, Interval(int, 1, 100000), {"choices": [25, 50]}, "passes over the training images"),
    Param("batch_size", 256, Interval(int, 1, None), None, "images per minibatch"),
    Param("lr_step", 25, Interval(int, 1, None), None, "StepLR step_size (epochs)"),
    Param("lr_gamma", 0.1, Interval(float, 0.0, 1.0, "right"), None, "StepLR factor"),
    Param("hidden", 1024, Interval(int, 1, None), None, "hidden units of the prototype network"),
    Param("scale", 5.0, POSITIVE, None, "s in <s x/|x|, s P/|P|>"),
    Param("cs_momentum", 0.1, Interval(float, 0.0, 1.0, "right"), None, "momentum of class standardization's statistics"),
    Param("cs_eps", 1e-5, POSITIVE, None, "epsilon of class standardization"),
)
DEFAULTS = defaults(PARAMS)
SPACE = space(PARAMS)

# The authors' per-dataset values (szsl.methods.Method.params applies them; the user's values win).
PER_DATASET = {"CUB": {"seen_scale": 1.0}}


def cn_attributes(A: np.ndarray) -> np.ndarray:
    """L2-normalise each class's attributes, then multiply by sqrt(attribute count)."""
    A = np.asarray(A, dtype=np.float64)
    norms = np.maximum(np.linalg.norm(A, axis=1, keepdims=True), 1e-12)
    return (A / norms * math.sqrt(A.shape[1])).astype(np.float32)


class ProtoMLP:
    """The CN prototype network as plain tensors (so it is small, explicit and device-agnostic)."""

    def __init__(self, attr_dim: int, hidden: int, proto_dim: int, g: torch.Generator, device, *, momentum: float, eps: float):
        W1, b1 = linear_init(attr_dim, hidden, g)
        W2, b2 = linear_init(hidden, hidden, g)
        _, b3 = linear_init(hidden, proto_dim, g)
        W3 = uniform_((proto_dim, hidden), math.sqrt(3.0 / (hidden * proto_dim)), g)
        self.params = [t.to(device).requires_grad_(True) for t in (W1, b1, W2, b2, W3, b3)]
        self.running = {k: torch.zeros(hidden, device=device) if k.endswith("mean") else torch.ones(hidden, device=device)
                        for k in ("cs1_mean", "cs1_var", "cs2_mean", "cs2_var")}
        self.momentum, self.eps = momentum, eps

    def _cs(self, h: torch.Tensor, which: str, training: bool) -> torch.Tensor:
        if training:
            mean = h.mean(dim=0)
            var = h.var(dim=0) if h.shape[0] > 1 else torch.zeros_like(mean)
            m = self.momentum
            with torch.no_grad():
                self.running[f"{which}_mean"].mul_(1 - m).add_(m * mean.detach())
                self.running[f"{which}_var"].mul_(1 - m).add_(m * var.detach())
        else:
            mean, var = self.running[f"{which}_mean"], self.running[f"{which}_var"]
        return (h - mean) / (var + self.eps)

    def __call__(self, a: torch.Tensor, *, training: bool) -> torch.Tensor:
        W1, b1, W2, b2, W3, b3 = self.params
        h = F.relu(F.linear(a, W1, b1))
        h = F.linear(h, W2, b2)
        h = self._cs(h, "cs1", training)
        h = F.relu(h)
        h = self._cs(h, "cs2", training)
        return F.relu(F.linear(h, W3, b3))


def cosine_logits(x: torch.Tensor, protos: torch.Tensor, scale: float) -> torch.Tensor:
    xn = scale * x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)
    pn = scale * protos / protos.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return xn @ pn.T


def train_cn(X, y, attributes, p: dict, *, seed: int, device, name: str, target_fn=None, train_classes: str = "seen"):
    """Shared by ``cn`` and ``cn-soft``. ``train_classes``: "seen" (CE over seen prototypes) or
    "all" (prototypes of every class, CS over all of them, with ``target_fn(y_batch) -> (b, C)``
    soft targets)."""
    run = begin_fit(name, X, y, attributes, seed=seed, device=device, params=p)
    X, A, seen, g, dev = run.X, run.A, run.seen, run.g, run.dev
    A_t = torch.as_tensor(cn_attributes(A), device=dev)
    X_t = torch.as_tensor(X, device=dev)
    net = ProtoMLP(A.shape[1], p["hidden"], X.shape[1], g, dev, momentum=p["cs_momentum"], eps=p["cs_eps"])
    opt = torch.optim.Adam(net.params, lr=p["lr"], weight_decay=p["weight_decay"])
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=p["lr_step"], gamma=p["lr_gamma"])
    if train_classes == "seen":
        train_attr = A_t[torch.as_tensor(seen, device=dev)]
        target = torch.as_tensor(np.searchsorted(seen, run.y), device=dev)  # labels in the seen-only space
    else:
        train_attr = A_t
        target = torch.as_tensor(run.y, device=dev)

    def step_loss(idx: torch.Tensor) -> torch.Tensor:
        protos = net(train_attr, training=True)
        logits = cosine_logits(X_t[idx], protos, p["scale"])
        if target_fn is None:
            return F.cross_entropy(logits, target[idx])
        return -(target_fn(target[idx]) * F.log_softmax(logits, dim=1)).sum(dim=1).mean()

    history = train_epochs(step_loss, opt, n=X.shape[0], epochs=p["epochs"], batch_size=p["batch_size"], g=g, device=dev,
                           end_epoch=sched.step)

    with torch.no_grad():
        protos_all = net(A_t, training=False)
    factor = torch.ones(A.shape[0], device=dev)
    factor[torch.as_tensor(seen, device=dev)] = p["seen_scale"]
    scale = p["scale"]

    def score(xb: torch.Tensor) -> torch.Tensor:
        return cosine_logits(xb, protos_all, scale) * factor

    fitted = run.fitted(score, history)
    fitted.prototypes_ = protos_all.cpu().numpy()
    return fitted


def fit(X, y, attributes, params: dict | None = None, *, seed: int = 0, device: str = "auto") -> Fitted:
    """Train CN on (X, y); classes of ``attributes`` without training images are the unseen ones."""
    p = check(NAME, PARAMS, params)
    return train_cn(X, y, attributes, p, seed=seed, device=device, name=NAME)


# ---------------------------------------------------------------------------------------------
# Population training: K members stacked along a leading dimension, trained in one pass.
# ---------------------------------------------------------------------------------------------

# Hyperparameters that may differ between the members of one population; all others must agree.
PER_MEMBER = ("lr", "weight_decay", "seen_scale")


def fit_population(X, y, attributes, params_list, *, seeds, device: str = "auto", progress: bool = False) -> list[Fitted]:
    """Train K CN members at once (K = len(seeds)); member k uses ``params_list[k]`` (a dict, or one
    dict for all) and ``seeds[k]``. Member k's result equals ``fit(X, y, attributes, params_list[k],
    seed=seeds[k])`` up to float rounding -- which this recipe amplifies (CS divides by the variance):
    on the aPY twin a 1e-6 relative change of X, or bmm instead of mm, moves the logits by ~0.3-0.6
    (of +-25) after 2 epochs, so members match single fits exactly only on small problems; they are
    equally good draws. Only ``lr``, ``weight_decay`` and ``seen_scale`` may differ between members.
    Each member has its own parameter group in torch's Adam. On one CPU thread K members cost about
    K single fits; the gain is on a GPU."""
    t0 = time.perf_counter()
    seeds = list(seeds)
    K = len(seeds)
    if K == 0:
        raise SZSLError(f"{NAME}: fit_population needs at least one seed")
    if isinstance(params_list, dict) or params_list is None:
        params_list = [params_list] * K
    if len(params_list) != K:
        raise SZSLError(f"{NAME}: fit_population got {len(params_list)} parameter sets for {K} seeds")
    ps = [check(NAME, PARAMS, p) for p in params_list]
    # Members that differ in more than PER_MEMBER (e.g. epochs, searched by SPACE) train as separate populations.
    groups: dict[tuple, list[int]] = {}
    for k, p in enumerate(ps):
        groups.setdefault(tuple((key, p[key]) for key in DEFAULTS if key not in PER_MEMBER), []).append(k)
    if len(groups) > 1:
        out: list = [None] * K
        for idx in groups.values():
            for k, fitted in zip(idx, fit_population(X, y, attributes, [ps[k] for k in idx], seeds=[seeds[k] for k in idx],
                                                     device=device, progress=progress)):
                out[k] = fitted
        return out
    p0 = ps[0]
    X, y, A, seen, unseen = check_inputs(NAME, X, y, attributes)
    dev = resolve_device(device)
    gens = [generator(s) for s in seeds]
    nets = [ProtoMLP(A.shape[1], p0["hidden"], X.shape[1], g, torch.device("cpu"), momentum=p0["cs_momentum"], eps=p0["cs_eps"])
            for g in gens]
    # Each member keeps its own leaf tensors (so torch's Adam and StepLR, with one param group per
    # member, do exactly what they do in ``fit``); the forward pass stacks them.
    member_params = [[t.detach().to(dev).requires_grad_(True) for t in n.params] for n in nets]
    H = p0["hidden"]
    running = {k: (torch.zeros if k.endswith("mean") else torch.ones)((K, H), device=dev)
               for k in ("cs1_mean", "cs1_var", "cs2_mean", "cs2_var")}
    opt = torch.optim.Adam([{"params": mp, "lr": p["lr"], "weight_decay": p["weight_decay"]} for mp, p in zip(member_params, ps)])
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=p0["lr_step"], gamma=p0["lr_gamma"])
    A_t = torch.as_tensor(cn_attributes(A), device=dev)
    A_seen = A_t[torch.as_tensor(seen, device=dev)]
    X_t = torch.as_tensor(X, device=dev)
    target = torch.as_tensor(np.searchsorted(seen, y), device=dev)
    mom, eps, scale = p0["cs_momentum"], p0["cs_eps"], p0["scale"]

    def cs(h, which, training):
        if training:
            mean, var = h.mean(dim=1), (h.var(dim=1) if h.shape[1] > 1 else torch.zeros_like(h[:, 0]))
            with torch.no_grad():
                running[f"{which}_mean"].mul_(1 - mom).add_(mom * mean.detach())
                running[f"{which}_var"].mul_(1 - mom).add_(mom * var.detach())
        else:
            mean, var = running[f"{which}_mean"], running[f"{which}_var"]
        return (h - mean.unsqueeze(1)) / (var.unsqueeze(1) + eps)

    def protos_of(a, training):
        W1, b1, W2, b2, W3, b3 = (torch.stack([mp[i] for mp in member_params]) for i in range(6))
        h = F.relu(torch.matmul(a, W1.transpose(1, 2)) + b1.unsqueeze(1))
        h = torch.baddbmm(b2.unsqueeze(1), h, W2.transpose(1, 2))
        h = cs(F.relu(cs(h, "cs1", training)), "cs2", training)
        return F.relu(torch.baddbmm(b3.unsqueeze(1), h, W3.transpose(1, 2)))  # (K, C, D)

    def logits_of(xb, protos):  # xb (K, b, D)
        xn = scale * xb / xb.norm(dim=2, keepdim=True).clamp_min(1e-12)
        pn = scale * protos / protos.norm(dim=2, keepdim=True).clamp_min(1e-12)
        return torch.bmm(xn, pn.transpose(1, 2))

    n, histories = X.shape[0], [[] for _ in range(K)]
    for _epoch in range(p0["epochs"]):
        totals, count = torch.zeros(K, dtype=torch.float64), 0
        for idx_list in zip(*[batches(n, p0["batch_size"], g) for g in gens]):
            idx = torch.stack(idx_list).to(dev)  # (K, b)
            logits = logits_of(X_t[idx], protos_of(A_seen, True))
            ce = F.cross_entropy(logits.reshape(-1, logits.shape[2]), target[idx].reshape(-1), reduction="none")
            per_member = ce.view(K, -1).mean(dim=1)
            opt.zero_grad(set_to_none=True)
            per_member.sum().backward()
            opt.step()
            totals += per_member.detach().double().cpu() * idx.shape[1]
            count += idx.shape[1]
        sched.step()
        for k in range(K):
            histories[k].append(float(totals[k]) / count)

    with torch.no_grad():
        protos_all = protos_of(A_t, False)  # (K, C, D)
    seconds = time.perf_counter() - t0
    out = []
    for k in range(K):
        factor = torch.ones(A.shape[0], device=dev)
        factor[torch.as_tensor(seen, device=dev)] = ps[k]["seen_scale"]
        pk = protos_all[k]

        def score(xb, pk=pk, factor=factor):
            return cosine_logits(xb, pk, scale) * factor

        f = Fitted(NAME, score, device=dev, seen=seen, unseen=unseen, n_classes=A.shape[0], params=ps[k],
                   loss_history=histories[k], seconds=seconds / K)
        f.prototypes_ = pk.cpu().numpy()
        out.append(f)
    return out
