"""Pieces shared by the generative peers (f-clswgan, tf-vaegan): plain-tensor MLPs, the WGAN-GP
gradient penalty, min-max feature scaling, and the softmax classifiers they train.

Everything random is drawn on the CPU from the caller's ``torch.Generator`` and then moved to the
device, so a run is a function of its seed (CPU and CUDA runs start from the same draws).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from szsl.methods._peer_common import batches


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


def train_softmax(X: torch.Tensor, y: torch.Tensor, n_classes: int, *, lr: float, betas, epochs: int, batch_size: int,
                  g: torch.Generator, device) -> tuple[torch.Tensor, torch.Tensor, list[float]]:
    """A linear softmax classifier (LogSoftmax(Linear), NLL) trained with Adam on (X, y); weight init
    N(0, 0.02), bias 0. Returns (W, b, per-epoch mean loss)."""
    W, b = normal_linear(X.shape[1], n_classes, g, device)
    opt = torch.optim.Adam([W, b], lr=lr, betas=betas)
    history = []
    for _ in range(epochs):
        total, count = 0.0, 0
        for idx in batches(X.shape[0], batch_size, g):
            idx = idx.to(device)
            loss = F.cross_entropy(F.linear(X[idx], W, b), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * idx.numel()
            count += idx.numel()
        history.append(total / count)
    return W.detach(), b.detach(), history


def seen_index(seen: np.ndarray, y: np.ndarray, device) -> torch.Tensor:
    """Labels of ``y`` in the seen-only space 0..len(seen)-1."""
    return torch.as_tensor(np.searchsorted(seen, y), device=device)
