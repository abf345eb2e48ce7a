"""Pieces shared by the generative peers (f-clswgan, cycle-wgan, tf-vaegan): plain-tensor MLPs, the WGAN-GP
gradient penalty, f-clswgan's conditional WGAN-GP loop (``train_cwgan``), min-max feature scaling, the
softmax classifiers they train, and the start (``gan_inputs``) and end (``final_classifier``) of their fits.

Everything random is drawn on the CPU from the caller's ``torch.Generator`` and then moved to the
device, so a run is a function of its seed (CPU and CUDA runs start from the same draws).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from szsl.methods._peer_common import FitRun, Fitted, train_epochs
from szsl.params import POSITIVE, Interval, Param

# The hyperparameters ``final_classifier`` reads, declared once for the generative peers (each sets n_synth's search).
CLASSIFIER_PARAMS: tuple[Param, ...] = (
    Param("n_synth", 300, Interval(int, 1, None), None, "synthetic features per unseen class"),
    Param("cls_lr", 1e-3, POSITIVE, None, "Adam learning rate of the final classifier"),
    Param("cls_epochs", 25, Interval(int, 1, 100000), None, "epochs of the final classifier"),
    Param("cls_batch_size", 0, Interval(int, 0, None), None, "minibatch of the final classifier (0: n_synth, the authors')"),
)


def normal_linear(in_dim: int, out_dim: int, g: torch.Generator, device, std: float = 0.02) -> list[torch.Tensor]:
    """[weight (out, in) ~ N(0, std^2), bias 0] as leaf tensors: the init of Xian et al.'s code (weights_init)."""
    W = (torch.randn((out_dim, in_dim), generator=g) * std).to(device).requires_grad_(True)
    b = torch.zeros(out_dim, device=device, requires_grad=True)
    return [W, b]


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


def critic_forward(params, x: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
    """D(x, a) = Linear(LeakyReLU_0.2(Linear([x, a]))) -> (b,)."""
    W1, b1, W2, b2 = params
    h = F.leaky_relu(F.linear(torch.cat([x, a], dim=1), W1, b1), 0.2)
    return F.linear(h, W2, b2).squeeze(1)


def gradient_penalty(critic, real: torch.Tensor, fake: torch.Tensor, a: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """mean((||grad_x D(x_hat, a)||_2 - 1)^2), x_hat = alpha real + (1 - alpha) fake, alpha ~ U(0, 1) per row
    (Gulrajani et al. 2017; the gradient is taken w.r.t. the feature only, the condition is fixed)."""
    alpha = rand((real.shape[0], 1), g, real.device)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    out = critic(x_hat, a)
    (grad,) = torch.autograd.grad(out.sum(), x_hat, create_graph=True)
    return ((grad.norm(2, dim=1) - 1) ** 2).mean()


def train_cwgan(G_params: list, D_params: list, generate, Xs: torch.Tensor, A_t: torch.Tensor, y_t: torch.Tensor, *,
                p: dict, nz: int, g: torch.Generator, device, betas, extra=None) -> dict[str, list[float]]:
    """f-clswgan's conditional WGAN-GP training of ``G_params`` (``generate(G_params, z, a)``) against the critic
    ``D_params`` (``critic_forward``), Adam (``p["lr"]``, ``betas``) for both. Per generator step, ``p["critic_iters"]``
    critic steps, each on a fresh random minibatch of ``p["batch_size"]`` real (x, a) pairs: D(G(z, a)) - D(x, a) +
    ``p["gp_lambda"]`` GP; then one generator step on the last of them: -D(G(z, a)) + the term of
    ``extra(fake, a, idx)`` -> (scalar term, {name: scalar to record}) (None: no term). An epoch is ceil(n / batch)
    generator steps, ``p["epochs"]`` of them. Returns the per-epoch means: critic (-W + lambda GP), wasserstein,
    generator and each of ``extra``'s names."""
    optG = torch.optim.Adam(G_params, lr=p["lr"], betas=betas)
    optD = torch.optim.Adam(D_params, lr=p["lr"], betas=betas)

    def critic(x, a):
        return critic_forward(D_params, x, a)

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
                    fake = generate(G_params, randn((idx.numel(), nz), g, device), a)
                d_real, d_fake = critic(real, a).mean(), critic(fake, a).mean()
                gp = gradient_penalty(critic, real, fake, a, g)
                loss_d = d_fake - d_real + lam * gp
                optD.zero_grad(set_to_none=True)
                loss_d.backward()
                optD.step()
            for t in D_params:
                t.requires_grad_(False)
            # the generator step reuses the last critic minibatch's classes (as the authors' loop does)
            fake = generate(G_params, randn((idx.numel(), nz), g, device), a)
            loss_g = -critic(fake, a).mean()
            record = {}
            if extra is not None:
                term, record = extra(fake, a, idx)
                loss_g = loss_g + term
            optG.zero_grad(set_to_none=True)
            loss_g.backward()
            optG.step()
            for t in D_params:
                t.requires_grad_(True)
            values = {"critic": loss_d, "wasserstein": d_real - d_fake, "generator": loss_g, **record}
            for k, v in values.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach())
            steps += 1
        for k, v in sums.items():
            hist.setdefault(k, []).append(v / steps)
    return hist


def train_softmax(X: torch.Tensor, y: torch.Tensor, n_classes: int, *, lr: float, betas, epochs: int, batch_size: int,
                  g: torch.Generator, device) -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    """A linear softmax classifier (LogSoftmax(Linear), NLL) trained with Adam on (X, y); weight init
    N(0, 0.02), bias 0. Returns (W, b, per-epoch mean loss)."""
    W, b = normal_linear(X.shape[1], n_classes, g, device)
    opt = torch.optim.Adam([W, b], lr=lr, betas=betas)

    def step_loss(idx: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(F.linear(X[idx], W, b), y[idx])

    history = train_epochs(step_loss, opt, n=X.shape[0], epochs=epochs, batch_size=batch_size, g=g, device=device)
    return W.detach(), b.detach(), history


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
    W, b, cls_hist = train_softmax(train_X, train_y, run.A.shape[0], lr=p["cls_lr"], betas=betas, epochs=p["cls_epochs"],
                                   batch_size=p["cls_batch_size"] or p["n_synth"], g=run.g, device=run.dev)

    def score(xb: torch.Tensor) -> torch.Tensor:
        xb = scaler(xb) if scaler else xb
        return F.linear(transform(xb) if transform else xb, W, b)

    fitted = run.fitted(score, cls_hist)
    for key, values in hist.items():
        setattr(fitted, f"{key}_history_", values)
    return fitted
