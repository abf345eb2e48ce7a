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
from torch import nn

from szsl.errors import SZSLError
from szsl.methods._peer_common import (
    Fitted,
    batches,
    begin_fit,
    check_inputs,
    generator,
    linear_init,
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


class ProtoMember(nn.Module):
    """The parameters of one CN prototype MLP, drawn from ``g`` in the order of the authors' nn.Linear layers
    (layer 3's default weight is drawn and discarded before its uniform +-sqrt(3 / (hidden * D)) one)."""

    def __init__(self, attr_dim: int, hidden: int, proto_dim: int, g: torch.Generator):
        super().__init__()
        W1, b1 = linear_init(attr_dim, hidden, g)
        W2, b2 = linear_init(hidden, hidden, g)
        _, b3 = linear_init(hidden, proto_dim, g)
        W3 = uniform_((proto_dim, hidden), math.sqrt(3.0 / (hidden * proto_dim)), g)
        for name, t in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2), ("W3", W3), ("b3", b3)):
            setattr(self, name, nn.Parameter(t))


def _linear(h: torch.Tensor, W: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """h W^T + b for one member (W 2-D) or K stacked ones (W (K, out, in); h (n, in) shared or (K, n, in))."""
    if W.dim() == 2:
        return F.linear(h, W, b)
    if h.dim() == 2:
        return torch.matmul(h, W.transpose(1, 2)) + b.unsqueeze(1)
    return torch.baddbmm(b.unsqueeze(1), h, W.transpose(1, 2))


class ProtoNet(nn.Module):
    """K CN prototype networks (``ProtoMember``s, each with its own parameters, so torch's Adam and StepLR with one
    parameter group per member do for each what they do for a single network) and their class-standardisation
    statistics, buffers of shape (K, hidden).

    ``stacked``: the forward pass stacks the members' parameters along a leading K dimension (batched matmuls;
    prototypes (K, C, D)); otherwise the one member runs the plain 2-D kernels (prototypes (C, D)). The two give
    the same values up to float rounding, which this recipe amplifies (see ``fit_population``): ``fit`` runs one
    unstacked member, ``fit_population`` a stacked population, so each gives the numbers it always gave."""

    def __init__(self, attr_dim: int, hidden: int, proto_dim: int, gens: list[torch.Generator], *, momentum: float,
                 eps: float, stacked: bool = True):
        super().__init__()
        if not stacked and len(gens) != 1:
            raise ValueError("an unstacked ProtoNet has exactly one member")
        self.members = nn.ModuleList(ProtoMember(attr_dim, hidden, proto_dim, g) for g in gens)
        self.stacked, self.momentum, self.eps = stacked, momentum, eps
        for which in ("cs1", "cs2"):
            self.register_buffer(f"{which}_mean", torch.zeros(len(gens), hidden))
            self.register_buffer(f"{which}_var", torch.ones(len(gens), hidden))

    def _cs(self, h: torch.Tensor, which: str) -> torch.Tensor:
        """Class standardisation: each unit over the classes (dim -2) divided by (variance + eps)."""
        run_mean, run_var = getattr(self, f"{which}_mean"), getattr(self, f"{which}_var")
        if not self.stacked:
            run_mean, run_var = run_mean[0], run_var[0]
        if self.training:
            mean = h.mean(dim=-2)
            var = h.var(dim=-2) if h.shape[-2] > 1 else torch.zeros_like(mean)
            m = self.momentum
            with torch.no_grad():
                run_mean.mul_(1 - m).add_(m * mean.detach())
                run_var.mul_(1 - m).add_(m * var.detach())
        else:
            mean, var = run_mean, run_var
        if self.stacked:
            mean, var = mean.unsqueeze(1), var.unsqueeze(1)
        return (h - mean) / (var + self.eps)

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        """Prototypes of the classes with (CN-scaled) attributes ``a``: (C, D), or (K, C, D) when stacked."""
        if self.stacked:
            W1, b1, W2, b2, W3, b3 = (torch.stack(ts) for ts in zip(*(m.parameters() for m in self.members)))
        else:
            W1, b1, W2, b2, W3, b3 = self.members[0].parameters()
        h = F.relu(_linear(a, W1, b1))
        h = self._cs(_linear(h, W2, b2), "cs1")
        h = self._cs(F.relu(h), "cs2")
        return F.relu(_linear(h, W3, b3))


def cosine_logits(x: torch.Tensor, protos: torch.Tensor, scale: float) -> torch.Tensor:
    """<s x/|x|, s P/|P|>: x (b, D) and protos (C, D), or both with a leading member dimension K."""
    xn = scale * x / x.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    pn = scale * protos / protos.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return torch.bmm(xn, pn.transpose(1, 2)) if x.dim() == 3 else xn @ pn.T


def _member_losses(logits: torch.Tensor, target: torch.Tensor, target_fn) -> torch.Tensor:
    """Each member's mean loss over its minibatch: a scalar for (b, C) logits, (K,) for (K, b, C)."""
    if target_fn is not None:
        return -(target_fn(target) * F.log_softmax(logits, dim=-1)).sum(dim=-1).mean(dim=-1)
    if logits.dim() == 2:
        return F.cross_entropy(logits, target)
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[2]), target.reshape(-1), reduction="none")
    return ce.view(logits.shape[0], -1).mean(dim=1)


