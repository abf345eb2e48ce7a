"""Pieces shared by the generative peers (f-clswgan, cycle-wgan, tf-vaegan, se-gzsl): their seeded ``nn.Linear``
layers (``normal_linear``), the conditional critic (``Critic``), the WGAN-GP gradient penalty, f-clswgan's
conditional WGAN-GP loop (``train_cwgan``), min-max feature scaling, the softmax classifiers they train, and the
start (``gan_inputs``) and end (``final_classifier``) of their fits.

Everything random is drawn on the CPU from the caller's ``torch.Generator`` and then moved to the
device, so a run is a function of its seed (CPU and CUDA runs start from the same draws).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from szsl.methods._peer_common import FitRun, Fitted, train_epochs
from szsl.params import POSITIVE, Interval, Param

# The hyperparameters ``final_classifier`` reads, declared once for the generative peers (each sets n_synth's search).
CLASSIFIER_PARAMS: tuple[Param, ...] = (
    Param("n_synth", 300, Interval(int, 1, None), None, "synthetic features per unseen class"),
    Param("cls_lr", 1e-3, POSITIVE, None, "Adam learning rate of the final classifier"),
    Param("cls_epochs", 25, Interval(int, 1, 100000), None, "epochs of the final classifier"),
    Param("cls_batch_size", 0, Interval(int, 0, None), None, "minibatch of the final classifier (0: n_synth, the authors')"),
)


def normal_linear(in_dim: int, out_dim: int, g: torch.Generator, std: float = 0.02) -> nn.Linear:
    """nn.Linear(in_dim, out_dim) with weight ~ N(0, std^2) drawn from ``g`` on the CPU and bias 0: the init of Xian et
    al.'s code (weights_init). Built without torch's default init, so nothing is drawn from torch's global generator."""
    layer = nn.utils.skip_init(nn.Linear, in_dim, out_dim)
    with torch.no_grad():
        layer.weight.copy_(torch.randn((out_dim, in_dim), generator=g) * std)
        layer.bias.zero_()
    return layer


def frozen(module: nn.Module):
    """``module``'s forward pass with its parameters detached: no gradient reaches them (its inputs still get theirs)."""
    params = {name: t.detach() for name, t in module.named_parameters()}
    return lambda *args: torch.func.functional_call(module, params, args)


class Critic(nn.Module):
    """D(x, a) = Linear(LeakyReLU_0.2(Linear([x, a], hidden)), 1) -> (b,); layers ``normal_linear``, drawn in order."""

    def __init__(self, x_dim: int, a_dim: int, hidden: int, g: torch.Generator):
        super().__init__()
        self.fc1 = normal_linear(x_dim + a_dim, hidden, g)
        self.fc2 = normal_linear(hidden, 1, g)

    def forward(self, x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.leaky_relu(self.fc1(torch.cat([x, a], dim=1)), 0.2)).squeeze(1)


def randn(shape, g: torch.Generator, device) -> torch.Tensor:
    return torch.randn(shape, generator=g).to(device)


def rand(shape, g: torch.Generator, device) -> torch.Tensor:
    return torch.rand(shape, generator=g).to(device)


def random_batch(n: int, batch_size: int, g: torch.Generator, device) -> torch.Tensor:
    """``batch_size`` distinct indices drawn afresh (the authors' next_batch: randperm(n)[:batch])."""
    return torch.randperm(n, generator=g)[: min(batch_size, n)].to(device)


class MinMax:
    """Per-dimension min-max scaling fitted on the training features (sklearn's MinMaxScaler, as the
    authors' ``--preprocessing``); test features may fall outside [0, 1]."""

    def __init__(self, X: torch.Tensor):
        self.low = X.min(dim=0).values
        span = X.max(dim=0).values - self.low
        self.scale = torch.where(span > 0, 1.0 / span.clamp_min(1e-12), torch.ones_like(span))

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        return (X - self.low) * self.scale


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, a: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """mean((||grad_x D(x_hat, a)||_2 - 1)^2), x_hat = alpha real + (1 - alpha) fake, alpha ~ U(0, 1) per row
    (Gulrajani et al. 2017; the gradient is taken w.r.t. the feature only, the condition is fixed)."""
    alpha = rand((real.shape[0], 1), g, real.device)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    out = critic(x_hat, a)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return ((grad.norm(2, dim=1) - 1) ** 2).mean()