def train_members(X: np.ndarray, y: np.ndarray, A: np.ndarray, seen: np.ndarray, ps: list[dict], gens: list, dev, *,
                  stacked: bool, target_fn=None, train_classes: str = "seen") -> tuple[torch.Tensor, list[list[float]]]:
    """Train K = len(gens) CN members (member k: hyperparameters ``ps[k]``, which agree outside ``PER_MEMBER``, and
    generator ``gens[k]``, which draws its initialisation, then each epoch's shuffle). ``train_classes``: "seen"
    (CE over the seen prototypes) or "all" (prototypes of every class, CS over all of them, with
    ``target_fn(y_batch) -> (..., C)`` soft targets). Returns the prototypes of all classes, (K, C, D), and each
    member's per-epoch mean loss (minibatches weighted by size)."""
    p0, K = ps[0], len(gens)
    net = ProtoNet(A.shape[1], p0["hidden"], X.shape[1], gens, momentum=p0["cs_momentum"], eps=p0["cs_eps"],
                   stacked=stacked).to(dev)
    opt = torch.optim.Adam([{"params": list(m.parameters()), "lr": p["lr"], "weight_decay": p["weight_decay"]}
                            for m, p in zip(net.members, ps)])
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=p0["lr_step"], gamma=p0["lr_gamma"])
    A_t = torch.as_tensor(cn_attributes(A), device=dev)
    X_t = torch.as_tensor(X, device=dev)
    if train_classes == "seen":
        train_attr = A_t[torch.as_tensor(seen, device=dev)]
        target = torch.as_tensor(np.searchsorted(seen, y), device=dev)  # labels in the seen-only space
    else:
        train_attr, target = A_t, torch.as_tensor(y, device=dev)
    n, histories = X.shape[0], [[] for _ in range(K)]
    for _epoch in range(p0["epochs"]):
        totals, count = torch.zeros(K, dtype=torch.float64), 0
        for idx_list in zip(*[batches(n, p0["batch_size"], g) for g in gens]):
            idx = torch.stack(idx_list).to(dev)  # (K, b)
            xb, tb = X_t[idx], target[idx]
            if not stacked:
                xb, tb = xb[0], tb[0]
            losses = _member_losses(cosine_logits(xb, net(train_attr), p0["scale"]), tb, target_fn)
            opt.zero_grad(set_to_none=True)
            losses.sum().backward()
            opt.step()
            totals += losses.detach().double().cpu().reshape(K) * idx.shape[1]
            count += idx.shape[1]
        sched.step()
        for k in range(K):
            histories[k].append(float(totals[k]) / count)
    net.eval()
    with torch.no_grad():
        protos = net(A_t)
    return (protos if stacked else protos.unsqueeze(0)), histories


def _scorer(protos: torch.Tensor, seen: np.ndarray, seen_scale: float, scale: float):
    """score(x) = cosine logits against all classes' prototypes, the seen columns multiplied by ``seen_scale``."""
    factor = torch.ones(protos.shape[0], device=protos.device)
    factor[torch.as_tensor(seen, device=protos.device)] = seen_scale

    def score(xb: torch.Tensor) -> torch.Tensor:
        return cosine_logits(xb, protos, scale) * factor

    return score


def train_cn(X, y, attributes, p: dict, *, seed: int, device, name: str, target_fn=None, train_classes: str = "seen"):
    """One CN model (``train_members`` with one unstacked member); shared by ``cn`` and ``cn-soft``."""
    run = begin_fit(name, X, y, attributes, seed=seed, device=device, params=p)
    protos, (history,) = train_members(run.X, run.y, run.A, run.seen, [p], [run.g], run.dev, stacked=False,
                                       target_fn=target_fn, train_classes=train_classes)
    fitted = run.fitted(_scorer(protos[0], run.seen, p["seen_scale"], p["scale"]), history)
    fitted.prototypes_ = protos[0].cpu().numpy()
    return fitted


def fit(X, y, attributes, params: dict | None = None, *, seed: int = 0, device: str = "auto") -> Fitted:
    """Train CN on (X, y); classes of ``attributes`` without training images are the unseen ones."""
    p = check(NAME, PARAMS, params)
    return train_cn(X, y, attributes, p, seed=seed, device=device, name=NAME)


# ---------------------------------------------------------------------------------------------
# Population training: K members stacked along a leading dimension (ProtoNet(stacked=True)), trained
# in one pass by the same train_members as a single fit.
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
    X, y, A, seen, unseen = check_inputs(NAME, X, y, attributes)
    dev = resolve_device(device)
    protos, histories = train_members(X, y, A, seen, ps, [generator(s) for s in seeds], dev, stacked=True)
    seconds = time.perf_counter() - t0
    out = []
    for k in range(K):
        f = Fitted(NAME, _scorer(protos[k], seen, ps[k]["seen_scale"], ps[0]["scale"]), device=dev, seen=seen,
                   unseen=unseen, n_classes=A.shape[0], params=ps[k], loss_history=histories[k], seconds=seconds / K)
        f.prototypes_ = protos[k].cpu().numpy()
        out.append(f)
    return out