def train_cwgan(G: nn.Module, D: nn.Module, Xs: torch.Tensor, A_t: torch.Tensor, y_t: torch.Tensor, *,
                p: dict, nz: int, g: torch.Generator, device, betas, extra=None) -> dict[str, list[float]]:
    """f-clswgan's conditional WGAN-GP training of the generator ``G`` (``G(z, a)``) against the critic ``D``
    (``D(x, a)``, a ``Critic``), Adam (``p["lr"]``, ``betas``) for both. Per generator step, ``p["critic_iters"]``
    critic steps, each on a fresh random minibatch of ``p["batch_size"]`` real (x, a) pairs: D(G(z, a)) - D(x, a) +
    ``p["gp_lambda"]`` GP; then one generator step on the last of them: -D(G(z, a)) + the term of
    ``extra(fake, a, idx)`` -> (scalar term, {name: scalar to record}) (None: no term). An epoch is ceil(n / batch)
    generator steps, ``p["epochs"]`` of them. Returns the per-epoch means: critic (-W + lambda GP), wasserstein,
    generator and each of ``extra``'s names."""
    optG = torch.optim.Adam(G.parameters(), lr=p["lr"], betas=betas)
    optD = torch.optim.Adam(D.parameters(), lr=p["lr"], betas=betas)
    n, bs, lam = Xs.shape[0], p["batch_size"], p["gp_lambda"]
    hist: dict[str, list[float]] = {"critic": [], "wasserstein": [], "generator": []}
    for _epoch in range(p["epochs"]):
        sums: dict[str, float] = {}
        steps = 0
        for _ in range(0, n, bs):
            for _c in range(p["critic_iters"]):
                idx = random_batch(n, bs, g, device)
                real, a = Xs[idx], A_t[y_t[idx]]
                with torch.no_grad():
                    fake = G(randn((idx.numel(), nz), g, device), a)
                d_real, d_fake = D(real, a).mean(), D(fake, a).mean()
                gp = gradient_penalty(D, real, fake, a, g)
                loss_d = d_fake - d_real + lam * gp
                optD.zero_grad(set_to_none=True)
                loss_d.backward()
                optD.step()
            D.requires_grad_(False)
            # the generator step reuses the last critic minibatch's classes (as the authors' loop does)
            fake = G(randn((idx.numel(), nz), g, device), a)
            loss_g = -D(fake, a).mean()
            record = {}
            if extra is not None:
                term, record = extra(fake, a, idx)
                loss_g = loss_g + term
            optG.zero_grad(set_to_none=True)
            loss_g.backward()
            optG.step()
            D.requires_grad_(True)
            values = {"critic": loss_d, "wasserstein": d_real - d_fake, "generator": loss_g, **record}
            for k, v in values.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            steps += 1
        for k, v in sums.items():
            hist.setdefault(k, []).append(v / steps)
    return hist


def train_softmax(X: torch.Tensor, y: torch.Tensor, n_classes: int, *, lr: float, betas, epochs: int, batch_size: int,
                  g: torch.Generator, device) -> tuple[nn.Linear, list[float]]:
    """A linear softmax classifier (LogSoftmax(Linear), NLL) trained with Adam on (X, y); weight init
    N(0, 0.02), bias 0. Returns (the layer, frozen; per-epoch mean loss)."""
    layer = normal_linear(X.shape[1], n_classes, g).to(device)
    opt = torch.optim.Adam(layer.parameters(), lr=lr, betas=betas)

    def step_loss(idx: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(layer(X[idx]), y[idx])

    history = train_epochs(step_loss, opt, n=X.shape[0], epochs=epochs, batch_size=batch_size, g=g, device=device)
    return layer.requires_grad_(False), history


def seen_index(seen: np.ndarray, y: np.ndarray, device) -> torch.Tensor:
    """Labels of ``y`` in the seen-only space 0..len(seen)-1."""
    return torch.as_tensor(np.searchsorted(seen, y), device=device)


def gan_inputs(run: FitRun) -> tuple[MinMax | None, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(scaler, features, attributes, labels) of the run as tensors on its device: ``scaler`` the ``MinMax`` of the
    training features when ``p["minmax"]`` (else None) and the features scaled by it."""
    X_t = torch.as_tensor(run.X, device=run.dev)
    scaler = MinMax(X_t) if run.p["minmax"] else None
    Xs = scaler(X_t) if scaler else X_t
    return scaler, Xs, torch.as_tensor(run.A, device=run.dev), torch.as_tensor(run.y, device=run.dev)


def final_classifier(run: FitRun, train_X: torch.Tensor, train_y: torch.Tensor, *, betas, scaler: MinMax | None,
                     hist: dict[str, list[float]], transform=None) -> Fitted:
    """The last step of a generative peer: a softmax classifier over all classes of the run on (``train_X``,
    ``train_y``) with ``p``'s ``cls_lr``, ``cls_epochs`` and ``cls_batch_size`` (0: ``n_synth``). Its scores are
    the logits of ``transform(scaler(x))`` (either may be None: not applied); ``loss_history_`` its per-epoch loss,
    and ``<key>_history_`` each of ``hist``'s per-epoch means of the generative training."""
    p = run.p
    clf, cls_hist = train_softmax(train_X, train_y, run.A.shape[0], lr=p["cls_lr"], betas=betas, epochs=p["cls_epochs"],
                                   batch_size=p["cls_batch_size"] or p["n_synth"], g=run.g, device=run.dev)

    def score(xb: torch.Tensor) -> torch.Tensor:
        xb = scaler(xb) if scaler else xb
        return clf(transform(xb) if transform else xb)

    fitted = run.fitted(score, cls_hist)
    for key, values in hist.items():
        setattr(fitted, f"{key}_history_", values)
    return fitted
